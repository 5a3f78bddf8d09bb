// Device-side acceptance rules applied after the signature: expiry, anti-rollback, runtime fit (SPEC §10.2).
import { BundleError } from '../errors.ts';
import { compareSemver, isSemver } from '../semver.ts';
import type { BundleManifest } from '../manifest/types.ts';

/** What the verifying device knows about itself. Every field is optional; absent checks are skipped. */
export interface PolicyOptions {
  /** The verifier's clock, as a Date or milliseconds since the epoch. Default `Date.now()`. */
  readonly now?: Date | number;
  /** Lowest sequence accepted (inclusive). Pass the installed sequence to allow re-installing it. */
  readonly minSequence?: number;
  /** Sequence installed now: only a strictly greater one is accepted (SPEC §10.2, rule R2). */
  readonly installedSequence?: number;
  /** This agent's version (semver), compared with `runtime.minAgentVersion`. */
  readonly agentVersion?: string;
  /** Highest ONNX opset this runtime implements, compared with `runtime.opset`. */
  readonly maxOpset?: number;
  /** Execution providers available here; one of `runtime.executionProviders` must be among them. */
  readonly executionProviders?: readonly string[];
}

/**
 * Applies SPEC §10.2 in order: R1 expiry (`BUNDLE_EXPIRED` when now > expiresAt), R2 sequence
 * (`BUNDLE_ROLLBACK`), R3 runtime requirements (`BUNDLE_RUNTIME_INCOMPATIBLE`).
 */
export function checkPolicy(manifest: BundleManifest, options: PolicyOptions = {}): void {
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  if (now > Date.parse(manifest.expiresAt)) {
    throw new BundleError('BUNDLE_EXPIRED', `bundle expired at ${manifest.expiresAt}`, 'SPEC §10.2 R1');
  }
  const seq = manifest.model.sequence;
  if (options.minSequence !== undefined && seq < options.minSequence) {
    throw new BundleError('BUNDLE_ROLLBACK', `sequence ${seq} is below the minimum ${options.minSequence}`, 'SPEC §10.2 R2');
  }
  if (options.installedSequence !== undefined && seq <= options.installedSequence) {
    throw new BundleError(
      'BUNDLE_ROLLBACK',
      `sequence ${seq} is not newer than the installed ${options.installedSequence}`,
      'SPEC §10.2 R2',
    );
  }
  checkRuntime(manifest, options);
}

function checkRuntime(manifest: BundleManifest, options: PolicyOptions): void {
  const req = manifest.runtime;
  if (!req) return;
  const incompatible = (message: string) => new BundleError('BUNDLE_RUNTIME_INCOMPATIBLE', message, 'SPEC §10.2 R3');
  if (req.minAgentVersion !== undefined && options.agentVersion !== undefined) {
    if (!isSemver(options.agentVersion))
      throw new BundleError('BUNDLE_INPUT_INVALID', `agent version ${options.agentVersion} is not semver`, 'SPEC §10.2 R3');
    if (compareSemver(options.agentVersion, req.minAgentVersion) < 0) {
      throw incompatible(`agent ${options.agentVersion} is older than the required ${req.minAgentVersion}`);
    }
  }
  if (req.opset !== undefined && options.maxOpset !== undefined && req.opset > options.maxOpset) {
    throw incompatible(`model needs opset ${req.opset}, runtime implements up to ${options.maxOpset}`);
  }
  if (req.executionProviders && options.executionProviders) {
    const available = options.executionProviders;
    if (!req.executionProviders.some((p) => available.includes(p))) {
      throw incompatible(`model runs on ${req.executionProviders.join(', ')}; available: ${available.join(', ') || 'none'}`);
    }
  }
}
