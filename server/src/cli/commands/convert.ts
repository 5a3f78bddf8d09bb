// `flotilla export`, `flotilla quantize`, `flotilla models import`: ONNX and int8 in the registry.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { readSampleFile } from '../../convert/calibration-file.ts';
import { int8Drawback, type ParityFigures } from '../../delivery/artifact-choice.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import type { ConversionOutcome, ModelVersion, QuantizationReport } from '../../api/contract.ts';
import { apiFailure, parseBody } from '../api-client.ts';
import { api, client, serverOptions, type ServerOpts } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, pct } from '../output.ts';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function gateOptions(cmd: Command): Command {
  return cmd
    .option('--mode <mode>', 'auto | static | dynamic (auto: static, or dynamic for dense-only models when faster)')
    .option(
      '--method <method>',
      'calibration: auto | minmax | percentile | entropy (auto: min-max, then entropy, then percentile, until one meets the gate on the calibration samples)',
      'auto',
    )
    .option('--max-accuracy-drop <points>', 'parity gate: largest accuracy drop in points (default 0.5)')
    .option('--min-top1-agreement <fraction>', 'parity gate: smallest top-1 agreement of each classifier output (default 0.99)')
    .option('--max-rel-l2 <fraction>', 'parity gate: largest relative L2 error of each other output (default 0.05)')
    .option('--min-cosine <value>', 'parity gate: smallest cosine similarity of each other output (default 0.99)')
    .option('--override <reason>', 'allow bundling even if the parity gate fails (recorded with the report)');
}

function gateBody(o: Record<string, string | undefined>) {
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return {
    mode: o.mode as 'auto' | 'static' | 'dynamic' | undefined,
    method: o.method as 'minmax' | 'percentile' | undefined,
    maxAccuracyDrop: number(o.maxAccuracyDrop),
    minTop1Agreement: number(o.minTop1Agreement),
    maxRelativeL2: number(o.maxRelL2),
    minCosine: number(o.minCosine),
    overrideReason: o.override,
  };
}

/** The parity gate's verdict as stored with the report (an open object in the API). */
interface GateVerdict {
  passed: boolean;
  allowed: boolean;
  failures: string[];
  override?: { by: string; reason: string };
}

function report(o: ServerOpts, r: ConversionOutcome): void {
  const q = r.report as QuantizationReport | null;
  const gate = r.gate as GateVerdict | null;
  emit(o, r, () =>
    [
      `${r.model}@${r.version}`,
      `  float  ${kb(r.float.bytes).padStart(10)}  accuracy ${pct(r.float.accuracy)}  ${r.float.path}`,
      ...(r.int8
        ? [
            `  int8   ${kb(r.int8.bytes).padStart(10)}  accuracy ${pct(r.int8.accuracy)}  ${r.int8.path}  (${((100 * r.int8.bytes) / r.float.bytes).toFixed(1)}% of float)`,
          ]
        : []),
      ...(r.top1Agreement === null ? [] : [`  top-1 agreement ${pct(r.top1Agreement)}; mode ${q?.mode}: ${q?.modeReason}`]),
      ...(r.evaluatedOn ? [`  compared on ${r.evaluatedOn}`] : []),
      ...(q?.speed ? [`  speed: ${q.speed.note}`] : []),
      ...(q?.keptFloat?.length
        ? [
            `  mixed precision: ${q.keptFloat.filter((k) => !k.node).length} activation(s) and ${q.keptFloat.filter((k) => k.node).length} weighted op(s) left float (see the report's keptFloat for which and why)`,
          ]
        : []),
      ...((q?.parity.outputs.length ?? 0) > 1
        ? q!.parity.outputs.map(
            (p) =>
              `  output ${p.name}: ${p.kind === 'classifier' ? `top-1 ${pct(p.top1Agreement)}, ` : ''}relative L2 ${p.relativeL2.toFixed(4)}, cosine ${p.cosine.toFixed(4)}`,
          )
        : []),
      ...(r.int8 && int8Drawback(q?.parity as ParityFigures | undefined)
        ? [
            `  bundles ship the float model unless asked (--artifact model.int8.onnx): ${int8Drawback(q?.parity as ParityFigures | undefined)}`,
          ]
        : []),
      ...(gate
        ? [
            `  parity gate: ${gate.passed ? 'passed' : `FAILED (${gate.failures.join('; ')})`}${gate.override ? `, overridden by ${gate.override.by}: ${gate.override.reason}` : ''}`,
          ]
        : []),
    ].join('\n'),
  );
  if (gate && !gate.allowed) process.exitCode = EXIT.FAILED;
}

export function registerConvertCommands(program: Command): void {
  serverOptions(
    gateOptions(
      program
        .command('export')
        .description('Export a trained model to ONNX and quantize it to int8, with a parity report against the float model')
        .option('--run <id>', 'the run whose registered version to export')
        .option('--model <ref>', 'or a version: NAME@VERSION or NAME@ALIAS')
        .option('--quantize <kind>', 'int8 | none', 'int8'),
    ),
  )
    .addHelpText('after', '\nExit 1 when the parity gate fails (the models are stored anyway; pass --override to allow bundling).')
    .action(async (o) => {
      if (!o.run === !o.model) throw new CliError('USAGE', 'name exactly one of --run ID or --model NAME@VERSION', EXIT.USAGE);
      const json = { quantize: o.quantize, ...gateBody(o) };
      const [name, ref] = String(o.model).split('@');
      report(
        o,
        await answer(
          o.run
            ? api(o).runs[':id'].export.$post({ param: { id: encodeURIComponent(o.run) }, json })
            : api(o).models[':name'].versions[':ref'].export.$post({
                param: { name: encodeURIComponent(name!), ref: encodeURIComponent(ref ?? 'latest') },
                json,
              }),
        ),
      );
    });

  serverOptions(
    gateOptions(
      program
        .command('quantize')
        .description('Quantize an ONNX model version (imported or exported) to int8 with calibration inputs')
        .requiredOption('--model <ref>', 'NAME@VERSION')
        .requiredOption(
          '--calibration <file|dataset>',
          'calibration inputs: a .npy or .json file (first dimension = samples), or a dataset name',
        )
        .option('--evaluation <dataset>', "labelled dataset to measure accuracy on (default: the calibration dataset's test split)")
        .option(
          '--eval <file>',
          'held-out inputs (.npy or .json, first dimension = samples, no labels) to compare int8 with float on; keep them apart from --calibration',
        )
        .option('--samples <n>', 'calibration samples to use', '512'),
    ),
  ).action(async (o) => {
    const [name, ref] = String(o.model).split('@');
    if (!name || !ref) throw new CliError('USAGE', `expected NAME@VERSION, got '${o.model}'`, EXIT.USAGE);
    if (o.eval && o.evaluation) throw new CliError('USAGE', 'give --eval FILE or --evaluation DATASET, not both', EXIT.USAGE);
    const inline = async (file: string) => {
      const f = await readSampleFile(file);
      return { data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64'), shape: f.shape };
    };
    const calibration =
      existsSync(o.calibration) && statSync(o.calibration).isFile() ? await inline(o.calibration) : { dataset: o.calibration };
    const evaluation = o.eval ? await inline(o.eval) : undefined;
    const json = { calibration, evaluationDataset: o.evaluation, evaluation, calibrationSamples: Number(o.samples), ...gateBody(o) };
    report(
      o,
      await answer(
        api(o).models[':name'].versions[':ref'].quantize.$post({
          param: { name: encodeURIComponent(name), ref: encodeURIComponent(ref) },
          json,
        }),
      ),
    );
  });

  const models = program.commands.find((c) => c.name() === 'models')!;
  serverOptions(
    models
      .command('import <file>')
      .description(
        'Register an ONNX model made elsewhere (e.g. exported from PyTorch); the server validates it in onnxruntime and records its signature. ' +
          'With --reference it also computes what a native run gets (reference profile for drift, prediction and confidence histograms, self-tests, calibration) by running the model on those rows',
      )
      .requiredOption('--name <name>', 'registered model name')
      .option('--description <text>', 'free text')
      .option(
        '--reference <file.npy>',
        'representative inputs (float32 .npy, samples first, at least 32 rows; a few hundred is better): the reference profile drift is measured against',
      )
      .option('--labels <file.json>', 'class names in output order (JSON array); with --reference')
      .option('--eval <file.npy>', 'labelled held-out inputs (float32 .npy) for accuracy and the calibration map; with --eval-labels')
      .option('--eval-labels <file.npy>', 'integer class of each --eval row (.npy, one dimension)')
      .option(
        '--lineage <file.json>',
        'where the model came from (JSON object: exporter and its version, training repo and commit, dataset URIs); at most 64 KiB',
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  flotilla models import model.onnx --name digits --reference ref.npy --labels labels.json --eval x.npy --eval-labels y.npy --lineage lineage.json',
    )
    .action(async (file: string, o) => {
      const read = (f: string, what: string): Buffer => {
        try {
          return readFileSync(f);
        } catch {
          throw new CliError('FILE_NOT_FOUND', `cannot read ${what} ${f}`, EXIT.USAGE);
        }
      };
      const bytes = read(file, 'the model');
      if (!o.reference && (o.labels || o.eval || o.evalLabels || o.lineage))
        throw new CliError('USAGE', '--labels, --eval, --eval-labels and --lineage come with --reference FILE.npy', EXIT.USAGE);
      if (!o.eval !== !o.evalLabels) throw new CliError('USAGE', 'give --eval and --eval-labels together', EXIT.USAGE);
      const q = new URLSearchParams({ name: o.name, ...(o.description ? { description: o.description } : {}) });
      let body: Uint8Array<ArrayBuffer> | FormData = new Uint8Array(bytes);
      if (o.reference) {
        const form = new FormData();
        const parts: [string, string | undefined, string][] = [
          ['model', file, 'the model'],
          ['reference', o.reference, 'the reference set'],
          ['labels', o.labels, 'the labels'],
          ['eval', o.eval, 'the held-out inputs'],
          ['evalLabels', o.evalLabels, 'the held-out labels'],
          ['lineage', o.lineage, 'the lineage'],
        ];
        for (const [key, f, what] of parts)
          if (f) form.append(key, new Blob([new Uint8Array(key === 'model' ? bytes : read(f, what))]), key);
        body = form;
      }
      const c = client(o);
      const res = await c.raw(
        'POST',
        `/api/v1/models/import?${q}`,
        body instanceof FormData ? { body } : { body, headers: { 'content-type': 'application/octet-stream' } },
      );
      const text = await res.text();
      const parsed = parseBody(text);
      if (!res.ok) throw apiFailure(res.status, parsed, text);
      // Raw bytes go around the typed client; the answer is the route's (a registered version).
      const v = parsed as ModelVersion;
      type Io = { name: string; dtype: string; shape: (number | null)[] };
      const sig = v.signature as { inputs?: Io[]; outputs?: Io[] } | null;
      const line = (t: Io) => `${t.name} ${t.dtype} [${t.shape.map((d) => d ?? '?').join(', ')}]`;
      const m = v.metrics as { referenceRows?: number; accuracy?: number; labels?: string[] | null } | null;
      emit(o, v, () =>
        [
          `${v.model}@${v.version}`,
          ...(sig?.inputs ?? []).map((t) => `  input   ${line(t)}`),
          ...(sig?.outputs ?? []).map((t) => `  output  ${line(t)}`),
          ...(m?.referenceRows
            ? [
                `  reference profile from ${m.referenceRows} rows${m.labels ? `, labels ${m.labels.join(', ')}` : ''}${typeof m.accuracy === 'number' ? `; held-out accuracy ${pct(m.accuracy)}` : ''}`,
              ]
            : []),
        ].join('\n'),
      );
    });
}
