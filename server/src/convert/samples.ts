// Model input samples (calibration and evaluation sets) in either accepted form, cut into batches.
import { QuantizeError } from './convert-error.ts';
import type { SampleDtype } from './onnx-signature.ts';

/**
 * Input samples for one model input: a list of flattened samples, or one tensor whose first dimension
 * counts samples (`shape` includes that dimension; row-major float32).
 */
export type SampleSet = Float32Array[] | { data: Float32Array; shape: number[] };

/** Samples normalized to one contiguous buffer. */
export interface Samples {
  /** Shape of one sample (no batch dimension). */
  sampleShape: number[];
  count: number;
  /** Values as float32; integer inputs are converted when fed (`inputTensor`). */
  data: Float32Array;
  /** The model input's element type; default float32. */
  dtype?: SampleDtype;
}

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Normalizes a {@link SampleSet} against the model input's shape (batch first; null dims are dynamic).
 * Throws `QUANT_BAD_CALIBRATION` when sizes or shapes do not fit.
 */
export function toSamples(set: SampleSet, inputShape: (number | null)[], dtype?: SampleDtype): Samples {
  return { ...toFloatSamples(set, inputShape), ...(dtype && dtype !== 'float32' ? { dtype } : {}) };
}

function toFloatSamples(set: SampleSet, inputShape: (number | null)[]): Samples {
  const modelSample = inputShape.slice(1);
  if (Array.isArray(set)) {
    if (set.length === 0) throw new QuantizeError('QUANT_BAD_CALIBRATION', 'no samples given');
    const size = set[0]!.length;
    if (set.some((s) => s.length !== size)) throw new QuantizeError('QUANT_BAD_CALIBRATION', 'samples differ in length');
    if (modelSample.some((d) => d === null)) {
      throw new QuantizeError(
        'QUANT_BAD_CALIBRATION',
        `the model input has dynamic dims ${JSON.stringify(inputShape)}; pass { data, shape } instead of flat samples`,
      );
    }
    const sampleShape = modelSample as number[];
    if (product(sampleShape) !== size) {
      throw new QuantizeError(
        'QUANT_BAD_CALIBRATION',
        `samples hold ${size} values; the model input needs ${product(sampleShape)} (${JSON.stringify(sampleShape)})`,
      );
    }
    const data = new Float32Array(size * set.length);
    set.forEach((s, i) => data.set(s, i * size));
    return { sampleShape, count: set.length, data };
  }
  const { data, shape } = set;
  if (!(data instanceof Float32Array)) throw new QuantizeError('QUANT_BAD_CALIBRATION', 'sample data must be a Float32Array');
  if (shape.length !== inputShape.length) {
    throw new QuantizeError(
      'QUANT_BAD_CALIBRATION',
      `samples have shape ${JSON.stringify(shape)}; the model input is ${JSON.stringify(inputShape)}`,
    );
  }
  if (product(shape) !== data.length)
    throw new QuantizeError('QUANT_BAD_CALIBRATION', `shape ${JSON.stringify(shape)} does not match ${data.length} values`);
  const sampleShape = shape.slice(1);
  modelSample.forEach((d, i) => {
    if (d !== null && d !== sampleShape[i]) {
      throw new QuantizeError(
        'QUANT_BAD_CALIBRATION',
        `samples have shape ${JSON.stringify(shape)}; the model input is ${JSON.stringify(inputShape)}`,
      );
    }
  });
  if (shape[0] === 0) throw new QuantizeError('QUANT_BAD_CALIBRATION', 'no samples given');
  return { sampleShape, count: shape[0]!, data };
}

/** Samples [start, start + size) as one batch tensor's data and dims. */
export function sliceBatch(s: Samples, start: number, size: number): { data: Float32Array; dims: number[] } {
  const n = Math.min(size, s.count - start);
  const per = product(s.sampleShape);
  return { data: s.data.subarray(start * per, (start + n) * per), dims: [n, ...s.sampleShape] };
}

/** The first `count` samples (or all when fewer). */
export function takeSamples(s: Samples, count: number): Samples {
  const n = Math.min(count, s.count);
  return { ...s, count: n, data: s.data.subarray(0, n * product(s.sampleShape)) };
}
