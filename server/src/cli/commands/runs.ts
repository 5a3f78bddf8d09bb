// `flotilla runs ...`: list, show, compare two side by side, cancel.
import type { Command } from 'commander';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, pct, table } from '../output.ts';

const fmt = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').alias('run').description('Training runs and their lineage');

  serverOptions(
    runs
      .command('list')
      .description('List runs, newest first')
      .option('--model <name>', 'only this model')
      .option('--sweep <id>', 'only this sweep'),
  ).action(async (o) => {
    const { runs: list } = await answer(api(o).runs.$get({ query: { model: o.model || undefined, sweep: o.sweep || undefined } }));
    emit(o, { runs: list }, () =>
      table(
        ['RUN', 'STATUS', 'MODEL', 'DATASET', 'TEST ACC', 'CREATED'],
        list.map((r) => [
          r.id,
          r.status,
          r.model,
          `${r.datasetName}@${r.datasetDigest.slice(0, 8)}`,
          pct(r.metrics?.accuracy),
          r.createdAt,
        ]),
      ),
    );
  });

  serverOptions(runs.command('show <id>').description('Show a run: lineage, hyperparameters, history, metrics')).action(
    async (id: string, o) => {
      const r = await answer(api(o).runs[':id'].$get({ param: { id } }));
      emit(o, r, () => JSON.stringify(r, null, 2));
    },
  );

  serverOptions(runs.command('compare <a> <b>').description('Two runs side by side; differing rows are marked with *')).action(
    async (a: string, b: string, o) => {
      const cmp = await answer(api(o).runs.compare.$get({ query: { a, b } }));
      emit(o, cmp, () =>
        table(
          ['', 'FIELD', a, b],
          cmp.rows.map((r) => [r.differs ? '*' : '', r.field, fmt(r.a), fmt(r.b)]),
        ),
      );
    },
  );

  serverOptions(runs.command('cancel <id>').description('Cancel a queued or running run')).action(async (id: string, o) => {
    const r = await answer(api(o).runs[':id'].cancel.$post({ param: { id } }));
    emit(o, { runId: r.id, status: r.status }, () => `cancelling ${r.id} (${r.status})`);
  });
}
