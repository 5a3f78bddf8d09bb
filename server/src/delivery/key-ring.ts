// The server's bundle-signing keys and the trust document devices hold (SPEC §6.6, [WIRE-2.2.3]).
// Keys live in <data>/keys: the first as signing.key, each rotated one as signing-<keyId>.key (mode
// 0600). Which of them devices trust, and which one signs new bundles, is <data>/keys/trust.json:
// the current signed trust update and the active key id, replaced atomically (temp file, fsync,
// rename), so a crash leaves the old document or the new one, never a torn one. No trust.json is
// version 0: the first key alone, threshold 1, which is what a provisioned device starts from.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkTrustDocument,
  encodePublicKeyFile,
  fromHex,
  generateKeyPair,
  keyFingerprint,
  keyIdOf,
  normalizeFingerprint,
  signTrustUpdate,
  TRUST_LIMITS,
  type TrustUpdate,
} from '@flotilla/firmware-bundler';
import { loadSecretKey, writeFileAtomic, writeKeyPair } from '@flotilla/firmware-bundler/node';
import { DeliveryError } from './delivery-error.ts';
import { FIRST_KEY_NAME, loadOrCreateSigningKey, signingKeyOf, type SigningKey } from './signing-key.ts';

/** The file holding the current trust update and the active key. */
export const TRUST_FILE = 'trust.json';

/** What trust.json holds. */
interface TrustFile {
  v: 1;
  /** Key id of the key that signs new bundles. */
  active: string;
  update: TrustUpdate;
}

/** One trusted key as listed (GET /api/v1/keys). */
export interface TrustedKey {
  keyId: string;
  publicKey: string;
  file: string;
  fingerprint: string;
  /** The key new bundles are signed with. */
  active: boolean;
  /** Whether the server holds its secret key (it can sign trust updates with it). */
  held: boolean;
}

/** What a rotate or retire changed. */
export interface TrustChange {
  version: number;
  threshold: number;
  active: string;
  /** The key added (rotate) or removed (retire). */
  keyId: string;
  /** Key ids whose signatures the new trust update carries (the required ones first, then retired keys). */
  signedBy: string[];
}

export class KeyRing {
  private chain: Promise<unknown> = Promise.resolve();
  /** trust.json's mtime, size and inode when last read or written: refresh() reloads when they change. */
  private stamp = '';

  private constructor(
    private readonly dataDir: string,
    private readonly dir: string,
    /** Every key whose secret file is in the folder, trusted or not, by key id. */
    private readonly held: Map<string, SigningKey>,
    private state: { keys: string[]; threshold: number; version: number; active: string; update: TrustUpdate | null },
    /** Whether the first key was made by this open. */
    readonly created: boolean,
  ) {}

  /**
   * Opens the ring in `<dataDir>/keys`, making the first key on a fresh server. Throws KEY_STATE_INVALID
   * when trust.json is unreadable or names an active key the folder lacks: starting anyway would sign
   * with a key devices no longer trust, or issue a trust version devices have already passed.
   */
  static async open(dataDir: string): Promise<KeyRing> {
    const dir = join(dataDir, 'keys');
    const first = await loadOrCreateSigningKey(dataDir);
    const held = new Map<string, SigningKey>([[first.keyId, first]]);
    for (const name of await readdir(dir)) {
      if (!/^signing-[0-9a-f]{16}\.key$/.test(name)) continue;
      const k = signingKeyOf(await loadSecretKey(join(dir, name)));
      held.set(k.keyId, k);
    }
    const file = join(dir, TRUST_FILE);
    if (!existsSync(file)) {
      return new KeyRing(
        dataDir,
        dir,
        held,
        { keys: [first.publicKeyHex], threshold: 1, version: 0, active: first.keyId, update: null },
        first.created,
      );
    }
    const t = parseTrustFile(await readFile(file, 'utf8'), file);
    const ids = t.update.keys.map((hex) => keyIdOf(fromHex(hex)));
    if (!ids.includes(t.active) || !held.has(t.active)) {
      throw new DeliveryError(
        'KEY_STATE_INVALID',
        `${file} names active key ${t.active}, which is not a trusted key with its secret file in ${dir}; restore that key file from backup`,
      );
    }
    const ring = new KeyRing(
      dataDir,
      dir,
      held,
      { keys: [...t.update.keys], threshold: t.update.threshold, version: t.update.version, active: t.active, update: t.update },
      false,
    );
    ring.stamp = await stampOf(file);
    return ring;
  }

  /**
   * Reloads when trust.json changed on disk since: another server process sharing this key folder
   * (--shared-dir) rotated. Called before anything that signs or lists keys; never goes back a version.
   */
  refresh(): Promise<void> {
    return this.serial(async () => {
      if ((await stampOf(join(this.dir, TRUST_FILE))) === this.stamp) return;
      const fresh = await KeyRing.open(this.dataDir);
      for (const [id, k] of fresh.held) if (!this.held.has(id)) this.held.set(id, k);
      if (fresh.state.version >= this.state.version) this.state = fresh.state;
      this.stamp = fresh.stamp;
    });
  }

  /** The key new bundles are signed with. */
  active(): SigningKey {
    return this.held.get(this.state.active)!;
  }

  /** The current signed trust update devices receive; null at version 0 (nothing to send). */
  trust(): TrustUpdate | null {
    return this.state.update;
  }

  get version(): number {
    return this.state.version;
  }

  get threshold(): number {
    return this.state.threshold;
  }

  /** The trusted keys, in trust-document order (the first key first). */
  list(): TrustedKey[] {
    return this.state.keys.map((hex) => {
      const key = fromHex(hex);
      const keyId = keyIdOf(key);
      return {
        keyId,
        publicKey: hex,
        file: encodePublicKeyFile(key),
        fingerprint: keyFingerprint(key),
        active: keyId === this.state.active,
        held: this.held.has(keyId),
      };
    });
  }

  /**
   * Makes a new key pair and issues trust version+1 = the current keys + the new one, signed by every
   * current key the server holds and by the new key (a device provisioned with any of them accepts it).
   * The new key signs every bundle from then on. `threshold` (default the current one) is what the next
   * update needs. Refused: KEY_RING_FULL at 16 keys, KEY_THRESHOLD_INVALID, KEY_SIGNERS_MISSING.
   */
  rotate(opts: { threshold?: number } = {}): Promise<TrustChange> {
    return this.serial(async () => {
      const s = this.state;
      if (s.keys.length >= TRUST_LIMITS.keys)
        throw new DeliveryError(
          'KEY_RING_FULL',
          `devices trust at most ${TRUST_LIMITS.keys} keys and ${s.keys.length} are trusted; retire one first (flotilla keys retire KEYID)`,
        );
      const threshold = checkThreshold(opts.threshold ?? Math.min(s.threshold, s.keys.length + 1), s.keys.length + 1);
      const signers = this.currentSigners(s.keys);
      const pair = generateKeyPair();
      await writeKeyPair(this.dir, { name: `${FIRST_KEY_NAME}-${pair.keyId}`, pair });
      const key = signingKeyOf(pair, true);
      this.held.set(key.keyId, key);
      return this.issue([...s.keys, key.publicKeyHex], threshold, [...signers, key], key.keyId, key.keyId);
    });
  }

  /**
   * Issues trust version+1 without `ref` (a key id or fingerprint), signed by the remaining keys (and, for
   * devices that missed earlier updates, by the retired keys the server holds; see issue()). Refused:
   * KEY_NOT_FOUND (not trusted now), KEY_ACTIVE (rotate first: it signs new bundles), KEY_LAST, and
   * KEY_SIGNERS_MISSING when the remaining keys the server holds are fewer than the current threshold.
   * The key's files stay in the folder (bundles it signed before still verify where it is trusted).
   */
  retire(ref: string, opts: { threshold?: number } = {}): Promise<TrustChange> {
    return this.serial(async () => {
      const s = this.state;
      const fp = normalizeFingerprint(ref);
      const hex = s.keys.find(
        (h) => keyIdOf(fromHex(h)) === ref.trim().toLowerCase() || (fp !== null && keyFingerprint(fromHex(h)) === fp),
      );
      if (!hex)
        throw new DeliveryError(
          'KEY_NOT_FOUND',
          `key '${ref}' is not a trusted key (trusted: ${s.keys.map((h) => keyIdOf(fromHex(h))).join(', ')}); see flotilla keys show`,
        );
      const keyId = keyIdOf(fromHex(hex));
      if (keyId === s.active)
        throw new DeliveryError('KEY_ACTIVE', `key ${keyId} signs new bundles; run flotilla keys rotate first, then retire it`);
      if (s.keys.length === 1) throw new DeliveryError('KEY_LAST', `key ${keyId} is the only trusted key; rotate a new one in first`);
      const rest = s.keys.filter((h) => h !== hex);
      const threshold = checkThreshold(opts.threshold ?? Math.min(s.threshold, rest.length), rest.length);
      return this.issue(rest, threshold, this.currentSigners(rest), s.active, keyId);
    });
  }

  /** The held keys among `keys`; KEY_SIGNERS_MISSING when they are fewer than the current threshold. */
  private currentSigners(keys: string[]): SigningKey[] {
    const signers = keys.flatMap((hex) => {
      const k = this.held.get(keyIdOf(fromHex(hex)));
      return k ? [k] : [];
    });
    if (signers.length < this.state.threshold) {
      throw new DeliveryError(
        'KEY_SIGNERS_MISSING',
        `the trust update needs ${this.state.threshold} signature(s) by currently trusted keys, and the server can sign with ${signers.length} of the keys that would remain (${signers.map((k) => k.keyId).join(', ') || 'none'}); rotate a new key in first, or restore missing key files`,
      );
    }
    return signers;
  }

  /**
   * Signs and stores trust version+1; the in-memory state changes only once trust.json is replaced.
   * `signers` are the keys that must sign. Every other key the server still holds (retired ones) signs
   * too, up to 16 signatures: devices receive only the newest update, and one that missed earlier ones
   * (offline through a rotate and a retire) still trusts only older keys. Such a signature gives nothing
   * to whoever else holds a retired key: devices that dropped it ignore it, and devices that still trust
   * it already accept anything that key signs.
   */
  private async issue(keys: string[], threshold: number, required: SigningKey[], active: string, keyId: string): Promise<TrustChange> {
    const doc = { v: 1 as const, version: this.state.version + 1, keys, threshold, issuedAt: new Date().toISOString() };
    checkTrustDocument(doc);
    const catchUp = [...this.held.values()].filter((k) => !required.some((r) => r.keyId === k.keyId));
    const signers = [...required, ...catchUp].slice(0, TRUST_LIMITS.signatures);
    const update = await signTrustUpdate(
      doc,
      signers.map((k) => k.signer),
    );
    const file = join(this.dir, TRUST_FILE);
    await writeAtomically(file, `${JSON.stringify({ v: 1, active, update } satisfies TrustFile, null, 2)}\n`);
    this.state = { keys, threshold, version: doc.version, active, update };
    this.stamp = await stampOf(file);
    return { version: doc.version, threshold, active, keyId, signedBy: signers.map((k) => k.keyId) };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function checkThreshold(n: number, keys: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > keys)
    throw new DeliveryError(
      'KEY_THRESHOLD_INVALID',
      `threshold must be an integer from 1 to the number of trusted keys (${keys}), got ${n}`,
    );
  return n;
}

/** The temp file this process writes `file` through before renaming it into place. */
export const tempFileOf = (file: string) => `${file}.${process.pid}.tmp`;

async function stampOf(file: string): Promise<string> {
  const st = await stat(file).catch(() => null);
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
}

/** Writes `file` so that a crash leaves the old text or the new, never a torn one. */
function writeAtomically(file: string, text: string): Promise<void> {
  // Per process: two servers sharing the key folder never write into the same temp file. A temp file a
  // crash left behind is never read (only trust.json is), and the next write by that pid truncates it
  // (so not O_EXCL: a pid reused after a crash would otherwise be refused for good).
  return writeFileAtomic(file, text, { temp: tempFileOf(file), mode: 0o600 });
}

/** trust.json's contents, checked; KEY_STATE_INVALID names the file and what is wrong. */
function parseTrustFile(text: string, file: string): TrustFile {
  const bad = (why: string) =>
    new DeliveryError(
      'KEY_STATE_INVALID',
      `${file} ${why}; restore it from backup (the server refuses to start rather than issue a trust version devices already passed)`,
    );
  let t: Partial<TrustFile>;
  try {
    t = JSON.parse(text) as Partial<TrustFile>;
  } catch (e) {
    throw bad(`is not JSON (${(e as Error).message})`);
  }
  if (t?.v !== 1 || typeof t.active !== 'string' || !t.update || typeof t.update !== 'object' || !Array.isArray(t.update.signatures))
    throw bad('is not a trust file (v, active, update)');
  try {
    checkTrustDocument(t.update);
  } catch (e) {
    throw bad(`holds an invalid trust document: ${(e as Error).message}`);
  }
  return t as TrustFile;
}
