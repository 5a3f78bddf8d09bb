// `flotilla bundle diff`: bytes a device holding OLD must fetch to get NEW.
import type { Command } from 'commander';
import { diffManifests } from '../../diff.ts';
import { inspectBundle } from '../../inspect.ts';
import { readBundleFile } from '../../node/bundle-files.ts';
import { nodeSha256Hex } from '../../node/node-hash.ts';
import { defineAction, loadInput } from '../command-kit.ts';

/** Adds `diff OLD NEW [--chunks]`. */
export function registerDiff(bundle: Command): void {
  const cmd = bundle
    .command('diff')
    .description(
      'Report what a device holding OLD must fetch to install NEW: payload bytes and chunks to fetch and reuse, and that share of the whole NEW bundle counting its signed manifest head.',
    )
    .argument('<old>', 'bundle the device holds')
    .argument('<new>', 'bundle to install')
    .option('--chunks', 'also list the digests to fetch');
  defineAction<{ chunks?: boolean }>(cmd, async ([oldFile, newFile], opts) => {
    const a = inspectBundle(await loadInput(oldFile!, readBundleFile), { sha256: nodeSha256Hex });
    const b = inspectBundle(await loadInput(newFile!, readBundleFile), { sha256: nodeSha256Hex });
    const { toFetch, ...diff } = diffManifests(a.manifest, b.manifest);
    // A device fetches the signed head (header, manifest, signatures) and then the missing chunks.
    const bundleBytesToFetch = b.headBytes + diff.bytesToFetch;
    const shareOfBundle = bundleBytesToFetch / b.bundleBytes;
    return {
      data: {
        old: { file: oldFile, manifestDigest: a.manifestDigest, version: a.manifest.model.version, sequence: a.manifest.model.sequence },
        new: { file: newFile, manifestDigest: b.manifestDigest, version: b.manifest.model.version, sequence: b.manifest.model.sequence },
        ...diff,
        bundleBytes: b.bundleBytes,
        headBytes: b.headBytes,
        bundleBytesToFetch,
        shareOfBundle,
        ...(opts.chunks && { toFetch }),
      },
      human: [
        `${a.manifest.model.version} → ${b.manifest.model.version}: fetch ${diff.bytesToFetch} of ${diff.totalBytes} payload bytes (${pct(diff.shareToFetch)})`,
        `  chunks: ${diff.chunksToFetch} to fetch, ${diff.chunksReused} reused of ${diff.chunksTotal}`,
        `  with the signed head: ${bundleBytesToFetch} of ${b.bundleBytes} bundle bytes (${pct(shareOfBundle)})`,
        ...diff.files.map((f) => `  ${f.path}: ${f.status}, ${f.bytesToFetch} bytes to fetch`),
      ],
    };
  });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
