// Which ONNX artifact a bundle ships when nobody says: the int8 model only when its quantization report shows
// it smaller than its float parent and not slower (a tiny model's int8 file can be larger than its float one:
// quantize/dequantize nodes and scales outweigh the weights saved). Asking for it by name still ships it.
import type { ModelVersion } from '../store/entities.ts';

export const FLOAT_ARTIFACT = 'model.onnx';
export const INT8_ARTIFACT = 'model.int8.onnx';

/** int8 latency above this multiple of float's counts as slower: the medians move a few percent run to run. */
export const SLOWER_MARGIN = 1.05;

interface Latency {
  batch1?: number;
  batchN?: number;
}

/** The parts of a quantization report (convert/evaluate-parity.ts) the choice reads; older reports may lack any. */
export interface ParityFigures {
  sizeRatio?: number;
  float?: { bytes?: number; latencyUs?: Latency | null };
  int8?: { bytes?: number; latencyUs?: Latency | null };
}

/** Geometric mean of batch-1 and batch-N latency, as the quantizer ranks its candidates; null when not measured. */
function speed(l: Latency | null | undefined): number | null {
  if (!l || !(Number(l.batch1) > 0) || !(Number(l.batchN) > 0)) return null;
  return Math.sqrt(l.batch1! * l.batchN!);
}

/** Why int8 should not ship by default (larger or slower than float), or null when it may. */
export function int8Drawback(p: ParityFigures | null | undefined): string | null {
  if (!p) return null;
  const ratio = p.sizeRatio ?? (p.float?.bytes && p.int8?.bytes ? p.int8.bytes / p.float.bytes : undefined);
  if (ratio !== undefined && ratio >= 1) return `the int8 model is ${(100 * ratio).toFixed(0)}% of the float model's size`;
  const f = speed(p.float?.latencyUs);
  const q = speed(p.int8?.latencyUs);
  if (f !== null && q !== null && q > f * SLOWER_MARGIN)
    return `the int8 model is ${(q / f).toFixed(2)}x slower than the float model (${q.toFixed(0)} vs ${f.toFixed(0)} µs)`;
  return null;
}

/** The artifact to bundle when none is named, and why float was kept when an int8 model exists. */
export function defaultArtifact(mv: Pick<ModelVersion, 'artifacts' | 'quantization'>): { artifact: string; reason: string | null } {
  if (!(INT8_ARTIFACT in mv.artifacts)) return { artifact: FLOAT_ARTIFACT, reason: null };
  const drawback = int8Drawback((mv.quantization as { parity?: ParityFigures } | null)?.parity);
  if (drawback && FLOAT_ARTIFACT in mv.artifacts)
    return {
      artifact: FLOAT_ARTIFACT,
      reason: `${drawback}; bundling the float model (ask for --artifact ${INT8_ARTIFACT} to ship it anyway)`,
    };
  return { artifact: INT8_ARTIFACT, reason: null };
}
