// Tabular features on very different scales, through the real server: the import warns, training
// standardises them in the model's first layer (and says so in the run's metrics), and the exported ONNX
// takes raw features, so an independent onnxruntime run on the CSV's own rows classifies them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

/** 3 classes told apart by age (tens) and visits (units); income (tens of thousands) is noise. Seeded. */
function csvRows(n: number): { csv: string; rows: number[][]; labels: number[] } {
  let s = 12345;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    rows.push([Math.round(25 + 12 * c + 3 * gauss()), Math.round(40_000 + 15_000 * gauss()), Number((c + 0.4 * gauss()).toFixed(2))]);
    labels.push(c);
  }
  return { csv: ['age,income,visits,segment', ...rows.map((r, i) => `${r.join(',')},s${labels[i]}`)].join('\n'), rows, labels };
}

async function waitRun(id: string): Promise<any> {
  for (const t0 = Date.now(); Date.now() - t0 < 240_000;) {
    const r = await srv.api('GET', `/api/v1/runs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(r.body.status)) return r.body;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`run ${id} did not finish`);
}

const HYPER = { epochs: 15, batchSize: 32, learningRate: 0.01, seed: 3 };

describe('numeric features on different scales', () => {
  const data = csvRows(900);

  it('the import warns that income dwarfs the other features, naming both ends', async () => {
    const r = await srv.api('POST', '/api/v1/datasets?name=customers&label=segment', data.csv);
    expect(r.status).toBe(201);
    expect(r.body.report.scaleWarnings).toHaveLength(1);
    expect(r.body.report.scaleWarnings[0]).toMatch(
      /^feature scales differ \d+(\.\d+)?×: income spans .*, visits spans .*standardises features by default/,
    );
  });

  it('trains standardised by default (the statistics recorded), far better than the same run unscaled, and the ONNX takes raw rows', async () => {
    const std = await srv.api('POST', '/api/v1/runs', { dataset: 'customers', hyper: HYPER });
    const raw = await srv.api('POST', '/api/v1/runs', { dataset: 'customers', hyper: { ...HYPER, standardize: false } });
    expect([std.status, raw.status]).toEqual([202, 202]);
    const [a, b] = [await waitRun(std.body.id), await waitRun(raw.body.id)];
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(a.metrics.standardization).toMatchObject({ applied: true, layer: 'standardize' });
    expect(a.metrics.standardization.mean).toHaveLength(3);
    expect(a.metrics.standardization.mean[1]).toBeGreaterThan(30_000);
    expect(b.metrics.standardization).toEqual({ applied: false, reason: 'turned off (standardize: false)' });
    expect(a.metrics.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(a.metrics.accuracy - b.metrics.accuracy).toBeGreaterThanOrEqual(0.1);

    const out = await runCli(['export', '--run', std.body.id, '--server', srv.url, '--json'], { FLOTILLA_TOKEN: srv.token });
    expect(out.code, out.stderr + out.stdout).toBe(0);
    const exported = JSON.parse(out.stdout);
    // The standardising layer stays float through int8: the narrow features are not rounded away.
    expect(exported.gate.passed).toBe(true);
    const session = await ort.InferenceSession.create(readFileSync(exported.float.path));
    const x = new ort.Tensor('float32', Float32Array.from(data.rows.flat()), [data.rows.length, 3]);
    const y = (await session.run({ [session.inputNames[0]!]: x }))[session.outputNames[0]!]!.data as Float32Array;
    let correct = 0;
    data.labels.forEach((label, i) => {
      const row = Array.from(y.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === label) correct++;
    });
    expect(correct / data.rows.length).toBeGreaterThanOrEqual(0.85);
  }, 300_000);
});
