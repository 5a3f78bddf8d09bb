// RetrainingStore on SQLite (tables retraining_policies and retrain_jobs, migration 9).
import type { RetrainJob } from '../../retraining/retrain-job.ts';
import type { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { MAX_JOB_LIST, type JobLease, type RetrainingStore, type RetrainJobQuery } from '../../retraining/retraining-store.ts';
import type { Db } from './db.ts';

interface JobRow {
  id: string;
  status: string;
  lease_until: number;
  job: string;
}

const toJob = (r: { job: string }) => JSON.parse(r.job) as RetrainJob;

export class SqliteRetrainingStore implements RetrainingStore {
  constructor(private readonly db: Db) {}

  async getPolicy(model: string): Promise<RetrainingPolicy | null> {
    const r = this.db.prepare('SELECT policy FROM retraining_policies WHERE model = ?').get(model) as { policy: string } | undefined;
    return r ? (JSON.parse(r.policy) as RetrainingPolicy) : null;
  }

  async putPolicy(model: string, policy: RetrainingPolicy): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO retraining_policies (model, policy, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (model) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      )
      .run(model, JSON.stringify(policy), new Date().toISOString());
  }

  async listPolicies(): Promise<[string, RetrainingPolicy][]> {
    const rows = this.db.prepare('SELECT model, policy FROM retraining_policies ORDER BY model').all() as {
      model: string;
      policy: string;
    }[];
    return rows.map((r) => [r.model, JSON.parse(r.policy) as RetrainingPolicy]);
  }

  async startJob(job: RetrainJob, lease: JobLease): Promise<{ job: RetrainJob; started: boolean }> {
    // IMMEDIATE: the check and the insert happen under the write lock, so no other writer slips in between.
    return this.db
      .transaction(() => {
        const running = this.db
          .prepare("SELECT id, status, lease_until, job FROM retrain_jobs WHERE model = ? AND status = 'running'")
          .get(job.model) as JobRow | undefined;
        if (running && running.lease_until >= lease.now) return { job: toJob(running), started: false };
        if (running) this.interrupt(running, lease.expiredReason, new Date(lease.now).toISOString());
        this.db
          .prepare('INSERT INTO retrain_jobs (id, model, status, holder, lease_until, job) VALUES (?, ?, ?, ?, ?, ?)')
          .run(job.id, job.model, job.status, lease.holder, lease.leaseUntil, JSON.stringify(job));
        return { job, started: true };
      })
      .immediate();
  }

  async saveJob(job: RetrainJob, leaseUntil?: number): Promise<void> {
    // A running snapshot never revives a job already marked interrupted (its lease ran out); an end always lands.
    this.db
      .prepare(
        "UPDATE retrain_jobs SET status = @status, job = @job, lease_until = COALESCE(@lease, lease_until) WHERE id = @id AND (status = 'running' OR @status <> 'running')",
      )
      .run({ status: job.status, job: JSON.stringify(job), lease: leaseUntil ?? null, id: job.id });
  }

  async getJob(id: string): Promise<RetrainJob | null> {
    const r = this.db.prepare('SELECT job FROM retrain_jobs WHERE id = ?').get(id) as { job: string } | undefined;
    return r ? toJob(r) : null;
  }

  async listJobs(q: RetrainJobQuery = {}): Promise<RetrainJob[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_JOB_LIST);
    const rows = this.db
      .prepare(
        `SELECT job FROM retrain_jobs WHERE (@model IS NULL OR model = @model) AND (@status IS NULL OR status = @status)
      ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ model: q.model ?? null, status: q.status ?? null, limit }) as { job: string }[];
    return rows.map(toJob);
  }

  async interruptRunning(o: { leaseBefore: number; reason: string; at: string }): Promise<RetrainJob[]> {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare("SELECT id, status, lease_until, job FROM retrain_jobs WHERE status = 'running' ORDER BY seq")
          .all() as JobRow[];
        // Compared here, not in SQL: `leaseBefore` may be Infinity, which SQLite cannot bind.
        return rows.filter((r) => r.lease_until < o.leaseBefore).map((r) => this.interrupt(r, o.reason, o.at));
      })
      .immediate();
  }

  private interrupt(r: JobRow, reason: string, at: string): RetrainJob {
    const job: RetrainJob = { ...toJob(r), status: 'interrupted', endedAt: at, error: reason };
    this.db.prepare('UPDATE retrain_jobs SET status = ?, job = ? WHERE id = ?').run(job.status, JSON.stringify(job), r.id);
    return job;
  }
}
