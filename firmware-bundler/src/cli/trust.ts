// Loading the --trust public key files of a subcommand.
import { loadPublicKey } from '../node/key-store.ts';
import { loadInput } from './command-kit.ts';

/** The public keys named by repeated `--trust FILE` options. */
export async function loadTrust(files: readonly string[] | undefined): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for (const f of files ?? []) keys.push(await loadInput(f, loadPublicKey));
  return keys;
}
