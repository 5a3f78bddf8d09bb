// Small constructors for ONNX nodes, attributes, value infos and models, so graph code reads like the graph.
import {
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-types.ts';

/** An attribute value as the builders accept it; numbers are ints unless wrapped with {@link float}. */
export type AttrValue = number | string | number[] | string[] | TensorProto | FloatAttr | FloatsAttr | GraphProto;

interface FloatAttr {
  float: number;
}
interface FloatsAttr {
  floats: number[];
}

/** Marks a number as a FLOAT attribute (plain numbers become INT). */
export const float = (v: number): FloatAttr => ({ float: v });
/** Marks a list as a FLOATS attribute (plain number lists become INTS). */
export const floats = (v: number[]): FloatsAttr => ({ floats: v });

/** One attribute with its type discriminator set, as IR version 2 and later require. */
export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  const te = new TextEncoder();
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: Math.trunc(value) };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: te.encode(value) };
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string'))
      return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => te.encode(s)) };
    return { name, type: AttributeType.INTS, ints: (value as number[]).map((v) => Math.trunc(v)) };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if ('node' in value || 'output' in value) return { name, type: AttributeType.GRAPH, g: value as GraphProto };
  return { name, type: AttributeType.TENSOR, t: value as TensorProto };
}

/** A node in the default (ai.onnx) domain unless `domain` is given. */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue | undefined> = {},
  name?: string,
  domain?: string,
): NodeProto {
  const attribute = Object.entries(attrs)
    .filter((e): e is [string, AttrValue] => e[1] !== undefined)
    .map(([k, v]) => makeAttribute(k, v));
  return {
    input: inputs,
    output: outputs,
    opType,
    ...(name ? { name } : {}),
    ...(domain ? { domain } : {}),
    ...(attribute.length ? { attribute } : {}),
  };
}

/** A tensor value info; a string dim is symbolic (e.g. `'N'` for a dynamic batch), null is unknown. */
export function makeValueInfo(name: string, elemType: number, dims?: readonly (number | string | null)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? {
              shape: {
                dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
              },
            }
          : {}),
      },
    },
  };
}

/** Options of {@link makeModel}. */
export interface MakeModelOptions {
  /** ai.onnx opset version; default 13. */
  opset?: number;
  /** IR version; default 7 (the IR version that goes with opset 13). */
  irVersion?: number;
  /** Further operator sets, e.g. `{ 'com.microsoft': 1 }`. */
  extraOpsets?: Record<string, number>;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** Wraps a graph into a model with its operator set imports. */
export function makeModel(graph: GraphProto, opts: MakeModelOptions = {}): ModelProto {
  const extra = Object.entries(opts.extraOpsets ?? {}).map(([domain, version]) => ({ domain, version }));
  const metadata = Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value }));
  return {
    irVersion: opts.irVersion ?? 7,
    opsetImport: [{ domain: '', version: opts.opset ?? 13 }, ...extra],
    producerName: opts.producerName ?? 'flotilla',
    ...(opts.producerVersion ? { producerVersion: opts.producerVersion } : {}),
    ...(opts.docString ? { docString: opts.docString } : {}),
    graph,
    ...(metadata.length ? { metadataProps: metadata } : {}),
  };
}
