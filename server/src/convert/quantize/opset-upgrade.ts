// Brings models of opsets 7 to 12 up to opset 13 (QDQ per-channel needs it), or refuses naming the blocking ops.
import {
  floatTensor,
  int64Tensor,
  intAttr,
  intsAttr,
  isDefaultDomain,
  opsetVersion,
  findAttribute,
  valueInfoDims,
  type ModelProto,
  type NodeProto,
} from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from '../convert-error.ts';

/** Lowest opset this quantizer targets; per-axis QuantizeLinear/DequantizeLinear arrived in 13. */
export const TARGET_OPSET = 13;
/** Below this the operator semantics differ too much (broadcast attributes) to upgrade mechanically. */
export const OLDEST_UPGRADABLE_OPSET = 7;

/** Op → the oldest opset from which its definition is identical to opset 13's for float tensors. */
const SAME_SINCE: Record<string, number> = {
  Abs: 6, Add: 7, AveragePool: 7, BatchNormalization: 9, Cast: 6, Ceil: 6, Concat: 4, Constant: 1, Conv: 1,
  ConvTranspose: 11, Div: 7, Dropout: 1, Elu: 6, Erf: 9, Exp: 6, Flatten: 1, Floor: 6, Gather: 1, Gemm: 7,
  GlobalAveragePool: 1, GlobalMaxPool: 1, GRU: 7, HardSigmoid: 6, Identity: 1, LeakyRelu: 6, Log: 6, LSTM: 7,
  MatMul: 1, Max: 8, MaxPool: 8, Mean: 8, Min: 8, Mul: 7, Neg: 6, PRelu: 7, Reciprocal: 6, Relu: 6, Reshape: 5,
  RNN: 7, Selu: 6, Shape: 1, Sigmoid: 6, Softplus: 1, Softsign: 1, Sqrt: 6, Sub: 7, Sum: 8, Tanh: 6,
  ThresholdedRelu: 10, Transpose: 1, Slice: 10,
};

/** Ops whose attributes became inputs by opset 13; rewritten rather than refused. */
const REWRITABLE = new Set(['Squeeze', 'Unsqueeze', 'Clip', 'Pad', 'Softmax', 'LogSoftmax']);

/**
 * Upgrades `model` in place to opset 13 when every op can be carried over exactly; returns notes on what
 * changed. Throws `QUANT_OPSET_TOO_OLD` listing the ops that block the upgrade.
 */
export function upgradeToOpset13(model: ModelProto): string[] {
  const version = opsetVersion(model) ?? 1;
  if (version >= TARGET_OPSET) return [];
  const graph = model.graph ?? {};
  if (version < OLDEST_UPGRADABLE_OPSET) {
    throw new QuantizeError('QUANT_OPSET_TOO_OLD', `opset ${version} is older than ${OLDEST_UPGRADABLE_OPSET}, the oldest this quantizer can upgrade; convert the model to opset ${TARGET_OPSET} first (onnx.version_converter)`, { opset: version });
  }
  const rank = rankLookup(model);
  const blockers = new Set<string>();
  for (const n of graph.node ?? []) {
    if (!isDefaultDomain(n)) continue;
    const op = n.opType ?? '';
    if (REWRITABLE.has(op)) {
      if ((op === 'Softmax' || op === 'LogSoftmax') && !softmaxIsLastAxis(n, version, rank)) blockers.add(`${op} (axis is not provably the last axis)`);
      continue;
    }
    const since = SAME_SINCE[op];
    if (since === undefined || version < since) blockers.add(op);
  }
  if (blockers.size) {
    throw new QuantizeError('QUANT_OPSET_TOO_OLD', `opset ${version} cannot be upgraded to ${TARGET_OPSET} safely because of: ${[...blockers].sort().join(', ')}`, { opset: version, blockers: [...blockers].sort() });
  }
  const notes = [`upgraded opset ${version} → ${TARGET_OPSET}`];
  let counter = 0;
  const constName = (n: NodeProto, what: string) => `${n.name || n.output?.[0] || 'node'}_${what}_${counter++}`;
  for (const n of graph.node ?? []) {
    if (!isDefaultDomain(n)) continue;
    const op = n.opType;
    const dropAttrs = (names: string[]) => {
      n.attribute = (n.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
    };
    if ((op === 'Squeeze' || op === 'Unsqueeze') && findAttribute(n, 'axes')) {
      const name = constName(n, 'axes');
      const axes = intsAttr(n, 'axes', []);
      (graph.initializer ??= []).push(int64Tensor(name, [axes.length], axes));
      n.input = [...(n.input ?? []).slice(0, 1), name];
      dropAttrs(['axes']);
    } else if (op === 'Clip' && version < 11) {
      const min = findAttribute(n, 'min')?.f;
      const max = findAttribute(n, 'max')?.f;
      const minName = min === undefined ? '' : constName(n, 'min');
      const maxName = max === undefined ? '' : constName(n, 'max');
      if (min !== undefined) (graph.initializer ??= []).push(floatTensor(minName, [], [min]));
      if (max !== undefined) (graph.initializer ??= []).push(floatTensor(maxName, [], [max]));
      n.input = [n.input?.[0] ?? '', minName, maxName];
      while (n.input.length > 1 && n.input[n.input.length - 1] === '') n.input.pop();
      dropAttrs(['min', 'max']);
    } else if (op === 'Pad' && version < 11) {
      const pads = intsAttr(n, 'pads', []);
      const padsName = constName(n, 'pads');
      (graph.initializer ??= []).push(int64Tensor(padsName, [pads.length], pads));
      const value = findAttribute(n, 'value')?.f ?? 0;
      const valueName = constName(n, 'value');
      (graph.initializer ??= []).push(floatTensor(valueName, [], [value]));
      n.input = [n.input?.[0] ?? '', padsName, valueName];
      dropAttrs(['pads', 'value']);
    } else if (op === 'Softmax' || op === 'LogSoftmax') {
      dropAttrs(['axis']);
      (n.attribute ??= []).push({ name: 'axis', type: 2, i: -1 });
    }
  }
  model.opsetImport = (model.opsetImport ?? []).map((o) => (!o.domain || o.domain === 'ai.onnx' ? { ...o, version: TARGET_OPSET } : o));
  model.irVersion = Math.max(model.irVersion ?? 0, 7);
  return notes;
}

/** Before opset 13 Softmax flattens to 2-D at `axis` (default 1); that equals opset 13 only over the last axis. */
function softmaxIsLastAxis(n: NodeProto, _version: number, rank: (name: string) => number | undefined): boolean {
  const r = rank(n.input?.[0] ?? '') ?? rank(n.output?.[0] ?? '');
  if (r === undefined) return false;
  const axis = intAttr(n, 'axis', 1);
  return (axis < 0 ? axis + r : axis) === r - 1;
}

function rankLookup(model: ModelProto): (name: string) => number | undefined {
  const ranks = new Map<string, number>();
  const g = model.graph ?? {};
  for (const vi of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const dims = valueInfoDims(vi);
    if (dims && vi.name) ranks.set(vi.name, dims.length);
  }
  // Gemm and Flatten always produce matrices, the usual input of a classifier's softmax.
  for (const n of g.node ?? []) if (n.opType === 'Gemm' || n.opType === 'Flatten') ranks.set(n.output?.[0] ?? '', 2);
  return (name) => ranks.get(name);
}
