// Remembers which rows an import has seen, to drop exact duplicates: a 12-byte fingerprint per
// distinct row in a flat table (16-32 bytes per row with its empty slots), never a string per row.
import { hash } from 'node:crypto';

const WORDS = 3; // a fingerprint is the first 96 bits of sha256
const INITIAL_SLOTS = 1 << 12;
const MAX_LOAD = 0.75;
// Address space reserved per table buffer; pages are committed only as the table grows into them.
const RESERVE_BYTES = 256 << 20;

interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(bytes: number): void;
}
// ES2024 resizable buffers (Node 20 has them; the project's TypeScript lib is ES2023).
const Resizable = ArrayBuffer as unknown as new (bytes: number, opts: { maxByteLength: number }) => ResizableArrayBuffer;

/**
 * An open-addressing set of 96-bit row fingerprints (linear probing, doubles past 75% full; the
 * all-zero fingerprint marks an empty slot, so a row hashing to it is stored with its last bit set).
 * Two different rows collide with probability about n²/2⁹⁷: for 16 million rows, 2·10⁻¹⁵.
 *
 * The table lives in one of two resizable buffers and is rehashed into the other when it grows; the
 * old one is then shrunk to zero, which returns its pages at once. Fresh arrays would leave every
 * outgrown table (as much again as the live one) as garbage outside the JS heap until a full GC.
 */
export class RowFingerprintSet {
  private table: Uint32Array;
  private spare: ResizableArrayBuffer = new Resizable(0, { maxByteLength: RESERVE_BYTES });
  private readonly fp = new Uint32Array(WORDS);
  /** Distinct rows added. */
  size = 0;

  constructor() {
    this.table = new Uint32Array(new Resizable(INITIAL_SLOTS * WORDS * 4, { maxByteLength: RESERVE_BYTES }), 0, INITIAL_SLOTS * WORDS);
  }

  /** Bytes held by the table now. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Adds the row given by `bytes`; returns false when an identical row was added before. */
  add(bytes: Uint8Array): boolean {
    // A 'binary' (latin1) string, one char per byte, is twice as fast as a Buffer here and leaves
    // only short-lived heap garbage, not one external allocation per row.
    const d = hash('sha256', bytes, 'binary');
    const fp = this.fp;
    for (let w = 0; w < WORDS; w++) {
      const at = 4 * w;
      fp[w] = d.charCodeAt(at) | (d.charCodeAt(at + 1) << 8) | (d.charCodeAt(at + 2) << 16) | (d.charCodeAt(at + 3) << 24);
    }
    if ((fp[0]! | fp[1]! | fp[2]!) === 0) fp[2] = 1;
    if (!insert(this.table, fp[0]!, fp[1]!, fp[2]!)) return false;
    this.size++;
    if (this.size > MAX_LOAD * (this.table.length / WORDS)) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.table;
    const next = new Uint32Array(sized(this.spare, old.byteLength * 2), 0, old.length * 2);
    for (let at = 0; at < old.length; at += WORDS) {
      if (old[at]! | old[at + 1]! | old[at + 2]!) insert(next, old[at]!, old[at + 1]!, old[at + 2]!);
    }
    this.spare = sized(old.buffer as ResizableArrayBuffer, 0);
    this.table = next;
  }
}

// `buf` resized to `bytes` (new bytes are zero), or a new buffer when it cannot grow that far.
function sized(buf: ResizableArrayBuffer, bytes: number): ResizableArrayBuffer {
  if (bytes <= buf.maxByteLength) {
    buf.resize(bytes);
    return buf;
  }
  return new Resizable(bytes, { maxByteLength: bytes * 2 });
}

// Returns false when the fingerprint (x, y, z) is already present.
function insert(table: Uint32Array, x: number, y: number, z: number): boolean {
  const mask = table.length / WORDS - 1;
  for (let slot = x & mask; ; slot = (slot + 1) & mask) {
    const at = slot * WORDS;
    const a = table[at]!;
    const b = table[at + 1]!;
    const c = table[at + 2]!;
    if ((a | b | c) === 0) {
      table[at] = x;
      table[at + 1] = y;
      table[at + 2] = z;
      return true;
    }
    if (a === x && b === y && c === z) return false;
  }
}
