// Rewrites a float graph into QDQ form from a plan and calibrated ranges: int8 weights, int32 biases, uint8 activations.
import {
  GraphIndex,
  intAttr,
  makeNode,
  makeTensor,
  readTensorAsFloat32,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import {
  activationParams,
  quantizeBias,
  quantizeWeightPerChannel,
  quantizeWeightPerChannelU8,
  WEIGHT_QMAX,
  type ActivationParams,
  type WeightType,
} from './quant-math.ts';
import type { QdqPlan } from './qdq-plan.ts';
import type { Range } from './calibrate.ts';

/** Options of {@link insertQdq}. */
export interface InsertQdqOptions {
  /** Largest |int8 weight| (int8 weights only); default {@link WEIGHT_QMAX}. */
  weightQmax?: number;
  /** Weight storage; default `int8`. */
  weightType?: WeightType;
  /** Per-channel mean of each weighted op's input on the calibration samples: enables bias correction. */
  channelMeans?: ReadonlyMap<string, Float32Array>;
}

/** Rewrites `graph` in place; returns the number of weights quantized. */
export function insertQdq(graph: GraphProto, plan: QdqPlan, ranges: Map<string, Range>, opts: InsertQdqOptions = {}): number {
  const { weightQmax = WEIGHT_QMAX, weightType = 'int8' } = opts;
  const index = new GraphIndex(graph);
  const inits: TensorProto[] = [];
  const head: NodeProto[] = [];
  const params = new Map<string, ActivationParams>();
  const paramNames = new Map<string, [string, string]>();

  // One scale/zero-point pair per calibrated tensor; layout-only ops reuse their input's pair by name,
  // which is how onnxruntime recognizes that their QDQ can be dropped.
  const paramsFor = (owner: string): [string, string] => {
    let names = paramNames.get(owner);
    if (!names) {
      const r = ranges.get(owner) ?? { min: 0, max: 0 };
      const p = activationParams(r.min, r.max);
      params.set(owner, p);
      names = [`${owner}_scale`, `${owner}_zero_point`];
      inits.push(makeTensor(names[0], [], Float32Array.of(p.scale)), makeTensor(names[1], [], Uint8Array.of(p.zeroPoint)));
      paramNames.set(owner, names);
    }
    return names;
  };

  // Activations: Q then DQ right after the producer; every consumer reads the dequantized tensor.
  const after = new Map<string, NodeProto[]>();
  const dequantized = new Map<string, string>();
  for (const [t, owner] of plan.tensors) {
    const [s, z] = paramsFor(owner);
    const q = makeNode('QuantizeLinear', [t, s, z], [`${t}_quantized`], {}, `${t}_QuantizeLinear`);
    const dq = makeNode('DequantizeLinear', [`${t}_quantized`, s, z], [`${t}_dequantized`], {}, `${t}_DequantizeLinear`);
    const producer = index.producers.get(t);
    const key = producer ? producer.output![0]! : '';
    after.set(key, [...(after.get(key) ?? []), q, dq]);
    dequantized.set(t, `${t}_dequantized`);
  }
  for (const n of graph.node ?? []) n.input = (n.input ?? []).map((i) => dequantized.get(i) ?? i);

  // Weights: int8 symmetric per output channel; biases int32 at input scale × weight scale.
  const weightCache = new Map<string, { out: string; scales: Float32Array; error: Float32Array; dims: number[] }>();
  for (const w of plan.weighted) {
    const [x = '', wName = ''] = w.node.input ?? [];
    const original =
      x.endsWith('_dequantized') && plan.tensors.has(x.slice(0, -'_dequantized'.length)) ? x.slice(0, -'_dequantized'.length) : x;
    const key = `${wName}|${w.weightAxis}`;
    let qw = weightCache.get(key);
    if (!qw) {
      const t = index.initializers.get(wName)!;
      const dims = t.dims ?? [];
      const u8 = weightType === 'uint8';
      const float = readTensorAsFloat32(t);
      const { values, scales } = u8
        ? quantizeWeightPerChannelU8(float, dims, w.weightAxis)
        : quantizeWeightPerChannel(float, dims, w.weightAxis, weightQmax);
      // A weight shared by ops that need different channel axes gets one quantized copy per axis.
      const base = [...weightCache.keys()].some((k) => k.startsWith(`${wName}|`)) ? `${wName}_axis${w.weightAxis}` : wName;
      inits.push(
        makeTensor(`${base}_quantized`, dims, values),
        makeTensor(`${base}_scale`, [scales.length], scales),
        makeTensor(`${base}_zero_point`, [scales.length], u8 ? new Uint8Array(scales.length).fill(128) : new Int8Array(scales.length)),
      );
      head.push(
        makeNode(
          'DequantizeLinear',
          [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`],
          [`${base}_dequantized`],
          { axis: w.weightAxis },
          `${base}_DequantizeLinear`,
        ),
      );
      const error = Float32Array.from(values, (v, i) => (v - (u8 ? 128 : 0)) * scales[channelOf(i, dims, w.weightAxis)]! - float[i]!);
      qw = { out: `${base}_dequantized`, scales, error, dims };
      weightCache.set(key, qw);
    }
    w.node.input![1] = qw.out;
    const inputParams = plan.tensors.has(original) ? params.get(plan.tensors.get(original)!) : undefined;
    const means = opts.channelMeans?.get(original);
    const shift = means ? outputShift(w.node, qw.error, qw.dims, w.weightAxis, means) : undefined;
    if (shift && (w.bias || w.node.opType === 'Conv')) {
      // Bias correction: the weight rounding error shifts each output channel's mean by (Ŵ − W)·E[x]; the bias
      // absorbs it (measured on the calibration samples), so the int8 op keeps the float op's mean output.
      const bias = w.bias ? readTensorAsFloat32(index.initializers.get(w.bias)!) : new Float32Array(shift.length);
      const name = `${w.bias ?? `${wName}_bias`}_${w.node.name || w.node.output?.[0]}_corrected`;
      inits.push(
        makeTensor(
          name,
          [shift.length],
          Float32Array.from(bias, (b, c) => b - shift[c]!),
        ),
      );
      index.initializers.set(name, inits.at(-1)!);
      w.node.input![2] = name;
      w.bias = name;
    }
    // A Conv fuses into QLinearConv only with a quantized output (after its Relu/Clip, if any); otherwise onnxruntime
    // runs it in float on dequantized weights, and an int32 bias would only add a scale per channel and a rounding.
    if (w.bias && inputParams && (w.node.opType !== 'Conv' || outputQuantized(w.node, index, plan))) {
      const b = quantizeBias(readTensorAsFloat32(index.initializers.get(w.bias)!), inputParams.scale, qw.scales);
      const base = `${w.bias}_${w.node.name || w.node.output?.[0]}`;
      inits.push(makeTensor(`${base}_quantized`, [b.values.length], b.values), makeTensor(`${base}_scale`, [b.scales.length], b.scales));
      head.push(
        makeNode(
          'DequantizeLinear',
          [`${base}_quantized`, `${base}_scale`],
          [`${base}_dequantized`],
          { axis: 0 },
          `${base}_DequantizeLinear`,
        ),
      );
      w.node.input![2] = `${base}_dequantized`;
    }
  }

  const nodes: NodeProto[] = [...head, ...(after.get('') ?? [])];
  for (const n of graph.node ?? []) {
    nodes.push(n);
    for (const o of n.output ?? []) nodes.push(...(after.get(o) ?? []));
  }
  graph.node = nodes;
  graph.initializer = [...(graph.initializer ?? []), ...inits];
  return weightCache.size;
}

/** Whether a weighted op's output, or that of the single Relu/Clip after it, gets a QuantizeLinear under `plan`. */
function outputQuantized(node: NodeProto, index: GraphIndex, plan: QdqPlan): boolean {
  const y = node.output?.[0] ?? '';
  if (plan.tensors.has(y)) return true;
  const users = index.consumersOf(y);
  return users.length === 1 && ['Relu', 'Clip'].includes(users[0]!.opType ?? '') && plan.tensors.has(users[0]!.output?.[0] ?? '');
}

/** The output channel of flat index `i` of a weight with `dims` whose output channels run along `axis`. */
function channelOf(i: number, dims: readonly number[], axis: number): number {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return Math.floor(i / inner) % dims[axis]!;
}

/**
 * (Ŵ − W)·E[x] per output channel: the mean shift the weight rounding `error` gives the op's output, with `means`
 * the input's per-channel means. Conv: weights [O, I/group, k...], input channel from the group; Gemm/MatMul: the
 * weight's other axis is the input's last. Undefined when the shapes do not line up (nothing is corrected then).
 */
function outputShift(
  node: NodeProto,
  error: Float32Array,
  dims: readonly number[],
  axis: number,
  means: Float32Array,
): Float32Array | undefined {
  const out = dims[axis]!;
  const shift = new Float32Array(out);
  if (node.opType === 'Conv') {
    const perGroupIn = dims[1]!;
    const group = intAttr(node, 'group', 1);
    if (perGroupIn * group !== means.length || out % group !== 0) return undefined;
    const kernel = dims.slice(2).reduce((a, b) => a * b, 1);
    for (let o = 0; o < out; o++) {
      const first = Math.floor(o / (out / group)) * perGroupIn;
      let sum = 0;
      for (let i = 0; i < perGroupIn; i++) {
        const m = means[first + i]!;
        const base = (o * perGroupIn + i) * kernel;
        for (let k = 0; k < kernel; k++) sum += error[base + k]! * m;
      }
      shift[o] = sum;
    }
    return shift;
  }
  if (dims.length !== 2 || dims[1 - axis] !== means.length) return undefined;
  for (let i = 0; i < error.length; i++) {
    const [r, c] = [Math.floor(i / dims[1]!), i % dims[1]!];
    const [o, k] = axis === 0 ? [r, c] : [c, r];
    shift[o]! += error[i]! * means[k]!;
  }
  return shift;
}
