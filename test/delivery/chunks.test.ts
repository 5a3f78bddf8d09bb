// Chunked download of a real signed bundle, as a device does it: over MQTT (envelope, signature
// check, chunks with a window of outstanding requests) and over HTTP (ranges, resume, ETag).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { decodePublicKeyFile, openBundle, verifyManifest, type BundleManifest } from '@flotilla/firmware-bundler';
import { DesiredState, Envelope } from '@flotilla/firmware-bundler/wire';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { chunkFetcher as fetcher, deviceClient, linearOnnx, nextMessage, provision, registerOnnxModel, topic } from './fleet-kit.ts';

let srv: ServerHandle;
let onnx: Uint8Array;
let bundle: { id: string; envelopeDigest: string; chunkDigests: string[]; bytes: number };
let device: { id: string; token: string };
let c: MqttClient;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  srv = await startServerProcess();
  onnx = linearOnnx(256, 200); // ~200 KB of weights: a dozen chunks at the default 16 KiB average
  await registerOnnxModel(srv, 'kws', onnx);
  const r = await srv.api('POST', '/api/v1/bundles', { model: 'kws', labels: Array.from({ length: 200 }, (_, i) => `w${i}`) });
  expect(r.status).toBe(201);
  bundle = r.body;
  device = await provision(srv);
  await srv.api('PUT', `/api/v1/devices/${device.id}/desired`, { bundle: bundle.id });
  c = await deviceClient(srv.info.mqttUrl, device);
  await c.subscribeAsync(topic(device.id, 'chunks/res'), { qos: 1 });
});
afterAll(async () => {
  await c?.endAsync();
  await srv?.dispose();
});

describe('chunked download over MQTT [WIRE-2.7, 2.8]', () => {
  it('fetches the envelope, verifies the signature with the published key, then every chunk with a window of 8', async () => {
    const desiredMsg = nextMessage(c, topic(device.id, 'desired'));
    await c.subscribeAsync(topic(device.id, 'desired'), { qos: 1 });
    const desired = DesiredState.parse(JSON.parse(String(await desiredMsg)));
    const get = fetcher(c, device.id);
    const env = await get(desired.bundle!.manifestDigest);
    expect(env.header).toMatchObject({ ok: true, offset: 0, total: env.bytes.length });
    expect(sha(env.bytes)).toBe(desired.bundle!.manifestDigest);
    const envelope = Envelope.parse(JSON.parse(Buffer.from(env.bytes).toString('utf8')));
    const keys = (await srv.api('GET', '/api/v1/keys')).body.keys;
    const trusted = [decodePublicKeyFile(keys[0].file)];
    const manifestBytes = Buffer.from(envelope.manifest, 'base64');
    const verified = verifyManifest(
      manifestBytes,
      envelope.signatures.map((s) => ({ keyId: s.keyId, signature: Buffer.from(s.signature, 'base64') })),
      trusted,
    );
    const manifest: BundleManifest = verified.manifest;
    expect(manifest.labels).toHaveLength(200);
    const file = manifest.files[0]!;
    expect(file.chunks.length).toBeGreaterThan(5);
    // Window of 8 outstanding requests.
    const parts = new Map<string, Uint8Array>();
    const queue = [...new Set(file.chunks.map((ch) => ch.digest))];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) {
          const r = await get(d);
          expect(r.header.ok).toBe(true);
          expect(sha(r.bytes)).toBe(d);
          parts.set(d, r.bytes);
        }
      }),
    );
    const assembled = Buffer.concat(file.chunks.map((ch) => parts.get(ch.digest)!));
    expect(sha(assembled)).toBe(file.sha256);
    expect(Buffer.compare(assembled, Buffer.from(onnx))).toBe(0);
  });

  it('reads a blob larger than one response in ranges, and refuses what the device may not fetch', async () => {
    const get = fetcher(c, device.id);
    const first = await get(bundle.envelopeDigest, { offset: 0, length: 100 });
    const rest = await get(bundle.envelopeDigest, { offset: 100 });
    expect(first.bytes.length).toBe(100);
    expect(sha(Buffer.concat([first.bytes, rest.bytes]))).toBe(bundle.envelopeDigest);
    expect((await get('a'.repeat(64))).header).toMatchObject({ ok: false, code: 'NOT_ALLOWED' });
    expect((await get(bundle.envelopeDigest, { offset: 10_000_000 })).header).toMatchObject({ ok: false, code: 'RANGE' });
    // Another device, with no desired state, may fetch nothing.
    const other = await provision(srv);
    const oc = await deviceClient(srv.info.mqttUrl, other);
    await oc.subscribeAsync(topic(other.id, 'chunks/res'), { qos: 1 });
    expect((await fetcher(oc, other.id)(bundle.chunkDigests[0]!)).header).toMatchObject({ ok: false, code: 'NOT_ALLOWED' });
    await oc.endAsync();
  });

  it('answers BUSY beyond the window instead of queueing', async () => {
    const get = fetcher(c, device.id);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(bundle.chunkDigests[i % bundle.chunkDigests.length]!)));
    const codes = answers.map((a) => (a.header.ok ? 'ok' : a.header.code));
    expect(codes).toContain('ok');
    expect(codes).toContain('BUSY');
    expect(codes.filter((x) => x !== 'ok' && x !== 'BUSY')).toEqual([]);
  });
});

describe('blobs over HTTP [WIRE-3.1]', () => {
  const auth = () => ({ authorization: `Bearer ${device.id}:${device.token}` });
  const url = (d: string) => `${srv.url}/api/v1/blobs/${d}`;

  it('serves the whole bundle file with ETag, and it opens and verifies', async () => {
    const res = await fetch(url(bundle.id), { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${bundle.id}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(bundle.bytes);
    expect(sha(bytes)).toBe(bundle.id);
    const keys = (await srv.api('GET', '/api/v1/keys')).body.keys;
    const opened = openBundle(bytes, [decodePublicKeyFile(keys[0].file)]);
    expect(opened.manifest.model.name).toBe('kws');
    expect((await fetch(url(bundle.id), { headers: { ...auth(), 'if-none-match': `"${bundle.id}"` } })).status).toBe(304);
  });

  it('serves ranges, so an interrupted download resumes where it stopped', async () => {
    const half = Math.floor(bundle.bytes / 2);
    const head = await fetch(url(bundle.id), { headers: { ...auth(), range: `bytes=0-${half - 1}` } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-${half - 1}/${bundle.bytes}`);
    // The "connection drops" after the first part; the device resumes from what it has.
    const partial = new Uint8Array(await head.arrayBuffer());
    const tail = await fetch(url(bundle.id), { headers: { ...auth(), range: `bytes=${partial.length}-`, 'if-range': `"${bundle.id}"` } });
    expect(tail.status).toBe(206);
    const whole = Buffer.concat([partial, new Uint8Array(await tail.arrayBuffer())]);
    expect(sha(whole)).toBe(bundle.id);
    const suffix = await fetch(url(bundle.id), { headers: { ...auth(), range: 'bytes=-10' } });
    expect(Buffer.compare(Buffer.from(await suffix.arrayBuffer()), whole.subarray(whole.length - 10))).toBe(0);
    const beyond = await fetch(url(bundle.id), { headers: { ...auth(), range: `bytes=${bundle.bytes}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bundle.bytes}`);
  });

  it('authorizes by device token and desired state; operators read anything', async () => {
    expect((await fetch(url(bundle.id))).status).toBe(401);
    expect((await fetch(url(bundle.id), { headers: { authorization: `Bearer ${device.id}:wrong` } })).status).toBe(401);
    const other = await provision(srv);
    const denied = await fetch(url(bundle.id), { headers: { authorization: `Bearer ${other.id}:${other.token}` } });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe('FORBIDDEN');
    expect((await fetch(url(bundle.chunkDigests[0]!), { headers: { authorization: `Bearer ${srv.token}` } })).status).toBe(200);
    expect((await fetch(url('nothex'), { headers: auth() })).status).toBe(400);
  });
});
