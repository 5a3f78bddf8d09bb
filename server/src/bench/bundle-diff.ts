// Delta updates: bytes a device holding bundle v1 must fetch to get v2, when only the final layer was
// retrained (the content-defined chunker re-synchronises after the changed region). Float and int8 bundles.
import * as tf from '@tensorflow/tfjs';
import { createEd25519Signer, diffManifests, generateKeyPair, packBundle, readBundleHeader } from '@flotilla/firmware-bundler';
import { exportTfjsModel, quantizeStatic } from '../convert/index.ts';
import { cachedMnistMlp, loadMnistSplit } from '../convert/testing/mnist-mlp.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  await tf.setBackend('cpu');
  const split = loadMnistSplit();
  log('training the 784-256-128-10 MNIST MLP (cached between runs)');
  const v1 = await cachedMnistMlp(split);
  const weights = v1.layers.map((l) => l.countParams());
  const lastShare = weights.at(-1)! / weights.reduce((a, b) => a + b, 0);

  // v2: same model, final layer alone retrained for one epoch on the same data.
  const v2 = tf.sequential({ layers: [] });
  for (const layer of v1.layers)
    v2.add(tf.layers.dense({ ...(layer.getConfig() as object), trainable: layer === v1.layers.at(-1) } as never));
  v1.layers.forEach((l, i) => v2.layers[i]!.setWeights(l.getWeights()));
  v2.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  const n = opts.quick ? 1000 : split.train.count;
  const xs = tf.tensor2d(split.train.x.subarray(0, n * 784), [n, 784]);
  const ys = tf.tensor1d(Float32Array.from(split.train.y.subarray(0, n)));
  log('retraining the final layer only');
  await v2.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();

  const signer = createEd25519Signer(generateKeyPair().secretKey);
  const calibration = { data: split.train.x.subarray(0, 256 * 784), shape: [256, 784] };
  const rows: { kind: string; total: number; fetch: number; share: number; chunks: string }[] = [];
  for (const kind of ['float', 'int8'] as const) {
    const onnx = async (m: tf.LayersModel) => {
      const f = exportTfjsModel(m).bytes;
      return kind === 'float' ? f : (await quantizeStatic(f, calibration)).bytes;
    };
    const pack = async (bytes: Uint8Array, version: string, sequence: number) =>
      packBundle(
        {
          name: 'mnist',
          version,
          sequence,
          files: [{ path: 'model.onnx', bytes }],
          createdAt: new Date().toISOString(),
          expiresAt: new Date(Date.now() + 864e5).toISOString(),
        },
        signer,
      );
    const a = await pack(await onnx(v1), '1.0.0', 1);
    const b = await pack(await onnx(v2), '1.1.0', 2);
    const d = diffManifests(a.manifest, b.manifest);
    const head = readBundleHeader(b.bytes).headLength;
    const fetch = head + d.bytesToFetch;
    rows.push({ kind, total: b.bytes.length, fetch, share: fetch / b.bytes.length, chunks: `${d.chunksToFetch}/${d.chunksTotal}` });
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return {
    name: 'bundle',
    figures: {
      lastLayerWeightShare: +lastShare.toFixed(4),
      ...Object.fromEntries(
        rows.flatMap((r) => [
          [`${r.kind}BundleBytes`, r.total],
          [`${r.kind}FetchBytes`, r.fetch],
          [`${r.kind}ShareToFetch`, +r.share.toFixed(4)],
        ]),
      ),
    },
    markdown: [
      `MNIST MLP 784-256-128-10; the final layer holds ${pct(lastShare)} of the weights and alone was retrained.`,
      'Bytes to fetch include the new signed manifest; chunks are FastCDC with a 16 KiB average. Goal: at most 35% of the full bundle.',
      '',
      '| bundle | full size (bytes) | to fetch (bytes) | share | chunks fetched |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.kind} | ${r.total} | ${r.fetch} | ${pct(r.share)} | ${r.chunks} |`),
    ].join('\n'),
  };
}
