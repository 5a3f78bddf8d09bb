// How numbers, sizes and times read in the console: short, exact on hover, the same everywhere.

const nf = new Intl.NumberFormat('en-US');

export const num = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : digits ? n.toFixed(digits) : nf.format(Math.round(n));

/** 0.9312 → "93.1%". */
export const pct = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** "3 min ago" / "in 2 min", for times near now. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const d = now - t;
  const a = Math.abs(d);
  const text =
    a < 5000
      ? 'just now'
      : a < 60_000
        ? `${Math.round(a / 1000)} s`
        : a < 3_600_000
          ? `${Math.round(a / 60_000)} min`
          : a < 86_400_000
            ? `${Math.round(a / 3_600_000)} h`
            : `${Math.round(a / 86_400_000)} d`;
  if (text === 'just now') return text;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** Local date and time to the second, for titles and tables. */
export const stamp = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' }) : '–';

export const shortId = (id: string | null | undefined, n = 12): string => (id ? (id.length > n ? id.slice(0, n) : id) : '–');
