// Per-op rules for carrying a node from an older ai.onnx opset to opset 13: since when the node means the same
// at 13, and how to rewrite it when it was written against an older definition. Sources: the ONNX Changelog.
import { DataType, type NodeProto } from './onnx-types.ts';
import { findAttribute, floatAttr, intAttr, intsAttr, stringAttr } from './graph-query.ts';
import { makeNode, makeAttribute } from './graph-builder.ts';
import { dropAttributes, type GraphEdit } from './graph-edit.ts';
import { REDUCE_OPS_WITH_AXES_ATTRIBUTE, type ShapeInfo } from './shape-inference.ts';

/** What a rewrite may look at and change. */
export interface RuleContext {
  /** The model's ai.onnx opset before the upgrade. */
  from: number;
  edit: GraphEdit;
  shapes: ShapeInfo;
  /** Whether a tensor is read by any node or is a graph output. */
  used(name: string): boolean;
  /** Stops the upgrade: the node cannot be carried over exactly. */
  refuse(reason: string): never;
}

export interface UpgradeRule {
  /** The oldest opset from which a node of this op means exactly what it means at opset 13. */
  same: number;
  /** Rewrites a node written for an opset older than `same`; without one such a node is refused. */
  rewrite?: (n: NodeProto, ctx: RuleContext) => void;
  /** Why an op can never be carried over (ops that opset 13 does not define at all). */
  never?: string;
}

const never = (why: string): UpgradeRule => ({ same: Infinity, never: why });

const rankOf = (ctx: RuleContext, name: string) => ctx.shapes.info.get(name)?.dims?.length;
const elemOf = (ctx: RuleContext, name: string) => ctx.shapes.info.get(name)?.elemType ?? DataType.FLOAT;
const int64s = (data: number[]) => ({ dataType: DataType.INT64, dims: [data.length], data });

/** An attribute that became an int64 input: moved to input `index` (inputs in between padded with ''). */
function attrToInput(n: NodeProto, ctx: RuleContext, attr: string, index: number): void {
  const a = findAttribute(n, attr);
  if (!a) return;
  const values = a.ints ? a.ints.map(Number) : [Number(a.i ?? 0)];
  const name = ctx.edit.addConstant(`${n.output?.[0]}_${attr}`, int64s(values));
  const inputs = [...(n.input ?? [])];
  while (inputs.length < index) inputs.push('');
  inputs[index] = name;
  n.input = inputs;
  dropAttributes(n, attr);
}

/** Opset 1 to 6 elementwise ops broadcast only with `broadcast=1`, aligning B at `axis`; numpy aligns trailing dims. */
function legacyBroadcast(n: NodeProto, ctx: RuleContext): void {
  const broadcast = intAttr(n, 'broadcast', 0);
  const axisAttr = findAttribute(n, 'axis');
  dropAttributes(n, 'broadcast', 'axis', 'consumed_inputs');
  if (!broadcast || !axisAttr) return; // equal shapes, or suffix alignment: both mean the same under numpy rules
  const [a, b] = [n.input?.[0] ?? '', n.input?.[1] ?? ''];
  const ra = rankOf(ctx, a);
  const rb = rankOf(ctx, b);
  if (ra === undefined || rb === undefined)
    ctx.refuse('legacy broadcast with an axis needs the ranks of both inputs, which shape inference could not determine');
  const axis = Number(axisAttr.i ?? 0) < 0 ? Number(axisAttr.i) + ra : Number(axisAttr.i ?? 0);
  const trailing = ra - axis - rb;
  if (trailing < 0) ctx.refuse(`legacy broadcast axis ${axis} does not fit ranks ${ra} and ${rb}`);
  if (trailing === 0) return;
  const axes = ctx.edit.addConstant(`${b}_bcast_axes`, int64s(Array.from({ length: trailing }, (_, i) => rb + i)));
  const out = ctx.edit.freshName(`${b}_bcast`);
  ctx.edit.insertBefore(n, makeNode('Unsqueeze', [b, axes], [out]));
  n.input = [a, out];
}

/** Before opset 13 Softmax-like ops flatten to 2-D at `axis` (default 1) and normalise each row. */
function legacySoftmax(n: NodeProto, ctx: RuleContext): void {
  const x = n.input?.[0] ?? '';
  const rank = rankOf(ctx, x);
  const axis = intAttr(n, 'axis', 1);
  const a = rank !== undefined && axis < 0 ? axis + rank : axis;
  dropAttributes(n, 'axis');
  if (rank !== undefined && a === rank - 1) {
    n.attribute = [...(n.attribute ?? []), makeAttribute('axis', -1)];
    return;
  }
  // Not provably the last axis: compute it the old way, Flatten(axis) → op over the last axis → Reshape back.
  const y = n.output?.[0] ?? '';
  const shape = ctx.edit.freshName(`${y}_shape`);
  const flat = ctx.edit.freshName(`${y}_2d`);
  const flatOut = ctx.edit.freshName(`${y}_2d_out`);
  ctx.edit.insertBefore(n, makeNode('Shape', [x], [shape]), makeNode('Flatten', [x], [flat], { axis }));
  const reshape = makeNode('Reshape', [flatOut, shape], [y]);
  n.input = [flat];
  n.output = [flatOut];
  n.attribute = [makeAttribute('axis', -1)];
  ctx.edit.insertAfter(n, reshape);
}

function legacyBatchNorm(n: NodeProto, ctx: RuleContext): void {
  if ((n.output ?? []).slice(1).some((o) => o && ctx.used(o))) ctx.refuse('its training outputs (running mean/variance) are used');
  const rank = rankOf(ctx, n.input?.[0] ?? '');
  if (intAttr(n, 'spatial', 1) === 0 && rank !== 2)
    ctx.refuse('spatial=0 (per-activation statistics) has no opset-13 equivalent for rank ≠ 2');
  n.output = [n.output?.[0] ?? ''];
  dropAttributes(n, 'spatial', 'is_test', 'consumed_inputs');
}

/** Clip's min/max (opset < 11) became optional inputs of the input's element type. */
function legacyClip(n: NodeProto, ctx: RuleContext): void {
  const type = elemOf(ctx, n.input?.[0] ?? '');
  const bound = (attr: string) => {
    const a = findAttribute(n, attr);
    return a?.f === undefined ? '' : ctx.edit.addConstant(`${n.output?.[0]}_${attr}`, { dataType: type, dims: [], data: [a.f] });
  };
  n.input = [n.input?.[0] ?? '', bound('min'), bound('max')];
  while (n.input.length > 1 && n.input[n.input.length - 1] === '') n.input.pop();
  dropAttributes(n, 'min', 'max', 'consumed_inputs');
}

function legacyPad(n: NodeProto, ctx: RuleContext): void {
  if (!findAttribute(n, 'pads')) ctx.refuse('opset-1 Pad (paddings attribute) is not supported');
  const mode = stringAttr(n, 'mode', 'constant');
  attrToInput(n, ctx, 'pads', 1);
  if (mode === 'constant') {
    const value = floatAttr(n, 'value', 0);
    n.input = [
      ...(n.input ?? []),
      ctx.edit.addConstant(`${n.output?.[0]}_value`, { dataType: elemOf(ctx, n.input?.[0] ?? ''), dims: [], data: [value] }),
    ];
  }
  dropAttributes(n, 'value');
}

/** Upsample (opsets 7 to 9) and Resize-10 use asymmetric coordinates and, for nearest, floor; Resize-13 says so explicitly. */
function toResize13(n: NodeProto, ctx: RuleContext): void {
  const mode = stringAttr(n, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') ctx.refuse(`mode '${mode}' has no Resize equivalent`);
  let scales = n.input?.[1] ?? '';
  const attr = findAttribute(n, 'scales');
  if (attr)
    scales = ctx.edit.addConstant(`${n.output?.[0]}_scales`, {
      dataType: DataType.FLOAT,
      dims: [attr.floats?.length ?? 0],
      data: attr.floats ?? [],
    });
  n.opType = 'Resize';
  n.input = [n.input?.[0] ?? '', '', scales];
  n.attribute = [
    makeAttribute('mode', mode === 'bilinear' ? 'linear' : mode),
    makeAttribute('coordinate_transformation_mode', 'asymmetric'),
    ...(mode === 'nearest' ? [makeAttribute('nearest_mode', 'floor')] : []),
  ];
}

function legacyDropout(n: NodeProto, ctx: RuleContext): void {
  const mask = n.output?.[1];
  if (mask && ctx.used(mask)) ctx.refuse('its mask output is used');
  // At inference (which is all an upgraded model is for) Dropout before opset 12 is the identity.
  n.opType = 'Identity';
  n.input = [n.input?.[0] ?? ''];
  n.output = [n.output?.[0] ?? ''];
  delete n.attribute;
}

function legacyRecurrent(n: NodeProto, ctx: RuleContext): void {
  // output_sequence (opset < 7) only decided whether Y was produced; opset 7 always produces it.
  if (findAttribute(n, 'output_sequence') && intAttr(n, 'output_sequence', 0) === 0 && n.output?.[0] && ctx.used(n.output[0])) {
    ctx.refuse('output_sequence=0 but Y is used');
  }
  dropAttributes(n, 'output_sequence');
}

/** An op whose nodes from opset `since` on mean what they mean at 13; older nodes are refused (no rewrite). */
const same = (since: number): UpgradeRule => ({ same: since });

/** The upgrade rules by op type (default domain). An op missing here is refused: nobody checked its history. */
export const UPGRADE_RULES: Record<string, UpgradeRule> = {
  // Unchanged for float tensors apart from the legacy consumed_inputs hint (removed in opset 6; the driver drops it).
  ...Object.fromEntries(
    [
      'Abs',
      'Ceil',
      'Exp',
      'Floor',
      'Log',
      'Neg',
      'Reciprocal',
      'Relu',
      'Sigmoid',
      'Sqrt',
      'Tanh',
      'Elu',
      'LeakyRelu',
      'Selu',
      'HardSigmoid',
      'Softplus',
      'Softsign',
      'Conv',
      'Flatten',
      'Gather',
      'Transpose',
      'GlobalAveragePool',
      'GlobalMaxPool',
      'GlobalLpPool',
      'Identity',
      'MatMul',
      'Shape',
      'Size',
      'InstanceNormalization',
      'LRN',
      'Constant',
      'Not',
      'DepthToSpace',
      'SpaceToDepth',
      'ArgMax',
      'ArgMin',
      ...REDUCE_OPS_WITH_AXES_ATTRIBUTE,
      'MaxPool',
      'AveragePool',
      'LpPool',
      'LpNormalization',
      'ConvTranspose',
      'Tile',
    ].map((op) => [op, same(1)]),
  ),
  // Opset-1 Cast took a string type name and Concat's axis defaulted to 1; both rare enough to refuse.
  Cast: { same: 6 },
  Concat: { same: 4 },
  // Before opset 8 these required equal shapes, which numpy broadcasting also accepts.
  Max: same(6),
  Min: same(6),
  Sum: same(6),
  Mean: same(6),
  Reshape: { same: 5, rewrite: (n, ctx) => attrToInput(n, ctx, 'shape', 1) },
  Erf: same(9),
  Expand: same(8),
  ConstantOfShape: same(9),
  Where: same(9),
  NonZero: same(9),
  Sign: same(9),
  Sin: same(7),
  Cos: same(7),
  MeanVarianceNormalization: same(9),
  IsNaN: same(9),
  IsInf: same(10),
  Mod: same(10),
  Round: same(11),
  Range: same(11),
  CumSum: same(11),
  ScatterND: same(11),
  ScatterElements: same(11),
  GatherElements: same(11),
  GatherND: same(11),
  Einsum: same(12),
  ThresholdedRelu: same(10),
  NonMaxSuppression: same(10),
  Compress: same(9),
  Shrink: same(9),
  EyeLike: same(9),
  Celu: same(12),
  GreaterOrEqual: same(12),
  LessOrEqual: same(12),
  Tan: same(7),
  Asin: same(7),
  Acos: same(7),
  Atan: same(7),
  Sinh: same(9),
  Cosh: same(9),
  Asinh: same(9),
  Acosh: same(9),
  Atanh: same(9),
  ReverseSequence: same(10),
  RoiAlign: same(10),
  Det: same(11),
  Unique: same(11),
  BitShift: same(11),
  // OneHot before 11 treats negative indices as out of range (all off_value); 11 counts them from the end.
  OneHot: same(11),
  QuantizeLinear: same(10),
  DequantizeLinear: same(10),
  QLinearConv: same(10),
  QLinearMatMul: same(10),
  MatMulInteger: same(10),
  ConvInteger: same(10),
  DynamicQuantizeLinear: same(11),
  Resize: { same: 11, rewrite: toResize13 },
  Upsample: { same: 99, rewrite: toResize13 },
  Scatter: { same: 99, rewrite: (n) => void (n.opType = 'ScatterElements') },
  ...Object.fromEntries(
    ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'And', 'Or', 'Xor'].map((op) => [
      op,
      { same: 7, rewrite: legacyBroadcast },
    ]),
  ),
  PRelu: {
    same: 7,
    rewrite: (n, ctx) => {
      const slope = ctx.shapes.info.get(n.input?.[1] ?? '')?.dims;
      if (!slope || slope.some((d) => d !== 1))
        ctx.refuse('opset-6 PRelu slope broadcasting differs from numpy broadcasting unless the slope has one element');
    },
  },
  Gemm: { same: 7, rewrite: (n) => dropAttributes(n, 'broadcast') },
  BatchNormalization: { same: 9, rewrite: legacyBatchNorm },
  Dropout: { same: 12, rewrite: legacyDropout },
  LSTM: { same: 7, rewrite: legacyRecurrent },
  GRU: { same: 7, rewrite: legacyRecurrent },
  RNN: { same: 7, rewrite: legacyRecurrent },
  Clip: { same: 11, rewrite: legacyClip },
  Pad: { same: 11, rewrite: legacyPad },
  Slice: {
    same: 10,
    rewrite: (n, ctx) => {
      const starts = intsAttr(n, 'starts', []);
      if (!findAttribute(n, 'axes'))
        n.attribute = [
          ...(n.attribute ?? []),
          makeAttribute(
            'axes',
            starts.map((_, i) => i),
          ),
        ];
      for (const [attr, i] of [
        ['starts', 1],
        ['ends', 2],
        ['axes', 3],
      ] as const)
        attrToInput(n, ctx, attr, i);
    },
  },
  TopK: { same: 10, rewrite: (n, ctx) => attrToInput(n, ctx, 'k', 1) },
  Squeeze: { same: 13, rewrite: (n, ctx) => attrToInput(n, ctx, 'axes', 1) },
  Unsqueeze: { same: 13, rewrite: (n, ctx) => attrToInput(n, ctx, 'axes', 1) },
  ReduceSum: { same: 13, rewrite: (n, ctx) => attrToInput(n, ctx, 'axes', 1) },
  Split: {
    same: 13,
    rewrite: (n, ctx) => {
      if (ctx.from < 2) ctx.refuse('opset-1 Split is not supported');
      attrToInput(n, ctx, 'split', 1);
    },
  },
  // Experimental ops of opsets 1 to 9, dropped in opset 10 without a defined replacement.
  ATen: never('an arbitrary PyTorch kernel named by attribute; ONNX has no definition of what it computes'),
  ...Object.fromEntries(
    [
      'Affine',
      'ConstantFill',
      'Crop',
      'DynamicSlice',
      'GRUUnit',
      'GivenTensorFill',
      'ImageScaler',
      'ParametricSoftplus',
      'Scale',
      'ScaledTanh',
    ].map((op) => [op, never('an experimental op removed in opset 10; opset 13 does not define it')]),
  ),
  Softmax: { same: 13, rewrite: legacySoftmax },
  LogSoftmax: { same: 13, rewrite: legacySoftmax },
  Hardmax: { same: 13, rewrite: legacySoftmax },
};
