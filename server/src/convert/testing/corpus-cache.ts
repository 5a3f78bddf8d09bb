// Builds the exported-model corpus (test/corpus/make-corpus.py) once per version of the script, outside git, and reuses
// it: shared by the corpus tests and `npm run bench -- real-models`.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One exported model as the manifest lists it. */
export interface CorpusModel {
  file: string;
  arch: string;
  opset: number;
  constantFolding: boolean;
  dynamicBatch: boolean;
  constantNodes: boolean;
  kind: 'classifier' | 'other';
  data: 'image' | 'audio' | 'sequence' | 'tokens' | 'segment';
  inputs: { name: string; shape: (number | string)[]; dtype: string }[];
  calib: string;
  /** The export's trace sample (4 rows, or 1 for a fixed batch): the upgrade check feeds it whole. */
  eval: string;
  /** 200 held-out rows for int8 parity, apart from calibration (make-corpus.py `HELDOUT_ROWS`). */
  heldout: string;
  /** The float model's accuracy on held-out images of its own classes (image classifiers; null for the rest). */
  floatAccuracy: number | null;
}

export interface CorpusManifest {
  torch: string;
  onnx: string;
  models: CorpusModel[];
  /** Exports the exporter itself refused, with its reason. */
  skipped: { arch: string; opset: number; reason: string }[];
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../../test/corpus/make-corpus.py');

/**
 * The corpus directory for the current script (keyed by its SHA-256, in the OS temp dir so CI's fresh
 * test-output/ does not throw it away), built on first use: about 6.5 minutes on 2 cores (more under load), most of
 * it the short training of each architecture.
 */
export function ensureCorpus(): { dir: string; manifest: CorpusManifest } {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), `flotilla-corpus-${hash}`);
  if (!existsSync(path.join(dir, 'manifest.json'))) buildOnce(dir);
  return { dir, manifest: JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as CorpusManifest };
}

/**
 * Two test files want the corpus at once when vitest runs them in parallel: the first takes a lock file and
 * builds, the other waits for the manifest (the build uses both cores; building twice would double the wait).
 */
function buildOnce(dir: string): void {
  const lock = `${dir}.lock`;
  let fd: number | null = null;
  try {
    fd = openSync(lock, 'wx');
  } catch {
    // A lock older than the build's own time limit belongs to a process that died mid-build.
    if (Date.now() - statSync(lock).mtimeMs > BUILD_TIMEOUT_MS) rmSync(lock, { force: true });
    const t0 = Date.now();
    while (!existsSync(path.join(dir, 'manifest.json')) && existsSync(lock) && Date.now() - t0 < BUILD_TIMEOUT_MS)
      Atomics.wait(PAUSE, 0, 0, 500);
    if (existsSync(path.join(dir, 'manifest.json'))) return;
    return buildOnce(dir);
  }
  try {
    build(dir);
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

const BUILD_TIMEOUT_MS = 1_200_000;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function build(dir: string): void {
  // Build next to the final place and rename, so an interrupted build is never mistaken for a finished one.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const r = spawnSync('/usr/bin/python3', [SCRIPT, partial], { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`make-corpus.py failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  // Corpora of older script versions (about 500 MB each) are of no further use.
  for (const old of readdirSync(tmpdir())) {
    if (/^flotilla-corpus-[0-9a-f]{16}$/.test(old) && path.join(tmpdir(), old) !== dir)
      rmSync(path.join(tmpdir(), old), { recursive: true, force: true });
  }
}
