// Cross-field rules of a manifest (SPEC §4.10 step 7): chunk tiling, references, profiles, self-tests.
import { BundleError } from '../errors.ts';
import type { BundleManifest, TensorSpec } from './types.ts';

/** Largest |Σ frequencies − 1| a reference profile may show (floating-point slack). */
export const FREQUENCY_SUM_TOLERANCE = 1e-6;

/** Throws `BUNDLE_MALFORMED` unless the manifest's fields agree with each other. */
export function checkManifestConsistency(m: BundleManifest): void {
  checkChunkTiling(m);
  if (!m.files.some((f) => f.path === m.model.file))
    bad(`model.file ${JSON.stringify(m.model.file)} is not one of the payload files`, '4.2');
  if (Date.parse(m.expiresAt) <= Date.parse(m.createdAt)) bad('expiresAt must be later than createdAt', '4.3');
  const { minSize, avgSize, maxSize } = m.chunking;
  if (!(minSize <= avgSize && avgSize <= maxSize)) bad('chunking sizes must satisfy minSize ≤ avgSize ≤ maxSize', '5.1');
  checkProfile(m);
  checkSelfTests(m);
}

function checkChunkTiling(m: BundleManifest): void {
  const lengthOf = new Map<string, number>();
  for (const file of m.files) {
    let offset = 0;
    for (const c of file.chunks) {
      if (c.offset !== offset) bad(`chunks of ${file.path} must tile the file in order (offset ${c.offset}, expected ${offset})`, '4.9');
      offset += c.length;
      const known = lengthOf.get(c.digest);
      if (known !== undefined && known !== c.length) bad(`chunk ${c.digest} is listed with two lengths`, '4.9');
      lengthOf.set(c.digest, c.length);
    }
    if (offset !== file.size) bad(`chunks of ${file.path} cover ${offset} bytes, size says ${file.size}`, '4.9');
  }
}

function checkProfile(m: BundleManifest): void {
  const inputs = m.signature?.inputs;
  for (const [i, f] of (m.referenceProfile?.features ?? []).entries()) {
    const at = `referenceProfile.features[${i}]`;
    for (let k = 1; k < f.edges.length; k++) {
      if (!(f.edges[k]! > f.edges[k - 1]!)) bad(`${at}.edges must be strictly increasing`, '4.6');
    }
    if (f.frequencies.length !== f.edges.length - 1) bad(`${at} needs one frequency per bin (edges.length − 1)`, '4.6');
    const sum = f.frequencies.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > FREQUENCY_SUM_TOLERANCE) bad(`${at}.frequencies must sum to 1 (got ${sum})`, '4.6');
    if (f.input !== undefined && inputs && !inputs.some((t) => t.name === f.input)) bad(`${at}.input names no input tensor`, '4.6');
  }
}

function checkSelfTests(m: BundleManifest): void {
  const sig = m.signature;
  if (!sig) return;
  for (const [i, t] of (m.selfTests ?? []).entries()) {
    checkTensors(`selfTests[${i}].inputs`, t.inputs, sig.inputs, true);
    checkTensors(`selfTests[${i}].expected`, t.expected, sig.outputs, false);
  }
}

function checkTensors(at: string, values: Record<string, number[]>, specs: TensorSpec[], all: boolean): void {
  for (const [name, data] of Object.entries(values)) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) bad(`${at}.${name} names no tensor of the signature`, '4.7');
    const dims = spec.shape;
    if (dims.every((d) => d !== null)) {
      const count = (dims as number[]).reduce((a, b) => a * b, 1);
      if (count !== data.length) bad(`${at}.${name} has ${data.length} values, shape [${dims.join(', ')}] holds ${count}`, '4.7');
    }
  }
  if (all) {
    for (const s of specs) if (!Object.hasOwn(values, s.name)) bad(`${at} lacks input ${s.name}`, '4.7');
  }
}

function bad(message: string, clause: string): never {
  throw new BundleError('BUNDLE_MALFORMED', message, `SPEC §${clause}`);
}
