// Bulk provisioning input: a CSV with an `id` column (may be empty to generate one), optional
// `name`, `tags` and `groups` (separated by `;` or spaces), and any other column as an attribute.
import { DeviceError } from './device-error.ts';

export interface DeviceRow {
  /** 1-based line number in the file, for error messages. */
  line: number;
  id: string | null;
  name?: string;
  tags: string[];
  groups: string[];
  attributes: Record<string, string>;
}

/** Most rows one import may hold. */
export const MAX_IMPORT_ROWS = 100_000;
/** Most columns: id, name, tags, groups and attributes; wider is not a device list. */
export const MAX_IMPORT_COLUMNS = 64;

/** Lines parsed between yields to the event loop (a 32 MB file must not hold up other requests). */
const YIELD_EVERY = 2000;

/**
 * Parses the whole file; every problem is reported at once, with its line, and nothing is returned then.
 * Yields to the event loop every {@link YIELD_EVERY} lines.
 */
export async function parseDeviceCsv(text: string): Promise<DeviceRow[]> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // Refused before any line is parsed: counting is cheap, parsing a million lines is not.
  if (lines.length - 1 > MAX_IMPORT_ROWS && lines.slice(1).filter((l) => l.trim() !== '').length > MAX_IMPORT_ROWS) {
    throw new DeviceError('DEVICE_BATCH_TOO_LARGE', `the CSV has more than ${MAX_IMPORT_ROWS} device rows; split it into several imports`);
  }
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  if (header.length > MAX_IMPORT_COLUMNS) {
    throw new DeviceError(
      'DEVICE_CSV_INVALID',
      `the CSV header has ${header.length} columns; at most ${MAX_IMPORT_COLUMNS} are allowed (id, name, tags, groups and attributes)`,
    );
  }
  // One Set, not a search per column: linear (a quadratic check once froze the server 15.7 s on 50k columns).
  const names = new Set<string>();
  for (const h of header) {
    if (names.has(h)) throw new DeviceError('DEVICE_CSV_INVALID', `the CSV header names column '${h.slice(0, 80)}' twice`);
    names.add(h);
  }
  if (!header.includes('id'))
    throw new DeviceError(
      'DEVICE_CSV_INVALID',
      "the CSV needs a header line with an 'id' column (and optionally name, tags, groups, attributes)",
    );
  const rows: DeviceRow[] = [];
  const problems: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (i % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const cells = splitCsvLine(raw);
    if (cells.length !== header.length) {
      problems.push(`line ${i + 1}: ${cells.length} cells, the header has ${header.length}`);
      continue;
    }
    const row: DeviceRow = { line: i + 1, id: null, tags: [], groups: [], attributes: {} };
    header.forEach((h, k) => {
      const v = cells[k]!.trim();
      if (h === 'id') row.id = v || null;
      else if (h === 'name') row.name = v || undefined;
      else if (h === 'tags') row.tags = v.split(/[;\s]+/).filter(Boolean);
      else if (h === 'groups') row.groups = v.split(/[;\s]+/).filter(Boolean);
      else if (v !== '') row.attributes[h] = v;
    });
    rows.push(row);
  }
  if (problems.length)
    throw new DeviceError('DEVICE_CSV_INVALID', `${problems.length} malformed line(s): ${problems.slice(0, 10).join('; ')}`, problems);
  if (rows.length === 0) throw new DeviceError('DEVICE_CSV_INVALID', 'the CSV has a header but no devices');
  return rows;
}

/** Splits one CSV line with RFC 4180 quoting (no embedded newlines: device rows do not need them). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
