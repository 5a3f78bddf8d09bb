// Request body limits against a real server process: every JSON route refuses an oversized body (declared
// or chunked) and a deeply nested one with a clear error, quantize allows more, and the ONNX import stops
// reading at its limit instead of buffering whatever a client streams.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

const MiB = 1024 * 1024;
/** A syntactically valid JSON object of about `bytes` bytes. */
const bigJson = (bytes: number) => JSON.stringify({ name: 'x', reason: 'y', pad: 'a'.repeat(bytes) });
const nested = (depth: number) => `{"trigger":{},"data":{"parent":"p"},"train":{"hyper":{"x":${'['.repeat(depth)}1${']'.repeat(depth)}}}}`;

type Answer = { status: number; written: number; body: { error?: { code: string; message: string } } };

/**
 * Sends `body` over its own connection, 1 MiB at a time until `total` bytes, without a content-length when
 * `total` is given (chunked), and resolves with the answer as soon as it comes, even mid-upload: the point of
 * a limit is answering before the client is done. `written` is how much had been sent by then.
 */
function send(method: string, path: string, body: string | { total: number; fill: number }, type = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const whole = typeof body === 'string' ? Buffer.from(body) : null;
    const headers: Record<string, string | number> = { authorization: `Bearer ${srv.token}`, 'content-type': type };
    if (whole) headers['content-length'] = whole.length;
    const req = request(new URL(`${srv.url}${path}`), { method, headers, agent: false });
    let written = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const at = written;
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (d: string) => (text += d))
        .on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, written: at, body: text ? JSON.parse(text) : {} });
        });
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const total = whole ? whole.length : (body as { total: number }).total;
    const chunk = whole ?? Buffer.alloc(MiB, (body as { fill: number }).fill);
    const pump = () => {
      while (!answered && written < total) {
        const piece = whole ? whole.subarray(written, written + MiB) : chunk.subarray(0, Math.min(MiB, total - written));
        written += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    // The first 64 KiB, then a moment for an answer to the declared length: a server that refuses at once
    // closes the connection, and writing on into it would fail with EPIPE before the answer is read.
    const first = whole ? whole.subarray(0, 65536) : chunk.subarray(0, Math.min(65536, total));
    written = first.length;
    req.write(first);
    setTimeout(pump, 300);
  });
}

describe('JSON body limits', () => {
  it.each([
    ['POST', '/api/v1/runs'],
    ['POST', '/api/v1/sweeps'],
    ['PUT', '/api/v1/models/m/aliases/prod'],
    ['PUT', '/api/v1/models/m/retraining-policy'],
    ['POST', '/api/v1/models/m/versions/1/export'],
    ['POST', '/api/v1/tokens'],
  ])('%s %s refuses a 2 MiB body with 413 naming the limit', async (method, path) => {
    const r = await send(method, path, bigJson(2 * MiB));
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.body.error?.message).toContain('1048576 bytes');
  });

  it('lets a rollout name many devices, up to its own 16 MiB limit', async () => {
    const many = await send(
      'POST',
      '/api/v1/rollouts',
      JSON.stringify({ target: { deviceIds: Array.from({ length: 100_000 }, (_, i) => `device-${i}`) } }),
    );
    expect(many.status).not.toBe(413);
    const over = await send('POST', '/api/v1/rollouts', bigJson(17 * MiB));
    expect(over.status).toBe(413);
    expect(over.body.error?.message).toMatch(/rollout requests .*16777216 bytes/);
  });

  it('counts a chunked body that declares no length', async () => {
    const r = await send('POST', '/api/v1/tokens', { total: 3 * MiB, fill: 0x20 });
    expect([r.status, r.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('lets quantize take inline samples beyond 1 MiB, up to its own 64 MiB limit', async () => {
    const within = await send(
      'POST',
      '/api/v1/models/m/versions/1/quantize',
      JSON.stringify({ calibration: { data: 'A'.repeat(2 * MiB), shape: [1, 4] } }),
    );
    expect(within.status).not.toBe(413);
    const over = await send('POST', '/api/v1/models/m/versions/1/quantize', bigJson(65 * MiB));
    expect(over.status).toBe(413);
    expect(over.body.error?.message).toMatch(/quantize requests .*67108864 bytes/);
  });

  it('refuses deeply nested JSON with 400, and later policy writes still work', async () => {
    const deep = await send('PUT', '/api/v1/models/deep/retraining-policy', nested(100_000));
    expect([deep.status, deep.body.error?.code]).toEqual([400, 'JSON_TOO_DEEP']);
    const fine = await send('PUT', '/api/v1/models/fine/retraining-policy', nested(3));
    expect(fine.status).toBe(200);
    expect((await srv.api('GET', '/api/v1/models/deep/retraining-policy')).status).toBe(404);
  });
});

describe('ONNX import limit', () => {
  it('answers 413 while a chunked upload is still streaming, not after reading it all', async () => {
    const limit = 256 * MiB;
    const cap = limit + 128 * MiB;
    const { status, written } = await send('POST', '/api/v1/models/import?name=huge', { total: cap, fill: 1 }, 'application/octet-stream');
    expect(status).toBe(413);
    // Answered near the limit: the server stopped reading there instead of taking the whole stream.
    expect(written).toBeLessThan(cap);
  }, 60_000);
});
