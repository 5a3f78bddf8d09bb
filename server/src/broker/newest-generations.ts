// The newest credential generation written to the broker for each device. Password writes for one device
// can overtake each other: a rotation sends the device its token, then writes the broker's password; the
// device may reconnect before that write lands, be refused, recover (a newer generation, written at
// once) and only then see the rotation's older write arrive, which would leave the broker holding a
// token the device no longer has. Writes are checked here, in the order they go out, and an older one
// is dropped.

/** How long a device's generation is remembered: overtaking writes are seconds apart. */
const REMEMBER_MS = 10 * 60_000;

export class NewestGenerations {
  // Two maps swapped every REMEMBER_MS: memory stays bounded by the devices rotated recently.
  private recent = new Map<string, number>();
  private older = new Map<string, number>();
  private swappedAt: number;

  constructor(
    private readonly rememberMs = REMEMBER_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.swappedAt = now();
  }

  /** Records `generation` as written for `deviceId`; false (and nothing recorded) when a newer one already was. */
  claim(deviceId: string, generation: number): boolean {
    const t = this.now();
    if (t - this.swappedAt >= this.rememberMs) {
      this.older = this.recent;
      this.recent = new Map();
      this.swappedAt = t;
    }
    const seen = this.recent.get(deviceId) ?? this.older.get(deviceId);
    if (seen !== undefined && seen > generation) return false;
    this.recent.set(deviceId, generation);
    return true;
  }
}
