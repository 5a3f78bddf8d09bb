// The multipart import route on a real server process: a model with its reference set, labels and lineage is
// registered with evidence; evidence without a reference set, a malformed multipart body, and a bad reference
// set are 400s that register nothing, and so is a model whose weights name an external file (issue 16, Low).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '@flotilla/firmware-bundler/onnx';
import { encodeNpy } from '../../convert/npy-write.ts';
import { classifier, WEIGHTS } from '@flotilla/test/support/retraining-test-kit';
import { runCli, startServerProcess, type ServerHandle } from '@flotilla/test/support/server-process';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
}, 60_000);
afterAll(async () => srv?.dispose());

const post = (form: FormData | string, name = 'toy', headers: Record<string, string> = {}) =>
  fetch(`${srv.url}/api/v1/models/import?name=${name}`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${srv.token}`, ...headers },
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
const blob = (b: Uint8Array | string) => new Blob([typeof b === 'string' ? b : new Uint8Array(b)]);
const reference = encodeNpy(
  Float32Array.from({ length: 40 * 3 }, (_, i) => (i * 7) % 5),
  [40, 3],
);

describe('POST /api/v1/models/import (multipart)', () => {
  it('registers the model with its evidence and lineage record', async () => {
    const form = new FormData();
    form.append('model', blob(classifier(WEIGHTS.champion)));
    form.append('reference', blob(reference));
    form.append('labels', blob('["clear", "snowy"]'));
    form.append('lineage', blob('{"exporter": "torch.onnx", "commit": "abc123"}'));
    const r = await post(form);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({
      model: 'toy',
      version: 1,
      metrics: { referenceRows: 40, labels: ['clear', 'snowy'], import: { source: 'import', lineage: { commit: 'abc123' } } },
    });
    expect(Object.keys(r.body.artifacts).sort()).toEqual(['evidence.json', 'model.onnx']);
    const show = await runCli(['models', 'show', 'toy', '--server', srv.url], { FLOTILLA_TOKEN: srv.token });
    expect(show.stdout).toMatch(
      /lineage:\n {2}v1: imported by \S+ at \S+, sha256 [0-9a-f]{16}…, lineage \{"exporter":"torch\.onnx","commit":"abc123"\}/,
    );
  });

  it('refuses evidence without a reference set, a malformed body and a bad reference set; nothing is registered', async () => {
    const noRef = new FormData();
    noRef.append('model', blob(classifier(WEIGHTS.champion)));
    noRef.append('labels', blob('["a", "b"]'));
    expect(await post(noRef, 'other')).toMatchObject({ status: 400, body: { error: { code: 'REFERENCE_INVALID' } } });
    const garbage = await post('--x\r\nnot multipart', 'other', { 'content-type': 'multipart/form-data; boundary=zzz' });
    expect(garbage).toMatchObject({ status: 400, body: { error: { code: 'MULTIPART_INVALID' } } });
    const wrong = new FormData();
    wrong.append('model', blob(classifier(WEIGHTS.champion)));
    wrong.append('reference', blob(encodeNpy(new Float32Array(40 * 4), [40, 4])));
    const bad = await post(wrong, 'other');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'REFERENCE_INVALID' } } });
    expect(bad.body.error.message).toContain('expects [N, 3]');
    expect((await srv.api('GET', '/api/v1/models/other')).status).toBe(404);
  });

  it("refuses a model whose weights name an external file, before onnxruntime could read it from the server's folder", async () => {
    // The server runs in the repository: package.json is a file onnxruntime would resolve there.
    for (const location of ['package.json', '../../../../etc/hostname']) {
      const m = decodeModel(classifier(WEIGHTS.champion));
      const w = m.graph!.initializer![0]!;
      Object.assign(w, { rawData: undefined, floatData: undefined, dataLocation: 1, externalData: [{ key: 'location', value: location }] });
      const form = new FormData();
      form.append('model', blob(encodeModel(m)));
      const r = await post(form, 'external');
      expect(r).toMatchObject({ status: 400, body: { error: { code: 'ONNX_INVALID' } } });
      expect(r.body.error.message).toContain(`tensor '${w.name}' keeps its data in an external file ('${location}')`);
      expect(r.body.error.message).toContain('save_as_external_data=False');
    }
    expect((await srv.api('GET', '/api/v1/models/external')).status).toBe(404);
  });
});
