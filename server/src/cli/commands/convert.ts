// `flotilla export`, `flotilla quantize`, `flotilla models import`: ONNX and int8 in the registry.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { readSampleFile } from '../../convert/calibration-file.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { client, serverOptions } from '../common.ts';
import { emit, pct } from '../output.ts';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function gateOptions(cmd: Command): Command {
  return cmd
    .option('--mode <mode>', 'auto | static | dynamic (auto: static, or dynamic for dense-only models when faster)')
    .option('--method <method>', 'calibration: auto | minmax | percentile | entropy (auto tries each and keeps the int8 model closest to float)', 'auto')
    .option('--max-accuracy-drop <points>', 'parity gate: largest accuracy drop in points (default 0.5)')
    .option('--min-top1-agreement <fraction>', 'parity gate: smallest top-1 agreement of each classifier output (default 0.99)')
    .option('--max-rel-l2 <fraction>', 'parity gate: largest relative L2 error of each other output (default 0.05)')
    .option('--min-cosine <value>', 'parity gate: smallest cosine similarity of each other output (default 0.99)')
    .option('--override <reason>', 'allow bundling even if the parity gate fails (recorded with the report)');
}

function gateBody(o: any) {
  return {
    mode: o.mode, method: o.method,
    maxAccuracyDrop: o.maxAccuracyDrop === undefined ? undefined : Number(o.maxAccuracyDrop),
    minTop1Agreement: o.minTop1Agreement === undefined ? undefined : Number(o.minTop1Agreement),
    maxRelativeL2: o.maxRelL2 === undefined ? undefined : Number(o.maxRelL2),
    minCosine: o.minCosine === undefined ? undefined : Number(o.minCosine),
    overrideReason: o.override,
  };
}

function report(o: any, r: any): void {
  emit(o, r, () => [
    `${r.model}@${r.version}`,
    `  float  ${kb(r.float.bytes).padStart(10)}  accuracy ${pct(r.float.accuracy)}  ${r.float.path}`,
    ...(r.int8 ? [`  int8   ${kb(r.int8.bytes).padStart(10)}  accuracy ${pct(r.int8.accuracy)}  ${r.int8.path}  (${(100 * r.int8.bytes / r.float.bytes).toFixed(1)}% of float)`] : []),
    ...(r.top1Agreement === null ? [] : [`  top-1 agreement ${pct(r.top1Agreement)}; mode ${r.report?.mode}: ${r.report?.modeReason}`]),
    ...(r.evaluatedOn ? [`  compared on ${r.evaluatedOn}`] : []),
    ...(r.report?.parity?.outputs?.length > 1 ? r.report.parity.outputs.map((p: any) => `  output ${p.name}: ${p.kind === 'classifier' ? `top-1 ${pct(p.top1Agreement)}, ` : ''}relative L2 ${p.relativeL2.toFixed(4)}, cosine ${p.cosine.toFixed(4)}`) : []),
    ...(r.gate ? [`  parity gate: ${r.gate.passed ? 'passed' : `FAILED (${r.gate.failures.join('; ')})`}${r.gate.override ? `, overridden by ${r.gate.override.by}: ${r.gate.override.reason}` : ''}`] : []),
  ].join('\n'));
  if (r.gate && !r.gate.allowed) process.exitCode = EXIT.FAILED;
}

export function registerConvertCommands(program: Command): void {
  serverOptions(gateOptions(program.command('export')
    .description('Export a trained model to ONNX and quantize it to int8, with a parity report against the float model')
    .option('--run <id>', 'the run whose registered version to export')
    .option('--model <ref>', 'or a version: NAME@VERSION or NAME@ALIAS')
    .option('--quantize <kind>', 'int8 | none', 'int8')))
    .addHelpText('after', '\nExit 1 when the parity gate fails (the models are stored anyway; pass --override to allow bundling).')
    .action(async (o) => {
      if (!o.run === !o.model) throw new CliError('USAGE', 'name exactly one of --run ID or --model NAME@VERSION', EXIT.USAGE);
      const body = { quantize: o.quantize, ...gateBody(o) };
      const path = o.run ? `/api/v1/runs/${encodeURIComponent(o.run)}/export` : (() => {
        const [name, ref] = String(o.model).split('@');
        return `/api/v1/models/${encodeURIComponent(name!)}/versions/${encodeURIComponent(ref ?? 'latest')}/export`;
      })();
      report(o, await client(o).request('POST', path, body));
    });

  serverOptions(gateOptions(program.command('quantize')
    .description('Quantize an ONNX model version (imported or exported) to int8 with calibration inputs')
    .requiredOption('--model <ref>', 'NAME@VERSION')
    .requiredOption('--calibration <file|dataset>', 'calibration inputs: a .npy or .json file (first dimension = samples), or a dataset name')
    .option('--evaluation <dataset>', 'labelled dataset to measure accuracy on (default: the calibration dataset\'s test split)')
    .option('--eval <file>', 'held-out inputs (.npy or .json, first dimension = samples, no labels) to compare int8 with float on; keep them apart from --calibration')
    .option('--samples <n>', 'calibration samples to use', '512')))
    .action(async (o) => {
      const [name, ref] = String(o.model).split('@');
      if (!name || !ref) throw new CliError('USAGE', `expected NAME@VERSION, got '${o.model}'`, EXIT.USAGE);
      if (o.eval && o.evaluation) throw new CliError('USAGE', 'give --eval FILE or --evaluation DATASET, not both', EXIT.USAGE);
      const inline = async (file: string) => {
        const f = await readSampleFile(file);
        return { data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64'), shape: f.shape };
      };
      const calibration = existsSync(o.calibration) && statSync(o.calibration).isFile() ? await inline(o.calibration) : { dataset: o.calibration };
      const evaluation = o.eval ? await inline(o.eval) : undefined;
      const body = { calibration, evaluationDataset: o.evaluation, evaluation, calibrationSamples: Number(o.samples), ...gateBody(o) };
      report(o, await client(o).request('POST', `/api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(ref)}/quantize`, body));
    });

  const models = program.commands.find((c) => c.name() === 'models')!;
  serverOptions(models.command('import <file>')
    .description('Register an ONNX model made elsewhere (e.g. exported from PyTorch); the server validates it in onnxruntime and records its signature')
    .requiredOption('--name <name>', 'registered model name')
    .option('--description <text>', 'free text'))
    .action(async (file: string, o) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        throw new CliError('FILE_NOT_FOUND', `cannot read ${file}`, EXIT.USAGE);
      }
      const q = new URLSearchParams({ name: o.name, ...(o.description ? { description: o.description } : {}) });
      const c = client(o);
      const res = await c.raw('POST', `/api/v1/models/import?${q}`, { body: new Uint8Array(bytes), headers: { "content-type": "application/octet-stream" } });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : null;
      if (!res.ok) {
        const { apiFailure } = await import('../api-client.ts');
        throw apiFailure(res.status, parsed, text);
      }
      emit(o, parsed, () => `${parsed.model}@${parsed.version}: inputs ${JSON.stringify(parsed.signature.inputs)} outputs ${JSON.stringify(parsed.signature.outputs)}`);
    });
}
