// Semantic Versioning 2.0.0 parsing and precedence, for model versions and minAgentVersion (SPEC §4.2).

/** A parsed semantic version. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers (`1.0.0-rc.1` → `['rc', '1']`); empty for a release. */
  readonly prerelease: readonly string[];
}

const NUM = '0|[1-9]\\d*';
const IDENT = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER_RE = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$`,
);

/** Parses a semver string (at most 128 characters); returns undefined when it is not one. */
export function parseSemver(text: string): SemVer | undefined {
  if (text.length > 128) return undefined;
  const m = SEMVER_RE.exec(text);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  return { major, minor, patch, prerelease: m[4] ? m[4].split('.') : [] };
}

/** Whether `text` is a valid semantic version. */
export function isSemver(text: unknown): text is string {
  return typeof text === 'string' && parseSemver(text) !== undefined;
}

/**
 * Compares two versions by semver precedence (build metadata ignored): negative when a < b, zero
 * when equal, positive when a > b. Throws TypeError when either is not a valid version.
 */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) throw new TypeError(`not a semantic version: ${!x ? a : b}`);
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (x[k] !== y[k]) return x[k] - y[k];
  }
  // A release outranks any of its pre-releases.
  if (x.prerelease.length === 0 || y.prerelease.length === 0) return y.prerelease.length - x.prerelease.length;
  const n = Math.min(x.prerelease.length, y.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifier(x.prerelease[i]!, y.prerelease[i]!);
    if (c !== 0) return c;
  }
  return x.prerelease.length - y.prerelease.length;
}

function compareIdentifier(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Number(a) - Number(b);
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
