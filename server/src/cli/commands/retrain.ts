// `flotilla retrain ...`: retrain a model's champion on field samples, gate the challenger, set retraining policies.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import type { RetrainJob } from '../../api/contract.ts';
import { answer } from '../typed-api.ts';
import { api as typedApi, serverOptions } from '../common.ts';
import { emit, pct } from '../output.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function renderJob(j: RetrainJob): string {
  const v = j.verdict;
  const acc = (s: { field: number | null; test: number | null } | undefined) => (s ? `field ${pct(s.field)} test ${pct(s.test)}` : '-');
  return [
    `${j.id}  ${j.model}  ${j.status}  trigger ${j.trigger}${j.error ? `  error: ${j.error}` : ''}`,
    j.dataset
      ? `dataset ${j.dataset.name}@${j.dataset.digest.slice(0, 12)} (parents ${j.dataset.parents.map((p) => p.slice(0, 12)).join(',')}; ${j.dataset.fieldRows} field rows, ${j.dataset.holdoutRows} held out)`
      : '',
    j.champion ? `champion ${j.champion}: ${acc(v?.input.champion)}` : '',
    j.challenger ? `challenger ${j.challenger}: ${acc(v?.input.challenger)}` : '',
    v
      ? v.blessed
        ? `BLESSED (field ${v.fieldDelta} pts, test ${v.testDelta} pts)${j.canary ? `; canary of ${j.canary} started` : ''}`
        : `REFUSED: ${v.failures.join('; ')}`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function registerRetrainCommands(program: Command): void {
  const rt = serverOptions(
    program
      .command('retrain')
      .description('Continuous training: retrain a champion on field samples and gate the challenger')
      .option('--model <name>', 'registered model to retrain (its policy says which data)')
      .option('--no-wait', 'return the job id at once instead of waiting for the verdict'),
  ).action(async (o) => {
    if (!o.model) throw new CliError('USAGE', 'name the model: flotilla retrain --model NAME', EXIT.USAGE);
    const api = typedApi(o);
    let job = await answer(api.models[':name'].retrain.$post({ param: { name: encodeURIComponent(o.model) } }));
    while (o.wait && job.status === 'running') {
      await sleep(2000);
      job = await answer(api.retraining[':id'].$get({ param: { id: encodeURIComponent(job.id) } }));
    }
    emit(o, job, () => renderJob(job));
    if (job.status === 'failed' || job.status === 'refused' || job.status === 'interrupted') process.exitCode = EXIT.FAILED;
  });

  serverOptions(
    rt
      .command('jobs')
      .description('Retrain jobs, newest first, across restarts (interrupted: the server stopped while one ran)')
      .option('--model <name>', 'only this model')
      .option('--status <status>', 'running | blessed | refused | failed | interrupted')
      .option('--limit <n>', 'most jobs shown', '20'),
  ).action(async (o) => {
    const { jobs } = await answer(typedApi(o).retraining.jobs.$get({ query: { model: o.model, status: o.status, limit: o.limit } }));
    emit(o, jobs, () =>
      jobs.length
        ? jobs.map((j) => `${j.id}  ${j.model}  ${j.status}  ${j.trigger}  ${j.startedAt}${j.error ? `  ${j.error}` : ''}`).join('\n')
        : 'no retrain jobs',
    );
  });

  serverOptions(
    rt
      .command('samples')
      .description("Field samples, newest first, with each label's device and source (app, local-api, operator, unknown)")
      .option('--model <name>', 'only this model')
      .option('--device <id>', 'only this device')
      .option('--source <source>', 'only labels from app | local-api | operator | unknown')
      .option('--limit <n>', 'most samples shown', '50'),
  ).action(async (o) => {
    const { samples } = await answer(
      typedApi(o).retraining.samples.$get({ query: { model: o.model, device: o.device, source: o.source, limit: o.limit } }),
    );
    emit(o, samples, () =>
      samples.length
        ? samples
            .map(
              (x) =>
                `${x.at}  ${x.deviceId}  ${x.model}  ${x.predictionId}  predicted ${x.prediction}  label ${x.label ?? '-'}  ${x.source ?? ''}`,
            )
            .join('\n')
        : 'no field samples',
    );
  });

  serverOptions(rt.command('status').description('A retrain job: status, dataset lineage and the gate verdict').argument('<id>')).action(
    async (id: string, o) => {
      const job = await answer(typedApi(o).retraining[':id'].$get({ param: { id: encodeURIComponent(id) } }));
      emit(o, job, () => renderJob(job));
    },
  );

  serverOptions(
    rt
      .command('policy')
      .description('Show, or set with --file or flags, the retraining policy of a model')
      .requiredOption('--model <name>', 'registered model')
      .option('--file <json>', 'the whole policy as JSON')
      .option('--parent <dataset>', 'dataset the field samples are added to (e.g. mnist)')
      .option('--cohorts <list>', 'comma-separated cohort tags (default all)')
      .option('--holdout <fraction>', 'share of newest samples held out for the gate', '0.2')
      .option('--on-drift', 'retrain when a drift alert is raised')
      .option('--min-samples <n>', 'retrain after this many new labelled samples', '0')
      .option('--margin <points>', 'field-accuracy points the challenger must gain', '2')
      .option('--tolerance <points>', 'test-accuracy points the challenger may lose', '1')
      .option('--after <what>', 'canary | wait', 'wait')
      .option(
        '--trainer-command <argv>',
        'train with this command instead of the built-in trainer (split on spaces, no shell), e.g. "python3 docs/examples/pytorch-trainer.py"',
      )
      .option('--trainer-url <url>', 'or POST the job to this HTTP trainer, which answers with the ONNX file')
      .option('--trainer-timeout <sec>', 'kill the outside trainer after this many seconds', '3600'),
  )
    .addHelpText('after', '\nOutside trainers and their job manifest: docs/bring-your-own-model.md')
    .action(async (o) => {
      const route = typedApi(o).models[':name']['retraining-policy'];
      const param = { name: encodeURIComponent(o.model) };
      if (o.trainerCommand && o.trainerUrl) throw new CliError('USAGE', 'give --trainer-command or --trainer-url, not both', EXIT.USAGE);
      const timeoutSec = Number(o.trainerTimeout);
      const trainer = o.trainerCommand
        ? { trainer: { kind: 'command' as const, command: String(o.trainerCommand).split(' ').filter(Boolean), timeoutSec } }
        : o.trainerUrl
          ? { trainer: { kind: 'http' as const, url: String(o.trainerUrl), timeoutSec } }
          : {};
      let policy: unknown;
      if (o.file) policy = await answer(route.$put({ param, json: JSON.parse(readFileSync(o.file, 'utf8')) }));
      else if (o.parent) {
        policy = await answer(
          route.$put({
            param,
            json: {
              trigger: { onDriftAlert: Boolean(o.onDrift), minLabelledSamples: Number(o.minSamples) },
              data: {
                parent: o.parent,
                ...(o.cohorts ? { cohorts: String(o.cohorts).split(',') } : {}),
                holdoutFraction: Number(o.holdout),
              },
              gate: { margin: Number(o.margin), tolerance: Number(o.tolerance) },
              after: o.after,
              ...trainer,
            },
          }),
        );
      } else policy = await answer(route.$get({ param }));
      emit(o, policy, () => JSON.stringify(policy, null, 2));
    });
}
