// Datasets, training runs, sweeps and the model registry, with the response types the routes leave loose.
import { core } from './client.ts';
import { unwrap } from './http.ts';
import type { AliasMove, ComparisonRow, DatasetVersion, ModelSummary, ModelVersion, RankedTrial, Run, Sweep } from './types.ts';

export type RunWithVersion = Run & { modelVersion: number | null };
export type StartRunBody = Parameters<typeof core.runs.$post>[0]['json'];
export type StartSweepBody = Parameters<typeof core.sweeps.$post>[0]['json'];

export const listDatasets = () => unwrap<{ datasets: DatasetVersion[] }>(core.datasets.$get()).then((r) => r.datasets);

export const getDataset = (ref: string) => unwrap<DatasetVersion>(core.datasets[':ref'].$get({ param: { ref } }));

export const listRuns = (q: { sweep?: string; model?: string; limit?: number } = {}) =>
  unwrap<{ runs: Run[] }>(
    core.runs.$get({ query: { sweep: q.sweep, model: q.model, limit: q.limit === undefined ? undefined : String(q.limit) } as never }),
  ).then((r) => r.runs);
export const getRun = (id: string) => unwrap<RunWithVersion>(core.runs[':id'].$get({ param: { id } }));
export const startRun = (json: StartRunBody) => unwrap<Run>(core.runs.$post({ json }));
export const cancelRun = (id: string) => unwrap<Run>(core.runs[':id'].cancel.$post({ param: { id } }));
export const compareRuns = (a: string, b: string) =>
  unwrap<{ a: string; b: string; rows: ComparisonRow[] }>(core.runs.compare.$get({ query: { a, b } }));

export const startSweep = (json: StartSweepBody) => unwrap<Sweep>(core.sweeps.$post({ json }));
export const getSweep = (id: string) => unwrap<{ sweep: Sweep; trials: RankedTrial[] }>(core.sweeps[':id'].$get({ param: { id } }));

export const listModels = () => unwrap<{ models: ModelSummary[] }>(core.models.$get()).then((r) => r.models);
export const getModel = (name: string) =>
  unwrap<{ name: string; versions: ModelVersion[]; aliasHistory: AliasMove[] }>(core.models[':name'].$get({ param: { name } }));
/** Exports a trained version to ONNX and quantizes it to int8 (with the parity report and gate); seconds, not minutes. */
export const exportVersion = (name: string, version: number) =>
  unwrap<Record<string, unknown>>(
    core.models[':name'].versions[':ref'].export.$post({ param: { name, ref: String(version) }, json: { quantize: 'int8' } }),
  );
export const moveAlias = (name: string, alias: string, version: number, reason: string) =>
  unwrap<AliasMove>(core.models[':name'].aliases[':alias'].$put({ param: { name, alias }, json: { version, reason } }));
