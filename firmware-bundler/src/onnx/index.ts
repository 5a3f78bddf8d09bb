// Public face of the browser-safe ONNX toolkit: codec, tensor data, graph helpers, the int8 weight-folding adapter,
// and the opset upgrader / normaliser (shape inference, constant folding).
export { decodeModel, encodeModel } from './onnx-codec.ts';
export { OnnxError, type OnnxErrorCode } from './onnx-error.ts';
export * from './onnx-types.ts';
export {
  dataTypeName,
  elementCount,
  floatTensor,
  int64Tensor,
  makeTensor,
  readTensor,
  readTensorAsFloat32,
  type TensorValues,
} from './tensor-data.ts';
export {
  float,
  floats,
  makeAttribute,
  makeModel,
  makeNode,
  makeValueInfo,
  type AttrValue,
  type MakeModelOptions,
} from './graph-builder.ts';
export {
  findAttribute,
  floatAttr,
  GraphIndex,
  intAttr,
  intsAttr,
  isDefaultDomain,
  opsetVersion,
  stringAttr,
  valueInfoDims,
} from './graph-query.ts';
export { pruneUnused } from './graph-prune.ts';
export { foldInt8Weights, foldInt8WeightsWithStats, type FoldInt8Options, type FoldInt8Stats } from './fold-int8-weights.ts';
export { inferShapes, broadcastDims, isStatic, type Dim, type ShapeInfo, type TensorInfo } from './shape-inference.ts';
export { upgradeOpset, UPGRADE_TARGET_OPSET, type OpsetUpgrade } from './upgrade-opset.ts';
export { constantsToInitializers, foldConstants, removeIdentities, type FoldStats } from './fold-constants.ts';
export { normalizeModel, type NormalizeReport } from './normalize-model.ts';
export { UpgradeError } from './upgrade-error.ts';
