// Payload file names that are safe to write on every file system: no escapes, no collisions (SPEC §7).
import { BundleError } from '../errors.ts';

/** Longest path, in characters. */
export const MAX_PATH_LENGTH = 255;
/** Deepest nesting of folders plus the file name. */
export const MAX_PATH_DEPTH = 8;

const SEGMENT_RE = /^[A-Za-z0-9._-]{1,128}$/;
// Names Windows reserves whatever the extension; refusing them everywhere keeps bundles portable.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Throws `BUNDLE_PATH_INVALID` unless `path` is a relative POSIX path of 1..8 segments joined by
 * '/', each segment 1..128 characters of `[A-Za-z0-9._-]`, not `.` or `..`, not ending in a dot
 * and not a Windows device name (SPEC §7.1).
 */
export function assertSafePath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_LENGTH) throw bad(path, 'length');
  const segments = path.split('/');
  if (segments.length > MAX_PATH_DEPTH) throw bad(path, 'depth');
  for (const seg of segments) {
    if (!SEGMENT_RE.test(seg)) throw bad(path, 'characters or an empty segment');
    if (seg === '.' || seg === '..' || seg.endsWith('.')) throw bad(path, 'a dot segment');
    if (WINDOWS_RESERVED.test(seg)) throw bad(path, 'a reserved device name');
  }
}

/** Whether {@link assertSafePath} accepts `path`. */
export function isSafePath(path: unknown): path is string {
  try {
    assertSafePath(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws `BUNDLE_PATH_INVALID` when two paths would land on the same file on a case-insensitive
 * file system, or one path is a folder prefix of another (`a` and `a/b`) (SPEC §7.2).
 */
export function assertDistinctPaths(paths: readonly string[]): void {
  const folded = new Set<string>();
  for (const p of paths) {
    const key = p.toLowerCase();
    if (folded.has(key)) throw bad(p, 'a duplicate (ignoring case)');
    folded.add(key);
  }
  for (const p of paths) {
    const parts = p.toLowerCase().split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (folded.has(prefix)) throw bad(p, `a file inside ${prefix}, which is also a file`);
    }
  }
}

function bad(path: unknown, why: string): BundleError {
  const shown = typeof path === 'string' ? JSON.stringify(path.slice(0, 80)) : typeof path;
  return new BundleError('BUNDLE_PATH_INVALID', `unsafe payload path ${shown}: ${why}`, 'SPEC §7.1');
}
