// `flotilla bundle pack`: chunk, describe and sign a model into a bundle file.
import type { Command } from 'commander';
import { createEd25519Signer } from '../../keys/ed25519.ts';
import { loadSecretKey } from '../../node/key-store.ts';
import { nodeSha256Hex } from '../../node/node-hash.ts';
import { writeBundleFile } from '../../node/bundle-files.ts';
import { packBundle } from '../../pack.ts';
import { collect, defineAction, integerOption, loadInput, parseDuration, timeOption } from '../command-kit.ts';
import { packInputFromFlags, type PackFlags } from '../pack-input.ts';

/** Adds `pack --onnx FILE --name NAME --version SEMVER --sequence N --key KEYFILE --out FILE [...]`. */
export function registerPack(bundle: Command): void {
  const cmd = bundle
    .command('pack')
    .description(
      'Pack a model (and optional extra files) into a signed, chunked bundle. Richer manifest fields come from --manifest-json FILE or the flags below; flags win.',
    )
    .requiredOption('--onnx <file>', 'the model file (stored as model.onnx unless --model-path)')
    .requiredOption('--name <name>', 'model name, [A-Za-z0-9._-]')
    .requiredOption('--version <semver>', 'model version (semantic versioning)')
    .requiredOption('--sequence <n>', 'anti-rollback sequence number, greater than every earlier release', integerOption)
    .requiredOption('--key <keyfile>', 'secret key file from keygen (repeat to sign with several keys during a rotation)', collect)
    .requiredOption('--out <file>', 'bundle file to write (conventionally .fbundle)')
    .option('--model-path <path>', 'path of the model inside the bundle', 'model.onnx')
    .option('--file <path=local>', 'extra payload file, e.g. labels.txt=./labels.txt (repeatable)', collect)
    .option(
      '--manifest-json <file>',
      'JSON object with signature, preprocessing, labels, referenceProfile, selfTests, quantization, lineage, runtime, extensions, createdAt, expiresAt, expiresIn, avgChunkSize',
    )
    .option('--created-at <time>', 'creation time (ISO 8601); default now', timeOption)
    .option('--expires-at <time>', 'expiry time (ISO 8601)', timeOption)
    .option('--expires-in <duration>', 'lifetime from creation: seconds or 12h, 90d, 8w; default 365d', parseDuration)
    .option('--avg-chunk-size <bytes>', 'average chunk size, a power of two in [256, 262144]; default 16384', integerOption)
    .option('--labels <list>', 'comma-separated class labels')
    .option('--min-agent-version <semver>', 'lowest agent version that may run this bundle')
    .option('--opset <n>', 'ONNX opset the model needs', integerOption)
    .option('--execution-providers <list>', 'comma-separated execution providers, in preference order')
    .option('--run-id <id>', 'lineage: training run id')
    .option('--dataset-digest <sha256>', 'lineage: dataset digest')
    .option('--code-version <rev>', 'lineage: code version');
  defineAction<PackFlags & { key: string[]; out: string }>(cmd, async (_args, opts) => {
    const input = await packInputFromFlags(opts);
    const signers = [];
    for (const k of opts.key) signers.push(createEd25519Signer((await loadInput(k, loadSecretKey)).secretKey));
    const packed = await packBundle(input, signers, { sha256: nodeSha256Hex });
    await writeBundleFile(opts.out, packed.bytes);
    const { model, expiresAt, files } = packed.manifest;
    const payloadBytes = packed.chunks.reduce((n, c) => n + c.bytes.length, 0);
    return {
      data: {
        file: opts.out,
        manifestDigest: packed.manifestDigest,
        model: { name: model.name, version: model.version, sequence: model.sequence },
        expiresAt,
        bundleBytes: packed.bytes.length,
        manifestBytes: packed.manifestBytes.length,
        payloadBytes,
        chunkCount: packed.chunks.length,
        keyIds: packed.signatures.map((s) => s.keyId),
        files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, chunks: f.chunks.length })),
      },
      human: [
        `packed ${model.name} ${model.version} (sequence ${model.sequence}) → ${opts.out}`,
        `  ${packed.bytes.length} bytes, ${packed.chunks.length} chunks, manifest ${packed.manifestDigest}`,
        `  signed by ${packed.signatures.map((s) => s.keyId).join(', ')}, expires ${expiresAt}`,
      ],
    };
  });
}
