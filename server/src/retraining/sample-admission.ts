// Which field samples the server stores [WIRE-2.2 telemetry policy]: only what the device's desired state
// asks for. A device whose policy allows none (rate or budget 0, or no desired state) gets nothing stored,
// and each device may store at most its byte budget per window and model, counted here rather than trusted
// to the agent's own sampler: one device once wrote 245 MB in 15 s.

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

  constructor(private readonly now: () => number = Date.now) {}

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
    if (w.bytes + bytes > allowed) return `device ${deviceId} is over its field-sample budget for ${model} (${allowed} bytes per ${policy.windowSec} s)`;
    w.bytes += bytes;
    return null;
  }
}
