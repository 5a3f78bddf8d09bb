// Per-device counts of what the broker refused, delayed or shed, kept in memory for /metrics and `devices show`.

export const DEVICE_COUNTERS = [
  /** Publishes outside the device's subtree [WIRE-1.5] (the connection is closed). */
  'publishRefused',
  /** Subscriptions outside what the device may read [WIRE-1.5] (SUBACK failure). */
  'subscribeRefused',
  /** Publishes delayed by the device's rate limit (push-back). */
  'rateDelayed',
  /** Publishes dropped because the device kept exceeding its rate. */
  'rateShed',
  /** Messages to the device dropped because it had too many unacknowledged or unread. */
  'outboundShed',
  /** Payloads that failed validation [WIRE-2.1]. */
  'invalidMessages',
] as const;

export type DeviceCounterName = (typeof DEVICE_COUNTERS)[number];
export type CounterSet = Record<DeviceCounterName, number>;

const zero = (): CounterSet => Object.fromEntries(DEVICE_COUNTERS.map((k) => [k, 0])) as CounterSet;

/**
 * Counters keyed by device id. Only authenticated devices get an entry (never a name an unknown
 * client chose), so the map is bounded by the fleet size.
 */
export class DeviceCounters {
  private readonly byDevice = new Map<string, CounterSet>();
  private readonly totals = zero();

  add(deviceId: string, name: DeviceCounterName, n = 1): void {
    let c = this.byDevice.get(deviceId);
    if (!c) this.byDevice.set(deviceId, (c = zero()));
    c[name] += n;
    this.totals[name] += n;
  }

  /** One device's counters (zeros when it has none). */
  of(deviceId: string): CounterSet {
    return { ...(this.byDevice.get(deviceId) ?? zero()) };
  }

  total(): CounterSet {
    return { ...this.totals };
  }

  /** Devices with at least one non-zero counter. */
  entries(): IterableIterator<[string, CounterSet]> {
    return this.byDevice.entries();
  }

  forget(deviceId: string): void {
    this.byDevice.delete(deviceId);
  }
}
