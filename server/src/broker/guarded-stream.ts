// Wraps a client connection before aedes sees it: refuses oversized or trickled packets before any
// body is buffered, counts bytes, and applies write backpressure that the broker can observe.
import { Duplex } from 'node:stream';
import { FrameGuard, type FrameViolation } from './frame-guard.ts';

export interface GuardOptions {
  /** Packet limit until {@link GuardedStream.authenticated} is called, bytes. */
  preAuthMaxPacketBytes: number;
  /** Packet limit afterwards, bytes. */
  maxPacketBytes: number;
  /** A packet left incomplete this long drops the connection, ms. */
  partialPacketTimeoutMs: number;
  /** Bytes buffered for writing before `write` reports backpressure. */
  writeHighWaterMark: number;
  onViolation(reason: FrameViolation | 'PARTIAL_PACKET_TIMEOUT'): void;
  onBytes(direction: 'in' | 'out', n: number): void;
}

/**
 * Bytes handed to aedes at once. aedes parses whatever one read returns and dispatches every packet
 * in it at the same time, so this bounds how many parsed packets one connection can have waiting
 * (at the admission gate, say): about 8 KiB of them rather than a whole 64 KiB socket read.
 */
const SLICE = 8 * 1024;
/** Bytes received but not yet handed to aedes before the socket stops being read (TCP push-back). */
const INBOX_LIMIT = 2 * SLICE;

/** A Duplex over `inner` (TCP, TLS or WebSocket stream) that aedes reads and writes instead. */
export class GuardedStream extends Duplex {
  private readonly guard: FrameGuard;
  private partialTimer: NodeJS.Timeout | null = null;
  private pendingWrite: ((err?: Error | null) => void) | null = null;
  private readonly inbox: Buffer[] = [];
  private inboxBytes = 0;
  private wantsData = false;
  private ended = false;

  constructor(
    private readonly inner: Duplex,
    private readonly opts: GuardOptions,
  ) {
    super({ allowHalfOpen: false, writableHighWaterMark: opts.writeHighWaterMark, readableHighWaterMark: SLICE });
    this.guard = new FrameGuard(opts.preAuthMaxPacketBytes);
    inner.on('data', (chunk: Buffer) => this.onData(chunk));
    inner.on('end', () => {
      this.ended = true;
      this.pump();
    });
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
    inner.on('drain', () => this.flushPending(null));
  }

  /** Raises the packet limit once the client has authenticated. */
  authenticated(): void {
    this.guard.limit = this.opts.maxPacketBytes;
  }

  /** True when writes are backing up (the peer is not reading fast enough). */
  get backedUp(): boolean {
    return this.writableNeedDrain || this.pendingWrite !== null;
  }

  override _read(): void {
    this.wantsData = true;
    this.pump();
  }

  /** Hands buffered bytes to aedes a slice at a time, as fast as it reads them. */
  private pump(): void {
    while (this.wantsData && this.inboxBytes > 0) {
      const head = this.inbox[0]!;
      const slice = head.length <= SLICE ? head : head.subarray(0, SLICE);
      if (slice === head) this.inbox.shift();
      else this.inbox[0] = head.subarray(SLICE);
      this.inboxBytes -= slice.length;
      this.wantsData = this.push(slice);
    }
    if (this.inboxBytes === 0 && this.ended) this.push(null);
    else if (this.inboxBytes < INBOX_LIMIT && !this.inner.destroyed) this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    // mqtt-packet corks the stream per packet: one write to the socket instead of several.
    this.send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearPartialTimer();
    this.flushPending(err ?? new Error('connection closed'));
    this.inner.destroy();
    cb(err);
  }

  private send(buf: Buffer, cb: (err?: Error | null) => void): void {
    if (this.inner.destroyed) return cb(new Error('connection closed'));
    this.opts.onBytes('out', buf.length);
    if (this.inner.write(buf)) cb();
    else this.pendingWrite = cb;
  }

  private flushPending(err: Error | null): void {
    const cb = this.pendingWrite;
    this.pendingWrite = null;
    cb?.(err);
    // The peer read something: the broker's stall timer counts this as progress.
    if (cb && !err) this.emit('flushed');
  }

  private onData(chunk: Buffer): void {
    this.opts.onBytes('in', chunk.length);
    const before = this.guard.completed;
    const violation = this.guard.feed(chunk);
    if (violation) return this.refuse(violation);
    // The timer runs per packet: more bytes of the same packet do not reset it (that is the
    // trickle), but finishing a packet does.
    if (this.guard.completed !== before) this.clearPartialTimer();
    if (this.guard.midPacket) {
      this.partialTimer ??= setTimeout(() => this.refuse('PARTIAL_PACKET_TIMEOUT'), this.opts.partialPacketTimeoutMs).unref();
    }
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    if (this.inboxBytes >= INBOX_LIMIT) this.inner.pause();
    this.pump();
  }

  private refuse(reason: FrameViolation | 'PARTIAL_PACKET_TIMEOUT'): void {
    this.clearPartialTimer();
    this.opts.onViolation(reason);
    this.inner.pause();
    this.destroy(new Error(`connection refused: ${reason}`));
  }

  private clearPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = null;
  }
}
