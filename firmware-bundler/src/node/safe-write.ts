// Writing payload files under a root folder so that nothing, symlinks included, lands outside it (SPEC §7.3).
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BundleError } from '../errors.ts';
import { assertDistinctPaths, assertSafePath } from '../manifest/paths.ts';
import { writeFileAtomic } from './atomic-write.ts';

/**
 * Writes each `[path, bytes]` under `root` (created if missing). Paths are re-checked against
 * SPEC §7 here, whatever checked them before; every folder on the way must be a real folder (not
 * a symlink) and an existing target must be a regular file, else `BUNDLE_PATH_INVALID`. Each file
 * is written to a fresh temporary name with O_EXCL and renamed into place, so a crash leaves
 * either the old file or the new one and never follows a planted link. Returns the absolute paths.
 */
export async function writeFilesUnder(root: string, files: ReadonlyArray<readonly [string, Uint8Array]>): Promise<string[]> {
  for (const [path] of files) assertSafePath(path);
  assertDistinctPaths(files.map(([p]) => p));
  await mkdir(root, { recursive: true });
  const rootReal = await realpath(root);
  const written: string[] = [];
  for (const [path, bytes] of files) {
    const segments = path.split('/');
    let dir = rootReal;
    for (const seg of segments.slice(0, -1)) {
      dir = join(dir, seg);
      await ensureRealDir(dir, path);
    }
    const target = join(dir, segments[segments.length - 1]!);
    if (!target.startsWith(rootReal + sep)) throw escape(path);
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !existing.isFile()) throw escape(path, 'target exists and is not a regular file');
    // O_EXCL on a fresh name: a link planted at the temp name is refused, never followed.
    const temp = join(dir, `.${segments[segments.length - 1]}.${randomBytes(6).toString('hex')}.part`);
    await writeFileAtomic(target, bytes, { temp, mode: 0o644, exclusive: true });
    written.push(target);
  }
  return written;
}

async function ensureRealDir(dir: string, path: string): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) {
    await mkdir(dir);
    return;
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw escape(path, `${dir} is not a plain folder`);
}

function escape(path: string, why = 'would resolve outside the target folder'): BundleError {
  return new BundleError('BUNDLE_PATH_INVALID', `refusing to write ${JSON.stringify(path)}: ${why}`, 'SPEC §7.3');
}
