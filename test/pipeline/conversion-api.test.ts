// Export → int8 → parity gate through the real server and CLI; ONNX import and quantization of a model
// made elsewhere (written by the official onnx Python package, like a PyTorch export).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxCheck } from '../../server/src/convert/testing/onnx-checker.ts';
import { onnxCheckerMissing } from '../support/tools.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
let runId: string;
const env = () => ({ FLOTILLA_TOKEN: srv.token });

beforeAll(async () => {
  srv = await startServerProcess();
  const r = await runCli(['train', '--dataset', 'mnist', '--model', 'digits', '--epochs', '4', '--server', srv.url, '--json'], env());
  expect(r.code, r.stderr).toBe(0);
  runId = JSON.parse(r.stdout).runId;
}, 300_000);
afterAll(async () => srv?.dispose());

describe('flotilla export --run ID --quantize int8', () => {
  let out: any;
  it('writes float and int8 ONNX files with a parity report; int8 is at most 28% of float and loses at most 0.5 points', async () => {
    const r = await runCli(['export', '--run', runId, '--quantize', 'int8', '--server', srv.url, '--json'], env());
    expect(r.code, r.stderr + r.stdout).toBe(0);
    out = JSON.parse(r.stdout);
    for (const k of ['float', 'int8']) {
      expect(out[k].digest).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(out[k].path)).toBe(true);
      expect(readFileSync(out[k].path).byteLength).toBe(out[k].bytes);
      expect(out[k].accuracy).toBeGreaterThan(0.9);
    }
    expect(out.int8.bytes / out.float.bytes).toBeLessThanOrEqual(0.28);
    expect((out.float.accuracy - out.int8.accuracy) * 100).toBeLessThanOrEqual(0.5);
    expect(out.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(out.gate.passed).toBe(true);
    const v = (await srv.api('GET', `/api/v1/models/digits/versions/${out.version}`)).body;
    expect(v.artifacts['model.onnx']).toBe(out.float.digest);
    expect(v.artifacts['model.int8.onnx']).toBe(out.int8.digest);
    expect(v.quantization.parity.top1Agreement).toBe(out.top1Agreement);
    // `auto` keeps whichever mode ran faster here: dynamic needs no calibration.
    // Calibration defaults to `auto`: min-max first, then others until one meets the gate, each shown in the report.
    if (v.quantization.mode === 'static') {
      expect(v.quantization.calibrationCandidates[0].method).toBe('minmax');
      expect(['minmax', 'percentile', 'entropy']).toContain(v.quantization.calibration.method);
    } else expect(v.quantization.calibration).toBeNull();
    expect(v.quantization.gate.thresholds).toEqual({ maxAccuracyDrop: 0.5, minTop1Agreement: 0.99, maxRelativeL2: 0.05, minCosine: 0.99 });
  }, 240_000);

  it.skipIf(onnxCheckerMissing())('both files pass the official ONNX checker with full checking', () => {
    const verdict = onnxCheck({ float: readFileSync(out.float.path), int8: readFileSync(out.int8.path) });
    expect(verdict).toEqual({ float: null, int8: null });
  });

  it('a gate the model cannot meet fails with exit 1 and is recorded; --override allows it and records who', async () => {
    const strict = await runCli(['export', '--model', 'digits@1', '--min-top1-agreement', '1.01', '--server', srv.url, '--json'], env());
    expect(strict.code).toBe(6);
    expect(JSON.parse(strict.stdout).error.code).toBe('VALIDATION_FAILED');
    const hard = await runCli(
      ['export', '--model', 'digits@1', '--max-accuracy-drop', '0', '--min-top1-agreement', '1', '--server', srv.url, '--json'],
      env(),
    );
    const body = JSON.parse(hard.stdout);
    if (body.gate.passed) return; // a perfect int8 model cannot fail this gate; nothing to show
    expect(hard.code).toBe(1);
    expect(body.gate.allowed).toBe(false);
    const over = await runCli(
      [
        'export',
        '--model',
        'digits@1',
        '--max-accuracy-drop',
        '0',
        '--min-top1-agreement',
        '1',
        '--override',
        'field test needs it',
        '--server',
        srv.url,
        '--json',
      ],
      env(),
    );
    expect(over.code).toBe(0);
    expect(JSON.parse(over.stdout).gate.override.reason).toBe('field test needs it');
  }, 240_000);

  it('refuses to export a run that does not exist, or an imported model', async () => {
    const r = await runCli(['export', '--run', 'run_nope', '--server', srv.url, '--json'], env());
    expect(r.code).toBe(5);
    const u = await runCli(['export', '--server', srv.url, '--json'], env());
    expect(u.code).toBe(2);
  });
});

describe.skipIf(onnxCheckerMissing())('ONNX models made elsewhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-import-'));
  const model = join(dir, 'torch-like.onnx');
  const npy = join(dir, 'calibration.npy');
  const evalNpy = join(dir, 'held-out.npy');
  beforeAll(() => {
    // Gemm with transB=1 (how PyTorch exports nn.Linear), opset 17, dynamic batch, plus a float32 .npy file.
    const script = `
import numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
r = np.random.default_rng(3)
def linear(o, i):
    # nn.Linear's own initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)): weights the size a PyTorch export has
    return (r.uniform(-1, 1, (o, i)) / np.sqrt(i)).astype(np.float32), (r.uniform(-1, 1, o) / np.sqrt(i)).astype(np.float32)
W1, B1 = linear(256, 64)
W2, B2 = linear(3, 256)
w1, b1, w2, b2 = (numpy_helper.from_array(a, n) for a, n in ((W1, 'w1'), (B1, 'b1'), (W2, 'w2'), (B2, 'b2')))
nodes = [helper.make_node('Gemm', ['x', 'w1', 'b1'], ['h'], transB=1), helper.make_node('Relu', ['h'], ['a']),
         helper.make_node('Gemm', ['a', 'w2', 'b2'], ['logits'], transB=1)]
g = helper.make_graph(nodes, 'torch_jit', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 64])],
                      [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 3])], [w1, b1, w2, b2])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='pytorch', producer_version='2.3')
m.ir_version = 8
onnx.checker.check_model(m, full_check=True)
open('${model}', 'wb').write(m.SerializeToString())
np.save('${npy}', r.standard_normal((128, 64)).astype(np.float32))
np.save('${evalNpy}', r.standard_normal((300, 64)).astype(np.float32))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('imports a valid model with its signature, and refuses bytes that are not ONNX', async () => {
    const ok = await runCli(['models', 'import', model, '--name', 'torch-mlp', '--server', srv.url, '--json'], env());
    expect(ok.code, ok.stderr).toBe(0);
    const v = JSON.parse(ok.stdout);
    expect(v).toMatchObject({ model: 'torch-mlp', version: 1, format: 'onnx' });
    expect(v.signature.inputs[0].name).toBe('x');
    expect(v.signature.inputs[0].shape).toEqual([null, 64]);
    expect(v.signature.outputs[0].name).toBe('logits');
    expect(v.metrics.opset).toBe(17);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not a protobuf at all');
    const bad = await runCli(['models', 'import', junk, '--name', 'junk', '--server', srv.url, '--json'], env());
    expect(bad.code).toBe(6);
    expect(JSON.parse(bad.stdout).error.code).toBe('ONNX_INVALID');
    expect((await srv.api('GET', '/api/v1/models/junk')).status).toBe(404);
  });

  it('quantizes the imported model with calibration from a .npy file; the result passes the checker', async () => {
    const r = await runCli(['quantize', '--model', 'torch-mlp@1', '--calibration', npy, '--server', srv.url, '--json'], env());
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.int8.bytes).toBeLessThan(out.float.bytes * 0.4);
    expect(out.top1Agreement).toBeGreaterThan(0.9);
    expect(out.float.accuracy).toBeNull();
    expect(onnxCheck({ int8: readFileSync(out.int8.path) })).toEqual({ int8: null });
  }, 120_000);

  it('compares int8 with float on held-out inputs given with --eval, apart from the calibration samples', async () => {
    const r = await runCli(
      ['quantize', '--model', 'torch-mlp@1', '--calibration', npy, '--eval', evalNpy, '--server', srv.url, '--json'],
      env(),
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.evaluatedOn).toBe('300 held-out inline samples');
    expect(out.report.parity.samples).toBe(300);
    expect(out.report.parity.outputs).toEqual([expect.objectContaining({ name: 'logits', kind: 'classifier' })]);
    const human = await runCli(['quantize', '--model', 'torch-mlp@1', '--calibration', npy, '--server', srv.url], env());
    expect(human.stdout).toMatch(/compared on the calibration samples themselves \(no held-out inputs given\)/);
    const both = await runCli(
      [
        'quantize',
        '--model',
        'torch-mlp@1',
        '--calibration',
        npy,
        '--eval',
        evalNpy,
        '--evaluation',
        'mnist',
        '--server',
        srv.url,
        '--json',
      ],
      env(),
    );
    expect(both.code).toBe(2);
  }, 120_000);

  it('refuses calibration that does not fit the model, clearly', async () => {
    const r = await runCli(['quantize', '--model', 'torch-mlp@1', '--calibration', 'mnist', '--server', srv.url, '--json'], env());
    expect(r.code).toBe(6);
    const e = JSON.parse(r.stdout).error;
    expect(e.code).toMatch(/QUANT_BAD_CALIBRATION|CALIBRATION/);
    const missing = await runCli(
      ['quantize', '--model', 'torch-mlp@1', '--calibration', 'no-such-dataset', '--server', srv.url, '--json'],
      env(),
    );
    expect(missing.code).toBe(5);
  }, 120_000);
});
