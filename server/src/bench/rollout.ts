// Rollout at fleet scale: time from rollout start until every simulated device runs a ~1 MB bundle,
// bytes served, and bytes per device for a second version whose final layer alone was retrained.
import * as tf from '@tensorflow/tfjs';
import { exportTfjsModel } from '../convert/index.ts';
import { cachedMnistMlp, loadMnistSplit } from '../convert/testing/mnist-mlp.ts';
import { FleetSimulator } from '../simulator/index.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { startBenchServer, type BenchServer } from './rollout-server.ts';

/** One 100% stage, no bake, no health gates: this measures delivery, not judgement. */
const DELIVERY_ONLY = {
  stages: [{ percent: 100, bakeSec: 0, gates: { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null, maxFailureRate: 1 } }],
  policy: { rate: { devicesPerMinute: 1_000_000 } },
};

async function lastLayerRetrained(v1: tf.LayersModel, split: ReturnType<typeof loadMnistSplit>, n: number): Promise<tf.LayersModel> {
  const v2 = tf.sequential({ layers: [] });
  for (const layer of v1.layers) v2.add(tf.layers.dense({ ...(layer.getConfig() as object), trainable: layer === v1.layers.at(-1) } as never));
  v1.layers.forEach((l, i) => v2.layers[i]!.setWeights(l.getWeights()));
  v2.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor2d(split.train.x.subarray(0, n * 784), [n, 784]);
  const ys = tf.tensor1d(Float32Array.from(split.train.y.subarray(0, n)));
  await v2.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();
  return v2;
}

/** Rolls `bundle` out to the fleet and waits until every agent serves `version`; seconds and bytes served. */
async function rollTo(srv: BenchServer, sim: FleetSimulator, bundle: string, version: string, timeoutSec: number, log: (l: string) => void) {
  const before = await srv.bytesServed();
  const t0 = performance.now();
  await srv.api('POST', '/api/v1/rollouts', { bundle, target: { tags: ['bench'] }, supersede: true, ...DELIVERY_ONLY });
  let lastLog = 0;
  for (;;) {
    const on = sim.versions()[version] ?? 0;
    const sec = (performance.now() - t0) / 1000;
    if (on === sim.devices.length) return { seconds: sec, bytes: (await srv.bytesServed()) - before, complete: true };
    if (sec > timeoutSec) return { seconds: sec, bytes: (await srv.bytesServed()) - before, complete: false, on };
    if (sec - lastLog >= 5) {
      lastLog = sec;
      log(`  ${sec.toFixed(0)} s: ${on}/${sim.devices.length} on ${version}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const devices = opts.quick ? 100 : 1000;
  await tf.setBackend('cpu');
  const split = loadMnistSplit();
  log('training the 784-256-128-10 MNIST MLP (cached between runs); float ONNX is about 1 MB');
  const v1 = await cachedMnistMlp(split);
  log('retraining the final layer only');
  const v2 = await lastLayerRetrained(v1, split, Math.min(split.train.count, opts.quick ? 1000 : 10_000));
  const srv = await startBenchServer({ FLOTILLA_ROLLOUT_TICK_MS: '500' });
  let sim: FleetSimulator | null = null;
  try {
    const m1 = await srv.registerOnnx('bench-mlp', exportTfjsModel(v1).bytes);
    const m2 = await srv.registerOnnx('bench-mlp', exportTfjsModel(v2).bytes);
    const b1 = await srv.api('POST', '/api/v1/bundles', { model: `bench-mlp@${m1}`, version: '1.0.0' });
    const b2 = await srv.api('POST', '/api/v1/bundles', { model: `bench-mlp@${m2}`, version: '1.1.0' });
    log(`starting ${devices} agents in this process`);
    const tStart = performance.now();
    sim = await FleetSimulator.start({ server: srv.url, token: srv.token, mqttUrl: srv.mqttUrl, devices, tags: ['bench'], rate: 0, telemetryWindowSec: 60, startConcurrency: 50, log });
    const startSec = (performance.now() - tStart) / 1000;
    const rssStart = process.memoryUsage().rss;
    log(`rolling out ${b1.bytes} bytes to ${devices} devices`);
    const full = await rollTo(srv, sim, b1.id, '1.0.0', opts.quick ? 120 : 300, log);
    log(`rolling out the last-layer-only retrain (${b2.bytes} bytes)`);
    const delta = await rollTo(srv, sim, b2.id, '1.1.0', opts.quick ? 120 : 300, log);
    const rssMiB = Math.round(Math.max(rssStart, process.memoryUsage().rss) / 2 ** 20);
    const perFull = full.bytes / devices;
    const perDelta = delta.bytes / devices;
    const r1 = (x: number) => +x.toFixed(1);
    return {
      name: 'rollout',
      figures: {
        devices, secondsToFull: r1(full.seconds), fullComplete: full.complete, bundleBytes: b1.bytes, bytesServed: full.bytes,
        bytesPerDeviceFull: Math.round(perFull), secondsToFullV2: r1(delta.seconds), v2Complete: delta.complete, v2BundleBytes: b2.bytes,
        bytesServedV2: delta.bytes, bytesPerDeviceV2: Math.round(perDelta), v2ShareOfFull: +(perDelta / perFull).toFixed(4),
        agentStartSec: r1(startSec), simulatorRssMiB: rssMiB,
      },
      markdown: [
        `${devices} real agents (one MQTT connection and data folder each) in one Node process against a \`flotilla server\` child process, same machine.`,
        'One 100% stage without bake or health gates, so this measures delivery: from `POST /rollouts` until every agent serves the new model. Goal: under 60 s for 1,000.',
        '',
        '| rollout | bundle (bytes) | seconds to full | bytes served | bytes per device |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| v1 (fresh devices) | ${b1.bytes} | ${r1(full.seconds)}${full.complete ? '' : ' (incomplete)'} | ${full.bytes} | ${Math.round(perFull)} |`,
        `| v2 (final layer retrained) | ${b2.bytes} | ${r1(delta.seconds)}${delta.complete ? '' : ' (incomplete)'} | ${delta.bytes} | ${Math.round(perDelta)} (${(100 * perDelta / perFull).toFixed(1)}% of full) |`,
        '',
        `Starting the agents took ${r1(startSec)} s; the simulator process peaked at about ${rssMiB} MiB resident.`,
      ].join('\n'),
    };
  } finally {
    await sim?.close();
    await srv.close();
  }
}
