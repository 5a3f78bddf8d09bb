// `flotilla dataset ...`: import a CSV (streamed to the server), list and show versions.
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import type { DatasetVersion, ImportReport } from '../../api/contract.ts';
import { apiFailure, parseBody } from '../api-client.ts';
import { api, client, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';

export function registerDatasetCommands(program: Command): void {
  const ds = program.command('dataset').alias('datasets').description('Versioned datasets (named by the sha256 of their content)');

  serverOptions(
    ds
      .command('import <file>')
      .description('Import a CSV of numeric feature columns plus a label column; prints the data quality report')
      .requiredOption('--name <name>', 'dataset name')
      .requiredOption('--label <column>', 'name of the label column'),
  ).action(async (file: string, o) => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new CliError('FILE_NOT_FOUND', `cannot read ${file}`, EXIT.USAGE);
    }
    const c = client(o);
    const q = new URLSearchParams({ name: o.name, label: o.label });
    const res = await c.raw('POST', `/api/v1/datasets?${q}`, {
      body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
      headers: { 'content-type': 'text/csv', 'content-length': String(size) },
    });
    const text = await res.text();
    const parsed = parseBody(text);
    if (!res.ok) throw apiFailure(res.status, parsed, text);
    // Streamed uploads go around the typed client (it sends bodies whole); the answer's type is the route's.
    const { dataset: d, report: r, existed } = parsed as { dataset: DatasetVersion; report: ImportReport; existed: boolean };
    emit(o, parsed, () =>
      [
        `${existed ? 'Already had' : 'Imported'} ${d.name}@${d.digest.slice(0, 12)}: ${d.rows} rows, ${d.featureShape.join('x')} features, ${d.classes.length} classes`,
        `  rows read ${r.rowsRead}, kept ${r.rowsKept}, duplicates dropped ${r.duplicatesDropped}, bad rows ${r.badRowCount ?? r.badRows?.length ?? 0}`,
        ...(r.rowsWithMissing
          ? [
              `  rows dropped for a missing value ${r.rowsWithMissing} (${Object.entries(r.missingValues ?? {})
                .map(([c, n]) => `${c}: ${n}`)
                .join(', ')})`,
            ]
          : []),
        ...(r.constantColumns?.length ? [`  constant columns: ${r.constantColumns.join(', ')}`] : []),
        ...(r.scaleWarnings ?? []).map((w) => `  warning: ${w}`),
        ...(r.badRows ?? []).slice(0, 5).map((b: { line: number; reason: string }) => `  line ${b.line}: ${b.reason}`),
      ].join('\n'),
    );
  });

  serverOptions(ds.command('list').description('List dataset versions')).action(async (o) => {
    const { datasets } = await answer(api(o).datasets.$get());
    emit(o, { datasets }, () =>
      table(
        ['NAME', 'DIGEST', 'ROWS', 'FEATURES', 'CLASSES', 'SOURCE'],
        datasets.map((d) => [d.name, d.digest.slice(0, 12), d.rows, d.featureShape.join('x'), d.classes.length, d.source]),
      ),
    );
  });

  serverOptions(ds.command('show <ref>').description('Show a dataset version (name, name@digest or digest prefix)')).action(
    async (ref: string, o) => {
      const d = await answer(api(o).datasets[':ref'].$get({ param: { ref: encodeURIComponent(ref) } }));
      emit(o, d, () => JSON.stringify(d, null, 2));
    },
  );
}
