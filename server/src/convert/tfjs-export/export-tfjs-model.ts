// Exports a TensorFlow.js layers model to an ONNX model (opset 13, IR 7 by default) with a dynamic batch dimension.
import type * as tf from '@tensorflow/tfjs';
import { DataType, encodeModel, makeModel, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import { ExportContext, type Value } from './export-context.ts';
import { describeLayer } from './layer-info.ts';
import { LAYER_CONVERTERS, SUPPORTED_LAYERS } from './layer-registry.ts';
import { ExportError } from '../convert-error.ts';
import type { ModelSignature } from '../signature.ts';

/** Options of {@link exportTfjsModel}. */
export interface ExportOptions {
  /** ai.onnx opset; default 13. Opsets 13 to 17 are supported (18 moved ReduceMean's axes to an input). */
  opset?: number;
  /** ONNX IR version; default 7. */
  irVersion?: number;
  /** Graph input name (single-input models); default `input`, else `input_0`, `input_1`, ... */
  inputName?: string;
  /** Graph output name (single-output models); default `output`, else `output_0`, ... */
  outputName?: string;
  /** Name of the dynamic batch dimension; default `N`. */
  batchDim?: string;
  /** Written to the model's doc_string. */
  docString?: string;
  /** Written to metadata_props (e.g. the run id). */
  metadata?: Record<string, string>;
}

/** The exported model and what the registry records about it. */
export interface ExportedModel {
  /** ONNX ModelProto bytes. */
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  signature: ModelSignature;
  opset: number;
  /** ONNX op types used, sorted. */
  ops: string[];
}

interface SymbolicLike {
  id: number;
  shape: (number | null)[];
  dtype: string;
}
interface LayerNodeLike {
  inputTensors: SymbolicLike[];
  outputTensors: SymbolicLike[];
}

function namesFor(count: number, single: string | undefined, fallback: string): string[] {
  if (count === 1) return [single ?? fallback];
  return Array.from({ length: count }, (_, i) => `${fallback}_${i}`);
}

/**
 * Converts a TensorFlow.js LayersModel (Sequential or functional) to ONNX. Inputs and outputs keep the
 * Keras (channels-last) layout and shape with the batch dimension symbolic; internally convolutions run
 * channels-first, with one Transpose where the layout changes. Throws `EXPORT_UNSUPPORTED_LAYER` naming the
 * layer and the supported classes, or `EXPORT_UNSUPPORTED_CONFIG` for a setting that cannot be reproduced.
 */
export function exportTfjsModel(model: tf.LayersModel, opts: ExportOptions = {}): ExportedModel {
  const opset = opts.opset ?? 13;
  if (opset < 13 || opset > 17) throw new ExportError('EXPORT_UNSUPPORTED_CONFIG', `opset ${opset} is not supported for export (13 to 17)`);
  const batch = opts.batchDim ?? 'N';
  const ctx = new ExportContext();
  const values = new Map<number, Value>();

  const inputNames = namesFor(model.inputs.length, opts.inputName, 'input');
  const graphInputs = model.inputs.map((t, i) => {
    const name = ctx.unique(inputNames[i]!);
    if (t.dtype !== 'float32')
      throw new ExportError('EXPORT_UNSUPPORTED_CONFIG', `input '${t.name}' has dtype ${t.dtype}; only float32 inputs are supported`);
    values.set(t.id, { name, shape: [...t.shape], channelsFirst: false });
    return makeValueInfo(
      name,
      DataType.FLOAT,
      t.shape.map((d, j) => (j === 0 || d === null ? (j === 0 ? batch : `${name}_d${j}`) : d)),
    );
  });

  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    for (const node of (layer as unknown as { inboundNodes: LayerNodeLike[] }).inboundNodes) {
      const inputs = node.inputTensors.map((t) => values.get(t.id));
      // A node fed by tensors outside this model (a shared layer used elsewhere) is not part of the graph.
      if (inputs.some((v) => v === undefined)) continue;
      const convert = LAYER_CONVERTERS[className];
      if (!convert) {
        throw new ExportError(
          'EXPORT_UNSUPPORTED_LAYER',
          `layer '${layer.name}' of type ${className} cannot be exported to ONNX; supported layer types: ${SUPPORTED_LAYERS.join(', ')}`,
          { layer: layer.name, className, supported: SUPPORTED_LAYERS },
        );
      }
      if (node.outputTensors.length !== 1) {
        throw new ExportError(
          'EXPORT_UNSUPPORTED_CONFIG',
          `layer '${layer.name}' (${className}) has ${node.outputTensors.length} outputs; only single-output layers are supported`,
        );
      }
      const out = node.outputTensors[0]!;
      ctx.scope = layer.name;
      values.set(out.id, convert(ctx, describeLayer(layer, [...out.shape]), inputs as Value[]));
    }
  }

  const outputNames = namesFor(model.outputs.length, opts.outputName, 'output');
  const graphOutputs = model.outputs.map((t, i) => {
    const v = values.get(t.id);
    if (!v) throw new ExportError('EXPORT_INVALID_MODEL', `output '${t.name}' is not reachable from the model inputs`);
    const k = ctx.keras(v);
    const name = ctx.unique(outputNames[i]!);
    ctx.scope = 'graph';
    ctx.nodes.push({ opType: 'Identity', input: [k.name], output: [name], name: ctx.unique(`${name}_identity`) });
    return makeValueInfo(
      name,
      DataType.FLOAT,
      t.shape.map((d, j) => (j === 0 ? batch : d === null ? `${name}_d${j}` : d)),
    );
  });

  const graph = { name: model.name, node: ctx.nodes, initializer: ctx.initializers, input: graphInputs, output: graphOutputs };
  const onnx = makeModel(graph, {
    opset,
    irVersion: opts.irVersion ?? 7,
    producerName: 'flotilla-tfjs-export',
    producerVersion: '1',
    ...(opts.docString ? { docString: opts.docString } : {}),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  });
  const sig = (vi: typeof graphInputs, shapes: (number | null)[][]) =>
    vi.map((v, i) => ({ name: v.name!, dtype: 'float32', shape: shapes[i]!.map((d, j) => (j === 0 ? null : d)) }));
  const signature: ModelSignature = {
    inputs: sig(
      graphInputs,
      model.inputs.map((t) => [...t.shape]),
    ),
    outputs: sig(
      graphOutputs,
      model.outputs.map((t) => [...t.shape]),
    ),
  };
  return {
    bytes: encodeModel(onnx),
    inputName: signature.inputs[0]!.name,
    outputName: signature.outputs[0]!.name,
    signature,
    opset,
    ops: [...new Set(ctx.nodes.map((n) => n.opType!))].sort(),
  };
}
