// Validates ONNX bytes made anywhere (e.g. exported from PyTorch) by loading them, and describes them for the registry.
import { decodeModel, opsetVersion, type ModelProto } from '@flotilla/firmware-bundler/onnx';
import { ConvertError } from './convert-error.ts';
import { firstExternalTensor } from './external-data.ts';
import { sha256Hex } from './evaluate-parity.ts';
import { signatureOf } from './onnx-signature.ts';
import { openSession } from './ort-runner.ts';
import type { ModelSignature } from './signature.ts';

/** What the registry records about an ONNX model. */
export interface OnnxInspection {
  signature: ModelSignature;
  /** ai.onnx opset version. */
  opset: number;
  /** Other operator sets, e.g. `{ 'com.microsoft': 1 }`. */
  otherOpsets: Record<string, number>;
  irVersion: number;
  producer: { name: string; version: string };
  /** Op types, sorted; ops outside the default domain as `domain.Op`. */
  ops: string[];
  /** Whether the model already contains quantized ops. */
  quantized: boolean;
  bytes: number;
  /** sha256 of the bytes, lower-case hex. */
  digest: string;
}

const QUANTIZED =
  /^(QuantizeLinear|DequantizeLinear|DynamicQuantizeLinear|QLinear.*|MatMulInteger|ConvInteger|QGemm|DynamicQuantizeMatMul|MatMulIntegerToFloat)$/;

/** Describes a decoded model without validating it. */
export function describeOnnx(model: ModelProto, bytes: Uint8Array): OnnxInspection {
  const ops = new Set<string>();
  for (const n of model.graph?.node ?? []) ops.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : (n.opType ?? ''));
  const otherOpsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) if (o.domain && o.domain !== 'ai.onnx') otherOpsets[o.domain] = o.version ?? 0;
  return {
    signature: signatureOf(model),
    opset: opsetVersion(model) ?? 0,
    otherOpsets,
    irVersion: model.irVersion ?? 0,
    producer: { name: model.producerName ?? '', version: model.producerVersion ?? '' },
    ops: [...ops].sort(),
    quantized: [...ops].some((op) => QUANTIZED.test(op.split('.').pop()!)),
    bytes: bytes.length,
    digest: sha256Hex(bytes),
  };
}

/**
 * Decodes and validates ONNX bytes by creating an onnxruntime-node session (`ONNX_INVALID` when either
 * fails), then returns the signature, opset and ops. The session's view of the inputs wins over the
 * file's, which matters for models that list initializers as inputs.
 */
export async function inspectOnnx(bytes: Uint8Array): Promise<OnnxInspection> {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new ConvertError('ONNX_INVALID', `not an ONNX model: ${(err as Error).message}`);
  }
  if (!model.graph) throw new ConvertError('ONNX_INVALID', 'not an ONNX model: no graph');
  // Before onnxruntime sees it: it would read the named file from the server's working directory.
  const external = firstExternalTensor(model);
  if (external) {
    throw new ConvertError(
      'ONNX_INVALID',
      `tensor '${external.tensor.slice(0, 200)}' keeps its data in an external file ('${external.location.slice(0, 200)}'); ` +
        'import one self-contained file: in Python, onnx.save_model(onnx.load(path), out, save_as_external_data=False) (models up to 2 GB)',
    );
  }
  const session = await openSession(bytes, { optimization: 'basic' });
  const info = describeOnnx(model, bytes);
  const names = new Set(session.inputNames);
  info.signature.inputs = info.signature.inputs.filter((i) => names.has(i.name));
  await session.release();
  return info;
}
