// A generated CSV of any size, streamed in chunks and never held whole: for the large-import test and
// the import benchmark. Rows are 10 features and a label from a fixed PRNG, so runs are repeatable.
import { seededRandom } from '../random/seeded-random.ts';

export const LARGE_CSV_FEATURES = 10;

/** Yields about `bytes` of CSV (header included) in ~64 KiB string chunks; `onChunk` gets each one's length. */
export async function* largeCsv(bytes: number, onChunk?: (length: number) => void): AsyncGenerator<string> {
  const rng = seededRandom(42);
  const names = Array.from({ length: LARGE_CSV_FEATURES }, (_, i) => `f${i}`);
  let sent = 0;
  let chunk = `${names.join(',')},label\n`;
  while (sent + chunk.length < bytes) {
    const cells: string[] = [];
    for (let i = 0; i < LARGE_CSV_FEATURES; i++) cells.push((rng() * 200 - 100).toFixed(3));
    chunk += `${cells.join(',')},class${Math.floor(rng() * 5)}\n`;
    if (chunk.length >= 65536) {
      sent += chunk.length;
      onChunk?.(chunk.length);
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) {
    onChunk?.(chunk.length);
    yield chunk;
  }
}
