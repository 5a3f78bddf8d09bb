// Checking a target bundle's envelope: digest, trusted signature, expiry, anti-rollback, runtime fit, and identity.
import {
  assertManifestSize,
  BundleError,
  checkPolicy,
  parseManifest,
  type Sha256Hex,
  type TrustedKeys,
  type VerifiedManifest,
} from '@flotilla/firmware-bundler';
import { decodeEnvelope } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import { compilePipeline } from '../preprocess/pipeline.ts';
import type { InferenceRuntime } from '../runtime/inference-runtime.ts';
import { checkSignaturesOnce } from './signature-memo.ts';
import type { UpdateRecord, UpdateTarget } from './update-record.ts';

/** What the device knows about itself when it judges a bundle. */
export interface DevicePolicy {
  trusted: TrustedKeys;
  agentVersion: string;
  runtime: Pick<InferenceRuntime, 'maxOpset' | 'executionProviders'>;
  /** Clock in ms since the epoch. */
  now: () => number;
  hash: Sha256Hex;
}

/**
 * Verifies the envelope of `target` (SPEC §10.1-10.2, [WIRE-2.2, 2.7]) in this order: its SHA-256
 * is the `manifestDigest` named (AGENT_ENVELOPE_INVALID), a trusted signature (BUNDLE_KEY_UNTRUSTED,
 * BUNDLE_SIGNATURE_INVALID), the manifest (BUNDLE_MALFORMED …), expiry (BUNDLE_EXPIRED), sequence
 * above every committed one unless this is an operator rollback to a bundle run here before
 * (BUNDLE_ROLLBACK), runtime requirements and preprocessing ops (BUNDLE_RUNTIME_INCOMPATIBLE), and
 * finally that it is the model, version and sequence the desired state named (AGENT_BUNDLE_MISMATCH).
 */
export function verifyTarget(
  envelope: Uint8Array,
  target: UpdateTarget,
  record: Pick<UpdateRecord, 'highSequence' | 'history'>,
  p: DevicePolicy,
): VerifiedManifest {
  if (p.hash(envelope) !== target.manifestDigest)
    throw new AgentError('AGENT_ENVELOPE_INVALID', `envelope does not hash to ${target.manifestDigest}`);
  const env = decodeEnvelope(envelope);
  if (!env) throw new AgentError('AGENT_ENVELOPE_INVALID', 'envelope is not { v, manifest, signatures } [WIRE-2.7]');
  const operatorRollback = target.rollback === true && record.history.some((h) => h.manifestDigest === target.manifestDigest);
  // verifyManifest's order (size, signatures over the raw bytes before any parsing, manifest, policy),
  // with the signature check remembered across the steps of one update.
  assertManifestSize(env.manifestBytes);
  const keyIds = checkSignaturesOnce(env.manifestBytes, env.signatures, p.trusted, p.hash);
  const parsed = parseManifest(env.manifestBytes);
  checkPolicy(parsed, {
    now: p.now(),
    installedSequence: operatorRollback || record.highSequence === 0 ? undefined : record.highSequence,
    agentVersion: p.agentVersion,
    maxOpset: p.runtime.maxOpset,
    executionProviders: p.runtime.executionProviders,
  });
  const verified: VerifiedManifest = { manifest: parsed, manifestDigest: p.hash(env.manifestBytes), keyIds };
  const m = verified.manifest;
  const inputs = m.signature?.inputs ?? [];
  const input = inputs[0];
  const text = [...inputs, ...(m.signature?.outputs ?? [])].find((t) => t.dtype === 'string');
  if (text)
    throw new BundleError(
      'BUNDLE_RUNTIME_INCOMPATIBLE',
      `tensor ${text.name} is of type string, which this agent does not serve`,
      'SPEC §10.2 R3',
    );
  if (input) {
    // Any signature is served (named tensors); preprocessing belongs to the array form, which needs one
    // float32 input with fixed dims past the batch. A pipeline the agent could not apply is refused here.
    const rest = input.shape.slice(1);
    const rowForm = inputs.length === 1 && input.dtype === 'float32' && rest.every((d): d is number => typeof d === 'number');
    if (rowForm) compilePipeline(m.preprocessing, rest as number[]);
    else if (m.preprocessing?.steps.length) {
      throw new BundleError(
        'BUNDLE_RUNTIME_INCOMPATIBLE',
        `preprocessing needs one float32 input with fixed dimensions past the batch; input ${input.name} is ${input.dtype} [${input.shape.map((d) => d ?? '?').join(', ')}], one of ${inputs.length}`,
        'SPEC §10.2 R3',
      );
    }
  }
  if (m.model.name !== target.model || m.model.version !== target.version || m.model.sequence !== target.sequence) {
    throw new AgentError(
      'AGENT_BUNDLE_MISMATCH',
      `desired ${target.model} ${target.version} #${target.sequence}, envelope holds ${m.model.name} ${m.model.version} #${m.model.sequence}`,
    );
  }
  return verified;
}
