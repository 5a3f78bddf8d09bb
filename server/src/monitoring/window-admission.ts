// Which models one device may send telemetry about [WIRE-2.10]: the ones the server gave it, so a device can
// neither invent model streams nor push numbers into another model's fleet figures.
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { Device } from '../store/entities.ts';
import { modelKey } from './model-reference.ts';

/** Most models one device's windows are remembered for beyond what it is given now (older ones are forgotten). */
export const MAX_MODELS_PER_DEVICE = 8;

/** `name@version` of the bundles named in a device's desired state (serving and shadow). */
export function desiredModels(device: Pick<Device, 'desired'> | null): string[] {
  const d = device?.desired as
    { bundle?: { model?: unknown; version?: unknown } | null; shadow?: { model?: unknown; version?: unknown } | null } | null | undefined;
  const out: string[] = [];
  for (const b of [d?.bundle, d?.shadow]) {
    if (b && typeof b.model === 'string' && typeof b.version === 'string') out.push(modelKey({ name: b.model, version: b.version }));
  }
  return out;
}

/**
 * Per device, the models it may report: what it is given now, plus (so windows queued offline under the
 * previous model still count after an update) the last {@link MAX_MODELS_PER_DEVICE} it was admitted for.
 */
export class ModelAdmission {
  private readonly admitted = new Map<string, string[]>();

  /** Whether {@link seed} still has to be called for this device (once per process). */
  needsSeed(deviceId: string): boolean {
    return !this.admitted.has(deviceId);
  }

  /**
   * What was admitted for the device before this process started, read back from stored telemetry (only
   * admitted windows are stored), oldest first: an honest device's queued windows for its previous model
   * still count after a restart. Ignored once the device has an entry.
   */
  seed(deviceId: string, models: readonly string[]): void {
    if (!this.admitted.has(deviceId)) this.admitted.set(deviceId, models.slice(-MAX_MODELS_PER_DEVICE));
  }

  /** Null when `window` may be stored; otherwise why not. `given` are the device's models now. */
  check(deviceId: string, window: TelemetryWindow, given: readonly string[]): string | null {
    if (!window.model) return null;
    const key = modelKey(window.model);
    const seen = this.admitted.get(deviceId) ?? [];
    if (!given.includes(key) && !seen.includes(key)) {
      return `model ${key.slice(0, 200)} was never given to device ${deviceId} (given: ${given.join(', ') || 'none'})`;
    }
    const next = [...seen.filter((k) => k !== key), key].slice(-MAX_MODELS_PER_DEVICE);
    this.admitted.set(deviceId, next);
    return null;
  }
}
