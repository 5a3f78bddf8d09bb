// Imports a generated CSV of the given size and prints what it cost as JSON: run in its own process
// by the large-import test, and by hand for figures:
//   node --import tsx server/src/datasets/large-import-probe.ts 50e6 [--warm]
// With --warm it first churns the young generation, so V8 sizing it up is not counted as the import's.
// Peak RSS is sampled per input chunk; `rssPeakOurs` stops where the blob store's putFile begins.
import type { BlobStore } from '../blob/blob-store.ts';
import { importCsv } from './csv-import.ts';
import { tempBlobs } from './dataset-test-kit.ts';
import { largeCsv } from './large-csv.ts';

const bytes = Number(process.argv[2] ?? 50e6);
if (process.argv.includes('--warm')) {
  let s = '';
  for (let i = 0; i < 2e6; i++) s = `${'x'.repeat(40)}${i}`;
  void s;
}
const kit = tempBlobs();
let peak = process.memoryUsage.rss();
const sample = () => {
  peak = Math.max(peak, process.memoryUsage.rss());
};
let rssPeakOurs = 0;
const store = kit.blobs;
const blobs: BlobStore = {
  put: (data) => store.put(data),
  putFile: async (path) => {
    sample();
    rssPeakOurs = peak;
    return store.putFile(path);
  },
  get: (digest) => store.get(digest),
  stream: (digest, range) => store.stream(digest, range),
  stat: (digest) => store.stat(digest),
  has: (digest) => store.has(digest),
  localPath: (digest) => store.localPath(digest),
  tempPath: (hint) => store.tempPath(hint),
};
try {
  const rssBefore = process.memoryUsage.rss();
  peak = rssBefore;
  let csvBytes = 0;
  const started = performance.now();
  const result = await importCsv(
    largeCsv(bytes, (length) => {
      csvBytes += length;
      sample();
    }),
    { label: 'label', blobs },
  );
  const seconds = (performance.now() - started) / 1000;
  sample();
  const { digest, bytes: blobBytes, meta, report } = result;
  console.log(JSON.stringify({ csvBytes, seconds, rssBefore, rssPeakOurs, rssPeak: peak, digest, blobBytes, meta, report }));
} finally {
  kit.cleanup();
}
