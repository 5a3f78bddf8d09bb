// Protobuf wire-format primitives (varints, fixed32/64, length-delimited) over Uint8Array, browser-safe.
import { OnnxError } from './onnx-error.ts';

/** A 64-bit integer as read from the wire: a number when it is a safe integer, else a bigint. */
export type Int64 = number | bigint;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LDELIM = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function malformed(what: string): never {
  throw new OnnxError('ONNX_MALFORMED', `malformed protobuf: ${what}`);
}

/** Sequential reader over one protobuf message's bytes. */
export class ProtoReader {
  pos: number;
  end: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Reads a varint as its low and high 32-bit halves (both unsigned). */
  private varintParts(): [number, number] {
    let lo = 0;
    let hi = 0;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) malformed('truncated varint');
      const b = buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    return malformed('varint longer than 10 bytes');
  }

  /** A varint truncated to 32 bits, signed (int32 and enum fields). */
  int32(): number {
    return this.varintParts()[0] | 0;
  }

  /** A varint as a non-negative number below 2^32 (tags and lengths). */
  uint32(): number {
    return this.varintParts()[0];
  }

  /** A signed 64-bit varint (int64 fields). */
  int64(): Int64 {
    const [lo, hi] = this.varintParts();
    if (hi < 0x200000) return hi * TWO_32 + lo;
    const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  /** An unsigned 64-bit varint (uint64 fields). */
  uint64(): Int64 {
    const [lo, hi] = this.varintParts();
    if (hi < 0x200000) return hi * TWO_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  float(): number {
    if (this.pos + 4 > this.end) malformed('truncated fixed32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) malformed('truncated fixed64');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The bounds [start, end) of a length-delimited field's payload; advances past it. */
  ldelim(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (start + len > this.end) malformed('length-delimited field runs past its message');
    this.pos = start + len;
    return [start, start + len];
  }

  /** A copy of a bytes field (copies so decoded models never alias the input buffer). */
  bytes(): Uint8Array {
    const [s, e] = this.ldelim();
    return this.buf.slice(s, e);
  }

  string(): string {
    const [s, e] = this.ldelim();
    try {
      return utf8Decoder.decode(this.buf.subarray(s, e));
    } catch {
      return malformed('string field is not valid UTF-8');
    }
  }

  /** Skips a field's payload of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varintParts();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LDELIM:
        this.ldelim();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        malformed(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) malformed('truncated field');
  }
}

/** Number of bytes the varint encoding of an unsigned value takes. */
export function varintSize(v: Int64): number {
  if (typeof v === 'number' && v >= 0 && v < TWO_32) {
    if (v < 0x80) return 1;
    if (v < 0x4000) return 2;
    if (v < 0x200000) return 3;
    if (v < 0x10000000) return 4;
    return 5;
  }
  let big = BigInt.asUintN(64, BigInt(v));
  let n = 1;
  while (big >= 0x80n) {
    big >>= 7n;
    n++;
  }
  return n;
}

/** Writes into a preallocated buffer of exactly the size computed beforehand. */
export class ProtoWriter {
  pos = 0;
  readonly buf: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Writes a varint; negative numbers are written as 64-bit two's complement (10 bytes), as protobuf does. */
  varint(v: Int64): void {
    if (typeof v === 'number' && v >= 0 && v < TWO_32) {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
      return;
    }
    let big = BigInt.asUintN(64, BigInt(v));
    while (big >= 0x80n) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  tag(fieldNo: number, wireType: number): void {
    this.varint(fieldNo * 8 + wireType);
  }

  float(v: number): void {
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}
