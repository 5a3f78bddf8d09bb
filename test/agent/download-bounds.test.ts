// A server that lies about a blob's size [WIRE-2.7.1]: the agent holds every download to the manifest's
// chunk length (or the envelope limit) and fails the update with a clear reason, over MQTT and HTTP.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest, uniqueChunks } from '@flotilla/firmware-bundler';
import { decodeEnvelope, MAX_ENVELOPE_BYTES } from '@flotilla/firmware-bundler/wire';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { newDeviceId, startTestAgent, type TestAgent } from './harness/agents.ts';
import { waitUntil } from './harness/wait.ts';

const CLAIMED = 8 * 1024 * 1024;

let v1: TestBundle;
let h: HarnessServer;
let t: TestAgent | null = null;
beforeAll(async () => {
  v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
});
beforeEach(async () => {
  h = await HarnessServer.start();
  h.addBlobs(v1.blobs);
});
afterEach(async () => {
  await t?.agent.close();
  t = null;
  await h.close();
});

const firstChunk = () => uniqueChunks(parseManifest(decodeEnvelope(v1.blobs.get(v1.ref.manifestDigest)!)!.manifestBytes))[0]!;

/** Starts a device on v1 and resolves with the reason its update failed. */
async function failedReason(o: object = {}): Promise<string> {
  const id = newDeviceId('bounds');
  h.addDevice(id);
  await h.setDesired(id, v1.ref);
  t = await startTestAgent(h, id, o);
  const agent = t;
  const failed = await waitUntil(() => agent.states.find((s) => s.to === 'failed'), 'the update to fail');
  expect(agent.agent.model).toBeNull();
  return failed.reason;
}

describe('downloads are bounded by what the manifest says [WIRE-2.7.1]', () => {
  it('over MQTT, a chunk response claiming 8 MiB is refused after one chunk-sized page', async () => {
    const chunk = firstChunk();
    h.inflate.set(chunk.digest, CLAIMED);
    const reason = await failedReason();
    expect(reason).toContain('AGENT_DOWNLOAD_FAILED');
    expect(reason).toContain(`larger than the ${chunk.length} bytes expected`);
    // One request, asked for no more than the chunk's length, and nothing fetched again.
    expect(h.sentBytes.get(chunk.digest)).toBe(chunk.length);
  });

  it('over MQTT, an envelope claiming more than any envelope may hold is refused before it is buffered', async () => {
    h.inflate.set(v1.ref.manifestDigest, MAX_ENVELOPE_BYTES + 1);
    const reason = await failedReason();
    expect(reason).toContain(`larger than the ${MAX_ENVELOPE_BYTES} bytes expected`);
    expect(h.sentBytes.get(v1.ref.manifestDigest)).toBeLessThanOrEqual(256 * 1024);
  });

  it('over HTTP, a Content-Length beyond the chunk length is refused without reading the body or asking again', async () => {
    const chunk = firstChunk();
    h.inflate.set(chunk.digest, CLAIMED);
    const reason = await failedReason({ server: h.httpUrl, blobTransport: 'http' });
    expect(reason).toContain(`larger than the ${chunk.length} bytes expected (server sent or claimed ${CLAIMED})`);
    expect(h.httpRequests.filter((r) => r.digest === chunk.digest)).toHaveLength(1);
  });

  it('over HTTP without a Content-Length, the body is cut off once it outgrows the chunk length', async () => {
    const chunk = firstChunk();
    h.inflate.set(chunk.digest, CLAIMED);
    h.httpNoLength = true;
    const reason = await failedReason({ server: h.httpUrl, blobTransport: 'http' });
    expect(reason).toMatch(new RegExp(`larger than the ${chunk.length} bytes expected \\(server sent or claimed \\d+\\)`));
    expect(h.httpRequests.filter((r) => r.digest === chunk.digest)).toHaveLength(1);
  });
});
