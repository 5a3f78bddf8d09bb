// Trust on first use by fingerprint: the agent keeps the server's key only when it hashes to the fingerprint
// it was given, computes that hash itself, and never lets a later start or another server swap the key.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePublicKeyFile, generateKeyPair, keyFingerprint, toHex } from '@flotilla/firmware-bundler';
import { TRUSTED_KEY_FILE, trustedKeyFromServer } from './trust-on-first-use.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A real HTTP server answering GET /api/v1/keys with `body`. */
async function keyServer(body: unknown): Promise<string> {
  const s = createServer((req, res) => {
    if (req.url !== '/api/v1/keys') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const serverKey = generateKeyPair();
const fp = keyFingerprint(serverKey.publicKey);
const offer = (pub: Uint8Array, extra: object = {}) => ({
  keys: [{ keyId: 'x', publicKey: toHex(pub), file: '', fingerprint: keyFingerprint(pub), ...extra }],
});
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
  );

describe('trustedKeyFromServer', () => {
  it('fetches the key whose fingerprint matches, keeps it, and uses the kept key from then on', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tofu-'));
    const server = await keyServer(offer(serverKey.publicKey));
    const first = await trustedKeyFromServer({ server, fingerprint: ` ${fp.replace('SHA256:', 'sha256:').toUpperCase()} `, dataDir });
    expect(first).toEqual({ keyFile: join(dataDir, TRUSTED_KEY_FILE), fingerprint: fp, fetched: true });
    expect(decodePublicKeyFile(readFileSync(first.keyFile, 'utf8'))).toEqual(serverKey.publicKey);
    // Later starts read the kept key; the server is not asked (here it is gone).
    for (const s of servers.splice(0)) s.close();
    expect(await trustedKeyFromServer({ server, fingerprint: fp, dataDir })).toMatchObject({ fingerprint: fp, fetched: false });
  });

  it('refuses a server key with another fingerprint and keeps nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tofu-'));
    const other = generateKeyPair();
    const server = await keyServer(offer(other.publicKey));
    const err = await codeOf(trustedKeyFromServer({ server, fingerprint: fp, dataDir }));
    expect(err).toMatch(/^AGENT_KEY_UNTRUSTED: .*offers SHA256:[0-9a-f]{64}, not SHA256:/);
    expect(err).toContain(keyFingerprint(other.publicKey));
    expect(existsSync(join(dataDir, TRUSTED_KEY_FILE))).toBe(false);
  });

  it('computes the fingerprint itself: a server that claims the wanted fingerprint for another key is refused', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tofu-'));
    const server = await keyServer(offer(generateKeyPair().publicKey, { fingerprint: fp }));
    expect(await codeOf(trustedKeyFromServer({ server, fingerprint: fp, dataDir }))).toMatch(/^AGENT_KEY_UNTRUSTED/);
    expect(existsSync(join(dataDir, TRUSTED_KEY_FILE))).toBe(false);
  });

  it('refuses to swap a kept key for another fingerprint, and says how to start over', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tofu-'));
    const server = await keyServer(offer(serverKey.publicKey));
    await trustedKeyFromServer({ server, fingerprint: fp, dataDir });
    const other = keyFingerprint(generateKeyPair().publicKey);
    expect(await codeOf(trustedKeyFromServer({ server, fingerprint: other, dataDir }))).toMatch(
      /^AGENT_KEY_UNTRUSTED: .*trusted-key\.pub\.json holds the key trusted on first start .*delete that file/,
    );
    expect(decodePublicKeyFile(readFileSync(join(dataDir, TRUSTED_KEY_FILE), 'utf8'))).toEqual(serverKey.publicKey);
  });

  it('refuses a malformed fingerprint, an unreachable server and a malformed answer with clear errors', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tofu-'));
    expect(await codeOf(trustedKeyFromServer({ server: 'http://127.0.0.1:1', fingerprint: serverKey.keyId, dataDir }))).toMatch(
      /^AGENT_CONFIG_INVALID: .*not SHA256: and 64 hex/,
    );
    expect(await codeOf(trustedKeyFromServer({ server: 'http://127.0.0.1:1', fingerprint: fp, dataDir }))).toMatch(
      /^AGENT_KEY_UNTRUSTED: cannot fetch the server's bundle key from http:\/\/127\.0\.0\.1:1\/api\/v1\/keys/,
    );
    const junk = await keyServer({ keys: [{ publicKey: 'zz' }, { publicKey: 42 }] });
    expect(await codeOf(trustedKeyFromServer({ server: junk, fingerprint: fp, dataDir }))).toMatch(/^AGENT_KEY_UNTRUSTED: .*offers no key/);
    expect(existsSync(join(dataDir, TRUSTED_KEY_FILE))).toBe(false);
  });
});
