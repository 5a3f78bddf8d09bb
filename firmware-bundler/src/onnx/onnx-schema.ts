// The onnx.proto schema (IR version 11, onnx-ml included) as a field table the codec walks.

/**
 * Scalar kinds: `int64` decodes to a number when safe and a bigint otherwise; `int64n` must fit a
 * safe number (shapes, versions); `enum` is an int32. Anything else names a message in {@link ONNX_SCHEMA}.
 */
export type ScalarKind = 'int32' | 'int64' | 'int64n' | 'uint64' | 'float' | 'double' | 'string' | 'bytes' | 'enum';

export interface FieldSpec {
  no: number;
  /** camelCase property name on the decoded object. */
  name: string;
  kind: ScalarKind | string;
  repeated?: boolean;
  /** Written packed (only where onnx.proto says `[packed = true]`; proto2 defaults to unpacked). */
  packed?: boolean;
}

type Row = [no: number, name: string, kind: string, flags?: 'rep' | 'packed'];

function msg(rows: Row[]): FieldSpec[] {
  return rows.map(([no, name, kind, flags]) => ({
    no,
    name,
    kind,
    ...(flags ? { repeated: true } : {}),
    ...(flags === 'packed' ? { packed: true } : {}),
  }));
}

const SSE = 'StringStringEntryProto';

/** Every message of onnx.proto by name; nested messages are named `Outer.Inner`. */
export const ONNX_SCHEMA: Record<string, FieldSpec[]> = {
  ModelProto: msg([
    [1, 'irVersion', 'int64n'],
    [8, 'opsetImport', 'OperatorSetIdProto', 'rep'],
    [2, 'producerName', 'string'],
    [3, 'producerVersion', 'string'],
    [4, 'domain', 'string'],
    [5, 'modelVersion', 'int64n'],
    [6, 'docString', 'string'],
    [7, 'graph', 'GraphProto'],
    [14, 'metadataProps', SSE, 'rep'],
    [20, 'trainingInfo', 'TrainingInfoProto', 'rep'],
    [25, 'functions', 'FunctionProto', 'rep'],
    [26, 'configuration', 'DeviceConfigurationProto', 'rep'],
  ]),
  StringStringEntryProto: msg([
    [1, 'key', 'string'],
    [2, 'value', 'string'],
  ]),
  OperatorSetIdProto: msg([
    [1, 'domain', 'string'],
    [2, 'version', 'int64n'],
  ]),
  DeviceConfigurationProto: msg([
    [1, 'name', 'string'],
    [2, 'numDevices', 'int32'],
    [3, 'device', 'string', 'rep'],
  ]),
  TrainingInfoProto: msg([
    [1, 'initialization', 'GraphProto'],
    [2, 'algorithm', 'GraphProto'],
    [3, 'initializationBinding', SSE, 'rep'],
    [4, 'updateBinding', SSE, 'rep'],
  ]),
  FunctionProto: msg([
    [1, 'name', 'string'],
    [4, 'input', 'string', 'rep'],
    [5, 'output', 'string', 'rep'],
    [6, 'attribute', 'string', 'rep'],
    [11, 'attributeProto', 'AttributeProto', 'rep'],
    [7, 'node', 'NodeProto', 'rep'],
    [8, 'docString', 'string'],
    [9, 'opsetImport', 'OperatorSetIdProto', 'rep'],
    [10, 'domain', 'string'],
    [13, 'overload', 'string'],
    [12, 'valueInfo', 'ValueInfoProto', 'rep'],
    [14, 'metadataProps', SSE, 'rep'],
  ]),
  GraphProto: msg([
    [1, 'node', 'NodeProto', 'rep'],
    [2, 'name', 'string'],
    [5, 'initializer', 'TensorProto', 'rep'],
    [15, 'sparseInitializer', 'SparseTensorProto', 'rep'],
    [10, 'docString', 'string'],
    [11, 'input', 'ValueInfoProto', 'rep'],
    [12, 'output', 'ValueInfoProto', 'rep'],
    [13, 'valueInfo', 'ValueInfoProto', 'rep'],
    [14, 'quantizationAnnotation', 'TensorAnnotation', 'rep'],
    [16, 'metadataProps', SSE, 'rep'],
  ]),
  NodeProto: msg([
    [1, 'input', 'string', 'rep'],
    [2, 'output', 'string', 'rep'],
    [3, 'name', 'string'],
    [4, 'opType', 'string'],
    [7, 'domain', 'string'],
    [8, 'overload', 'string'],
    [5, 'attribute', 'AttributeProto', 'rep'],
    [6, 'docString', 'string'],
    [9, 'metadataProps', SSE, 'rep'],
    [10, 'deviceConfigurations', 'NodeDeviceConfigurationProto', 'rep'],
  ]),
  NodeDeviceConfigurationProto: msg([
    [1, 'configurationId', 'string'],
    [2, 'shardingSpec', 'ShardingSpecProto', 'rep'],
    [3, 'pipelineStage', 'int32'],
  ]),
  ShardingSpecProto: msg([
    [1, 'tensorName', 'string'],
    [2, 'device', 'int64', 'rep'],
    [3, 'indexToDeviceGroupMap', 'IntIntListEntryProto', 'rep'],
    [4, 'shardedDim', 'ShardedDimProto', 'rep'],
  ]),
  IntIntListEntryProto: msg([
    [1, 'key', 'int64'],
    [2, 'value', 'int64', 'rep'],
  ]),
  ShardedDimProto: msg([
    [1, 'axis', 'int64'],
    [2, 'simpleSharding', 'SimpleShardedDimProto', 'rep'],
  ]),
  SimpleShardedDimProto: msg([
    [1, 'dimValue', 'int64'],
    [2, 'dimParam', 'string'],
    [3, 'numShards', 'int64'],
  ]),
  AttributeProto: msg([
    [1, 'name', 'string'],
    [21, 'refAttrName', 'string'],
    [13, 'docString', 'string'],
    [20, 'type', 'enum'],
    // One value of the attribute's type…
    [2, 'f', 'float'],
    [3, 'i', 'int64'],
    [4, 's', 'bytes'],
    [5, 't', 'TensorProto'],
    [6, 'g', 'GraphProto'],
    [22, 'sparseTensor', 'SparseTensorProto'],
    [14, 'tp', 'TypeProto'],
    // …or a list of them.
    [7, 'floats', 'float', 'rep'],
    [8, 'ints', 'int64', 'rep'],
    [9, 'strings', 'bytes', 'rep'],
    [10, 'tensors', 'TensorProto', 'rep'],
    [11, 'graphs', 'GraphProto', 'rep'],
    [23, 'sparseTensors', 'SparseTensorProto', 'rep'],
    [15, 'typeProtos', 'TypeProto', 'rep'],
  ]),
  ValueInfoProto: msg([
    [1, 'name', 'string'],
    [2, 'type', 'TypeProto'],
    [3, 'docString', 'string'],
    [4, 'metadataProps', SSE, 'rep'],
  ]),
  TensorAnnotation: msg([
    [1, 'tensorName', 'string'],
    [2, 'quantParameterTensorNames', SSE, 'rep'],
  ]),
  TensorProto: msg([
    [1, 'dims', 'int64n', 'rep'],
    [2, 'dataType', 'int32'],
    [3, 'segment', 'TensorProto.Segment'],
    // The values: one typed field, raw bytes, or a file beside the model.
    [4, 'floatData', 'float', 'packed'],
    [5, 'int32Data', 'int32', 'packed'],
    [6, 'stringData', 'bytes', 'rep'],
    [7, 'int64Data', 'int64', 'packed'],
    [8, 'name', 'string'],
    [12, 'docString', 'string'],
    [9, 'rawData', 'bytes'],
    [13, 'externalData', SSE, 'rep'],
    [14, 'dataLocation', 'enum'],
    [10, 'doubleData', 'double', 'packed'],
    [11, 'uint64Data', 'uint64', 'packed'],
    [16, 'metadataProps', SSE, 'rep'],
  ]),
  'TensorProto.Segment': msg([
    [1, 'begin', 'int64'],
    [2, 'end', 'int64'],
  ]),
  SparseTensorProto: msg([
    [1, 'values', 'TensorProto'],
    [2, 'indices', 'TensorProto'],
    [3, 'dims', 'int64n', 'rep'],
  ]),
  TensorShapeProto: msg([[1, 'dim', 'TensorShapeProto.Dimension', 'rep']]),
  'TensorShapeProto.Dimension': msg([
    [1, 'dimValue', 'int64n'],
    [2, 'dimParam', 'string'],
    [3, 'denotation', 'string'],
  ]),
  TypeProto: msg([
    // One of the kinds of value, and its denotation.
    [1, 'tensorType', 'TypeProto.Tensor'],
    [4, 'sequenceType', 'TypeProto.Sequence'],
    [5, 'mapType', 'TypeProto.Map'],
    [9, 'optionalType', 'TypeProto.Optional'],
    [8, 'sparseTensorType', 'TypeProto.SparseTensor'],
    [7, 'opaqueType', 'TypeProto.Opaque'],
    [6, 'denotation', 'string'],
  ]),
  'TypeProto.Tensor': msg([
    [1, 'elemType', 'int32'],
    [2, 'shape', 'TensorShapeProto'],
  ]),
  'TypeProto.Sequence': msg([[1, 'elemType', 'TypeProto']]),
  'TypeProto.Map': msg([
    [1, 'keyType', 'int32'],
    [2, 'valueType', 'TypeProto'],
  ]),
  'TypeProto.Optional': msg([[1, 'elemType', 'TypeProto']]),
  'TypeProto.SparseTensor': msg([
    [1, 'elemType', 'int32'],
    [2, 'shape', 'TensorShapeProto'],
  ]),
  'TypeProto.Opaque': msg([
    [1, 'domain', 'string'],
    [2, 'name', 'string'],
  ]),
};
