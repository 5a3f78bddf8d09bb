// Two runs side by side: every parameter, lineage field and metric, with the rows that differ marked.
import type { Run } from '../store/entities.ts';

export interface ComparisonRow {
  field: string;
  a: unknown;
  b: unknown;
  differs: boolean;
}

/** Flattens nested objects to dotted keys (arrays are kept whole: they compare as values). */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

const summarize = (r: Run) => {
  const m = (r.metrics ?? {}) as Record<string, unknown>;
  const last = r.history.at(-1);
  return {
    status: r.status,
    model: r.model,
    dataset: `${r.datasetName}@${r.datasetDigest.slice(0, 12)}`,
    splitSeed: r.splitSeed,
    hyper: r.hyper,
    spec: JSON.stringify(r.spec),
    backend: (r.environment.backend as { name?: string } | undefined)?.name,
    code: r.environment.code,
    epochs: r.history.length,
    durationMs: r.startedAt && r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : null,
    final: last ? { loss: last.loss, valAccuracy: last.valAccuracy } : null,
    metrics: { accuracy: m.accuracy, logLoss: m.logLoss, ece: m.ece },
  };
};

export function compareRuns(a: Run, b: Run): { a: string; b: string; rows: ComparisonRow[] } {
  const fa = flatten(summarize(a));
  const fb = flatten(summarize(b));
  const fields = [...new Set([...Object.keys(fa), ...Object.keys(fb)])];
  return {
    a: a.id,
    b: b.id,
    rows: fields.map((field) => ({
      field,
      a: fa[field] ?? null,
      b: fb[field] ?? null,
      differs: JSON.stringify(fa[field]) !== JSON.stringify(fb[field]),
    })),
  };
}
