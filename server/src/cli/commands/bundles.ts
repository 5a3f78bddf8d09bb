// `flotilla bundles ...`: make a signed bundle from a model version, list and show bundles.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function registerBundleCommands(program: Command): void {
  // `flotilla bundle` also holds the local file commands (pack, verify, ...) of the firmware-bundler: join it.
  const existing = program.commands.find((c) => c.name() === 'bundle');
  const bundles = existing ?? program.command('bundle').description('Signed, chunked model bundles for devices');
  bundles.alias('bundles');

  serverOptions(bundles.command('create <model>').description('Bundle a model version\'s ONNX artifact: MODEL@VERSION, MODEL@ALIAS or MODEL (latest)')
    .option('--version <semver>', 'version written into the manifest (default <registry version>.0.0)')
    .option('--artifact <name>', 'artifact to ship (default model.int8.onnx if present and smaller and not slower than model.onnx, else model.onnx)')
    .option('--expires-in <seconds>', 'lifetime (default 365 days)')
    .option('--chunk-size <bytes>', 'average chunk size, a power of two 256..262144 (default 16384)')
    .option('--manifest <file>', 'JSON with extra manifest fields (labels, preprocessing, selfTests, referenceProfile, runtime, quantization, signature)'))
    .action(async (model: string, o) => {
      let extra: Record<string, unknown> = {};
      if (o.manifest) {
        try {
          extra = JSON.parse(readFileSync(o.manifest, 'utf8'));
        } catch (e) {
          throw new CliError('FILE_UNREADABLE', `cannot read JSON from ${o.manifest}: ${(e as Error).message}`, EXIT.USAGE);
        }
      }
      const body = {
        ...extra, model, version: o.version, artifact: o.artifact,
        expiresInSeconds: o.expiresIn === undefined ? undefined : Number(o.expiresIn),
        avgChunkSize: o.chunkSize === undefined ? undefined : Number(o.chunkSize),
      };
      const b = await answer(api(o).bundles.$post({ json: body }));
      emit(o, b, () => `${b.id}\n${b.model}@${b.version} sequence ${b.sequence}, ${kb(b.bytes)}, ${b.chunkDigests.length} chunks, signed by ${b.keyId}`);
    });

  serverOptions(bundles.command('list').description('Bundles, newest first').option('--model <name>', 'only this model').option('--limit <n>', 'at most this many', '100'))
    .action(async (o) => {
      const { bundles: list } = await answer(api(o).bundles.$get({ query: { limit: o.limit, model: o.model || undefined } }));
      emit(o, { bundles: list }, () => table(['ID', 'MODEL', 'VERSION', 'SEQ', 'SIZE', 'CHUNKS', 'CREATED'],
        list.map((b) => [b.id.slice(0, 16), b.model, b.version, b.sequence, kb(b.bytes), b.chunkDigests.length, b.createdAt])));
    });

  serverOptions(bundles.command('show <id>').description('One bundle (id or unique prefix of 8+ hex characters)')).action(async (id: string, o) => {
    const b = await answer(api(o).bundles[':id'].$get({ param: { id: encodeURIComponent(id) } }));
    emit(o, b, () => [
      `${b.id}`, `${b.model}@${b.version} (registry v${b.modelVersion}), sequence ${b.sequence}`,
      `${kb(b.bytes)} file, ${kb(b.payloadBytes)} payload (${b.artifact}), ${b.chunkDigests.length} chunks`,
      `envelope ${b.envelopeDigest}`, `manifest ${b.manifestDigest}`, `signed by ${b.keyId}, created ${b.createdAt} by ${b.createdBy}`,
    ].join('\n'));
  });
}
