// The data folder holds token hashes, the bundle signing key and every dataset: readable by its owner only.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates (or tightens) `dirs` to 0700 and the SQLite files already in them to 0600, and sets the
 * process umask to 077 so that everything written later (databases, blobs, keys, temp files) is private too.
 */
export function makeDataPrivate(dirs: readonly string[]): void {
  process.umask(0o077);
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    // Files from before this rule: the databases are what a local user must not read.
    for (const name of readdirSync(dir)) if (/\.db(-wal|-shm)?$/.test(name)) chmodSync(join(dir, name), 0o600);
  }
}
