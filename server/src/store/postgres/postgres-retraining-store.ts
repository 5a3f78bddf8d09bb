// RetrainingStore on PostgreSQL (tables retraining_policies and retrain_jobs, metadata migration 9): the same
// rows as ../sqlite/sqlite-retraining-store.ts, safe with several server processes on one database.
import type { RetrainJob } from '../../retraining/retrain-job.ts';
import type { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { MAX_JOB_LIST, type JobLease, type RetrainingStore, type RetrainJobQuery } from '../../retraining/retraining-store.ts';
import { METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS } from './migrations.ts';
import { migrate, withTx, type Pool, type PoolClient } from './pg-db.ts';

interface JobRow {
  id: string;
  status: string;
  lease_until: string;
  job: string;
}

const toJob = (r: { job: string }) => JSON.parse(r.job) as RetrainJob;
/** unique_violation: another process inserted a running job for the model between our check and insert. */
const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === '23505';

export class PostgresRetrainingStore implements RetrainingStore {
  constructor(private readonly pool: Pool) {}

  /** A store on `pool`, the metadata migrations (9 has these tables) applied first when they are not yet. */
  static async open(pool: Pool): Promise<PostgresRetrainingStore> {
    await migrate(pool, METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS);
    return new PostgresRetrainingStore(pool);
  }

  async getPolicy(model: string): Promise<RetrainingPolicy | null> {
    const { rows } = await this.pool.query<{ policy: string }>('SELECT policy FROM retraining_policies WHERE model = $1', [model]);
    return rows[0] ? (JSON.parse(rows[0].policy) as RetrainingPolicy) : null;
  }

  async putPolicy(model: string, policy: RetrainingPolicy): Promise<void> {
    await this.pool.query(
      `INSERT INTO retraining_policies (model, policy, updated_at) VALUES ($1, $2, now())
      ON CONFLICT (model) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      [model, JSON.stringify(policy)],
    );
  }

  async listPolicies(): Promise<[string, RetrainingPolicy][]> {
    const { rows } = await this.pool.query<{ model: string; policy: string }>(
      'SELECT model, policy FROM retraining_policies ORDER BY model',
    );
    return rows.map((r) => [r.model, JSON.parse(r.policy) as RetrainingPolicy]);
  }

  async startJob(job: RetrainJob, lease: JobLease): Promise<{ job: RetrainJob; started: boolean }> {
    // Two processes may both find no running job and both insert: the partial unique index lets one commit,
    // and the other tries again and finds that job.
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTx(this.pool, async (c) => {
          const { rows } = await c.query<JobRow>(
            "SELECT id, status, lease_until, job FROM retrain_jobs WHERE model = $1 AND status = 'running' FOR UPDATE",
            [job.model],
          );
          const running = rows[0];
          if (running && Number(running.lease_until) >= lease.now) return { job: toJob(running), started: false };
          if (running) await interrupt(c, running, lease.expiredReason, new Date(lease.now).toISOString());
          await c.query('INSERT INTO retrain_jobs (id, model, status, holder, lease_until, job) VALUES ($1, $2, $3, $4, $5, $6)', [
            job.id,
            job.model,
            job.status,
            lease.holder,
            lease.leaseUntil,
            JSON.stringify(job),
          ]);
          return { job, started: true };
        });
      } catch (e) {
        if (!isUniqueViolation(e) || attempt >= 3) throw e;
      }
    }
  }

  async saveJob(job: RetrainJob, leaseUntil?: number): Promise<void> {
    // A running snapshot never revives a job already marked interrupted (its lease ran out); an end always lands.
    await this.pool.query(
      `UPDATE retrain_jobs SET status = $1, job = $2, lease_until = COALESCE($3, lease_until)
      WHERE id = $4 AND (status = 'running' OR $1 <> 'running')`,
      [job.status, JSON.stringify(job), leaseUntil ?? null, job.id],
    );
  }

  async getJob(id: string): Promise<RetrainJob | null> {
    const { rows } = await this.pool.query<{ job: string }>('SELECT job FROM retrain_jobs WHERE id = $1', [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async listJobs(q: RetrainJobQuery = {}): Promise<RetrainJob[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_JOB_LIST);
    const { rows } = await this.pool.query<{ job: string }>(
      `SELECT job FROM retrain_jobs WHERE ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY seq DESC LIMIT $3`,
      [q.model ?? null, q.status ?? null, limit],
    );
    return rows.map(toJob);
  }

  async interruptRunning(o: { leaseBefore: number; reason: string; at: string }): Promise<RetrainJob[]> {
    // Infinity has no BIGINT: NULL stands for "every running job".
    const before = Number.isFinite(o.leaseBefore) ? o.leaseBefore : null;
    return withTx(this.pool, async (c) => {
      const { rows } = await c.query<JobRow>(
        `SELECT id, status, lease_until, job FROM retrain_jobs WHERE status = 'running' AND ($1::bigint IS NULL OR lease_until < $1)
        ORDER BY seq FOR UPDATE`,
        [before],
      );
      const out: RetrainJob[] = [];
      for (const r of rows) out.push(await interrupt(c, r, o.reason, o.at));
      return out;
    });
  }
}

async function interrupt(c: PoolClient, r: JobRow, reason: string, at: string): Promise<RetrainJob> {
  const job: RetrainJob = { ...toJob(r), status: 'interrupted', endedAt: at, error: reason };
  await c.query('UPDATE retrain_jobs SET status = $1, job = $2 WHERE id = $3', [job.status, JSON.stringify(job), r.id]);
  return job;
}
