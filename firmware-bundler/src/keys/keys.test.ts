// Keys, key ids, key files and manifest signatures, including rotation and thresholds (SPEC §6).
import { describe, expect, it } from 'vitest';
import {
  createEd25519Signer,
  ed25519Verify,
  generateKeyPair,
  keyFingerprint,
  keyIdOf,
  keyPairFromSecret,
  normalizeFingerprint,
} from './ed25519.ts';
import { decodePublicKeyFile, decodeSecretKeyFile, encodePublicKeyFile, encodeSecretKeyFile } from './key-file.ts';
import { checkManifestSignatures, signManifest, signedMessage, SIGNATURE_CONTEXT } from './manifest-signature.ts';
import { sha256Hex, toHex, utf8 } from '../bytes.ts';
import { testKeyPair, testSigner } from '../testing/bundle-fixtures.ts';
import type { BundleErrorCode } from '../errors.ts';

function codeOf(fn: () => unknown): BundleErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code: BundleErrorCode }).code;
  }
}

describe('Ed25519 keys [SPEC §6.1, §6.2]', () => {
  it('matches the RFC 8032 test vector 1', () => {
    const secret = Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'));
    const pair = keyPairFromSecret(secret);
    expect(toHex(pair.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = createEd25519Signer(secret).sign(new Uint8Array(0)) as Uint8Array;
    expect(toHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('derives the key id as the first 16 hex of sha256(public key)', () => {
    const pair = generateKeyPair();
    expect(pair.keyId).toBe(sha256Hex(pair.publicKey).slice(0, 16));
    expect(keyIdOf(pair.publicKey)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('fingerprints a key as SHA256: and the full digest, and reads pasted fingerprints in any case', () => {
    const pair = generateKeyPair();
    const fp = keyFingerprint(pair.publicKey);
    expect(fp).toBe(`SHA256:${sha256Hex(pair.publicKey)}`);
    expect(fp.slice(7, 23)).toBe(pair.keyId);
    expect(normalizeFingerprint(` sha256:${fp.slice(7).toUpperCase()} `)).toBe(fp);
    expect(normalizeFingerprint(fp.slice(7))).toBe(fp);
    expect(normalizeFingerprint(pair.keyId)).toBeNull();
    expect(normalizeFingerprint(`SHA256:${fp.slice(7, 70)}zz`)).toBeNull();
  });

  it('refuses keys and seeds of the wrong length with BUNDLE_KEY_INVALID', () => {
    expect(codeOf(() => keyIdOf(new Uint8Array(31)))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => generateKeyPair(new Uint8Array(33)))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => keyPairFromSecret(new Uint8Array(0)))).toBe('BUNDLE_KEY_INVALID');
  });

  it('treats malformed signatures and keys as invalid instead of throwing', () => {
    const pub = testKeyPair('a').publicKey;
    expect(ed25519Verify(new Uint8Array(63), utf8('m'), pub)).toBe(false);
    expect(ed25519Verify(new Uint8Array(64).fill(0xff), utf8('m'), pub)).toBe(false);
    expect(ed25519Verify(new Uint8Array(64), utf8('m'), new Uint8Array(32).fill(0xff))).toBe(false);
  });
});

describe('key files [SPEC §6.4]', () => {
  const pair = testKeyPair('files');

  it('round-trip secret and public keys', () => {
    expect(decodeSecretKeyFile(encodeSecretKeyFile(pair))).toEqual(pair);
    expect(decodePublicKeyFile(encodePublicKeyFile(pair.publicKey))).toEqual(pair.publicKey);
    expect(decodePublicKeyFile(`${toHex(pair.publicKey)}\n`)).toEqual(pair.publicKey);
  });

  it('refuses swapped, damaged or mismatched files with BUNDLE_KEY_INVALID', () => {
    const secretText = encodeSecretKeyFile(pair);
    const publicText = encodePublicKeyFile(pair.publicKey);
    const other = testKeyPair('other');
    expect(codeOf(() => decodePublicKeyFile(secretText))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodeSecretKeyFile(publicText))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodeSecretKeyFile('not json'))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodeSecretKeyFile('[]'))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodePublicKeyFile(publicText.replace(pair.keyId, other.keyId)))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodeSecretKeyFile(secretText.replace(toHex(pair.publicKey), toHex(other.publicKey))))).toBe('BUNDLE_KEY_INVALID');
    expect(codeOf(() => decodePublicKeyFile(publicText.replace(/"publicKey": "[0-9a-f]+"/, '"publicKey": "abcd"')))).toBe(
      'BUNDLE_KEY_INVALID',
    );
  });
});

describe('manifest signatures [SPEC §6.3, §6.5]', () => {
  const manifest = utf8('{"a":1}');
  const oldKey = testKeyPair('old');
  const newKey = testKeyPair('new');

  it('sign the context prefix followed by the manifest bytes', async () => {
    const [sig] = await signManifest(manifest, [testSigner('old')]);
    expect(SIGNATURE_CONTEXT).toBe('flotilla-bundle-manifest/v1\n');
    expect(ed25519Verify(sig!.signature, signedMessage(manifest), oldKey.publicKey)).toBe(true);
    expect(ed25519Verify(sig!.signature, manifest, oldKey.publicKey)).toBe(false);
  });

  it('accept a bundle signed by old and new keys on devices trusting either (rotation)', async () => {
    const sigs = await signManifest(manifest, [testSigner('old'), testSigner('new')]);
    expect(checkManifestSignatures(manifest, sigs, [oldKey.publicKey])).toEqual([oldKey.keyId]);
    expect(checkManifestSignatures(manifest, sigs, [newKey.publicKey])).toEqual([newKey.keyId]);
    expect(checkManifestSignatures(manifest, sigs, [oldKey.publicKey, newKey.publicKey], 2)).toEqual([oldKey.keyId, newKey.keyId]);
  });

  it('give BUNDLE_KEY_UNTRUSTED without enough trusted signatures and BUNDLE_SIGNATURE_INVALID for a bad trusted one', async () => {
    const sigs = await signManifest(manifest, [testSigner('old')]);
    expect(codeOf(() => checkManifestSignatures(manifest, sigs, [newKey.publicKey]))).toBe('BUNDLE_KEY_UNTRUSTED');
    expect(codeOf(() => checkManifestSignatures(manifest, sigs, [oldKey.publicKey, newKey.publicKey], 2))).toBe('BUNDLE_KEY_UNTRUSTED');
    expect(codeOf(() => checkManifestSignatures(manifest, [], [oldKey.publicKey]))).toBe('BUNDLE_KEY_UNTRUSTED');
    expect(codeOf(() => checkManifestSignatures(utf8('{"a":2}'), sigs, [oldKey.publicKey]))).toBe('BUNDLE_SIGNATURE_INVALID');
    // A signature made by another key but labelled with a trusted id is invalid, not merely untrusted.
    const forged = [{ keyId: oldKey.keyId, signature: (await signManifest(manifest, [testSigner('new')]))[0]!.signature }];
    expect(codeOf(() => checkManifestSignatures(manifest, forged, [oldKey.publicKey]))).toBe('BUNDLE_SIGNATURE_INVALID');
  });

  it('refuse to sign with no signer, duplicate key ids or a signer returning a wrong-length signature', async () => {
    await expect(signManifest(manifest, [])).rejects.toMatchObject({ code: 'BUNDLE_INPUT_INVALID' });
    await expect(signManifest(manifest, [testSigner('a'), testSigner('a')])).rejects.toMatchObject({ code: 'BUNDLE_INPUT_INVALID' });
    const broken = { keyId: '0123456789abcdef', publicKey: new Uint8Array(32), sign: async () => new Uint8Array(10) };
    await expect(signManifest(manifest, [broken])).rejects.toMatchObject({ code: 'BUNDLE_KEY_INVALID' });
  });
});
