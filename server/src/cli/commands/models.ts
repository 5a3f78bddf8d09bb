// `flotilla models ...`: the registry: list, show versions and aliases, move an alias.
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, pct, table } from '../output.ts';

/** Where imported versions came from (`metrics.import`): digest, who imported them, the lineage they came with. */
function lineageLines(versions: { version: number; metrics: Record<string, unknown> | null }[]): string[] {
  const lines: string[] = [];
  for (const v of versions) {
    const r = v.metrics?.import as
      { source?: string; digest?: string; importedBy?: string; importedAt?: string; lineage?: unknown } | undefined;
    if (!r) continue;
    lines.push(
      `  v${v.version}: ${r.source === 'trainer' ? 'from an outside trainer' : 'imported'} by ${r.importedBy} at ${r.importedAt}, sha256 ${r.digest?.slice(0, 16)}…${r.lineage ? `, lineage ${JSON.stringify(r.lineage)}` : ''}`,
    );
  }
  return lines.length ? ['', 'lineage:', ...lines] : [];
}

export function registerModelCommands(program: Command): void {
  const models = program.command('models').alias('model').description('The model registry: versions, aliases, lineage');

  serverOptions(models.command('list').description('Registered models')).action(async (o) => {
    const { models: list } = await answer(api(o).models.$get());
    emit(o, { models: list }, () =>
      table(
        ['MODEL', 'LATEST', 'ALIASES'],
        list.map((m) => [
          m.name,
          m.latestVersion,
          Object.entries(m.aliases)
            .map(([a, v]) => `${a}=v${v}`)
            .join(' '),
        ]),
      ),
    );
  });

  serverOptions(models.command('show <name>').description('Versions of a model (newest first) and its alias history')).action(
    async (name: string, o) => {
      const m = await answer(api(o).models[':name'].$get({ param: { name: encodeURIComponent(name) } }));
      emit(o, m, () =>
        [
          table(
            ['VERSION', 'FORMAT', 'RUN', 'ACCURACY', 'ALIASES', 'CREATED'],
            m.versions.map((v) => [v.version, v.format, v.runId, pct(v.metrics?.accuracy), v.aliases.join(' '), v.createdAt]),
          ),
          ...lineageLines(m.versions),
          '',
          'alias history:',
          ...m.aliasHistory.map((h) => `  ${h.at} ${h.alias}: v${h.fromVersion ?? '-'} -> v${h.toVersion} by ${h.actor} (${h.reason})`),
        ].join('\n'),
      );
    },
  );

  serverOptions(
    models
      .command('alias <ref> <alias>')
      .description('Point an alias (champion, challenger, any name) at a version: flotilla models alias NAME@VERSION ALIAS --reason "..."')
      .requiredOption('--reason <text>', 'why (kept in the audit record)'),
  ).action(async (ref: string, alias: string, o) => {
    const [name, version] = ref.split('@');
    if (!name || !version || !/^\d+$/.test(version)) throw new CliError('USAGE', `expected NAME@VERSION, got '${ref}'`, EXIT.USAGE);
    const move = await answer(
      api(o).models[':name'].aliases[':alias'].$put({
        param: { name: encodeURIComponent(name), alias: encodeURIComponent(alias) },
        json: { version: Number(version), reason: o.reason },
      }),
    );
    emit(o, move, () => `${name}@${alias}: v${move.fromVersion ?? '-'} -> v${move.toVersion}`);
  });
}
