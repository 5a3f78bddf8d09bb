// Walks a layer list through the input shape: inserts implied reshapes/flattens, appends the output layer,
// and reports shape errors and the parameter count, all before any tensor exists.
import type { LayerSpec, ModelContext } from './model-spec.ts';

/** One layer of the model the builder will make, in order. */
export interface PlannedLayer {
  spec: LayerSpec;
  /** Index in the user's list, or why the builder added it. */
  origin: number | 'auto-reshape' | 'auto-flatten' | 'output';
  /** Shape of one sample after this layer. */
  outputShape: number[];
  /** Weights this layer holds (trainable and not). */
  parameters: number;
}

export type LayerPlan = { ok: true; layers: PlannedLayer[]; parameters: number; notes: string[] } | { ok: false; errors: string[] };

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
const show = (shape: number[]) => `[${shape.join(',')}]`;

/** Output extent of a window op along one axis (tfjs/Keras rules), or 0 when the window does not fit. */
function extent(size: number, window: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : size >= window ? Math.floor((size - window) / stride) + 1 : 0;
}

/**
 * Rules (documented in docs and the API):
 * - conv2d/pooling on the model's flat input of n = s*s values reshapes it to [s, s, 1] (images
 *   stored flat); a [h, w] tensor becomes [h, w, 1]. Any other flat tensor is an error that asks for
 *   a reshape layer.
 * - dense on an input of rank > 1 flattens it first (a Keras Dense would act on the last axis only,
 *   which is never what a classifier here wants).
 * - The output layer is a dense of numClasses units with softmax. If the list ends with a dense of
 *   numClasses units whose activation is softmax or unset, that layer is it (softmax is set);
 *   otherwise one is appended.
 */
export function planLayers(layers: LayerSpec[], ctx: ModelContext): LayerPlan {
  const errors: string[] = [];
  if (!ctx.inputShape.length || ctx.inputShape.some((d) => !Number.isInteger(d) || d < 1))
    errors.push(`input shape ${show(ctx.inputShape)} must be a list of positive integers`);
  if (!Number.isInteger(ctx.numClasses) || ctx.numClasses < 2) errors.push(`numClasses must be an integer >= 2, got ${ctx.numClasses}`);
  if (errors.length) return { ok: false, errors };

  const out: PlannedLayer[] = [];
  const notes: string[] = [];
  let shape = [...ctx.inputShape];
  const push = (spec: LayerSpec, origin: PlannedLayer['origin'], next: number[], parameters = 0) => {
    out.push({ spec, origin, outputShape: next, parameters });
    shape = next;
  };
  const size = () => shape.reduce((a, b) => a * b, 1);

  const lastIndex = layers.length - 1;
  const last = layers[lastIndex];
  const lastIsOutput =
    last?.type === 'dense' && last.units === ctx.numClasses && (last.activation === undefined || last.activation === 'softmax');

  for (const [i, layer] of layers.entries()) {
    const where = `layers[${i}] ${layer.type}`;
    switch (layer.type) {
      case 'conv2d':
      case 'maxPooling2d':
      case 'averagePooling2d': {
        // Only the raw input is read as an image; a flat tensor made by earlier layers is not.
        const isInput = out.length === 0 || out.every((l) => l.origin !== 'auto-reshape' && l.outputShape.join() === ctx.inputShape.join());
        if (shape.length === 1) {
          const side = Math.round(Math.sqrt(size()));
          if (side * side !== size() || !isInput) {
            errors.push(
              `${where} needs a [height, width, channels] input but gets ${show(shape)}; add {"type":"reshape","targetShape":[h,w,c]} before it`,
            );
            return { ok: false, errors };
          }
          notes.push(`reshape to [${side},${side},1] inserted before layers[${i}] (flat input of ${size()} values read as a square image)`);
          push({ type: 'reshape', targetShape: [side, side, 1] }, 'auto-reshape', [side, side, 1]);
        } else if (shape.length === 2) {
          notes.push(`reshape to [${shape[0]},${shape[1]},1] inserted before layers[${i}] (single-channel image)`);
          push({ type: 'reshape', targetShape: [shape[0]!, shape[1]!, 1] }, 'auto-reshape', [shape[0]!, shape[1]!, 1]);
        } else if (shape.length !== 3) {
          errors.push(`${where} needs a [height, width, channels] input but gets ${show(shape)}`);
          return { ok: false, errors };
        }
        const [h, w, c] = shape as [number, number, number];
        const [kh, kw] = pair(layer.type === 'conv2d' ? layer.kernelSize : layer.poolSize);
        const [sh, sw] = pair(layer.strides ?? (layer.type === 'conv2d' ? 1 : layer.poolSize));
        const pad = layer.padding ?? 'valid';
        const oh = extent(h, kh, sh, pad);
        const ow = extent(w, kw, sw, pad);
        if (oh < 1 || ow < 1) {
          errors.push(
            `${where} window ${kh}x${kw} is larger than its ${h}x${w} input (padding 'valid'); use padding 'same' or a smaller window`,
          );
          return { ok: false, errors };
        }
        if (layer.type === 'conv2d') push(layer, i, [oh, ow, layer.filters], kh * kw * c * layer.filters + layer.filters);
        else push(layer, i, [oh, ow, c]);
        break;
      }
      case 'dense': {
        if (shape.length > 1) {
          notes.push(`flatten inserted before layers[${i}] (dense on a ${show(shape)} input)`);
          push({ type: 'flatten' }, 'auto-flatten', [size()]);
        }
        const isOutput = i === lastIndex && lastIsOutput;
        const spec: LayerSpec = isOutput ? { ...layer, activation: 'softmax' } : layer;
        push(spec, isOutput ? 'output' : i, [layer.units], shape[0]! * layer.units + (layer.useBias === false ? 0 : layer.units));
        break;
      }
      case 'flatten':
        push(layer, i, [size()]);
        break;
      case 'reshape': {
        const target = layer.targetShape.reduce((a, b) => a * b, 1);
        if (target !== size()) {
          errors.push(
            `layers[${i}].targetShape ${show(layer.targetShape)} holds ${target} values but its input ${show(shape)} holds ${size()}`,
          );
          return { ok: false, errors };
        }
        push(layer, i, [...layer.targetShape]);
        break;
      }
      case 'batchNormalization':
        // gamma, beta, moving mean, moving variance over the last axis.
        push(layer, i, shape, 4 * shape[shape.length - 1]!);
        break;
      case 'dropout':
      case 'activation':
        push(layer, i, shape);
        break;
    }
  }
  if (!lastIsOutput) {
    if (shape.length > 1) push({ type: 'flatten' }, 'auto-flatten', [size()]);
    notes.push(`output layer dense(${ctx.numClasses}, softmax) appended`);
    push(
      { type: 'dense', units: ctx.numClasses, activation: 'softmax' },
      'output',
      [ctx.numClasses],
      shape[0]! * ctx.numClasses + ctx.numClasses,
    );
  }
  return { ok: true, layers: out, parameters: out.reduce((a, l) => a + l.parameters, 0), notes };
}
