// `npm run bench -- real-models`: the quantizer on real exported models (test/corpus/make-corpus.py, built on first use):
// per model, float against int8 latency on onnxruntime-node at batch 1 measured side by side, sizes, and the gate's verdict.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { medianLatencies } from '../convert/latency.ts';
import { readNpy } from '../convert/npy.ts';
import { quantizeWithReport } from '../convert/quantize-with-report.ts';
import { ensureCorpus, type CorpusModel } from '../convert/testing/corpus-cache.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { int8KernelPath, machineSummary } from './machine.ts';

/**
 * A representative subset, one model per architecture at opset 13 (every architecture exports there): plain and
 * depthwise CNNs (MobileNetV2's inverted residuals, ShuffleNetV2's channel shuffles, RegNet's grouped convolutions),
 * MNASNet's searched blocks, squeeze-and-excitation with SiLU, a 1-D audio CNN and a small vision transformer. All 63 corpus
 * models take over an hour on 2 cores; test/corpus/quantize-corpus.test.ts covers them all.
 */
const OPSET = 13;
const ARCHS = [
  'resnet18',
  'squeezenet1_1',
  'mobilenet_v2',
  'mobilenet_v3_small',
  'mnasnet0_5',
  'shufflenet_v2_x0_5',
  'regnet_y_400mf',
  'efficientnet_b0',
  'audio_conv1d',
  'tiny_vit',
];
const QUICK = ['resnet18', 'squeezenet1_1', 'audio_conv1d'];

interface Row {
  file: string;
  arch: string;
  floatKb: number;
  int8Kb: number | null;
  sizeRatio: number | null;
  floatUs: number;
  int8Us: number | null;
  speedup: number | null;
  /** The gate's verdict, or the refusal's code. */
  verdict: string;
  /** What the quantize report said about speed before any bundle was made. */
  reportSaid: string;
  floatActivations: number;
  /** Weight storage the quantizer chose: `int8` (7-bit) or `uint8` (8-bit). */
  weights: string;
}

const npy = (dir: string, file: string) => {
  const a = readNpy(new Uint8Array(readFileSync(path.join(dir, file))));
  return { data: a.data, shape: a.shape };
};

/** One held-out row at batch 1, in the model's input type. */
function firstRow(m: CorpusModel, x: { data: Float32Array; shape: number[] }): ort.Tensor {
  const per = x.data.length / x.shape[0]!;
  const v = x.data.subarray(0, per);
  const dims = [1, ...x.shape.slice(1)];
  return m.inputs[0]!.dtype === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(v, (n) => BigInt(n)),
        dims,
      )
    : new ort.Tensor('float32', v.slice(), dims);
}

async function measure(dir: string, m: CorpusModel, quick: boolean, log: (l: string) => void): Promise<Row> {
  const floatBytes = new Uint8Array(readFileSync(path.join(dir, m.file)));
  const heldout = npy(dir, m.heldout);
  const base = { file: m.file, arch: m.arch, floatKb: Math.round(floatBytes.length / 1024) };
  let int8: Uint8Array | null = null;
  let verdict = '';
  let reportSaid = '';
  let floatActivations = 0;
  let weights = '–';
  try {
    const { int8Bytes, report } = await quantizeWithReport({
      floatBytes,
      calibration: npy(dir, m.calib),
      evaluation: { inputs: heldout },
      mode: 'static',
      calibrationSettings: { method: 'auto' },
    });
    int8 = int8Bytes;
    verdict = report.gate.passed ? 'passed' : `failed: ${report.gate.failures[0]}`;
    reportSaid = report.speed ? (report.speed.slower ? 'int8 slower (said)' : `int8 ×${report.speed.batch1Speedup}`) : 'not measured';
    floatActivations = report.keptFloat?.filter((k) => !k.node).length ?? 0;
    weights = report.scheme.weightType === 'uint8' ? 'uint8 8-bit' : 'int8 7-bit';
  } catch (err) {
    const e = err as { code?: string; message: string };
    verdict = `refused ${e.code ?? ''}: ${e.message.slice(0, 80)}`;
  }
  // One intra-op thread: what a small edge CPU gives a model, and immune to the stalls a spinning thread pool suffers
  // when the machine is shared (2 threads on a loaded 2-core machine measured int8 50× slower in one run, float in another).
  const sessions = await Promise.all(
    [floatBytes, ...(int8 ? [int8] : [])].map((b) => ort.InferenceSession.create(b, { intraOpNumThreads: 1, interOpNumThreads: 1 })),
  );
  const feed = firstRow(m, heldout);
  const cases = sessions.map((s, i) => ({ name: i === 0 ? 'float' : 'int8', run: () => s.run({ [s.inputNames[0]!]: feed }) }));
  const med = await medianLatencies(cases, { budgetMs: quick ? 1500 : 4000 });
  for (const s of sessions) await s.release();
  const int8Us = int8 ? med.int8! : null;
  const row: Row = {
    ...base,
    int8Kb: int8 ? Math.round(int8.length / 1024) : null,
    sizeRatio: int8 ? Math.round((int8.length / floatBytes.length) * 1000) / 1000 : null,
    floatUs: med.float!,
    int8Us,
    speedup: int8Us ? Math.round((med.float! / int8Us) * 100) / 100 : null,
    verdict,
    reportSaid,
    floatActivations,
    weights,
  };
  log(
    `${m.file}: float ${row.floatUs} µs, int8 ${row.int8Us ?? '–'} µs (×${row.speedup ?? '–'}), size ${row.sizeRatio ?? '–'}, ${verdict}`,
  );
  return row;
}

/** How well the picked image classifiers learnt their task, from the manifest (held-out accuracy of the float model). */
function trainedTo(models: CorpusModel[]): string {
  const acc = models.map((m) => m.floatAccuracy).filter((a): a is number => a !== null);
  if (acc.length === 0) return 'briefly trained';
  const pct = (a: number) => `${Math.round(a * 1000) / 10}%`;
  return `image classifiers trained to ${pct(Math.min(...acc))}-${pct(Math.max(...acc))} held-out accuracy on their task`;
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  log('corpus: building it if missing (about 6.5 minutes on 2 cores)');
  const { dir, manifest } = ensureCorpus();
  const picked = manifest.models.filter((m) => m.opset === OPSET && !m.constantNodes && (quick ? QUICK : ARCHS).includes(m.arch));
  const rows: Row[] = [];
  const load: number[] = [];
  for (const m of picked) {
    rows.push(await measure(dir, m, quick, log));
    load.push(os.loadavg()[0]!);
  }
  const loadNote = `load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} over the run (${os.cpus().length} cores)`;
  const figures: BenchReport['figures'] = { int8KernelPath: int8KernelPath(), models: rows.length, maxLoadAverage: Math.max(...load) };
  for (const r of rows) {
    Object.assign(figures, {
      [`${r.arch}FloatBatch1Us`]: r.floatUs,
      ...(r.int8Us !== null
        ? { [`${r.arch}Int8Batch1Us`]: r.int8Us, [`${r.arch}Int8Speedup`]: r.speedup!, [`${r.arch}SizeRatio`]: r.sizeRatio! }
        : {}),
      [`${r.arch}GatePassed`]: r.verdict === 'passed',
    });
  }
  const markdown = [
    '## The quantizer on real exported models: int8 against float on onnxruntime-node, batch 1',
    '',
    `One corpus model for each of ${rows.length} architectures (opset ${OPSET}; test/corpus/make-corpus.py, torch-exported, ${trainedTo(picked)}), quantized with the`,
    'product defaults (static, calibration `auto`, mixed precision where the gate needs it) and timed against its float parent in the same',
    'run, interleaved, one intra-op thread each. "Report said" is the quantize report\'s own speed verdict, made before any bundle',
    '(default thread pool, so it can differ from the single-thread figure here).',
    '',
    '| Model | float KB | int8 KB (ratio) | float µs | int8 µs | int8 speed-up | weights | activations left float | gate | report said |',
    '|---|---:|---:|---:|---:|---:|---|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.file.replace('.onnx', '')} | ${r.floatKb} | ${r.int8Kb ?? '–'}${r.sizeRatio !== null ? ` (${r.sizeRatio})` : ''} | ${r.floatUs} | ${r.int8Us ?? '–'} | ${r.speedup !== null ? `×${r.speedup}` : '–'} | ${r.weights} | ${r.floatActivations} | ${r.verdict} | ${r.reportSaid || '–'} |`,
    ),
    '',
    `Machine: ${machineSummary()}; int8 kernels: ${int8KernelPath()}; ${loadNote}. A load above the core count makes every`,
    'figure noisy and penalises the model with more (smaller) kernels, usually int8: rerun on a quiet machine before trusting a ratio.',
    "Weights are 7-bit int8 (onnxruntime's fast u8s8 kernels) or, where 7-bit misses the gate, full 8-bit stored as uint8 (u8u8",
    "kernels, slower on x86): both compute the same sums on every CPU. Without VNNI onnxruntime's u8s8 path is slower than on",
    'VNNI CPUs, so int8 speed-ups measured here are a floor for VNNI devices.',
  ].join('\n');
  return { name: 'real-models', figures, markdown };
}
