// Reads a model's input/output signature from its graph (initializers listed as inputs are not inputs).
import { dataTypeName, type ModelProto, type ValueInfoProto } from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from './convert-error.ts';
import type { ModelSignature, TensorSignature } from './signature.ts';

function tensorSignature(vi: ValueInfoProto): TensorSignature {
  const t = vi.type?.tensorType;
  return {
    name: vi.name ?? '',
    dtype: t ? dataTypeName(t.elemType) : 'non-tensor',
    shape: (t?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined ? d.dimValue : null)),
  };
}

/** The graph's real inputs (not initializers) and outputs, in graph order. */
export function signatureOf(model: ModelProto): ModelSignature {
  const g = model.graph ?? {};
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    inputs: (g.input ?? []).filter((vi) => !inits.has(vi.name)).map(tensorSignature),
    outputs: (g.output ?? []).map(tensorSignature),
  };
}

/** Input element types calibration and parity can feed: float features, or integer ids (tokens, categories). */
export type SampleDtype = 'float32' | 'int64' | 'int32';

/** The single input of a model (float32, or int64/int32 ids), or a refusal. */
export function singleModelInput(signature: ModelSignature): { name: string; shape: (number | null)[]; dtype: SampleDtype } {
  if (signature.inputs.length !== 1) {
    throw new QuantizeError(
      'QUANT_BAD_CALIBRATION',
      `the model has ${signature.inputs.length} inputs; calibration supports single-input models`,
    );
  }
  const input = signature.inputs[0]!;
  if (input.dtype !== 'float32' && input.dtype !== 'int64' && input.dtype !== 'int32') {
    throw new QuantizeError(
      'QUANT_BAD_CALIBRATION',
      `input '${input.name}' is ${input.dtype}; calibration feeds float32 inputs or int64/int32 ids`,
    );
  }
  return { name: input.name, shape: input.shape, dtype: input.dtype };
}
