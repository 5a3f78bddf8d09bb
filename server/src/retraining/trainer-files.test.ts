// The trainer download shelf on its own (a fake clock): a token opens only its job's files, only until its
// time limit or withdrawal; without a base URL nothing is offered. And an HTTP trainer gets large jobs by
// URL only, not inline (a real HTTP server receives the POST).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runHttpTrainer, MAX_INLINE_FILES } from './outside-trainer.ts';
import { TrainerFileShelf } from './trainer-files.ts';

const file = (name: string, n = 4) => ({ name, bytes: new Uint8Array(n).fill(7), contentType: 'application/octet-stream' });

describe('trainer file shelf', () => {
  it("opens a job's files with its token until the time limit, then refuses", () => {
    let now = 1_000_000;
    const shelf = new TrainerFileShelf('http://127.0.0.1:9/api/v1/', () => now);
    const a = shelf.offer('rt_a', { trainX: file('train-x.npy') }, 60_000)!;
    const b = shelf.offer('rt_b', { trainX: file('train-x.npy') }, 60_000)!;
    expect(a.urls.trainX).toBe('http://127.0.0.1:9/api/v1/retraining/jobs/rt_a/files/train-x.npy');
    expect(a.token).not.toBe(b.token);
    expect(a.expiresAt).toBe(new Date(1_060_000).toISOString());
    expect(shelf.open('rt_a', 'train-x.npy', a.token).bytes).toEqual(new Uint8Array(4).fill(7));
    expect(() => shelf.open('rt_a', 'train-x.npy', b.token)).toThrow(
      expect.objectContaining({ code: 'TRAINER_TOKEN_INVALID', status: 401 }),
    );
    expect(() => shelf.open('rt_a', 'train-x.npy', undefined)).toThrow(/send Authorization: Bearer/);
    expect(() => shelf.open('rt_a', 'model.onnx', a.token)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    now += 60_000;
    expect(() => shelf.open('rt_a', 'train-x.npy', a.token)).toThrow(expect.objectContaining({ code: 'TRAINER_TOKEN_INVALID' }));
    shelf.withdraw('rt_b');
    now -= 30_000;
    expect(() => shelf.open('rt_b', 'train-x.npy', b.token)).toThrow(expect.objectContaining({ code: 'TRAINER_TOKEN_INVALID' }));
  });

  it('offers nothing without a base URL', () => {
    expect(new TrainerFileShelf(() => null).offer('rt_a', { trainX: file('train-x.npy') }, 1000)).toBeNull();
  });

  it('sends an HTTP trainer large jobs by URL only, small ones inline too', async () => {
    const bodies: Record<string, any>[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.end('onnx');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const t = { kind: 'http' as const, url, timeoutSec: 30, quantize: 'int8' as const };
    const manifest = { output: '/nowhere', files: { trainX: '/tmp/x' }, urls: { trainX: 'http://server/x' } };
    await runHttpTrainer(t, { manifestPath: '', manifest, files: { trainX: new Uint8Array(MAX_INLINE_FILES + 1) } });
    await runHttpTrainer(t, { manifestPath: '', manifest, files: { trainX: new Uint8Array(16) } });
    const { urls: _u, ...noUrls } = manifest;
    await runHttpTrainer(t, { manifestPath: '', manifest: noUrls, files: { trainX: new Uint8Array(MAX_INLINE_FILES + 1) } });
    await new Promise<void>((r) => server.close(() => r()));
    expect(bodies[0]).toMatchObject({ urls: { trainX: 'http://server/x' } });
    expect(bodies[0]!.data).toBeUndefined();
    expect(bodies[0]!.files).toBeUndefined();
    expect(Buffer.from(bodies[1]!.data.trainX, 'base64')).toHaveLength(16);
    // Without download URLs (no HTTP in this process) everything goes inline, as before.
    expect(Buffer.from(bodies[2]!.data.trainX, 'base64')).toHaveLength(MAX_INLINE_FILES + 1);
  });
});
