// `flotilla bundle inspect`: what a bundle holds, integrity-checked, signature checked when --trust is given.
import type { Command } from 'commander';
import { inspectBundle } from '../../inspect.ts';
import { readBundleFile } from '../../node/bundle-files.ts';
import { nodeSha256Hex } from '../../node/node-hash.ts';
import { collect, defineAction, loadInput } from '../command-kit.ts';
import { loadTrust } from '../trust.ts';
import type { TensorSpec } from '../../manifest/types.ts';

/** `input_ids int64 [?, ?]`: a signature tensor with dynamic dimensions as `?`. */
const tensorLine = (t: TensorSpec) => `${t.name} ${t.dtype} [${t.shape.map((d) => d ?? '?').join(', ')}]`;

/** Adds `inspect FILE [--trust PUBKEY]`. */
export function registerInspect(bundle: Command): void {
  const cmd = bundle
    .command('inspect')
    .description(
      "Show a bundle's manifest, sizes and signers after checking its structure and every hash. Expiry and sequence are reported, not enforced; the signature is checked only with --trust.",
    )
    .argument('<file>', 'bundle file')
    .option('--trust <pubkey>', 'trusted public key file (repeatable)', collect);
  defineAction<{ trust?: string[] }>(cmd, async ([file], opts) => {
    const bytes = await loadInput(file!, readBundleFile);
    const trusted = opts.trust ? await loadTrust(opts.trust) : undefined;
    const info = inspectBundle(bytes, { trusted, sha256: nodeSha256Hex });
    const m = info.manifest;
    return {
      data: { file, ...info },
      human: [
        `${m.model.name} ${m.model.version} (sequence ${m.model.sequence}), format ${info.formatVersion}`,
        `manifest  ${info.manifestDigest} (${info.manifestBytes} bytes)`,
        `created   ${m.createdAt}, expires ${m.expiresAt}${info.expired ? ' (EXPIRED)' : ''}`,
        `signed by ${info.signedBy.join(', ')}${opts.trust ? `; verified: ${info.verifiedBy.join(', ')}` : ' (signature not checked: no --trust)'}`,
        `size      ${info.bundleBytes} bytes, ${info.chunkCount} chunks (avg target ${m.chunking.avgSize})`,
        ...m.files.map((f) => `file      ${f.path}  ${f.size} bytes  ${f.chunks.length} chunks  sha256 ${f.sha256}`),
        ...(m.signature?.inputs ?? []).map((t) => `input     ${tensorLine(t)}`),
        ...(m.signature?.outputs ?? []).map((t) => `output    ${tensorLine(t)}`),
        ...(m.labels ? [`labels    ${m.labels.join(', ')}`] : []),
        ...(m.runtime ? [`runtime   ${JSON.stringify(m.runtime)}`] : []),
      ],
    };
  });
}
