// An append-only file with a write buffer: producers push bytes synchronously, row by row, and await
// `flush()` once per input chunk, so memory stays at about one chunk's worth however big the file gets.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Default buffer size in bytes (1 MiB): large enough that writes are few, small beside a 50 MB import. */
export const DEFAULT_BUFFER_BYTES = 1 << 20;

export class BufferedFile {
  private fh: FileHandle | null = null;
  private buf: Uint8Array;
  private used = 0;
  private closed = false;
  private readonly full: Uint8Array[] = [];
  // Written buffers for reuse: allocating a fresh one per MiB grows RSS by the whole file before V8
  // notices, because the garbage is outside the JS heap.
  private readonly spare: Uint8Array[] = [];
  /** Bytes pushed so far, flushed or not. */
  bytes = 0;

  /** The file is created (or truncated) at the first flush, so constructing one is synchronous. */
  constructor(
    readonly path: string,
    private readonly bufferBytes = DEFAULT_BUFFER_BYTES,
  ) {
    this.buf = new Uint8Array(bufferBytes);
  }

  /** Copies `data` into the buffer; nothing reaches the disk until `flush()`. */
  push(data: Uint8Array): void {
    this.bytes += data.byteLength;
    if (this.used + data.byteLength < this.buf.byteLength) {
      this.buf.set(data, this.used); // the common case, a row that fits: no subarray to allocate
      this.used += data.byteLength;
      return;
    }
    let off = 0;
    while (off < data.byteLength) {
      const n = Math.min(data.byteLength - off, this.buf.byteLength - this.used);
      this.buf.set(data.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === this.buf.byteLength) {
        this.full.push(this.buf);
        this.buf = this.spare.pop() ?? new Uint8Array(this.bufferBytes);
        this.used = 0;
      }
    }
  }

  /** Writes the buffers that have filled up; with `all`, the partial one too. */
  async flush(all = false): Promise<void> {
    const fh = (this.fh ??= await open(this.path, 'w'));
    while (this.full.length) {
      const b = this.full.shift()!;
      await fh.write(b);
      this.spare.push(b);
    }
    if (all && this.used) {
      await fh.write(this.buf.subarray(0, this.used));
      this.used = 0;
    }
  }

  /** Flushes everything and closes the file; with `discard`, closes without writing. Safe to call twice. */
  async close(discard = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!discard) await this.flush(true);
    } finally {
      await this.fh?.close();
    }
  }
}
