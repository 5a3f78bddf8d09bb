// Public face of the browser-safe ONNX toolkit: codec, tensor data, graph helpers and the int8 weight-folding adapter.
export { decodeModel, encodeModel } from './onnx-codec.ts';
export { OnnxError, type OnnxErrorCode } from './onnx-error.ts';
export * from './onnx-types.ts';
export { dataTypeName, elementCount, floatTensor, int64Tensor, makeTensor, readTensor, readTensorAsFloat32, type TensorValues } from './tensor-data.ts';
export { float, floats, makeAttribute, makeModel, makeNode, makeValueInfo, type AttrValue, type MakeModelOptions } from './graph-builder.ts';
export { findAttribute, floatAttr, GraphIndex, intAttr, intsAttr, isDefaultDomain, opsetVersion, stringAttr, valueInfoDims } from './graph-query.ts';
export { pruneUnused } from './graph-prune.ts';
export { foldInt8Weights, foldInt8WeightsWithStats, type FoldInt8Options, type FoldInt8Stats } from './fold-int8-weights.ts';
