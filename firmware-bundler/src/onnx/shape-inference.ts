// Shape and element-type inference over a graph, with dynamic dims kept symbolic ('batch', or '?n' when unnamed).
// It answers what the upgrader and folder need (ranks for Softmax axes, static shapes for Shape folding, calibration
// tensor sizes); an op it does not know leaves its outputs unknown rather than guessed.
import { constFromTensor, type ConstValue } from './const-value.ts';
import { findAttribute, intAttr, intsAttr, isDefaultDomain, stringAttr } from './graph-query.ts';
import { DataType, type GraphProto, type NodeProto, type ValueInfoProto } from './onnx-types.ts';
import { elementCount } from './tensor-data.ts';

/** A dimension: a size, or a symbol standing for one size (two dims with the same symbol are equal). */
export type Dim = number | string;

/** What is known about a tensor: its element type and, when the rank is known, its dims. */
export interface TensorInfo {
  elemType?: number;
  dims?: Dim[];
}

/** The inferred types and shapes by tensor name, with the constant values they were derived from. */
export interface ShapeInfo {
  info: Map<string, TensorInfo>;
  /** Constant (initializer, non-input) values by name, for ops whose output shape depends on an input's contents. */
  consts: Map<string, ConstValue>;
}

let unnamed = 0;
const fresh = (): string => `?${unnamed++}`;

/** Infers every tensor's type and shape in node order (ONNX graphs are topologically sorted). */
export function inferShapes(graph: GraphProto): ShapeInfo {
  const info = new Map<string, TensorInfo>();
  const consts = new Map<string, ConstValue>();
  const inputs = new Set((graph.input ?? []).map((v) => v.name));
  for (const vi of graph.input ?? []) if (vi.name) info.set(vi.name, fromValueInfo(vi));
  for (const t of graph.initializer ?? []) {
    if (!t.name) continue;
    if (!inputs.has(t.name)) info.set(t.name, { elemType: t.dataType, dims: [...(t.dims ?? [])] });
    // Only small constants (shapes, axes, scales) matter here; decoding every weight would be slow.
    const c = inputs.has(t.name) || elementCount(t.dims) > 64 ? undefined : constFromTensor(t);
    if (c) consts.set(t.name, c);
  }
  for (const n of graph.node ?? []) {
    const outs = isDefaultDomain(n)
      ? inferNode(
          n,
          (name) => info.get(name) ?? {},
          (name) => consts.get(name),
        )
      : [];
    (n.output ?? []).forEach((o, i) => {
      if (o) info.set(o, outs[i] ?? {});
    });
    if (n.opType === 'Constant' && isDefaultDomain(n)) {
      const t = findAttribute(n, 'value')?.t;
      const c = t && elementCount(t.dims) <= 64 ? constFromTensor(t) : undefined;
      if (c) consts.set(n.output?.[0] ?? '', c);
    }
  }
  return { info, consts };
}

function fromValueInfo(vi: ValueInfoProto): TensorInfo {
  const tt = vi.type?.tensorType;
  const dims = tt?.shape?.dim?.map((d) => (d.dimValue !== undefined ? d.dimValue : d.dimParam || fresh()));
  return { elemType: tt?.elemType, ...(dims ? { dims } : {}) };
}

/** Whether all dims are numbers. */
export const isStatic = (dims: Dim[] | undefined): dims is number[] => !!dims && dims.every((d) => typeof d === 'number');

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Numpy-style broadcast of several shapes; undefined when a rank is unknown. */
export function broadcastDims(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const ds = shapes.map((s) => s![s!.length - rank + i]).filter((d): d is Dim => d !== undefined && d !== 1);
    const known = ds.find((d) => typeof d === 'number');
    out.push(known ?? ds[0] ?? 1);
  }
  return out;
}

type Get = (name: string) => TensorInfo;
type GetConst = (name: string) => ConstValue | undefined;

const UNARY = new Set([
  'Relu',
  'Sigmoid',
  'Tanh',
  'Exp',
  'Log',
  'Sqrt',
  'Neg',
  'Abs',
  'Reciprocal',
  'Floor',
  'Ceil',
  'LeakyRelu',
  'Elu',
  'Selu',
  'HardSigmoid',
  'HardSwish',
  'Softplus',
  'Softsign',
  'Erf',
  'Clip',
  'Identity',
  'Dropout',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'PRelu',
  'Sign',
  'Round',
  'Sin',
  'Cos',
  'Not',
  'LayerNormalization',
  'CumSum',
  'Mish',
  'Celu',
  'ThresholdedRelu',
  'Gelu',
  'MeanVarianceNormalization',
  'LpNormalization',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'PRelu']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
/** ONNX's reduce operators but ReduceSum: their `axes` stays an attribute through opset 17 (ReduceSum's became an input at 13). */
export const REDUCE_OPS_WITH_AXES_ATTRIBUTE = [
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
] as const;
const REDUCE = new Set<string>([...REDUCE_OPS_WITH_AXES_ATTRIBUTE, 'ReduceSum', 'ArgMax', 'ArgMin']);

/** Axes given either as the `axes` attribute (older opsets) or as a constant input (opset 13 onwards). */
function axesOf(n: NodeProto, c: GetConst, inputIndex: number): number[] | undefined {
  if (findAttribute(n, 'axes')) return intsAttr(n, 'axes', []);
  const name = n.input?.[inputIndex];
  if (!name) return undefined;
  return c(name)?.data;
}

function inferNode(n: NodeProto, get: Get, c: GetConst): TensorInfo[] {
  const op = n.opType ?? '';
  const x = get(n.input?.[0] ?? '');
  const t = x.elemType;
  const d = x.dims;
  if (op === 'Dropout') return [x, { elemType: DataType.BOOL, dims: d }];
  if (op === 'BatchNormalization') return [x];
  if (UNARY.has(op)) return [x];
  if (BROADCAST.has(op))
    return [{ elemType: t ?? get(n.input?.[1] ?? '').elemType, dims: broadcastDims((n.input ?? []).map((i) => get(i).dims)) }];
  if (COMPARE.has(op)) return [{ elemType: DataType.BOOL, dims: broadcastDims((n.input ?? []).map((i) => get(i).dims)) }];
  switch (op) {
    case 'Cast':
      return [{ elemType: intAttr(n, 'to', 0), dims: d }];
    case 'Where':
      return [{ elemType: get(n.input?.[1] ?? '').elemType, dims: broadcastDims((n.input ?? []).map((i) => get(i).dims)) }];
    case 'Shape':
      return [{ elemType: DataType.INT64, dims: d ? [d.length] : [fresh()] }];
    case 'Size':
      return [{ elemType: DataType.INT64, dims: [] }];
    case 'Constant': {
      const a = n.attribute?.[0];
      if (a?.t) return [{ elemType: a.t.dataType, dims: [...(a.t.dims ?? [])] }];
      if (a?.name === 'value_float') return [{ elemType: DataType.FLOAT, dims: [] }];
      if (a?.name === 'value_int') return [{ elemType: DataType.INT64, dims: [] }];
      if (a?.name === 'value_floats') return [{ elemType: DataType.FLOAT, dims: [a.floats?.length ?? 0] }];
      if (a?.name === 'value_ints') return [{ elemType: DataType.INT64, dims: [a.ints?.length ?? 0] }];
      return [{}];
    }
    case 'ConstantOfShape': {
      const s = c(n.input?.[0] ?? '');
      return [{ elemType: findAttribute(n, 'value')?.t?.dataType ?? DataType.FLOAT, ...(s ? { dims: s.data } : {}) }];
    }
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool':
      return [
        { elemType: t, dims: convDims(n, d, get(n.input?.[1] ?? '').dims) },
        { elemType: DataType.INT64, dims: undefined },
      ];
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return [{ elemType: t, dims: d ? [...d.slice(0, 2), ...d.slice(2).map(() => 1)] : undefined }];
    case 'Gemm': {
      const b = get(n.input?.[1] ?? '').dims;
      if (!d || !b) return [{ elemType: t }];
      return [{ elemType: t, dims: [intAttr(n, 'transA', 0) ? d[1]! : d[0]!, intAttr(n, 'transB', 0) ? b[0]! : b[1]!] }];
    }
    case 'MatMul':
      return [{ elemType: t, dims: matMulDims(d, get(n.input?.[1] ?? '').dims) }];
    case 'Flatten': {
      if (!d) return [{ elemType: t }];
      const axis = norm(intAttr(n, 'axis', 1), d.length);
      return [{ elemType: t, dims: [product(d.slice(0, axis)), product(d.slice(axis))] }];
    }
    case 'Reshape':
      return [{ elemType: t, dims: reshapeDims(d, c(n.input?.[1] ?? '')?.data, intAttr(n, 'allowzero', 0) === 1) }];
    case 'Transpose': {
      if (!d) return [{ elemType: t }];
      const perm = intsAttr(
        n,
        'perm',
        d.map((_, i) => d.length - 1 - i),
      );
      return [{ elemType: t, dims: perm.map((p) => d[p]!) }];
    }
    case 'Concat': {
      const all = (n.input ?? []).map((i) => get(i).dims);
      if (all.some((s) => !s)) return [{ elemType: t, dims: all.find((s) => s)?.map(() => fresh()) }];
      const axis = norm(intAttr(n, 'axis', 0), all[0]!.length);
      const dims = [...all[0]!];
      dims[axis] = all.every((s) => typeof s![axis] === 'number') ? all.reduce((a, s) => a + (s![axis] as number), 0) : fresh();
      return [{ elemType: t, dims }];
    }
    case 'Squeeze': {
      if (!d) return [{ elemType: t }];
      const axes = axesOf(n, c, 1)?.map((a) => norm(a, d.length)) ?? (isStatic(d) ? d.flatMap((v, i) => (v === 1 ? [i] : [])) : undefined);
      return [{ elemType: t, ...(axes ? { dims: d.filter((_, i) => !axes.includes(i)) } : {}) }];
    }
    case 'Unsqueeze': {
      const axes = axesOf(n, c, 1);
      if (!d || !axes) return [{ elemType: t }];
      const rank = d.length + axes.length;
      const set = new Set(axes.map((a) => norm(a, rank)));
      const rest = [...d];
      return [{ elemType: t, dims: Array.from({ length: rank }, (_, i) => (set.has(i) ? 1 : rest.shift()!)) }];
    }
    case 'Slice':
      return [{ elemType: t, dims: sliceDims(n, d, c) }];
    case 'Gather': {
      const idx = get(n.input?.[1] ?? '').dims;
      if (!d || !idx) return [{ elemType: t }];
      const axis = norm(intAttr(n, 'axis', 0), d.length);
      return [{ elemType: t, dims: [...d.slice(0, axis), ...idx, ...d.slice(axis + 1)] }];
    }
    case 'Split':
      return splitDims(n, d, c).map((dims) => ({ elemType: t, dims }));
    case 'Pad': {
      const pads = findAttribute(n, 'pads') ? intsAttr(n, 'pads', []) : c(n.input?.[1] ?? '')?.data;
      if (!d || !pads) return [{ elemType: t, dims: d?.map(() => fresh()) }];
      const grow = (i: number) => pads[i]! + pads[i + d.length]!;
      return [{ elemType: t, dims: d.map((v, i) => (typeof v === 'number' ? v + grow(i) : grow(i) === 0 ? v : fresh())) }];
    }
    case 'Resize':
    case 'Upsample':
      return [{ elemType: t, dims: resizeDims(n, d, c) }];
    case 'Expand': {
      const s = c(n.input?.[1] ?? '');
      return [{ elemType: t, dims: s ? broadcastDims([d, s.data]) : undefined }];
    }
    case 'Tile': {
      const r = c(n.input?.[1] ?? '')?.data;
      return [{ elemType: t, dims: d && r ? d.map((v, i) => (typeof v === 'number' ? v * r[i]! : r[i] === 1 ? v : fresh())) : undefined }];
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return recurrentDims(n, d, t);
    case 'TopK': {
      const k = c(n.input?.[1] ?? '')?.data[0] ?? (findAttribute(n, 'k') ? intAttr(n, 'k', 0) : undefined);
      const dims = d ? [...d] : undefined;
      if (dims) dims[norm(intAttr(n, 'axis', -1), dims.length)] = k ?? fresh();
      return [
        { elemType: t, dims },
        { elemType: DataType.INT64, dims },
      ];
    }
    case 'NonZero':
      return [{ elemType: DataType.INT64, dims: d ? [d.length, fresh()] : undefined }];
    case 'Range':
      return [{ elemType: t, dims: [fresh()] }];
  }
  if (REDUCE.has(op)) {
    const outType = op.startsWith('Arg') ? DataType.INT64 : t;
    if (!d) return [{ elemType: outType }];
    const keep = intAttr(n, 'keepdims', 1) === 1;
    const given = op.startsWith('Arg') ? [intAttr(n, 'axis', 0)] : axesOf(n, c, 1);
    if (given === undefined && n.input?.[1]) return [{ elemType: outType }];
    const axes = new Set((given?.length ? given : d.map((_, i) => i)).map((a) => norm(a, d.length)));
    return [{ elemType: outType, dims: d.flatMap((v, i) => (axes.has(i) ? (keep ? [1] : []) : [v])) }];
  }
  return [];
}

function product(dims: Dim[]): Dim {
  return isStatic(dims) ? dims.reduce((a, b) => a * b, 1) : dims.length === 1 ? dims[0]! : fresh();
}

function convDims(n: NodeProto, d: Dim[] | undefined, w: Dim[] | undefined): Dim[] | undefined {
  if (!d) return undefined;
  const spatial = d.length - 2;
  const kernel = intsAttr(
    n,
    'kernel_shape',
    (w?.slice(2) ?? []).map((v) => (typeof v === 'number' ? v : NaN)),
  );
  const strides = intsAttr(n, 'strides', Array(spatial).fill(1));
  const dil = intsAttr(n, 'dilations', Array(spatial).fill(1));
  const pads = intsAttr(n, 'pads', Array(spatial * 2).fill(0));
  const autoPad = stringAttr(n, 'auto_pad', 'NOTSET');
  const ceil = intAttr(n, 'ceil_mode', 0) === 1;
  const channels = n.opType === 'Conv' ? (w?.[0] ?? fresh()) : d[1]!;
  const out: Dim[] = [d[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = d[i + 2]!;
    const k = kernel[i]!;
    if (typeof size !== 'number' || Number.isNaN(k)) {
      out.push(fresh());
      continue;
    }
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(size / strides[i]!));
      continue;
    }
    const p = autoPad === 'VALID' ? 0 : pads[i]! + pads[i + spatial]!;
    const span = size + p - ((k - 1) * dil[i]! + 1);
    let o = (ceil ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1;
    // A ceil-mode window that would start inside the end padding is dropped (as onnxruntime and PyTorch do).
    if (ceil && (o - 1) * strides[i]! >= size + pads[i]!) o--;
    out.push(o);
  }
  return out;
}

function matMulDims(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

function reshapeDims(d: Dim[] | undefined, shape: number[] | undefined, allowZero: boolean): Dim[] | undefined {
  if (!shape) return undefined;
  const out: Dim[] = shape.map((s, i) => (s === 0 && !allowZero ? (d?.[i] ?? fresh()) : s));
  const minus = out.indexOf(-1);
  if (minus >= 0)
    out[minus] = inferredDim(
      d,
      out.filter((_, i) => i !== minus),
    );
  return out;
}

/** The -1 of a Reshape: input size / other output dims, when the symbolic dims on both sides cancel (e.g. [N,3,4] → [N,-1]). */
function inferredDim(input: Dim[] | undefined, others: Dim[]): Dim {
  if (!input) return fresh();
  const symbols = input.filter((v) => typeof v === 'string').sort();
  const otherSymbols = others.filter((v) => typeof v === 'string').sort();
  if (symbols.length !== otherSymbols.length || symbols.some((v, i) => v !== otherSymbols[i] || v.startsWith('?'))) return fresh();
  const num = (ds: Dim[]) => ds.reduce<number>((a, b) => a * (typeof b === 'number' ? b : 1), 1);
  const size = num(input) / num(others);
  return Number.isInteger(size) ? size : fresh();
}

function sliceDims(n: NodeProto, d: Dim[] | undefined, c: GetConst): Dim[] | undefined {
  if (!d) return undefined;
  const attrs = !!findAttribute(n, 'starts');
  const starts = attrs ? intsAttr(n, 'starts', []) : c(n.input?.[1] ?? '')?.data;
  const ends = attrs ? intsAttr(n, 'ends', []) : c(n.input?.[2] ?? '')?.data;
  if (!starts || !ends) return d.map(() => fresh());
  const axes = attrs
    ? intsAttr(
        n,
        'axes',
        starts.map((_, i) => i),
      )
    : n.input?.[3]
      ? c(n.input[3])?.data
      : starts.map((_, i) => i);
  const steps = !attrs && n.input?.[4] ? c(n.input[4])?.data : starts.map(() => 1);
  if (!axes || !steps) return d.map(() => fresh());
  const out = [...d];
  axes.forEach((a, i) => {
    const ax = norm(a, d.length);
    const size = d[ax]!;
    out[ax] = typeof size === 'number' ? sliceLength(size, starts[i]!, ends[i]!, steps[i]!) : fresh();
  });
  return out;
}

/** Number of elements Slice takes from a dim of `size` (clamping as the ONNX spec describes). */
export function sliceLength(size: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  if (step > 0) {
    s = clamp(s, 0, size);
    e = clamp(e, 0, size);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, 0, size - 1);
  e = clamp(e, -1, size - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

function splitDims(n: NodeProto, d: Dim[] | undefined, c: GetConst): (Dim[] | undefined)[] {
  const count = n.output?.length ?? 0;
  if (!d) return Array(count).fill(undefined);
  const axis = norm(intAttr(n, 'axis', 0), d.length);
  const sizes = findAttribute(n, 'split') ? intsAttr(n, 'split', []) : n.input?.[1] ? c(n.input[1])?.data : undefined;
  const total = d[axis]!;
  return Array.from({ length: count }, (_, i) => {
    const out = [...d];
    out[axis] = sizes ? sizes[i]! : typeof total === 'number' && total % count === 0 ? total / count : fresh();
    return out;
  });
}

function resizeDims(n: NodeProto, d: Dim[] | undefined, c: GetConst): Dim[] | undefined {
  if (!d) return undefined;
  const sizes = n.opType === 'Resize' && n.input?.[3] ? c(n.input[3])?.data : undefined;
  if (sizes) return sizes;
  const scalesName = n.opType === 'Upsample' ? n.input?.[1] : n.input?.[2] || (n.input?.length === 2 ? n.input[1] : undefined);
  const scales = findAttribute(n, 'scales') ? findAttribute(n, 'scales')!.floats : scalesName ? c(scalesName)?.data : undefined;
  if (!scales || scales.length !== d.length) return d.map(() => fresh());
  return d.map((v, i) => (typeof v === 'number' ? Math.floor(v * scales[i]!) : scales[i] === 1 ? v : fresh()));
}

function recurrentDims(n: NodeProto, d: Dim[] | undefined, t: number | undefined): TensorInfo[] {
  const hidden = intAttr(n, 'hidden_size', 0) || fresh();
  const dirs = stringAttr(n, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
  if (!d) return [{ elemType: t }, { elemType: t }, { elemType: t }];
  const batchFirst = intAttr(n, 'layout', 0) === 1;
  const [seq, batch] = batchFirst ? [d[1]!, d[0]!] : [d[0]!, d[1]!];
  const y: Dim[] = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const h: Dim[] = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
  return [
    { elemType: t, dims: y },
    { elemType: t, dims: h },
    { elemType: t, dims: h },
  ];
}
