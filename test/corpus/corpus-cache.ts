// Builds the exported-model corpus (make-corpus.py) once per version of the script, outside git, and reuses it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
  eval: string;
}

export interface CorpusManifest {
  torch: string;
  onnx: string;
  models: CorpusModel[];
  /** Exports the exporter itself refused, with its reason. */
  skipped: { arch: string; opset: number; reason: string }[];
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'make-corpus.py');

/**
 * The corpus directory for the current script (keyed by its SHA-256, in the OS temp dir so CI's fresh
 * test-output/ does not throw it away), built on first use. Building takes about 2 minutes on 2 cores.
 */
export function ensureCorpus(): { dir: string; manifest: CorpusManifest } {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), `flotilla-corpus-${hash}`);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    // Build next to the final place and rename, so an interrupted build is never mistaken for a finished one.
    const partial = `${dir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    const r = spawnSync('/usr/bin/python3', [SCRIPT, partial], { encoding: 'utf8', timeout: 400_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`make-corpus.py failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    // Corpora of older script versions (about 500 MB each) are of no further use.
    for (const old of readdirSync(tmpdir())) {
      if (/^flotilla-corpus-[0-9a-f]{16}$/.test(old) && path.join(tmpdir(), old) !== dir) rmSync(path.join(tmpdir(), old), { recursive: true, force: true });
    }
  }
  return { dir, manifest: JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as CorpusManifest };
}
