// Which field samples the server stores [WIRE-2.2 telemetry policy]: only what the device's desired state
// asks for. A device whose policy allows none (rate or budget 0, or no desired state) gets nothing stored,
// and each device may store at most its byte budget per window and model, counted here rather than trusted
// to the agent's own sampler: one device once wrote 245 MB in 15 s. What a device spent before a restart is
// read back from the store on first sight (see `seed`), so restarting the server does not refill a budget.

/** The part of a desired state that governs sampling. */
interface SamplingPolicy {
  windowSec: number;
  sampleRate: number;
  sampleBudgetBytes: number;
}

/**
 * Budget windows here are not aligned with the device's: a device may spend its budget at the end of one of
 * its windows and again at the start of the next, inside one of ours. Twice the budget per window allows that
 * and nothing more.
 */
const WINDOW_SLACK = 2;
/** Budgets remembered at most; beyond it the oldest window is forgotten (devices × models is bounded by the fleet). */
const MAX_TRACKED = 100_000;

export function samplingPolicy(desired: Record<string, unknown> | null | undefined): SamplingPolicy | null {
  const t = desired?.telemetry as Partial<SamplingPolicy> | undefined;
  if (!t || typeof t.windowSec !== 'number' || typeof t.sampleRate !== 'number' || typeof t.sampleBudgetBytes !== 'number') return null;
  return { windowSec: t.windowSec, sampleRate: t.sampleRate, sampleBudgetBytes: t.sampleBudgetBytes };
}

export class SampleAdmission {
  /** `device\0model` → bytes stored in the window that started at `start` (ms). */
  private readonly used = new Map<string, { start: number; bytes: number }>();

  /** Keys whose spending before this process started was read from the store (once each). */
  private readonly seeded = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether {@link seed} still has to be called for this device and model (once per process). */
  needsSeed(deviceId: string, model: string): boolean {
    const key = `${deviceId}\0${model}`;
    return !this.seeded.has(key) && !this.used.has(key);
  }

  /**
   * What the device stored for `model` in the last window before this process knew of it (read from the
   * store), counted as spent in a window that starts now: a restart must not hand a device its budget again.
   * Stricter than the device's own window by at most one window, and an honest device spends at most one
   * budget per window of the twice-the-budget allowance, so it is not refused.
   */
  seed(deviceId: string, model: string, bytes: number): void {
    const key = `${deviceId}\0${model}`;
    if (this.seeded.size >= MAX_TRACKED) this.seeded.clear();
    this.seeded.add(key);
    if (this.used.has(key)) return;
    if (this.used.size >= MAX_TRACKED) this.used.delete(this.used.keys().next().value!);
    this.used.set(key, { start: this.now(), bytes });
  }

  /**
   * Null when a sample of `bytes` from `deviceId` about `model` may be stored (and counts it against the
   * budget); otherwise why not.
   */
  admit(deviceId: string, model: string, policy: SamplingPolicy | null, bytes: number): string | null {
    if (!policy || policy.sampleRate <= 0 || policy.sampleBudgetBytes <= 0) return `device ${deviceId} is not asked for field samples`;
    const key = `${deviceId}\0${model}`;
    const now = this.now();
    let w = this.used.get(key);
    if (!w || now - w.start >= policy.windowSec * 1000) {
      this.used.delete(key);
      w = { start: now, bytes: 0 };
      if (this.used.size >= MAX_TRACKED) this.used.delete(this.used.keys().next().value!);
      this.used.set(key, w);
    }
    const allowed = policy.sampleBudgetBytes * WINDOW_SLACK;
    if (w.bytes + bytes > allowed)
      return `device ${deviceId} is over its field-sample budget for ${model} (${allowed} bytes per ${policy.windowSec} s)`;
    w.bytes += bytes;
    return null;
  }
}
