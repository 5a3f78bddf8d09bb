// Named-tensor predictions: checks an app's `{ name: { type, dims, data } }` against the model's signature,
// builds the feeds, and reads the classifier conveniences off a single-output classifier's answer.
import { AgentError } from '../errors.ts';
import { shapeText, tensorNumbers, toTensor, type Tensor, type TensorInput } from '../runtime/tensors.ts';
import type { ActiveModel } from './active-model.ts';
import { argmax, confidenceOf } from './predictions.ts';

/** Named inputs of `agent.predict({ ... })`: every model input by name. */
export type NamedInputs = Record<string, TensorInput>;

/**
 * Whether `x` is the named form (a plain record of tensors) rather than the array form (a number array or
 * typed array, which has a numeric `length`).
 */
export function isNamedInputs(x: unknown): x is NamedInputs {
  return (
    typeof x === 'object' &&
    x !== null &&
    !ArrayBuffer.isView(x) &&
    !Array.isArray(x) &&
    typeof (x as { length?: unknown }).length !== 'number'
  );
}

/** How the model's inputs read in an error message: `ids int64 [?, ?], mask int64 [?, ?]`. */
export function describeInputs(m: ActiveModel): string {
  return m.signature.inputs.map((s) => `${s.name} ${s.dtype} ${shapeText(s.shape)}`).join(', ');
}

/**
 * The feeds for `inputs`, each checked against the signature (AGENT_INPUT_INVALID on an unknown or missing
 * name, a wrong type or rank, a fixed dimension that differs, or data that does not fill its dims).
 * `maxElements` bounds each tensor's element count.
 */
export function namedFeeds(m: ActiveModel, inputs: NamedInputs, maxElements?: number): Record<string, Tensor> {
  const specs = m.signature.inputs;
  for (const name of Object.keys(inputs)) {
    if (!specs.some((s) => s.name === name))
      throw new AgentError('AGENT_INPUT_INVALID', `the model has no input ${JSON.stringify(name)}; its inputs are ${describeInputs(m)}`);
  }
  const feeds: Record<string, Tensor> = {};
  for (const spec of specs) {
    if (!Object.hasOwn(inputs, spec.name))
      throw new AgentError(
        'AGENT_INPUT_INVALID',
        `input ${spec.name} (${spec.dtype} ${shapeText(spec.shape)}) is missing; the model takes ${describeInputs(m)}`,
      );
    feeds[spec.name] = toTensor(spec, inputs[spec.name], maxElements);
  }
  checkSymbols(m, feeds);
  return feeds;
}

/**
 * Dims the model names with one symbol (`batch`, `seq` in the ONNX graph, as the runtime reports them) must be
 * equal across inputs: ids of 8 tokens with a mask of 7 is the app's mistake, said as such rather than as an
 * error from deep inside the runtime.
 */
function checkSymbols(m: ActiveModel, feeds: Record<string, Tensor>): void {
  const seen = new Map<string, { input: string; size: number }>();
  for (const input of m.session.inputs) {
    const dims = feeds[input.name]?.dims;
    if (!dims || !input.shape) continue;
    input.shape.forEach((symbol, i) => {
      const size = dims[i];
      if (typeof symbol !== 'string' || symbol === '' || size === undefined) return;
      const first = seen.get(symbol);
      if (!first) seen.set(symbol, { input: input.name, size });
      else if (first.size !== size) {
        throw new AgentError(
          'AGENT_INPUT_INVALID',
          `dimension ${symbol} must be the same in every input: ${first.input} has ${first.size}, ${input.name} has ${size}`,
        );
      }
    });
  }
}

/**
 * Top-1 and confidence when the model is a single-output classifier answering one row (a float output whose
 * elements all lie along its last dimension, of 2 or more classes); null for anything else.
 */
export function classifyNamed(m: ActiveModel, outputs: Record<string, Tensor>): { top1: number; confidence: number } | null {
  if (m.signature.outputs.length !== 1) return null;
  const t = outputs[m.primaryOutput];
  if (!t || (t.type !== 'float32' && t.type !== 'float64' && t.type !== 'float16')) return null;
  const classes = t.dims[t.dims.length - 1] ?? 0;
  if (classes < 2 || t.data.length !== classes) return null;
  const v = Float32Array.from(tensorNumbers(t));
  const top1 = argmax(v);
  return { top1, confidence: confidenceOf(v, top1) };
}
