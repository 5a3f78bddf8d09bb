// `flotilla bundle verify`: the device's checks, run on a bundle file (exit 0 only when valid).
import type { Command } from 'commander';
import { readBundleFile } from '../../node/bundle-files.ts';
import { nodeSha256Hex } from '../../node/node-hash.ts';
import { openBundle } from '../../verify/open-bundle.ts';
import { collect, defineAction, integerOption, loadInput, timeOption } from '../command-kit.ts';
import { loadTrust } from '../trust.ts';

interface VerifyFlags {
  trust: string[];
  now?: number;
  installedSequence?: number;
  minSequence?: number;
  agentVersion?: string;
  threshold?: number;
}

/** Adds `verify FILE --trust PUBKEY [...]`. */
export function registerVerify(bundle: Command): void {
  const cmd = bundle
    .command('verify')
    .description(
      'Verify a bundle as a device would: container, signature by a trusted key, manifest, expiry, sequence, runtime fit, every chunk and file hash. Exit 0 only when valid; otherwise exit 1 and name the error code.',
    )
    .argument('<file>', 'bundle file')
    .requiredOption('--trust <pubkey>', 'trusted public key file (repeatable)', collect)
    .option('--now <time>', 'clock to check expiry against (ISO 8601); default now', timeOption)
    .option('--installed-sequence <n>', 'sequence installed on the device: only newer ones pass', integerOption)
    .option('--min-sequence <n>', 'lowest sequence accepted (inclusive)', integerOption)
    .option('--agent-version <semver>', 'agent version to check runtime.minAgentVersion against')
    .option('--threshold <n>', 'distinct trusted signatures required (default 1)', integerOption);
  defineAction<VerifyFlags>(cmd, async ([file], opts) => {
    const bytes = await loadInput(file!, readBundleFile);
    const opened = openBundle(bytes, await loadTrust(opts.trust), { ...opts, sha256: nodeSha256Hex });
    const { model, expiresAt } = opened.manifest;
    return {
      data: {
        valid: true,
        file,
        manifestDigest: opened.manifestDigest,
        keyIds: opened.keyIds,
        model: { name: model.name, version: model.version, sequence: model.sequence },
        expiresAt,
      },
      human: [
        `valid: ${model.name} ${model.version} (sequence ${model.sequence}), signed by ${opened.keyIds.join(', ')}, manifest ${opened.manifestDigest}`,
      ],
    };
  });
}
