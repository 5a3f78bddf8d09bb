// Trust rotation end to end (SPEC §6.6, [WIRE-2.2.2]): a real agent against the harness broker refuses
// bundles signed only by a new key until a trust update signed by its current key arrives, then takes
// them; a later update signed by the key that update removed (revoked) is refused, and the accepted
// trust survives a restart even though the agent is still configured with the old key.
import { describe, expect, it } from 'vitest';
import {
  createEd25519Signer,
  generateKeyPair,
  signTrustUpdate,
  toHex,
  verifyTrustUpdate,
  type TrustUpdate,
} from '@flotilla/firmware-bundler';
import { makeBundle } from './harness/test-bundles.ts';
import { startTestAgent, type TestAgent } from './harness/agents.ts';
import { TRUSTED, trustedSigner } from './harness/test-keys.ts';
import { twoVersionsSuite, deviceOnV1 } from './harness/two-versions.ts';
import { waitUntil } from './harness/wait.ts';

const NEW = generateKeyPair(new Uint8Array(32).fill(21));
const SPARE = generateKeyPair(new Uint8Array(32).fill(22));
const newSigner = createEd25519Signer(NEW.secretKey);
const s = twoVersionsSuite();

const doc = (version: number, keys: Uint8Array[], threshold = 1) => ({
  v: 1 as const,
  version,
  keys: keys.map((k) => toHex(k)),
  threshold,
  issuedAt: new Date().toISOString(),
});
const finished = (t: TestAgent, n: number) =>
  waitUntil(() => t.states.filter((x) => x.to === 'idle').length >= n, `${n} finished update(s)`);

describe('trust rotation on a device', () => {
  it('refuses new-key bundles before the update, takes them after, and refuses an update signed by a revoked key', async () => {
    const { h, v1 } = s;
    const logs: string[] = [];
    const t = await deviceOnV1(h, v1, 'trust', { log: (l) => logs.push(l) });
    const newOnly = await makeBundle({ version: '3.0.0', sequence: 3, model: { headSeed: 3 }, signer: newSigner });
    // A second one: the agent does not retry a bundle it already refused (an operator rolls out anew).
    const newAfter = await makeBundle({ version: '3.1.0', sequence: 4, model: { headSeed: 6 }, signer: newSigner });
    h.addBlobs(newOnly.blobs);
    h.addBlobs(newAfter.blobs);

    // Before: the device trusts only the provisioned key.
    await h.setDesired(t.id, newOnly.ref);
    await finished(t, 2);
    expect(t.states.at(-2)!.reason).toMatch(/^BUNDLE_KEY_UNTRUSTED/);
    expect(t.agent.model?.version).toBe('1.0.0');

    // A trust update signed by the current key: the new key replaces it, and a new-key bundle in the
    // same desired state installs (the key is trusted before the bundle is checked).
    const v1Trust = await signTrustUpdate(doc(1, [NEW.publicKey, SPARE.publicKey]), [trustedSigner]);
    await h.setTrust(t.id, v1Trust, newAfter.ref);
    await waitUntil(
      () => t.agent.model?.version === '3.1.0' && t.states.at(-1)?.to === 'idle',
      'the new-key bundle installed after the trust update',
    );
    expect(logs.some((l) => /trust: now version 1, 2 key\(s\)/.test(l))).toBe(true);

    // The old key was removed: a bundle it signs is refused now.
    const oldOnly = await makeBundle({ version: '4.0.0', sequence: 5, model: { headSeed: 4 } });
    h.addBlobs(oldOnly.blobs);
    const before = t.states.filter((x) => x.to === 'idle').length;
    await h.setDesired(t.id, oldOnly.ref);
    await finished(t, before + 1);
    expect(t.states.at(-2)!.reason).toMatch(/^BUNDLE_KEY_UNTRUSTED/);

    // An update signed by the revoked key (putting itself back) is refused; so is a replay of version 1.
    const comeback = await signTrustUpdate(doc(2, [TRUSTED.publicKey]), [trustedSigner]);
    await h.setTrust(t.id, comeback, oldOnly.ref);
    await waitUntil(
      () => logs.some((l) => /trust: update to version 2 refused: .*0 signature\(s\) by currently trusted keys, 1 required/.test(l)),
      'the revoked-key update refused',
    );
    expect(t.agent.model?.version).toBe('3.1.0');

    // Restarted with the same (old) configured key: the stored trust still applies.
    await t.agent.close();
    const again = await startTestAgent(h, t.id, { dataDir: t.dataDir });
    expect(again.agent.model?.version).toBe('3.1.0');
    await again.agent.close();
  });
});

describe('trust update verification (SPEC §6.6)', () => {
  const start = { version: 0, keys: [toHex(TRUSTED.publicKey)], threshold: 1 };

  it('needs the threshold of CURRENT keys, a higher version, and valid signatures', async () => {
    const two = verifyTrustUpdate(await signTrustUpdate(doc(1, [NEW.publicKey, SPARE.publicKey], 2), [trustedSigner]), start);
    expect(two).toEqual({ version: 1, keys: [toHex(NEW.publicKey), toHex(SPARE.publicKey)], threshold: 2 });
    const one = await signTrustUpdate(doc(2, [NEW.publicKey]), [newSigner]);
    expect(() => verifyTrustUpdate(one, two)).toThrow(/1 signature\(s\) by currently trusted keys, 2 required/);
    const both = await signTrustUpdate(doc(2, [NEW.publicKey]), [newSigner, createEd25519Signer(SPARE.secretKey)]);
    expect(verifyTrustUpdate(both, two).version).toBe(2);
    // Rollback and replay.
    expect(() => verifyTrustUpdate(both, { ...two, version: 2 })).toThrow(/not newer/);
    // A forged signature by a current key, and an altered document.
    const forged: TrustUpdate = { ...both, signatures: [{ ...both.signatures[0]!, signature: 'ab'.repeat(64) }] };
    expect(() => verifyTrustUpdate(forged, two)).toThrow(/does not verify/);
    expect(() => verifyTrustUpdate({ ...both, threshold: 1, keys: [toHex(NEW.publicKey)], version: 3 }, two)).toThrow(/does not verify/);
    // Malformed documents.
    expect(() => verifyTrustUpdate({ ...both, keys: [] }, two)).toThrow(/between 1 and 16 keys/);
    expect(() => verifyTrustUpdate({ ...both, threshold: 5 }, two)).toThrow(/threshold must be between 1 and/);
    expect(() => verifyTrustUpdate({ ...both, keys: ['zz'] }, two)).toThrow(/64 lower-case hex/);
  });
});
