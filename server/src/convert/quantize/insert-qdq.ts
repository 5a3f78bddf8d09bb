// Rewrites a float graph into QDQ form from a plan and calibrated ranges: int8 weights, int32 biases, uint8 activations.
import {
  GraphIndex,
  makeNode,
  makeTensor,
  readTensorAsFloat32,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import { activationParams, quantizeBias, quantizeWeightPerChannel, WEIGHT_QMAX, type ActivationParams } from './quant-math.ts';
import type { QdqPlan } from './qdq-plan.ts';
import type { Range } from './calibrate.ts';

/** Rewrites `graph` in place; returns the number of weights quantized. `weightQmax`: see {@link WEIGHT_QMAX}. */
export function insertQdq(graph: GraphProto, plan: QdqPlan, ranges: Map<string, Range>, weightQmax = WEIGHT_QMAX): number {
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
  const weightCache = new Map<string, { out: string; scales: Float32Array }>();
  for (const w of plan.weighted) {
    const [x = '', wName = ''] = w.node.input ?? [];
    const original = x.endsWith('_dequantized') && plan.tensors.has(x.slice(0, -'_dequantized'.length)) ? x.slice(0, -'_dequantized'.length) : x;
    const key = `${wName}|${w.weightAxis}`;
    let qw = weightCache.get(key);
    if (!qw) {
      const t = index.initializers.get(wName)!;
      const dims = t.dims ?? [];
      const { values, scales } = quantizeWeightPerChannel(readTensorAsFloat32(t), dims, w.weightAxis, weightQmax);
      // A weight shared by ops that need different channel axes gets one quantized copy per axis.
      const base = [...weightCache.keys()].some((k) => k.startsWith(`${wName}|`)) ? `${wName}_axis${w.weightAxis}` : wName;
      inits.push(
        makeTensor(`${base}_quantized`, dims, values),
        makeTensor(`${base}_scale`, [scales.length], scales),
        makeTensor(`${base}_zero_point`, [scales.length], new Int8Array(scales.length)),
      );
      head.push(makeNode('DequantizeLinear', [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`], [`${base}_dequantized`], { axis: w.weightAxis }, `${base}_DequantizeLinear`));
      qw = { out: `${base}_dequantized`, scales };
      weightCache.set(key, qw);
    }
    w.node.input![1] = qw.out;
    const inputParams = plan.tensors.has(original) ? params.get(plan.tensors.get(original)!) : undefined;
    if (w.bias && inputParams) {
      const b = quantizeBias(readTensorAsFloat32(index.initializers.get(w.bias)!), inputParams.scale, qw.scales);
      const base = `${w.bias}_${w.node.name || w.node.output?.[0]}`;
      inits.push(makeTensor(`${base}_quantized`, [b.values.length], b.values), makeTensor(`${base}_scale`, [b.scales.length], b.scales));
      head.push(makeNode('DequantizeLinear', [`${base}_quantized`, `${base}_scale`], [`${base}_dequantized`], { axis: 0 }, `${base}_DequantizeLinear`));
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
