// Throughput of the chunker, packing and verification, and the delta-update figures: `npx tsx firmware-bundler/scripts/bench.ts`.
import {
  chunkBoundaries,
  chunkFile,
  chunkingParams,
  diffManifests,
  openBundle,
  packBundle,
  readBundleHeader,
  readBundleManifest,
  verifyManifest,
} from '../src/index.ts';
import { nodeSha256Hex } from '../src/node/index.ts';
import { pseudoRandomBytes, testKeyPair, testPackInput, testSigner, TEST_NOW } from '../src/testing/bundle-fixtures.ts';
import { SYNTHETIC_LAYERS, syntheticModel } from '../src/testing/synthetic-model.ts';

const MB = 1e6;
function rate(label: string, bytes: number, fn: () => unknown, rounds = 3): void {
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  console.log(`${label.padEnd(44)} ${(bytes / MB / (best / 1000)).toFixed(0).padStart(6)} MB/s`);
}

const data = pseudoRandomBytes(64 * 1024 * 1024, 7);
const params = chunkingParams();
rate('FastCDC boundaries only (16 KiB avg)', data.length, () => chunkBoundaries(data, params));
rate('chunkFile + sha256 (@noble/hashes)', data.length, () => chunkFile(data));
rate('chunkFile + sha256 (node:crypto)', data.length, () => chunkFile(data, { sha256: nodeSha256Hex }));
const cuts = chunkBoundaries(data, params);
console.log(`mean chunk length at 16 KiB avg: ${(data.length / cuts.length).toFixed(0)} bytes over ${cuts.length} chunks`);

const model = data.subarray(0, 32 * 1024 * 1024);
const signer = testSigner('primary');
const input = testPackInput({ files: [{ path: 'model.onnx', bytes: model }], avgChunkSize: undefined });
const packed = await packBundle(input, signer, { sha256: nodeSha256Hex });
const trusted = [testKeyPair('primary').publicKey];
rate('openBundle 32 MiB (@noble/hashes)', packed.bytes.length, () => openBundle(packed.bytes, trusted, { now: TEST_NOW }));
rate('openBundle 32 MiB (node:crypto)', packed.bytes.length, () =>
  openBundle(packed.bytes, trusted, { now: TEST_NOW, sha256: nodeSha256Hex }),
);
const head = readBundleManifest(packed.bytes);
const n = 200;
const t0 = performance.now();
for (let i = 0; i < n; i++) verifyManifest(head.manifestBytes, head.signatures, trusted, { now: TEST_NOW });
console.log(`verifyManifest (${head.manifestBytes.length}-byte manifest, Ed25519): ${((performance.now() - t0) / n).toFixed(2)} ms`);

const v1 = await packBundle(
  testPackInput({ files: [{ path: 'model.onnx', bytes: syntheticModel([1, 2, 3, 4]) }], avgChunkSize: undefined }),
  signer,
);
for (const [label, seeds] of [
  ['last layer retrained', [1, 2, 3, 40]],
  ['third layer retrained', [1, 2, 30, 4]],
] as const) {
  const v2 = await packBundle(
    testPackInput({ files: [{ path: 'model.onnx', bytes: syntheticModel(seeds) }], avgChunkSize: undefined }),
    signer,
  );
  const d = diffManifests(v1.manifest, v2.manifest);
  const withHead = (readBundleHeader(v2.bytes).headLength + d.bytesToFetch) / v2.bytes.length;
  console.log(
    `${label}: fetch ${(100 * d.shareToFetch).toFixed(1)}% of payload, ${(100 * withHead).toFixed(1)}% of bundle with head; ${d.chunksToFetch}/${d.chunksTotal} chunks`,
  );
}
const total = SYNTHETIC_LAYERS.reduce((a, b) => a + b, 0);
console.log(
  `(synthetic model: ${((4 * total) / MB).toFixed(2)} MB; last layer ${((100 * SYNTHETIC_LAYERS.at(-1)!) / total).toFixed(1)}%, third ${((100 * SYNTHETIC_LAYERS[2]!) / total).toFixed(1)}% of the weights)`,
);
