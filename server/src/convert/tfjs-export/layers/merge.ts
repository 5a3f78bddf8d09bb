// Keras merge layers (Add, Multiply, Average, Maximum, Minimum, Concatenate) as ONNX variadic ops.
import type { Value } from '../export-context.ts';
import type { LayerConverter } from '../layer-info.ts';

/** Brings every input to the first input's layout so elementwise ops line up. */
function aligned(ctx: Parameters<LayerConverter>[0], inputs: Value[]): Value[] {
  const first = inputs[0]!;
  return inputs.map((v) => (first.channelsFirst ? ctx.channelsFirst(v) : ctx.keras(v)));
}

function elementwise(op: 'Sum' | 'Mul' | 'Mean' | 'Max' | 'Min'): LayerConverter {
  return (ctx, layer, inputs) => {
    const xs = aligned(ctx, inputs);
    let name: string;
    if (op === 'Mul') name = xs.slice(1).reduce((acc, v) => ctx.node('Mul', [acc, v.name]), xs[0]!.name);
    else
      name = ctx.node(
        op,
        xs.map((v) => v.name),
      );
    return { name, shape: layer.outputShape, channelsFirst: xs[0]!.channelsFirst };
  };
}

export const addLayer = elementwise('Sum');
export const multiplyLayer = elementwise('Mul');
export const averageLayer = elementwise('Mean');
export const maximumLayer = elementwise('Max');
export const minimumLayer = elementwise('Min');

export const concatenateLayer: LayerConverter = (ctx, layer, inputs) => {
  const xs = aligned(ctx, inputs);
  const axis = ctx.axis(xs[0]!, layer.config.axis ?? -1);
  return {
    name: ctx.node(
      'Concat',
      xs.map((v) => v.name),
      { axis },
    ),
    shape: layer.outputShape,
    channelsFirst: xs[0]!.channelsFirst,
  };
};
