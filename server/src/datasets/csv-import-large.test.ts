// A large import streams: peak memory follows the row count (the duplicate filter), not the file size.
// Runs in a child process with V8's young generation pinned, so heap sizing is not mistaken for ours.
// Measured figures for the report come from the same probe: see large-import-probe.ts.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LARGE_CSV_FEATURES } from './large-csv.ts';

const probe = fileURLToPath(new URL('./large-import-probe.ts', import.meta.url));
const CSV_BYTES = 40e6;

describe('importCsv on a large stream', () => {
  it('imports a 40 MB generated CSV without holding it in memory', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--min-semi-space-size=16', '--max-semi-space-size=16', '--import', 'tsx', probe, String(CSV_BYTES), '--warm'],
      { maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout);
    expect(r.csvBytes).toBeGreaterThanOrEqual(CSV_BYTES * 0.99);
    const rows = r.report.rowsKept;
    expect(r.report).toMatchObject({ rowsRead: rows, duplicatesDropped: 0, badRowCount: 0, rowsWithMissing: 0 });
    expect(rows).toBeGreaterThan(400_000);
    expect(Object.values(r.report.labelBalance).reduce((a: number, b) => a + (b as number), 0)).toBe(rows);
    expect(r.meta).toMatchObject({ featureShape: [LARGE_CSV_FEATURES], rows, classes: ['class0', 'class1', 'class2', 'class3', 'class4'] });
    expect(r.blobBytes).toBe(12 + Math.ceil(JSON.stringify(r.meta).length / 4) * 4 + 4 * rows * (LARGE_CSV_FEATURES + 1));
    // Holding the file would cost at least its size (twice that as JS strings). What is allowed: a
    // fixed 16 MiB (buffers, heap churn) plus the duplicate filter's at most 32 bytes per row. Measured
    // up to the blob store's putFile, whose read-stream buffers are the store's business.
    const growth = r.rssPeakOurs - r.rssBefore;
    expect(growth).toBeLessThan(16 * 2 ** 20 + 32 * rows);
    expect(growth).toBeLessThan(r.csvBytes);
  });
});
