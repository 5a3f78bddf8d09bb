// Follows MQTT packet boundaries in a byte stream by reading only fixed headers, so an oversized
// packet is refused as soon as its length is declared, before anyone buffers its body.

/** Why a stream was refused. */
export type FrameViolation = 'PACKET_TOO_LARGE' | 'MALFORMED_LENGTH';

/**
 * Tracks one connection's packet boundaries (MQTT 3.1.1 §2.2: one type byte, then the
 * remaining length as a varint of at most 4 bytes). It never copies payload bytes.
 */
export class FrameGuard {
  /** Largest whole packet (fixed header included) in bytes; may be raised after authentication. */
  limit: number;
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  /** Packets whose last byte has been seen. */
  completed = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** True while a packet has started but not yet ended. */
  get midPacket(): boolean {
    return this.state !== 'type';
  }

  /** Consumes a chunk; returns a violation as soon as one is seen, else null. */
  feed(chunk: Uint8Array): FrameViolation | null {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) {
          this.state = 'type';
          this.completed++;
        }
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return 'MALFORMED_LENGTH';
        // Refuse early: even the smallest remaining continuation would exceed the limit.
        if (1 + this.lengthBytes + this.length > this.limit) return 'PACKET_TOO_LARGE';
        continue;
      }
      if (1 + this.lengthBytes + this.length > this.limit) return 'PACKET_TOO_LARGE';
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
      if (this.remaining === 0) this.completed++;
    }
    return null;
  }
}
