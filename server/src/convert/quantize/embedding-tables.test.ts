// Embedding tables as 8-bit rows: judged by onnxruntime on the int8 file against the float model and against the rows
// dequantized here, not by the quantizer's own report.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  floatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  readTensor,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { onnxCheck } from '../testing/onnx-checker.ts';
import { relativeL2 } from '../upgrade/verify-upgrade.ts';
import { randomNormal } from '../testing/onnx-fixtures.ts';
import { findEmbeddingTables } from './embedding-tables.ts';
import { quantizeStatic } from './quantize-static.ts';

const VOCAB = 50;
const WIDTH = 16;
const TOKENS = 6;

/**
 * ids [N, 6] → Gather(table [50, 16]) → MatMul [16, 8]; with `tied`, a second MatMul also reads the table; with
 * `rowsOut`, the looked-up rows are a second output.
 */
function tokenModel(tied = false, rowsOut = false): Uint8Array {
  const init: TensorProto[] = [
    floatTensor('emb.weight', [VOCAB, WIDTH], randomNormal(VOCAB * WIDTH, 11, 0.5)),
    floatTensor('proj.weight', [WIDTH, tied ? VOCAB : 8], randomNormal(WIDTH * (tied ? VOCAB : 8), 12, 0.3)),
  ];
  const nodes: NodeProto[] = [makeNode('Gather', ['emb.weight', 'ids'], ['h'], { axis: 0 })];
  if (tied) {
    nodes.push(makeNode('MatMul', ['h', 'proj.weight'], ['p']), makeNode('MatMul', ['p', 'emb.weight'], ['y']));
  } else {
    nodes.push(makeNode('MatMul', ['h', 'proj.weight'], ['y']));
  }
  const graph = {
    name: 'tokens',
    node: nodes,
    initializer: init,
    input: [makeValueInfo('ids', DataType.INT64, ['N', TOKENS])],
    output: [
      makeValueInfo('y', DataType.FLOAT, ['N', TOKENS, tied ? WIDTH : 8]),
      ...(rowsOut ? [makeValueInfo('h', DataType.FLOAT, ['N', TOKENS, WIDTH])] : []),
    ],
  };
  return encodeModel(makeModel(graph, { opset: 13, irVersion: 7 }));
}

/** Deterministic token ids, including the first and last row of the table. */
function ids(rows: number, seed: number): Float32Array {
  const out = new Float32Array(rows * TOKENS);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7 + seed * 13) % VOCAB;
  out[0] = 0;
  out[1] = VOCAB - 1;
  return out;
}

async function run(bytes: Uint8Array, x: Float32Array, rows: number, output = 'y'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const feeds = {
    ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(x, (v) => BigInt(v)),
      [rows, TOKENS],
    ),
  };
  const out = (await s.run(feeds))[output]!.data as Float32Array;
  await s.release();
  return out.slice();
}

describe('embedding tables stored as 8-bit rows', () => {
  it('stores a Gather-only table as uint8 rows with one scale per row, and onnxruntime reads back those rows', async () => {
    const float = tokenModel(false, true);
    const q = await quantizeStatic(float, { data: ids(16, 1), shape: [16, TOKENS] });
    expect(q.quantizedEmbeddings).toBe(1);
    const model = decodeModel(q.bytes);
    const inits = model.graph!.initializer ?? [];
    // The float table is gone: no float initializer with 50 × 16 values is left.
    expect(inits.some((t) => t.dataType === DataType.FLOAT && (t.dims ?? []).join() === `${VOCAB},${WIDTH}`)).toBe(false);
    const table = inits.find((t) => t.dataType === DataType.UINT8 && (t.dims ?? []).join() === `${VOCAB},${WIDTH}`);
    const scales = inits.find((t) => t.dataType === DataType.FLOAT && (t.dims ?? []).join() === `${VOCAB},1`);
    expect(table && scales).toBeTruthy();
    // Each stored row, dequantized here as (q − 128) × scale, is within half a step of the float row.
    const values = readTensor(table!) as Uint8Array;
    const rowScale = readTensor(scales!) as Float32Array;
    const original = readTensor(decodeModel(float).graph!.initializer![0]!) as Float32Array;
    for (let r = 0; r < VOCAB; r++) {
      for (let c = 0; c < WIDTH; c++) {
        const deq = (values[r * WIDTH + c]! - 128) * rowScale[r]!;
        expect(Math.abs(deq - original[r * WIDTH + c]!)).toBeLessThanOrEqual(rowScale[r]! / 2 + 1e-7);
      }
    }
    // onnxruntime's lookups through the rewritten graph are exactly those rows, (q − 128) × scale in float32.
    const x = ids(32, 2);
    const looked = await run(q.bytes, x, 32, 'h');
    x.forEach((id, t) => {
      for (let c = 0; c < WIDTH; c++) expect(looked[t * WIDTH + c]).toBe(Math.fround((values[id * WIDTH + c]! - 128) * rowScale[id]!));
    });
    const [f, i8] = [await run(float, x, 32), await run(q.bytes, x, 32)];
    expect(relativeL2(f, i8)).toBeLessThan(0.02);
  });

  it.skipIf(onnxCheckerMissing())('passes the ONNX checker (full_check)', async () => {
    const q = await quantizeStatic(tokenModel(), { data: ids(16, 1), shape: [16, TOKENS] });
    expect(onnxCheck({ int8: q.bytes })).toEqual({ int8: null });
  });

  it('leaves a table float when another op also reads it (an output projection tied to the embedding)', async () => {
    const float = tokenModel(true);
    expect(findEmbeddingTables(decodeModel(float).graph!)).toEqual([]);
    const q = await quantizeStatic(float, { data: ids(16, 1), shape: [16, TOKENS] });
    expect(q.quantizedEmbeddings).toBe(0);
    const x = ids(32, 3);
    expect(relativeL2(await run(float, x, 32), await run(q.bytes, x, 32))).toBeLessThan(0.05);
  });

  it('leaves a table float when its indices are constant or it is small', () => {
    const graph = decodeModel(tokenModel()).graph!;
    graph.initializer!.push({ name: 'fixed', dims: [2], dataType: DataType.INT64, rawData: new Uint8Array(16) });
    graph.node![0]!.input![1] = 'fixed';
    expect(findEmbeddingTables(graph)).toEqual([]);
    const small = decodeModel(tokenModel()).graph!;
    small.initializer![0] = floatTensor('emb.weight', [10, 16], randomNormal(160, 1));
    expect(findEmbeddingTables(small)).toEqual([]);
  });
});
