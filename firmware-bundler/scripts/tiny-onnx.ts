// A hand-encoded ONNX model (MatMul + Add, 4 inputs → 3 logits) for the golden fixture; no ONNX library needed.

/** Weights of the tiny model: logits = input · WEIGHT + BIAS, WEIGHT row-major [4, 3]. */
export const TINY_WEIGHT = [0.5, -0.25, 0.125, -0.5, 0.75, 0.25, 1, -1, 0.5, 0.25, 0.5, -0.75];
export const TINY_BIAS = [0.1, -0.2, 0.3];

/** Protobuf wire helpers: just the field kinds ONNX needs. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number) => [...key(field, 0), ...varint(value)];
const bytes = (field: number, value: number[] | Uint8Array) => [...key(field, 2), ...varint(value.length), ...value];
const str = (field: number, value: string) => bytes(field, new TextEncoder().encode(value));
const msg = (field: number, parts: number[][]) => bytes(field, parts.flat());

function floats(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function tensor(field: number, name: string, dims: number[], values: number[]): number[] {
  // TensorProto: dims=1, data_type=2 (1 = FLOAT), name=8, raw_data=9 (little-endian float32).
  return msg(field, [...dims.map((d) => int(1, d)), int(2, 1), str(8, name), bytes(9, floats(values))]);
}

function valueInfo(field: number, name: string, dims: number[]): number[] {
  // ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1}}}}}
  const shape = msg(
    2,
    dims.map((d) => msg(1, [int(1, d)])),
  );
  return msg(field, [str(1, name), msg(2, [msg(1, [int(1, 1), shape])])]);
}

function node(opType: string, inputs: string[], outputs: string[], name: string): number[] {
  return msg(1, [...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, opType)]);
}

/** The model bytes: ir_version 8, opset 13, input `input` float[1,4], output `logits` float[1,3]. */
export function tinyOnnxModel(bias: number[] = TINY_BIAS): Uint8Array {
  const graph = msg(7, [
    node('MatMul', ['input', 'weight'], ['mm'], 'matmul'),
    node('Add', ['mm', 'bias'], ['logits'], 'add'),
    str(2, 'flotilla-golden'),
    tensor(5, 'weight', [4, 3], TINY_WEIGHT),
    tensor(5, 'bias', [3], bias),
    valueInfo(11, 'input', [1, 4]),
    valueInfo(12, 'logits', [1, 3]),
  ]);
  return Uint8Array.from([...int(1, 8), str(2, 'flotilla-golden'), str(3, '1'), graph, msg(8, [str(1, ''), int(2, 13)])].flat());
}

/** Reference outputs in float32 arithmetic: what onnxruntime computes for `input` (length 4). */
export function tinyOnnxLogits(input: number[], bias: number[] = TINY_BIAS): number[] {
  const f = Math.fround;
  return [0, 1, 2].map((j) => {
    let acc = 0;
    for (let i = 0; i < 4; i++) acc = f(acc + f(f(input[i]!) * f(TINY_WEIGHT[i * 3 + j]!)));
    return f(acc + f(bias[j]!));
  });
}
