// Top-1 accuracy of an ONNX model on a dataset, with onnxruntime-node (what the gate compares).
import * as ort from 'onnxruntime-node';
import { openSession } from '../convert/index.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { featureSize } from '../datasets/dataset-types.ts';

/** Fraction of rows (0..1) whose argmax output equals the label; null for an empty dataset. */
export async function onnxAccuracy(model: Uint8Array, data: Dataset, batchSize = 256): Promise<number | null> {
  if (data.n === 0) return null;
  const session = await openSession(model, { intraOpThreads: 1 });
  try {
    const size = featureSize(data);
    const input = session.inputNames[0]!;
    const output = session.outputNames[0]!;
    let correct = 0;
    for (let start = 0; start < data.n; start += batchSize) {
      const count = Math.min(batchSize, data.n - start);
      const feeds = {
        [input]: new ort.Tensor('float32', data.x.subarray(start * size, (start + count) * size), [count, ...data.featureShape]),
      };
      const out = (await session.run(feeds, [output]))[output]!;
      const scores = out.data as Float32Array;
      const classes = scores.length / count;
      for (let i = 0; i < count; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (scores[i * classes + c]! > scores[i * classes + best]!) best = c;
        if (best === data.y[start + i]) correct++;
      }
    }
    return correct / data.n;
  } finally {
    await session.release();
  }
}
