// Graph under construction while exporting a TensorFlow.js model: nodes, weights, unique names, tensor layouts.
import { floatTensor, int64Tensor, makeNode, type AttrValue, type NodeProto, type TensorProto } from '@flotilla/firmware-bundler/onnx';

/**
 * A tensor of the ONNX graph being built. `shape` is always the Keras shape (batch first, null when
 * dynamic). Keras is channels-last; convolutions in ONNX are channels-first, so a rank-3+ tensor may be
 * stored permuted to `[N, C, ...spatial]`, which `channelsFirst` records. Converters ask the context for
 * the layout they need and a Transpose is added only where the layout changes.
 */
export interface Value {
  name: string;
  shape: (number | null)[];
  channelsFirst: boolean;
}

/** Permutation taking a channels-last tensor of this rank to channels-first. */
export function toChannelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Permutation taking a channels-first tensor of this rank back to channels-last. */
export function toChannelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

export class ExportContext {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly relayouts = new Map<string, Value>();
  private readonly int64Cache = new Map<string, string>();

  /** Name scope of the layer being converted, used as a prefix for the names it creates. */
  scope = 'graph';

  /** A graph-unique name starting with `hint`. */
  unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output named after the current scope; returns the output name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, outputHint?: string): string {
    const out = this.unique(`${this.scope}/${outputHint ?? opType}`);
    this.nodes.push(makeNode(opType, inputs, [out], attrs, this.unique(`${this.scope}/${opType}_node`)));
    return out;
  }

  /** Adds a node with several outputs (empty strings leave optional outputs out). */
  multiNode(opType: string, inputs: string[], outputHints: (string | null)[], attrs: Record<string, AttrValue | undefined> = {}): string[] {
    const outs = outputHints.map((h) => (h === null ? '' : this.unique(`${this.scope}/${h}`)));
    this.nodes.push(makeNode(opType, inputs, outs, attrs, this.unique(`${this.scope}/${opType}_node`)));
    return outs;
  }

  /** Adds a float32 initializer (a weight); returns its name. */
  weight(hint: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.unique(`${this.scope}/${hint}`);
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  /** An int64 constant (shapes, axes), shared by every node that needs the same values. */
  int64(values: number[]): string {
    const key = values.join(',');
    let name = this.int64Cache.get(key);
    if (!name) {
      name = this.unique(`const/int64_${values.map((v) => String(v).replace('-', 'm')).join('_') || 'empty'}`);
      this.initializers.push(int64Tensor(name, [values.length], values));
      this.int64Cache.set(key, name);
    }
    return name;
  }

  /** A float scalar constant. */
  scalar(value: number): string {
    const name = this.unique(`${this.scope}/const`);
    this.initializers.push(floatTensor(name, [], [value]));
    return name;
  }

  /** The tensor in Keras (channels-last) order, transposing once per tensor and caching the result. */
  keras(v: Value): Value {
    if (!v.channelsFirst) return v;
    return this.relayout(v, false);
  }

  /** The tensor in channels-first order (rank 3 and above), transposing once per tensor. */
  channelsFirst(v: Value): Value {
    if (v.channelsFirst || v.shape.length < 3) return v;
    return this.relayout(v, true);
  }

  private relayout(v: Value, toFirst: boolean): Value {
    const key = `${v.name}|${toFirst}`;
    const cached = this.relayouts.get(key);
    if (cached) return cached;
    const perm = toFirst ? toChannelsFirstPerm(v.shape.length) : toChannelsLastPerm(v.shape.length);
    const saved = this.scope;
    this.scope = v.name;
    const name = this.node('Transpose', [v.name], { perm }, toFirst ? 'to_nchw' : 'to_nhwc');
    this.scope = saved;
    const out = { name, shape: v.shape, channelsFirst: toFirst };
    this.relayouts.set(key, out);
    return out;
  }

  /** Position in the stored tensor of a Keras axis (negative axes count from the end, as in Keras). */
  axis(v: Value, kerasAxis: number): number {
    const rank = v.shape.length;
    const a = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
    if (!v.channelsFirst || a === 0) return a;
    return a === rank - 1 ? 1 : a + 1;
  }
}
