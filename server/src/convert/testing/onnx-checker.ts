// Test helper: runs the official ONNX checker (python3-onnx, full_check=True) on models, one python process for all.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = `
import json, sys, onnx
out = {}
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
        out[p] = None
    except Exception as e:
        out[p] = str(e)
print(json.dumps(out))
`;

/** Checks each model; returns name → null when valid, else the checker's message. */
export function onnxCheck(models: Record<string, Uint8Array>): Record<string, string | null> {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-onnx-check-'));
  try {
    const files = Object.entries(models).map(([name, bytes], i) => {
      const file = path.join(dir, `${i}.onnx`);
      writeFileSync(file, bytes);
      return [name, file] as const;
    });
    const r = spawnSync('/usr/bin/python3', ['-c', SCRIPT, ...files.map(([, f]) => f)], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`onnx checker failed to run: ${r.stderr}`);
    const byFile = JSON.parse(r.stdout) as Record<string, string | null>;
    return Object.fromEntries(files.map(([name, f]) => [name, byFile[f] ?? null]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
