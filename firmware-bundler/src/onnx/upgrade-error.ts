// The typed refusal of the opset upgrader and normaliser: which op could not be carried over, and why.
import { OnnxError } from './onnx-error.ts';

/** Thrown when a node cannot be rewritten to the target opset without changing what it computes. */
export class UpgradeError extends OnnxError {
  constructor(
    /** The op type that blocks the upgrade (e.g. `BatchNormalization`). */
    readonly op: string,
    /** Why it cannot be carried over, in words. */
    readonly reason: string,
    /** The node's name or first output, to find it in the graph. */
    readonly node: string,
    readonly fromOpset: number,
  ) {
    super('ONNX_UPGRADE_REFUSED', `cannot upgrade ${op} (node '${node}') from opset ${fromOpset}: ${reason}`);
    this.name = 'UpgradeError';
  }
}
