import { describe, expect, it } from 'vitest';
import { sha256Hex, signManifest, trustedKeys, utf8 } from '@flotilla/firmware-bundler';
import { testKeyPair, testSigner } from '@flotilla/firmware-bundler/testing/bundle-fixtures';
import { checkSignaturesOnce } from './signature-memo.ts';

describe('checkSignaturesOnce', () => {
  const manifest = utf8('{"format":"flotilla-bundle/v1"}');
  const keys = trustedKeys([testKeyPair('memo').publicKey]);

  it('answers a repeated check with the key ids of the first, and counts only identical inputs as repeated', async () => {
    const sigs = await signManifest(manifest, [testSigner('memo')]);
    const first = checkSignaturesOnce(manifest, sigs, keys, sha256Hex);
    expect(checkSignaturesOnce(manifest, sigs, keys, sha256Hex)).toEqual(first);
    // Another manifest under the same signature is checked afresh, and fails.
    expect(() => checkSignaturesOnce(utf8('{"format":"other"}'), sigs, keys, sha256Hex)).toThrow(/does not verify/);
  });

  it('never remembers a failure, and remembers per trusted-key set', async () => {
    const sigs = await signManifest(manifest, [testSigner('memo')]);
    const bad = [{ ...sigs[0]!, signature: sigs[0]!.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) }];
    expect(() => checkSignaturesOnce(manifest, bad, keys, sha256Hex)).toThrow(/does not verify/);
    expect(() => checkSignaturesOnce(manifest, bad, keys, sha256Hex)).toThrow(/does not verify/);
    checkSignaturesOnce(manifest, sigs, keys, sha256Hex);
    // A device that no longer trusts the key is not answered from the memo of the set that did.
    expect(() => checkSignaturesOnce(manifest, sigs, trustedKeys([testKeyPair('other').publicKey]), sha256Hex)).toThrow(
      /trusted signature/,
    );
  });
});
