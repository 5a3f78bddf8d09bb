// An InferenceRuntime wrapper that injects device faults: slow inference and a broken model stack.
import { createHash } from 'node:crypto';
import { WrappedRuntime, type InferenceRuntime, type ModelSession, type TensorValue } from '@flotilla/edge-agent';

/** Faults one simulated device carries; the wrapper outlives agent restarts, so it stays the same device. */
export interface RuntimeFaults {
  /** Added before every `run`, in ms (a slow device). Default 0. */
  delayMs?: number;
  /**
   * Perturb the outputs of every model other than the first one this device loaded, so a new bundle
   * fails its self-test here and the agent rolls back (a device whose hardware or runtime is off).
   */
  breakNewModels?: boolean;
}

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps `inner` with `faults`; `firstModel` remembers the first model bytes ever loaded. */
export class FaultyRuntime extends WrappedRuntime {
  private firstModel: string | null = null;

  constructor(
    inner: InferenceRuntime,
    private readonly faults: RuntimeFaults,
  ) {
    super(inner);
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    const session = await this.inner.load(modelBytes);
    const d = digest(modelBytes);
    this.firstModel ??= d;
    const broken = this.faults.breakNewModels === true && d !== this.firstModel;
    const delayMs = this.faults.delayMs ?? 0;
    if (!broken && delayMs <= 0) return session;
    return {
      inputs: session.inputs,
      outputNames: session.outputNames,
      release: () => session.release(),
      async run(feeds: Record<string, TensorValue>) {
        if (delayMs > 0) await sleep(delayMs);
        const out = await session.run(feeds);
        if (!broken) return out;
        // Far outside any self-test tolerance, and it reorders classes: a wrong model, not a rounding error.
        for (const t of Object.values(out)) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 - t.data[i]! + 0.5;
        return out;
      },
    };
  }
}

/**
 * One onnxruntime session per distinct model, shared by every simulated device that loads it: a
 * thousand devices in one process need one copy of a 1 MB model, not a thousand (each device still
 * loads, probes and releases it through its own handle). Sessions are reference-counted and released
 * when the last device lets go.
 */
export class SharedSessionRuntime extends WrappedRuntime {
  // By a cheap fingerprint, then compared byte for byte (a memcmp is ~10x cheaper than a SHA-256 of 1 MB).
  private readonly sessions = new Map<string, { bytes: Uint8Array; session: Promise<ModelSession>; users: number }[]>();

  /** Distinct models held now (for tests and the bench notes). */
  get distinctSessions(): number {
    let n = 0;
    for (const list of this.sessions.values()) n += list.length;
    return n;
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    const key = fingerprint(modelBytes);
    const list = this.sessions.get(key) ?? [];
    this.sessions.set(key, list);
    let e = list.find((x) => Buffer.from(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength).equals(modelBytes));
    if (!e) {
      const made = { bytes: modelBytes.slice(), session: this.inner.load(modelBytes), users: 0 };
      made.session.catch(() => this.forget(key, made));
      list.push(made);
      e = made;
    }
    const entry = e;
    entry.users++;
    let session: ModelSession;
    try {
      session = await entry.session;
    } catch (err) {
      entry.users--;
      throw err;
    }
    let released = false;
    return {
      inputs: session.inputs,
      outputNames: session.outputNames,
      run: (feeds) => session.run(feeds),
      release: async () => {
        if (released) return;
        released = true;
        if (--entry.users > 0) return;
        this.forget(key, entry);
        await session.release();
      },
    };
  }

  private forget(key: string, entry: { bytes: Uint8Array }): void {
    const list = this.sessions.get(key);
    if (!list) return;
    const rest = list.filter((x) => x !== entry);
    if (rest.length) this.sessions.set(key, rest);
    else this.sessions.delete(key);
  }
}

/** Length and an FNV-1a hash of every 4093rd byte: enough to tell models apart before comparing them. */
function fingerprint(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i += 4093) h = Math.imul(h ^ b[i]!, 16777619);
  return `${b.length}:${(h >>> 0).toString(36)}`;
}
