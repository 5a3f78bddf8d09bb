// Binary framing of chunk responses [WIRE-2.7]: u16 header length, JSON header, raw bytes.
import { ChunkResponseHeader, decodeMessage } from './messages.ts';

export function encodeChunkResponse(header: ChunkResponseHeader, bytes: Uint8Array = new Uint8Array()): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  if (h.length > 0xffff) throw new Error('chunk response header too large');
  const out = new Uint8Array(2 + h.length + bytes.length);
  out[0] = h.length >> 8;
  out[1] = h.length & 0xff;
  out.set(h, 2);
  out.set(bytes, 2 + h.length);
  return out;
}

/** Splits a chunk response; null when the frame or its header is malformed. */
export function decodeChunkResponse(frame: Uint8Array): { header: ChunkResponseHeader; bytes: Uint8Array } | null {
  if (frame.length < 2) return null;
  const len = (frame[0]! << 8) | frame[1]!;
  if (2 + len > frame.length) return null;
  const header = decodeMessage(ChunkResponseHeader, frame.subarray(2, 2 + len));
  return header ? { header, bytes: frame.subarray(2 + len) } : null;
}
