// Jobs for the conversion worker: export a trained tfjs model to ONNX (and quantize it), or quantize an ONNX model.
import type { GateOverride, GateThresholds, QuantizationReport } from '../convert/index.ts';

/** Where calibration and evaluation samples come from. */
export type SampleSource =
  /** A dataset version's splits: calibration from the training split, evaluation on the test split. */
  | { kind: 'dataset'; path: string; splitSeed: number }
  /** Explicit samples (first dimension = sample count); no labels. */
  | { kind: 'inline'; data: Float32Array; shape: number[] };

export interface QuantizeSettings {
  mode: 'auto' | 'static' | 'dynamic';
  /** Calibration method; `auto` tries min-max, entropy, percentile in turn until one meets the gate. */
  method: 'minmax' | 'percentile' | 'entropy' | 'auto';
  gate: GateThresholds;
  override?: GateOverride;
  /** Calibration samples taken (default 512). */
  calibrationSamples: number;
}

export type ConversionJob =
  | { type: 'export'; modelJson: string; weights: Uint8Array; samples: SampleSource; quantize: QuantizeSettings | null }
  | { type: 'quantize'; onnx: Uint8Array; calibration: SampleSource; evaluation: SampleSource | null; settings: QuantizeSettings };

export type ConversionResult =
  | {
      ok: true;
      floatOnnx: Uint8Array;
      int8Onnx: Uint8Array | null;
      report: QuantizationReport | null;
      floatAccuracy: number | null;
      signature: unknown;
      opset: number;
    }
  | { ok: false; code: string; message: string };
