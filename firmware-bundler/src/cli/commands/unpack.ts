// `flotilla bundle unpack`: verify a bundle, then write its payload files into a folder.
import type { Command } from 'commander';
import { readBundleFile } from '../../node/bundle-files.ts';
import { unpackBundle } from '../../node/unpack.ts';
import { collect, defineAction, loadInput } from '../command-kit.ts';
import { loadTrust } from '../trust.ts';

/** Adds `unpack FILE --out DIR [--trust PUBKEY]`. */
export function registerUnpack(bundle: Command): void {
  const cmd = bundle
    .command('unpack')
    .description(
      'Check a bundle completely in memory, then write its payload files under DIR (never outside it, never through symlinks). The signature is checked only with --trust.',
    )
    .argument('<file>', 'bundle file')
    .requiredOption('--out <dir>', 'target folder (created if missing)')
    .option('--trust <pubkey>', 'trusted public key file (repeatable); verifies signature, expiry and runtime too', collect);
  defineAction<{ out: string; trust?: string[] }>(cmd, async ([file], opts) => {
    const bytes = await loadInput(file!, readBundleFile);
    const trusted = opts.trust ? await loadTrust(opts.trust) : undefined;
    const result = await unpackBundle(bytes, opts.out, { trusted, allowUnsigned: !trusted });
    return {
      data: {
        file,
        outDir: opts.out,
        manifestDigest: result.manifestDigest,
        signatureVerified: result.signatureVerified,
        files: result.files,
      },
      human: [
        ...result.files.map((f) => `wrote ${f.writtenTo} (${f.size} bytes)`),
        ...(result.signatureVerified ? [] : ['note: signature not checked (no --trust); hashes were checked']),
      ],
    };
  });
}
