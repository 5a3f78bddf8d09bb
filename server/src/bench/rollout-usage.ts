// CPU seconds and peak resident memory of other processes (the server, simulator workers), read from /proc.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times: 100 on every Linux build Node supports. */
const TICKS = 100;

/** User + system CPU seconds of `pid` so far, or null where /proc is unavailable (not Linux, process gone). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return null;
  }
}

/** A memory line of /proc/<pid>/status (`VmHWM`, `VmRSS`) in bytes, or null where /proc is unavailable. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident memory of `pid` in bytes (VmHWM), or null where /proc is unavailable. */
export const peakRssBytes = (pid: number): number | null => statusBytes(pid, 'VmHWM');

/** Current resident memory of `pid` in bytes (VmRSS), or null where /proc is unavailable. */
export const rssBytes = (pid: number): number | null => statusBytes(pid, 'VmRSS');

/** CPU seconds of this process plus `pids`, summed (missing ones count 0). */
export function totalCpuSeconds(pids: readonly number[], self = true): number {
  const own = self ? (process.cpuUsage().user + process.cpuUsage().system) / 1e6 : 0;
  return pids.reduce((s, pid) => s + (cpuSeconds(pid) ?? 0), own);
}
