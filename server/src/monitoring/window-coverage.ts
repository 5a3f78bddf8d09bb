// The time each device has already been credited for, per model [WIRE-2.10]: a window is credited only for the
// part of its interval no earlier window of the same device and model covered, so sending many overlapping
// windows (each clipped alone to its own length) cannot multiply one device's weight in fleet sums. Over any
// period one device adds at most period × rate predictions per model. Honest windows are back to back and lose
// nothing; a resent window is fully covered, refused (and still acknowledged), so it never counts twice.

/** Disjoint spans remembered per device and model; past this the oldest merge into the floor. */
export const MAX_SPANS = 32;

/** What one device and model has been credited for: everything before `floor`, and `spans` (sorted, disjoint, after it). */
interface Covered {
  floor: number;
  spans: [number, number][];
}

/** The part of one window still to credit. */
export interface Uncovered {
  /** Milliseconds of `[start, end)` not covered before (a zero-length window stands for its first millisecond). */
  ms: number;
  /** The window's own length as covered here, ms (at least 1). */
  of: number;
}

const keyOf = (deviceId: string, model: string) => `${deviceId}\u0000${model}`;
/** A window covers `[start, end)`, and at least its first millisecond (so zero-length windows cannot add credit for free). */
const spanOf = (start: number, end: number): [number, number] => [start, Math.max(end, start + 1)];

function uncoveredIn(c: Covered | undefined, start: number, end: number): Uncovered {
  const [s, e] = spanOf(start, end);
  if (!c) return { ms: e - s, of: e - s };
  let free = Math.max(0, e - Math.max(s, c.floor));
  for (const [a, b] of c.spans) free -= Math.max(0, Math.min(b, e) - Math.max(a, s, c.floor));
  return { ms: Math.max(0, free), of: e - s };
}

function addTo(c: Covered, start: number, end: number): void {
  let [s, e] = spanOf(start, end);
  if (e <= c.floor) return;
  s = Math.max(s, c.floor);
  const kept: [number, number][] = [];
  for (const [a, b] of c.spans) {
    // Overlapping or touching spans merge: back-to-back windows stay one span.
    if (b < s || a > e) kept.push([a, b]);
    else [s, e] = [Math.min(a, s), Math.max(b, e)];
  }
  kept.push([s, e]);
  kept.sort((x, y) => x[0] - y[0]);
  while (kept.length > MAX_SPANS) c.floor = kept.shift()![1];
  c.spans = kept;
}

const clone = (c: Covered | undefined): Covered => ({ floor: c?.floor ?? -Infinity, spans: c ? c.spans.map(([a, b]) => [a, b]) : [] });

/** Per device and model, the time already credited. One instance per telemetry ingest. */
export class WindowCoverage {
  private readonly covered = new Map<string, Covered>();
  private readonly seeded = new Set<string>();

  /** Whether {@link seed} still has to be called for this device (once per process). */
  needsSeed(deviceId: string): boolean {
    return !this.seeded.has(deviceId);
  }

  /**
   * Adds the spans of the device's newest windows stored before this process started (read back from the store),
   * so a restart forgets nothing. `truncated`: older stored windows were left unread; then everything before the
   * oldest one read counts as covered too, for each model read (a device sends its windows oldest first).
   */
  seed(deviceId: string, spans: readonly { model: string; start: number; end: number }[], truncated = false): void {
    this.seeded.add(deviceId);
    const oldest = Math.min(...spans.map((x) => x.start));
    for (const x of spans) {
      const k = keyOf(deviceId, x.model);
      const c = this.covered.get(k) ?? clone(undefined);
      if (truncated && oldest > c.floor) {
        c.floor = oldest;
        c.spans = c.spans.filter(([, b]) => b > oldest).map(([a, b]) => [Math.max(a, oldest), b]);
      }
      addTo(c, x.start, x.end);
      this.covered.set(k, c);
    }
  }

  /**
   * A batch's view: checks see what earlier windows of the same batch took, and nothing is kept unless the
   * batch was stored ({@link CoverageBatch.commit}); a batch that failed is resent and must find its time free.
   */
  batch(): CoverageBatch {
    return new CoverageBatch(this.covered);
  }
}

export class CoverageBatch {
  private readonly touched = new Map<string, Covered>();

  constructor(private readonly covered: Map<string, Covered>) {}

  /** How much of `[start, end)` is still uncovered for this device and model. */
  uncovered(deviceId: string, model: string, start: number, end: number): Uncovered {
    const k = keyOf(deviceId, model);
    return uncoveredIn(this.touched.get(k) ?? this.covered.get(k), start, end);
  }

  /** Marks `[start, end)` covered, within this batch. */
  take(deviceId: string, model: string, start: number, end: number): void {
    const k = keyOf(deviceId, model);
    const c = this.touched.get(k) ?? clone(this.covered.get(k));
    addTo(c, start, end);
    this.touched.set(k, c);
  }

  /** Keeps what this batch took. */
  commit(): void {
    for (const [k, c] of this.touched) this.covered.set(k, c);
  }
}
