// Plain-object shapes of the ONNX protobuf messages (onnx.proto, IR version 11), as the codec reads and writes them.
import type { Int64 } from './protobuf-wire.ts';

export type { Int64 };

/** Fields of the schema this codec does not know are kept as raw wire bytes so models round-trip. */
export interface ProtoMessage {
  $unknown?: Uint8Array[];
}

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export interface StringStringEntryProto extends ProtoMessage {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto extends ProtoMessage {
  domain?: string;
  version?: number;
}

export interface TensorProto extends ProtoMessage {
  dims?: number[];
  dataType?: number;
  segment?: { begin?: Int64; end?: Int64 } & ProtoMessage;
  floatData?: Float32Array | number[];
  int32Data?: Int32Array | number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  doubleData?: Float64Array | number[];
  uint64Data?: Int64[];
  metadataProps?: StringStringEntryProto[];
}

export interface SparseTensorProto extends ProtoMessage {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: number[];
}

export interface TensorShapeDimension extends ProtoMessage {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto extends ProtoMessage {
  dim?: TensorShapeDimension[];
}

export interface TypeProto extends ProtoMessage {
  tensorType?: { elemType?: number; shape?: TensorShapeProto } & ProtoMessage;
  sequenceType?: { elemType?: TypeProto } & ProtoMessage;
  mapType?: { keyType?: number; valueType?: TypeProto } & ProtoMessage;
  optionalType?: { elemType?: TypeProto } & ProtoMessage;
  sparseTensorType?: { elemType?: number; shape?: TensorShapeProto } & ProtoMessage;
  opaqueType?: { domain?: string; name?: string } & ProtoMessage;
  denotation?: string;
}

export interface ValueInfoProto extends ProtoMessage {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps?: StringStringEntryProto[];
}

export interface AttributeProto extends ProtoMessage {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
}

export interface NodeProto extends ProtoMessage {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  docString?: string;
  metadataProps?: StringStringEntryProto[];
  /** Multi-device annotations (IR 11); kept opaque. */
  deviceConfigurations?: ProtoMessage[];
}

export interface TensorAnnotation extends ProtoMessage {
  tensorName?: string;
  quantParameterTensorNames?: StringStringEntryProto[];
}

export interface GraphProto extends ProtoMessage {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  quantizationAnnotation?: TensorAnnotation[];
  metadataProps?: StringStringEntryProto[];
}

export interface FunctionProto extends ProtoMessage {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attributeProto?: AttributeProto[];
  node?: NodeProto[];
  docString?: string;
  opsetImport?: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  valueInfo?: ValueInfoProto[];
  metadataProps?: StringStringEntryProto[];
}

export interface ModelProto extends ProtoMessage {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  /** Training information (TrainingInfoProto); kept opaque. */
  trainingInfo?: ProtoMessage[];
  functions?: FunctionProto[];
  /** Multi-device configurations (IR 11); kept opaque. */
  configuration?: ProtoMessage[];
}
