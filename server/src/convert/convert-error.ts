// Errors of ONNX export, import and quantization, each with a stable `code` the API and CLI match on.
import { DomainError } from '../errors/domain-error.ts';

/** Stable codes of {@link ConvertError} and its subclasses. */
export type ConvertErrorCode =
  /** A TensorFlow.js layer type the exporter has no converter for; the message lists the supported ones. */
  | 'EXPORT_UNSUPPORTED_LAYER'
  /** A supported layer with a setting the exporter cannot reproduce exactly (e.g. channelsFirst, stateful). */
  | 'EXPORT_UNSUPPORTED_CONFIG'
  /** A model.json / weights pair that cannot be read or does not describe a layers model. */
  | 'EXPORT_INVALID_MODEL'
  /** Bytes that are not an ONNX model onnxruntime can load. */
  | 'ONNX_INVALID'
  /** An op the quantizer cannot quantize correctly, or cannot leave in float around quantized tensors. */
  | 'QUANT_UNSUPPORTED_OP'
  /** An opset below what the quantizer handles, with an op it cannot upgrade safely. */
  | 'QUANT_OPSET_TOO_OLD'
  /** Calibration or evaluation inputs that do not fit the model (shape, dtype, count). */
  | 'QUANT_BAD_CALIBRATION'
  /** Dynamic quantization asked for a model that is not dense-only. */
  | 'QUANT_DYNAMIC_UNSUPPORTED'
  /** Nothing in the graph can be quantized (no Conv, Gemm or MatMul with constant weights). */
  | 'QUANT_NOTHING_TO_QUANTIZE'
  /** An upgraded/normalised model whose outputs differ from the original's beyond tolerance (names the rewritten ops). */
  | 'UPGRADE_MISMATCH'
  /** A calibration file that is not valid JSON or `.npy` of a supported dtype. */
  | 'CALIBRATION_FILE_INVALID';

/**
 * Base class: every failure of the convert module carries a stable code. Each is the model's or the
 * calibration data's fault (a 400 when it reaches the API).
 */
export class ConvertError extends DomainError<ConvertErrorCode> {
  declare readonly details?: Record<string, unknown>;

  constructor(code: ConvertErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details, 400);
  }
}

/** A TensorFlow.js model the exporter cannot turn into an equivalent ONNX model. */
export class ExportError extends ConvertError {
  override name = 'ExportError';
}

/** A model or calibration set the quantizer refuses rather than producing a wrong int8 model. */
export class QuantizeError extends ConvertError {
  override name = 'QuantizeError';
}
