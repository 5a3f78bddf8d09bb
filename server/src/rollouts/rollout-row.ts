// How a stored rollout row reads back. Both store engines (store/sqlite, store/postgres) keep the
// same columns, so the mapping belongs to the rollouts domain rather than to either engine.
import type { RolloutState } from './rollout-machine.ts';
import type { Rollout } from './rollout-types.ts';

type Row = Record<string, unknown>;

/** A JSON text column; SQL NULL reads as null. */
const jsonColumn = <T>(v: unknown): T => (v == null ? (null as T) : (JSON.parse(String(v)) as T));

/** A `rollouts` row (JSON text columns `spec`, `runtime`) as a Rollout: both store engines keep these columns. */
export const toRollout = (r: Row): Rollout => {
  const spec = jsonColumn<Pick<Rollout, 'bundle' | 'target' | 'stages' | 'policy' | 'reason'>>(r.spec);
  const rt = jsonColumn<Pick<Rollout, 'current' | 'runtime'>>(r.runtime);
  return {
    id: r.id as string,
    state: r.state as RolloutState,
    model: r.model as string,
    ...spec,
    ...rt,
    createdBy: r.created_by as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
};
