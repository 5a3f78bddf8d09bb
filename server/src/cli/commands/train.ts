// `flotilla train` and `flotilla sweep`: start work on the server and follow it live.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import type { ApiClient } from '../api-client.ts';
import { api, client, serverOptions } from '../common.ts';
import { answer, typedApi } from '../typed-api.ts';
import { emit, pct, table } from '../output.ts';
import { createProgressBar } from '../progress.ts';
import { readSse } from '../sse.ts';

function readSpec(path?: string): unknown {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError('SPEC_UNREADABLE', `cannot read model spec ${path}: ${(e as Error).message}`, EXIT.USAGE);
  }
}

/** What a run and a sweep both train: the dataset, the registered model name and the spec (a sweep's body extends a run's). */
const trainingTarget = (o: { dataset: string; model?: string; spec?: string }) => ({
  dataset: o.dataset,
  model: o.model,
  spec: readSpec(o.spec),
});

function hyperFrom(o: Record<string, string | undefined>): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  for (const k of ['epochs', 'batchSize', 'learningRate', 'seed'] as const) if (o[k] !== undefined) h[k] = Number(o[k]);
  if (o.optimizer) h.optimizer = o.optimizer;
  return h;
}

/** Follows a run's SSE stream with a progress bar until it ends; returns the final run. */
export async function followRun(c: ApiClient, runId: string, showProgress: boolean) {
  const bar = createProgressBar(`training ${runId}`, process.stderr, showProgress);
  const res = await c.raw('GET', `/api/v1/runs/${runId}/events`);
  let epochs = 1;
  if (res.ok && res.body) {
    for await (const ev of readSse(res.body)) {
      const e = JSON.parse(ev.data);
      if (e.type === 'batch') {
        epochs = Math.max(epochs, e.epoch);
        bar.update(e.batch, e.batches, `epoch ${e.epoch} loss ${Number(e.loss).toFixed(4)}`);
      } else if (e.type === 'epoch') {
        const r = e.record;
        bar.log(
          `epoch ${r.epoch}: loss ${r.loss.toFixed(4)} acc ${pct(r.accuracy)} val_acc ${pct(r.valAccuracy)} (${(r.durationMs / 1000).toFixed(1)} s)`,
        );
      } else if (e.type === 'status' && ['succeeded', 'failed', 'cancelled'].includes(e.status)) break;
    }
  }
  bar.stop();
  return answer(typedApi(c).runs[':id'].$get({ param: { id: runId } }));
}

export function registerTrainCommands(program: Command): void {
  serverOptions(
    program
      .command('train')
      .description('Train a model on a dataset version in a server worker, following its progress')
      .requiredOption('--dataset <ref>', 'dataset name, name@digest or digest prefix (built-in: mnist)')
      .option('--model <name>', 'registered model name (default <dataset>-classifier)')
      .option('--spec <file>', 'model spec JSON: { "layers": [...] } or { "topology": <tfjs model JSON> } (default: dense 784-256-128-10)')
      .option('--epochs <n>', 'epochs')
      .option('--batch-size <n>', 'batch size')
      .option('--learning-rate <x>', 'learning rate')
      .option('--optimizer <name>', 'adam | sgd | rmsprop')
      .option('--seed <n>', 'seed of weights and shuffling')
      .option('--split-seed <n>', 'seed of the 80/10/10 train/validation/test split (default 42)')
      .option(
        '--backend <name>',
        'tfjs-node-gpu | webgpu | tfjs-node | wasm | cpu (default: best available; webgpu fails rather than falls back)',
      )
      .option('--detach', 'start the run and return its id without waiting'),
  ).action(async (o) => {
    const c = client(o);
    const runs = typedApi(c).runs;
    const run = await answer(
      runs.$post({
        json: {
          ...trainingTarget(o),
          hyper: hyperFrom(o),
          splitSeed: o.splitSeed === undefined ? undefined : Number(o.splitSeed),
          backend: o.backend,
        },
      }),
    );
    if (o.detach) return emit(o, { runId: run.id, status: run.status }, () => `started ${run.id}`);
    const onSigint = () => void answer(runs[':id'].cancel.$post({ param: { id: run.id } })).catch(() => undefined);
    process.once('SIGINT', onSigint);
    const done = await followRun(c, run.id, !o.json || Boolean(process.stderr.isTTY));
    process.off('SIGINT', onSigint);
    const out = {
      runId: done.id,
      status: done.status,
      model: done.model,
      modelVersion: done.modelVersion,
      metrics: done.metrics,
      backend: (done.environment.backend as { name?: string } | undefined)?.name ?? null,
      datasetDigest: done.datasetDigest,
      durationMs: done.startedAt && done.endedAt ? Date.parse(done.endedAt) - Date.parse(done.startedAt) : null,
      error: done.error,
    };
    emit(o, out, () =>
      done.status === 'succeeded'
        ? `${done.id} succeeded: ${done.model} v${done.modelVersion}, test accuracy ${pct(done.metrics?.accuracy)}, backend ${out.backend}, ${((out.durationMs ?? 0) / 1000).toFixed(1)} s`
        : `${done.id} ${done.status}${done.error ? `: [${done.error.code}] ${done.error.message}` : ''}`,
    );
    if (done.status === 'cancelled') process.exitCode = EXIT.CANCELLED;
    else if (done.status !== 'succeeded') process.exitCode = EXIT.FAILED;
  });

  serverOptions(
    program
      .command('sweep')
      .description('Hyperparameter search: N trials (grid or random) with a concurrency limit, ranked on the validation split')
      .requiredOption('--dataset <ref>', 'dataset name or digest')
      .option('--model <name>', 'registered model name for the winner')
      .option('--spec <file>', 'model spec JSON (default dense)')
      .option('--method <m>', 'grid | random', 'grid')
      .option(
        '--param <name=v1,v2...>',
        'candidate values, repeatable (e.g. --param learningRate=0.001,0.003)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--trials <n>', 'number of trials (random: required; grid: cap)')
      .option('--concurrency <n>', 'trials trained at once', '1')
      .option('--epochs <n>', 'epochs per trial'),
  ).action(async (o) => {
    const space: Record<string, (number | string)[]> = {};
    for (const p of o.param as string[]) {
      const [k, v] = p.split('=');
      if (!k || !v) throw new CliError('USAGE', `--param must look like name=v1,v2 (got '${p}')`, EXIT.USAGE);
      space[k] = v.split(',').map((x) => (Number.isFinite(Number(x)) ? Number(x) : x));
    }
    const sweeps = api(o).sweeps;
    const sweep = await answer(
      sweeps.$post({
        json: {
          ...trainingTarget(o),
          method: o.method,
          space,
          trials: o.trials ? Number(o.trials) : undefined,
          concurrency: Number(o.concurrency),
          hyper: o.epochs ? { epochs: Number(o.epochs) } : undefined,
        },
      }),
    );
    const bar = createProgressBar(`sweep ${sweep.id}`, process.stderr, !o.json || Boolean(process.stderr.isTTY));
    const ranking = () => answer(sweeps[':id'].$get({ param: { id: sweep.id } }));
    let r = await ranking();
    for (;;) {
      const ended = r.trials.filter((t) => ['succeeded', 'failed', 'cancelled'].includes(t.status)).length;
      bar.update(ended, r.trials.length, `${ended}/${r.trials.length} trials`);
      if (r.sweep.status !== 'running') break;
      await new Promise((res) => setTimeout(res, 1000));
      r = await ranking();
    }
    bar.stop();
    emit(o, { sweepId: sweep.id, status: r.sweep.status, trials: r.trials }, () =>
      table(
        ['RANK', 'RUN', 'STATUS', 'HYPERPARAMETERS', 'VAL ACC', 'TEST ACC'],
        r.trials.map((t) => [t.rank, t.runId, t.status, JSON.stringify(t.hyper), pct(t.valAccuracy), pct(t.testAccuracy)]),
      ),
    );
    if (r.sweep.status !== 'succeeded') process.exitCode = EXIT.FAILED;
  });
}
