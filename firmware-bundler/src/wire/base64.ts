// Standard base64 (RFC 4648 §4, padded) on Uint8Array, the same in browsers and Node (no Buffer).

const STEP = 0x8000;

/** Base64 text of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  // Chunked so String.fromCharCode never sees more arguments than the engine allows.
  for (let i = 0; i < bytes.length; i += STEP) bin += String.fromCharCode(...bytes.subarray(i, i + STEP));
  return btoa(bin);
}

/** Bytes of padded base64 text; null when `text` is not strict base64. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
