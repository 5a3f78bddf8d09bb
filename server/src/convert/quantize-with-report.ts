// One call from a float model to an int8 model with its report: mode choice, calibration, parity and the gate.
import os from 'node:os';
import { decodeModel } from '@flotilla/firmware-bundler/onnx';
import { evaluateParity, type ParityReport } from './evaluate-parity.ts';
import { medianLatencies } from './latency.ts';
import { signatureOf, singleModelInput } from './onnx-signature.ts';
import { inputTensor, openSession } from './ort-runner.ts';
import { parityGate, type GateDecision, type GateOverride, type GateThresholds } from './parity-gate.ts';
import { sliceBatch, toSamples, type SampleSet } from './samples.ts';
import type { AppliedCalibration, CalibrationSettings } from './quantize/calibrate.ts';
import { chooseCalibration, type CalibrationCandidate } from './quantize/choose-calibration.ts';
import { isDenseOnly, quantizeDynamic } from './quantize/quantize-dynamic.ts';
import { quantizeStatic, type KeptFloat, type QuantizedModel } from './quantize/quantize-static.ts';
import type { WeightType } from './quantize/quant-math.ts';

export interface QuantizeRequest {
  floatBytes: Uint8Array;
  /** Calibration samples: a sample of the training split (static mode). */
  calibration: SampleSet;
  /** Held-out samples (test split) and their labels, for the parity report. */
  evaluation: { inputs: SampleSet; labels?: ArrayLike<number> };
  /** `auto` (default): static, or dynamic when the model is dense-only and dynamic runs faster. */
  mode?: 'auto' | 'static' | 'dynamic';
  /** `method: 'auto'`: min-max, then entropy, then percentile, keeping the first that meets the gate (see choose-calibration). */
  calibrationSettings?: Omit<CalibrationSettings, 'method'> & { method?: CalibrationSettings['method'] | 'auto' };
  gate?: GateThresholds;
  override?: GateOverride;
  /** Batch size for evaluation and batched latency; default 64. */
  batchSize?: number;
}

/** Everything the registry stores with an int8 model version. */
export interface QuantizationReport {
  mode: 'static' | 'dynamic';
  /** Why this mode, with the latencies compared when both were built. */
  modeReason: string;
  /** Median latency (µs, onnxruntime-node) of each candidate built, at batch 1 and batch N. */
  candidates: Partial<Record<'static' | 'dynamic', { batch1: number; batchN: number }>>;
  /** Calibration as applied; null in dynamic mode, which needs none. */
  calibration: AppliedCalibration | null;
  /** With calibration method `auto`: how each method compared with float on the calibration samples. */
  calibrationCandidates?: CalibrationCandidate[];
  /** `weightType`: how the weights are stored (see quantize/quant-math.ts `WeightType`); the rest in words. */
  scheme: { weightType: WeightType; weights: string; activations: string; bias: string; embeddings?: string };
  /** Op types left in float. */
  floatOps: string[];
  /**
   * Static mode: what was left float on purpose (mixed precision), each with the reason: activations, and whole
   * weighted ops (`node` set: its first output; `tensor` is then its weight) whose weights the gate could not afford
   * to round.
   */
  keptFloat?: KeptFloat[];
  /**
   * int8 against float latency on this server's CPU (onnxruntime-node, from the parity run), said before any
   * bundle is made: where int8 is slower, `slower` is true and `note` says so. Null when latency was not measured.
   */
  speed: { batch1Speedup: number; batchNSpeedup: number; slower: boolean; note: string } | null;
  /** Preparation steps (opset upgrade, BatchNorm folding, ...). */
  notes: string[];
  parity: ParityReport;
  gate: GateDecision;
}

async function candidateLatency(
  models: QuantizedModel[],
  inputs: SampleSet,
  batchSize: number,
): Promise<Record<string, { batch1: number; batchN: number }>> {
  const sig = signatureOf(decodeModel(models[0]!.bytes));
  const input = singleModelInput(sig);
  const samples = toSamples(inputs, input.shape, input.dtype);
  const feed = (n: number) => {
    const { data, dims } = sliceBatch(samples, 0, n);
    return { [input.name]: inputTensor(samples.dtype, data.slice(), dims) };
  };
  const sessions = await Promise.all(models.map((m) => openSession(m.bytes)));
  const cases = sessions.flatMap((s, i) => [
    { name: `${models[i]!.mode}:1`, run: () => s.run(feed(1)) },
    { name: `${models[i]!.mode}:n`, run: () => s.run(feed(batchSize)) },
  ]);
  const med = await medianLatencies(cases, { budgetMs: 1500 });
  await Promise.all(sessions.map((s) => s.release()));
  return Object.fromEntries(models.map((m) => [m.mode, { batch1: med[`${m.mode}:1`]!, batchN: med[`${m.mode}:n`]! }]));
}

/** Float latency / int8 latency from the parity run, and a sentence a person deciding to bundle can act on. */
export function speedOf(parity: ParityReport, batchSize: number): QuantizationReport['speed'] {
  const f = parity.float.latencyUs;
  const q = parity.int8.latencyUs;
  if (!f || !q || !(q.batch1 > 0) || !(q.batchN > 0)) return null;
  const b1 = Math.round((f.batch1 / q.batch1) * 100) / 100;
  const bn = Math.round((f.batchN / q.batchN) * 100) / 100;
  const slower = b1 < 1;
  const cpu = cpuName();
  const note = slower
    ? `int8 is slower than float at batch 1 on this server's CPU (${cpu}): ${q.batch1} µs against ${f.batch1} µs (×${b1}); it saves size, not time, here — bundle the float model where latency matters more than bytes`
    : `int8 is ×${b1} as fast as float at batch 1 (${q.batch1} µs against ${f.batch1} µs) and ×${bn} at batch ${batchSize} on this server's CPU (${cpu})`;
  return { batch1Speedup: b1, batchNSpeedup: bn, slower, note };
}

function cpuName(): string {
  return os.cpus()[0]?.model?.trim() || 'unknown CPU';
}

/**
 * Quantizes, evaluates against the float parent and applies the parity gate. In `auto` mode a dense-only
 * model is quantized both ways and the faster one (geometric mean of batch-1 and batch-N latency) is kept.
 */
export async function quantizeWithReport(req: QuantizeRequest): Promise<{ int8Bytes: Uint8Array; report: QuantizationReport }> {
  const mode = req.mode ?? 'auto';
  const batchSize = req.batchSize ?? 64;
  const ops = (decodeModel(req.floatBytes).graph?.node ?? []).map((n) => n.opType ?? '');
  const dense = isDenseOnly(ops);
  const built: QuantizedModel[] = [];
  let calibrationCandidates: CalibrationCandidate[] | undefined;
  if (mode !== 'dynamic') {
    const { method, ...rest } = req.calibrationSettings ?? {};
    if (method === 'auto') {
      const picked = await chooseCalibration(req.floatBytes, req.calibration, rest, req.gate);
      built.push(picked.model);
      calibrationCandidates = picked.candidates;
    } else built.push(await quantizeStatic(req.floatBytes, req.calibration, { calibration: { ...rest, method } }));
  }
  if (mode === 'dynamic' || (mode === 'auto' && dense)) built.push(await quantizeDynamic(req.floatBytes, { samples: req.calibration }));
  let chosen = built[0]!;
  let modeReason = mode === 'auto' ? 'static: the model has convolutions; dynamic mode is for dense-only models' : `${mode} requested`;
  let candidates: QuantizationReport['candidates'] = {};
  if (built.length === 2) {
    candidates = await candidateLatency(built, req.evaluation.inputs, batchSize);
    const score = (m: 'static' | 'dynamic') => Math.sqrt(candidates[m]!.batch1 * candidates[m]!.batchN);
    chosen = score('dynamic') < score('static') ? built[1]! : built[0]!;
    const s = candidates.static!;
    const d = candidates.dynamic!;
    modeReason = `${chosen.mode}: faster on onnxruntime-node (static ${s.batch1}/${s.batchN} µs, dynamic ${d.batch1}/${d.batchN} µs at batch 1/${batchSize})`;
  }
  const parity = await evaluateParity({
    floatBytes: req.floatBytes,
    int8Bytes: chosen.bytes,
    inputs: req.evaluation.inputs,
    labels: req.evaluation.labels,
    batchSize,
  });
  const report: QuantizationReport = {
    mode: chosen.mode,
    modeReason,
    candidates,
    calibration: chosen.calibration ?? null,
    ...(calibrationCandidates && chosen.mode === 'static' ? { calibrationCandidates } : {}),
    scheme: {
      weightType: chosen.weightType ?? 'int8',
      weights:
        chosen.weightType === 'uint8'
          ? 'uint8 symmetric per output channel, full 8-bit range (zero point 128, values 1..255): onnxruntime runs uint8 × uint8 products without saturation on every x86 and ARM kernel, VNNI or not'
          : 'int8 symmetric per output channel, 7-bit range [-63, 63] (exact on every x86 and ARM kernel, VNNI or not)',
      activations: chosen.mode === 'static' ? 'uint8 asymmetric per tensor, calibrated' : 'uint8 per tensor, computed at run time',
      bias:
        chosen.mode === 'static'
          ? 'int32 (input scale × weight scale) where onnxruntime fuses the op into an int8 kernel; float on a Conv whose output stays float'
          : 'float',
      ...(chosen.quantizedEmbeddings
        ? {
            embeddings: `${chosen.quantizedEmbeddings} table(s) read by Gather stored as uint8 rows (zero point 128, one scale per row), dequantized after the lookup`,
          }
        : {}),
    },
    floatOps: chosen.floatOps,
    ...(chosen.keptFloat?.length ? { keptFloat: chosen.keptFloat } : {}),
    notes: chosen.notes,
    speed: speedOf(parity, batchSize),
    parity,
    gate: parityGate(parity, req.gate, req.override),
  };
  return { int8Bytes: chosen.bytes, report };
}
