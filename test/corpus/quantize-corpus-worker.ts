// One of the corpus test's quantizer processes: quantizes the corpus models it is given with the product's defaults and
// writes each outcome (and the int8 model) to a directory the test reads; two run side by side to halve the wall time.
// Usage: node --import tsx quantize-corpus-worker.ts CORPUS_DIR OUT_DIR FILE...
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readNpy } from '@flotilla/server/convert/npy';
import { quantizeWithReport } from '@flotilla/server/convert/quantize-with-report';
import type { CorpusManifest } from './corpus-cache.ts';

/** What the test needs of one model's quantization; the int8 bytes go beside it as `<file>.int8.onnx`. */
export interface WorkerOutcome {
  file: string;
  passed: boolean;
  refused?: string;
  failures?: string[];
  sizeRatio?: number;
  /** One line for the test log: the figures and choices of the report. */
  line: string;
}

const [dir, out, ...files] = process.argv.slice(2);
if (!dir || !out || files.length === 0) {
  console.error('usage: quantize-corpus-worker.ts CORPUS_DIR OUT_DIR FILE...');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as CorpusManifest;
const npy = (file: string) => {
  const a = readNpy(new Uint8Array(readFileSync(path.join(dir, file))));
  return { data: a.data, shape: a.shape };
};

for (const file of files) {
  const m = manifest.models.find((x) => x.file === file);
  if (!m) throw new Error(`${file} is not in the corpus manifest`);
  const t0 = Date.now();
  let outcome: WorkerOutcome;
  try {
    const { int8Bytes, report } = await quantizeWithReport({
      floatBytes: new Uint8Array(readFileSync(path.join(dir, m.file))),
      calibration: npy(m.calib),
      evaluation: { inputs: npy(m.heldout) },
      mode: 'static',
      calibrationSettings: { method: 'auto' },
    });
    writeFileSync(path.join(out, `${file}.int8.onnx`), int8Bytes);
    const o = report.parity.outputs[0]!;
    const line =
      `${file}: ${report.gate.passed ? 'passed' : 'failed'}, ${o.kind === 'classifier' ? `top-1 ${(o.top1Agreement! * 100).toFixed(1)}%` : `relative L2 ${o.relativeL2.toFixed(4)}`}, ` +
      `size ${report.parity.sizeRatio.toFixed(3)}, ${report.calibration?.method}, ${report.scheme.weights.split(' ')[0]} weights, ${report.keptFloat?.filter((k) => !k.node).length ?? 0} activation(s) and ${report.keptFloat?.filter((k) => k.node).length ?? 0} op(s) float, ` +
      `int8 ×${report.speed?.batch1Speedup} at batch 1, ${report.calibrationCandidates?.length ?? 1} candidate(s), ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    outcome = { file, passed: report.gate.passed, failures: report.gate.failures, sizeRatio: report.parity.sizeRatio, line };
  } catch (err) {
    const e = err as { code?: string; message: string };
    outcome = { file, passed: false, refused: `${e.code}: ${e.message}`, line: `${file}: refused, ${e.code}: ${e.message}` };
  }
  writeFileSync(path.join(out, `${file}.json`), JSON.stringify(outcome));
  console.log(`[corpus] ${outcome.line}`);
}
