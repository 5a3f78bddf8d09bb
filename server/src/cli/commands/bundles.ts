// `flotilla bundles ...`: make a signed bundle from a model version, list bundles, and show one with what
// a device running it takes on /v1/predict.
import { readFileSync, writeFileSync } from 'node:fs';
import type { BundleManifest } from '@flotilla/firmware-bundler';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, serverOptions, type ServerOpts } from '../common.ts';
import { predictExample, renderPredictExample } from '../predict-example.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';

const PROVIDERS = ['cpu', 'webgpu', 'wasm'] as const;

/** `cpu,webgpu` → the list, refusing names the API would refuse, before anything is sent. */
function providerList(text: string): (typeof PROVIDERS)[number][] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((p) => !(PROVIDERS as readonly string[]).includes(p));
  if (!list.length || bad.length)
    throw new CliError(
      'USAGE',
      `--execution-providers takes a comma-separated list of ${PROVIDERS.join(', ')}; got ${JSON.stringify(text)}`,
      EXIT.USAGE,
    );
  return list as (typeof PROVIDERS)[number][];
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function registerBundleCommands(program: Command): void {
  // `flotilla bundle` also holds the local file commands (pack, verify, ...) of the firmware-bundler: join it.
  const existing = program.commands.find((c) => c.name() === 'bundle');
  const bundles = existing ?? program.command('bundle').description('Signed, chunked model bundles for devices');
  bundles.alias('bundles');

  serverOptions(
    bundles
      .command('create <model>')
      .description("Bundle a model version's ONNX artifact: MODEL@VERSION, MODEL@ALIAS or MODEL (latest)")
      .option('--version <semver>', 'version written into the manifest (default <registry version>.0.0)')
      .option(
        '--artifact <name>',
        'artifact to ship (default model.int8.onnx if present and smaller and not slower than model.onnx, else model.onnx)',
      )
      .option('--expires-in <seconds>', 'lifetime (default 365 days)')
      .option('--chunk-size <bytes>', 'average chunk size, a power of two 256..262144 (default 16384)')
      .option(
        '--execution-providers <list>',
        'providers the bundle allows, comma-separated (cpu, webgpu, wasm); list webgpu to let agents with --gpu webgpu probe it (default cpu)',
      )
      .option(
        '--manifest <file>',
        'JSON with extra manifest fields (labels, preprocessing, selfTests, referenceProfile, runtime, quantization, signature)',
      ),
  ).action(async (model: string, o) => {
    let extra: Record<string, unknown> = {};
    if (o.manifest) {
      try {
        extra = JSON.parse(readFileSync(o.manifest, 'utf8'));
      } catch (e) {
        throw new CliError('FILE_UNREADABLE', `cannot read JSON from ${o.manifest}: ${(e as Error).message}`, EXIT.USAGE);
      }
    }
    const body = {
      ...extra,
      model,
      version: o.version,
      artifact: o.artifact,
      expiresInSeconds: o.expiresIn === undefined ? undefined : Number(o.expiresIn),
      avgChunkSize: o.chunkSize === undefined ? undefined : Number(o.chunkSize),
      executionProviders: o.executionProviders === undefined ? undefined : providerList(o.executionProviders),
    };
    const b = await answer(api(o).bundles.$post({ json: body }));
    emit(
      o,
      b,
      () =>
        `${b.id}\n${b.model}@${b.version} sequence ${b.sequence}, ${kb(b.bytes)}, ${b.chunkDigests.length} chunks, signed by ${b.keyId}`,
    );
  });

  serverOptions(
    bundles
      .command('list')
      .description('Bundles, newest first')
      .option('--model <name>', 'only this model')
      .option('--limit <n>', 'at most this many', '100'),
  ).action(async (o) => {
    const { bundles: list } = await answer(api(o).bundles.$get({ query: { limit: o.limit, model: o.model || undefined } }));
    emit(o, { bundles: list }, () =>
      table(
        ['ID', 'MODEL', 'VERSION', 'SEQ', 'SIZE', 'CHUNKS', 'CREATED'],
        list.map((b) => [b.id.slice(0, 16), b.model, b.version, b.sequence, kb(b.bytes), b.chunkDigests.length, b.createdAt]),
      ),
    );
  });

  serverOptions(
    bundles
      .command('show <ref>')
      .description(
        'One bundle and what a device running it takes on /v1/predict: REF is a bundle id (or 8+ hex prefix), MODEL@VERSION, MODEL@ALIAS or MODEL (its newest bundle)',
      )
      .option('--example-out <file>', 'write an example /v1/predict body (JSON) to this file')
      .option('--port <n>', "the agent's --serve port, for the printed curl line", '8081'),
  ).action(async (ref: string, o) => {
    const id = await bundleIdOf(o, ref);
    const { bundle: b, manifest } = await answer(api(o).bundles[':id'].manifest.$get({ param: { id: encodeURIComponent(id) } }));
    const example = predictExample(manifest as Partial<BundleManifest>);
    if (o.exampleOut) {
      if (!example.body)
        throw new CliError('NO_EXAMPLE', `${b.model}@${b.version}'s input has no fixed row size; no example body to write`, EXIT.FAILED);
      writeFileSync(o.exampleOut, `${JSON.stringify(example.body)}\n`);
    }
    emit(o, { bundle: b, predict: example, manifest }, () =>
      [
        `${b.id}`,
        `${b.model}@${b.version} (registry v${b.modelVersion}), sequence ${b.sequence}`,
        `${kb(b.bytes)} file, ${kb(b.payloadBytes)} payload (${b.artifact}), ${b.chunkDigests.length} chunks`,
        `envelope ${b.envelopeDigest}`,
        `manifest ${b.manifestDigest}`,
        `signed by ${b.keyId}, created ${b.createdAt} by ${b.createdBy}`,
        '',
        renderPredictExample(example, ref, Number(o.port)),
        ...(o.exampleOut ? [`wrote ${o.exampleOut}`] : []),
      ].join('\n'),
    );
  });
}

/** A bundle id from a REF: hex (an id or prefix) as it is; MODEL[@VERSION|@ALIAS] as that version's newest bundle. */
async function bundleIdOf(o: ServerOpts, ref: string): Promise<string> {
  if (/^[0-9a-f]{8,64}$/.test(ref)) return ref;
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const wanted = at < 0 ? null : ref.slice(at + 1);
  let version: number | null = wanted !== null && /^\d+$/.test(wanted) ? Number(wanted) : null;
  if (wanted !== null && version === null) {
    const m = await answer(api(o).models[':name'].$get({ param: { name: encodeURIComponent(name) } }));
    version = m.versions.find((v) => v.aliases.includes(wanted))?.version ?? null;
    if (version === null) throw new CliError('NOT_FOUND', `${name} has no alias '${wanted}'`, EXIT.NOT_FOUND);
  }
  const { bundles: list } = await answer(api(o).bundles.$get({ query: { model: name, limit: '1000' } }));
  const hit = list.find((b) => version === null || b.modelVersion === version);
  if (!hit)
    throw new CliError(
      'BUNDLE_NOT_FOUND',
      `no bundle of ${ref} yet: make one with flotilla bundle create ${ref} (or roll it out: flotilla rollout create --model ${ref} ...)`,
      EXIT.NOT_FOUND,
    );
  return hit.id;
}
