// Evaluates opset-13 ops on constant inputs, for constant folding (shape sub-graphs, casts, small arithmetic).
// Only ops listed here fold; anything else stays in the graph for the runtime to compute.
import { coerce, isIntegerType, type ConstValue } from './const-value.ts';
import { findAttribute, intAttr, intsAttr } from './graph-query.ts';
import { DataType, type NodeProto } from './onnx-types.ts';
import { sliceLength } from './shape-inference.ts';
import { constFromTensor } from './const-value.ts';
import { elementCount } from './tensor-data.ts';

/** Largest tensor the folder materialises; bigger results (e.g. a huge ConstantOfShape) stay computed at run time. */
export const MAX_FOLDED_ELEMENTS = 1 << 20;

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function strides(dims: number[]): number[] {
  const s = Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Numpy broadcasting of several constants: the output dims and, per input, the source index of each output element. */
function broadcast(inputs: ConstValue[]): { dims: number[]; index: (k: number, i: number) => number } | undefined {
  const rank = Math.max(...inputs.map((v) => v.dims.length));
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const ds = inputs.map((v) => v.dims[v.dims.length - rank + i] ?? 1);
    const big = Math.max(...ds);
    if (ds.some((d) => d !== 1 && d !== big)) return undefined;
    dims.push(big);
  }
  const out = strides(dims);
  const src = inputs.map((v) => {
    const s = strides(v.dims);
    return dims.map((d, i) => {
      const j = i - (rank - v.dims.length);
      return j < 0 || v.dims[j] === 1 ? 0 : s[j]!;
    });
  });
  return {
    dims,
    index: (k, i) => {
      let rem = i;
      let at = 0;
      for (let a = 0; a < rank; a++) {
        const q = Math.floor(rem / out[a]!);
        rem -= q * out[a]!;
        at += q * src[k]![a]!;
      }
      return at;
    },
  };
}

function elementwise(inputs: ConstValue[], dataType: number, f: (...xs: number[]) => number): ConstValue | undefined {
  const b = broadcast(inputs);
  if (!b || elementCount(b.dims) > MAX_FOLDED_ELEMENTS) return undefined;
  const n = elementCount(b.dims);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = coerce(dataType, f(...inputs.map((v, k) => v.data[b.index(k, i)]!)));
  return { dataType, dims: b.dims, data };
}

const BINARY: Record<string, (a: number, b: number, int: boolean) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
};
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
  And: (a, b) => !!a && !!b,
  Or: (a, b) => !!a || !!b,
};
const UNARY: Record<string, (a: number) => number> = {
  Neg: (a) => -a,
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Reciprocal: (a) => 1 / a,
  Not: (a) => (a ? 0 : 1),
};

/**
 * The outputs of `n` computed from constant inputs (`''` inputs are absent), or undefined when the op is not
 * foldable here. Shape/Size are not handled here: they need the inferred shape, not an input value.
 */
export function evaluateNode(n: NodeProto, inputs: (ConstValue | undefined)[]): ConstValue[] | undefined {
  const op = n.opType ?? '';
  const [x, y] = inputs;
  if (!x && op !== 'Constant') return undefined;
  if (op in BINARY) {
    const int = isIntegerType(x!.dataType);
    return one(elementwise([x!, y!], x!.dataType, (a, b) => BINARY[op]!(a, b, int)));
  }
  if (op in COMPARE) return one(elementwise([x!, y!], DataType.BOOL, (a, b) => (COMPARE[op]!(a, b) ? 1 : 0)));
  if (op in UNARY) return one(elementwise([x!], x!.dataType, UNARY[op]!));
  switch (op) {
    case 'Identity':
      return [x!];
    case 'Cast': {
      const to = intAttr(n, 'to', 0);
      if (to === DataType.STRING || to === DataType.FLOAT16 || to === DataType.BFLOAT16) return undefined;
      return [{ dataType: to, dims: x!.dims, data: x!.data.map((v) => coerce(to, v)) }];
    }
    case 'Where':
      return one(elementwise([x!, y!, inputs[2]!], y!.dataType, (c, a, b) => (c ? a : b)));
    case 'Reshape':
      return one(reshape(x!, y!.data, intAttr(n, 'allowzero', 0) === 1));
    case 'Flatten': {
      const axis = norm(intAttr(n, 'axis', 1), x!.dims.length);
      return [{ ...x!, dims: [elementCount(x!.dims.slice(0, axis)), elementCount(x!.dims.slice(axis))] }];
    }
    case 'Squeeze': {
      const axes = (y?.data ?? x!.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => norm(a, x!.dims.length));
      return [{ ...x!, dims: x!.dims.filter((_, i) => !axes.includes(i)) }];
    }
    case 'Unsqueeze': {
      const rank = x!.dims.length + y!.data.length;
      const axes = new Set(y!.data.map((a) => norm(a, rank)));
      const rest = [...x!.dims];
      return [{ ...x!, dims: Array.from({ length: rank }, (_, i) => (axes.has(i) ? 1 : rest.shift()!)) }];
    }
    case 'Concat':
      return one(concat(inputs as ConstValue[], intAttr(n, 'axis', 0)));
    case 'Gather':
      return one(gather(x!, y!, intAttr(n, 'axis', 0)));
    case 'Slice':
      return one(slice(x!, inputs));
    case 'Transpose':
      return one(
        transpose(
          x!,
          intsAttr(
            n,
            'perm',
            x!.dims.map((_, i) => x!.dims.length - 1 - i),
          ),
        ),
      );
    case 'Expand':
      return one(
        elementwise([x!, { dataType: x!.dataType, dims: y!.data, data: Array(elementCount(y!.data)).fill(0) }], x!.dataType, (a) => a),
      );
    case 'ConstantOfShape': {
      const value = findAttribute(n, 'value')?.t;
      const v = value ? constFromTensor(value) : { dataType: DataType.FLOAT, dims: [1], data: [0] };
      const count = elementCount(x!.data);
      if (!v || count > MAX_FOLDED_ELEMENTS) return undefined;
      return [{ dataType: v.dataType, dims: x!.data, data: Array(count).fill(v.data[0] ?? 0) }];
    }
    case 'Range': {
      const [start, limit, delta] = inputs.map((v) => v!.data[0]!);
      const count = Math.max(Math.ceil((limit! - start!) / delta!), 0);
      if (count > MAX_FOLDED_ELEMENTS) return undefined;
      return [
        { dataType: x!.dataType, dims: [count], data: Array.from({ length: count }, (_, i) => coerce(x!.dataType, start! + i * delta!)) },
      ];
    }
    case 'ReduceProd':
    case 'ReduceSum': {
      // Folded only over a whole 1-D tensor (the shape-arithmetic case: the product of some dims).
      if (x!.dims.length !== 1) return undefined;
      const v = op === 'ReduceProd' ? x!.data.reduce((a, b) => a * b, 1) : x!.data.reduce((a, b) => a + b, 0);
      return [{ dataType: x!.dataType, dims: intAttr(n, 'keepdims', 1) ? [1] : [], data: [coerce(x!.dataType, v)] }];
    }
  }
  return undefined;
}

const one = (v: ConstValue | undefined) => (v ? [v] : undefined);

function reshape(x: ConstValue, shape: number[], allowZero: boolean): ConstValue | undefined {
  const dims = shape.map((s, i) => (s === 0 && !allowZero ? x.dims[i]! : s));
  const minus = dims.indexOf(-1);
  if (minus >= 0) dims[minus] = x.data.length / elementCount(dims.filter((_, i) => i !== minus));
  if (elementCount(dims) !== x.data.length || dims.some((d) => !Number.isInteger(d))) return undefined;
  return { ...x, dims };
}

function concat(parts: ConstValue[], axisAttr: number): ConstValue | undefined {
  if (parts.some((p) => !p)) return undefined;
  const rank = parts[0]!.dims.length;
  const axis = norm(axisAttr, rank);
  const outer = elementCount(parts[0]!.dims.slice(0, axis));
  const data: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = elementCount(p.dims.slice(axis));
      for (let i = 0; i < block; i++) data.push(p.data[o * block + i]!);
    }
  }
  const dims = [...parts[0]!.dims];
  dims[axis] = parts.reduce((a, p) => a + p.dims[axis]!, 0);
  return { dataType: parts[0]!.dataType, dims, data };
}

function gather(x: ConstValue, idx: ConstValue, axisAttr: number): ConstValue | undefined {
  const axis = norm(axisAttr, x.dims.length);
  const outer = elementCount(x.dims.slice(0, axis));
  const inner = elementCount(x.dims.slice(axis + 1));
  const size = x.dims[axis]!;
  const data: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of idx.data) {
      const j = raw < 0 ? raw + size : raw;
      if (j < 0 || j >= size) return undefined;
      for (let i = 0; i < inner; i++) data.push(x.data[(o * size + j) * inner + i]!);
    }
  }
  return { dataType: x.dataType, dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], data };
}

function slice(x: ConstValue, inputs: (ConstValue | undefined)[]): ConstValue | undefined {
  const [, starts, ends, axesIn, stepsIn] = inputs;
  if (!starts || !ends) return undefined;
  const rank = x.dims.length;
  const axes = axesIn?.data.map((a) => norm(a, rank)) ?? starts.data.map((_, i) => i);
  const steps = stepsIn?.data ?? starts.data.map(() => 1);
  const begin = x.dims.map(() => 0);
  const step = x.dims.map(() => 1);
  const dims = [...x.dims];
  axes.forEach((a, i) => {
    const size = x.dims[a]!;
    const st = steps[i]!;
    let s = starts.data[i]!;
    s = s < 0 ? s + size : s;
    begin[a] = st > 0 ? Math.min(Math.max(s, 0), size) : Math.min(Math.max(s, 0), size - 1);
    step[a] = st;
    dims[a] = sliceLength(size, starts.data[i]!, ends.data[i]!, st);
  });
  const src = strides(x.dims);
  const count = elementCount(dims);
  const out = strides(dims);
  const data = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    let rem = i;
    let at = 0;
    for (let a = 0; a < rank; a++) {
      const q = Math.floor(rem / out[a]!);
      rem -= q * out[a]!;
      at += (begin[a]! + q * step[a]!) * src[a]!;
    }
    data[i] = x.data[at]!;
  }
  return { dataType: x.dataType, dims, data };
}

function transpose(x: ConstValue, perm: number[]): ConstValue | undefined {
  const dims = perm.map((p) => x.dims[p]!);
  const src = strides(x.dims);
  const out = strides(dims);
  const data = new Array<number>(x.data.length);
  for (let i = 0; i < data.length; i++) {
    let rem = i;
    let at = 0;
    for (let a = 0; a < dims.length; a++) {
      const q = Math.floor(rem / out[a]!);
      rem -= q * out[a]!;
      at += q * src[perm[a]!]!;
    }
    data[i] = x.data[at]!;
  }
  return { dataType: x.dataType, dims, data };
}
