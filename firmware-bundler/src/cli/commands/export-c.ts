// `flotilla bundle export-c`: the model as C sources for a firmware image.
import type { Command } from 'commander';
import { BundleError } from '../../errors.ts';
import { readBundleFile } from '../../node/bundle-files.ts';
import { writeExportC } from '../../node/export-c-files.ts';
import { nodeSha256Hex } from '../../node/node-hash.ts';
import { openBundle, openBundleWithoutSignature } from '../../verify/open-bundle.ts';
import { collect, defineAction, loadInput } from '../command-kit.ts';
import { loadTrust } from '../trust.ts';

/** Adds `export-c FILE --out DIR [--symbol NAME] [--file PATH] [--trust PUBKEY]`. */
export function registerExportC(bundle: Command): void {
  const cmd = bundle
    .command('export-c')
    .description(
      'Write SYMBOL.h and SYMBOL.c embedding the model as a 16-byte-aligned const unsigned char array with its length, sha256 and the signed manifest, for firmware images (as TensorFlow Lite Micro embeds models).',
    )
    .argument('<file>', 'bundle file')
    .requiredOption('--out <dir>', 'folder for the .h/.c pair (created if missing)')
    .option('--symbol <name>', 'C identifier prefix, [a-z_][a-z0-9_]*', 'flotilla_model')
    .option('--file <path>', "payload file to embed (default: the manifest's model file)")
    .option('--trust <pubkey>', 'trusted public key file (repeatable); verifies the signature first', collect);
  defineAction<{ out: string; symbol: string; file?: string; trust?: string[] }>(cmd, async ([file], opts) => {
    const bytes = await loadInput(file!, readBundleFile);
    const opened = opts.trust
      ? openBundle(bytes, await loadTrust(opts.trust), { sha256: nodeSha256Hex })
      : openBundleWithoutSignature(bytes, { sha256: nodeSha256Hex });
    const path = opts.file ?? opened.manifest.model.file;
    const model = opened.files.get(path);
    if (!model) throw new BundleError('BUNDLE_INPUT_INVALID', `bundle has no file ${JSON.stringify(path)}`);
    const written = await writeExportC(
      {
        model,
        manifestBytes: opened.parsed.manifestBytes,
        manifest: opened.manifest,
        signatures: opened.parsed.signatures,
        symbol: opts.symbol,
      },
      opts.out,
    );
    const meta = opened.manifest.files.find((f) => f.path === path)!;
    return {
      data: {
        file,
        ...written,
        symbol: opts.symbol,
        embedded: path,
        modelBytes: meta.size,
        sha256: meta.sha256,
        signatureVerified: Boolean(opts.trust),
      },
      human: [`wrote ${written.headerFile} and ${written.sourceFile} (${path}, ${meta.size} bytes)`],
    };
  });
}
