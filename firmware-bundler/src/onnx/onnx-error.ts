// The error the ONNX codec and graph helpers throw, with a stable code callers match on.

/** Stable codes of {@link OnnxError}. */
export type OnnxErrorCode =
  /** The bytes are not a well-formed protobuf ModelProto (truncated, bad wire type, bad UTF-8). */
  | 'ONNX_MALFORMED'
  /** The model is well-formed but uses something this library cannot handle (external data, a dtype). */
  | 'ONNX_UNSUPPORTED'
  /** A node cannot be carried over to the target opset without changing its meaning (see UpgradeError). */
  | 'ONNX_UPGRADE_REFUSED';

/** A failure to read, write or transform an ONNX model. */
export class OnnxError extends Error {
  constructor(
    readonly code: OnnxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OnnxError';
  }
}
