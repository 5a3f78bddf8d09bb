// Numbered schema migrations for the PostgreSQL metadata store (every domain but rollouts, telemetry and
// field samples, which migrate on their own). Append only: never edit a shipped migration.
import type { PgMigration } from './pg-db.ts';

/** Bookkeeping table of the metadata domains (see `migrate` in pg-db.ts). */
export const METADATA_MIGRATIONS_TABLE = 'metadata_migrations';

// Conventions, so both back ends answer the same:
// - ids and names that are ordered or range-scanned are COLLATE "C" (byte order, like SQLite's BINARY),
//   whatever locale the cluster was initialised with; their btree indexes then serve `id > $1` and prefixes.
// - other JSON is JSONB (see pg-values.ts for the one character it cannot hold);
// - times are TIMESTAMPTZ; the store reads them back as ISO-8601 UTC with milliseconds, which is what
//   every writer passes in, so they round-trip exactly.
// - a `seq` identity column stands in for SQLite's rowid where ties on a timestamp are broken by insertion.
export const METADATA_PG_MIGRATIONS: PgMigration[] = [
  {
    id: 1,
    name: 'pipeline',
    sql: `
      CREATE TABLE tokens (
        id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ
      );
      CREATE TABLE datasets (
        seq BIGINT GENERATED ALWAYS AS IDENTITY, digest TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
        bytes BIGINT NOT NULL, rows BIGINT NOT NULL, meta JSONB NOT NULL, report JSONB, parents JSONB NOT NULL,
        source TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (name, digest)
      );
      CREATE INDEX datasets_digest ON datasets (digest);
      CREATE TABLE runs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE "C" PRIMARY KEY, status TEXT NOT NULL, model TEXT NOT NULL,
        sweep_id TEXT, dataset_digest TEXT NOT NULL, dataset_name TEXT NOT NULL, split_seed BIGINT NOT NULL,
        spec JSONB NOT NULL, hyper JSONB NOT NULL, environment JSONB NOT NULL, history JSONB NOT NULL,
        metrics JSONB, artifacts JSONB NOT NULL, error JSONB, created_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, created_by TEXT NOT NULL
      );
      CREATE INDEX runs_sweep ON runs (sweep_id);
      CREATE INDEX runs_created ON runs (created_at DESC, seq DESC);
      CREATE INDEX runs_unfinished ON runs (status) WHERE status IN ('queued', 'running');
      CREATE TABLE model_versions (
        model TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, run_id TEXT, format TEXT NOT NULL,
        artifacts JSONB NOT NULL, signature JSONB, metrics JSONB, quantization JSONB, tags TEXT[] NOT NULL,
        description TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (model, version)
      );
      CREATE TABLE model_aliases (
        model TEXT COLLATE "C" NOT NULL, alias TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (model, alias)
      );
      CREATE TABLE alias_moves (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, model TEXT COLLATE "C" NOT NULL, alias TEXT NOT NULL,
        from_version INTEGER, to_version INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL, at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX alias_moves_model ON alias_moves (model, id);
      CREATE TABLE sweeps (
        id TEXT COLLATE "C" PRIMARY KEY, status TEXT NOT NULL, model TEXT NOT NULL, config JSONB NOT NULL,
        run_ids JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ
      );
      CREATE TABLE audit (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, subject TEXT NOT NULL, detail JSONB
      );
      CREATE INDEX audit_subject ON audit (subject, id);
    `,
  },
  {
    id: 2,
    name: 'fleet',
    // Tags and groups are text[] columns with GIN indexes (SQLite needs side tables for the same lookup).
    // What devices send (reported, event details) and what they are sent (desired) is JSON, not JSONB:
    // kept byte for byte (key order, \u0000 in a device's error text), and never queried inside.
    sql: `
      CREATE TABLE devices (
        id TEXT COLLATE "C" PRIMARY KEY, token_hash TEXT NOT NULL, name TEXT NOT NULL, tags TEXT[] NOT NULL,
        groups TEXT[] NOT NULL, attributes JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ,
        last_seen_at TIMESTAMPTZ, online BOOLEAN NOT NULL DEFAULT false, session BIGINT NOT NULL DEFAULT 0,
        reported JSON, reported_at TIMESTAMPTZ, model_version TEXT, deploy_state TEXT,
        desired JSON, desired_rev INTEGER NOT NULL DEFAULT 0, desired_bundle TEXT
      );
      CREATE INDEX devices_tags ON devices USING GIN (tags);
      CREATE INDEX devices_groups ON devices USING GIN (groups);
      CREATE INDEX devices_online ON devices (online, id);
      CREATE INDEX devices_model_version ON devices (model_version, id);
      CREATE INDEX devices_deploy_state ON devices (deploy_state, id);
      CREATE INDEX devices_desired_bundle ON devices (desired_bundle);
      CREATE INDEX devices_with_desired ON devices (id) WHERE desired IS NOT NULL AND revoked_at IS NULL;
      CREATE TABLE device_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, device_id TEXT COLLATE "C" NOT NULL,
        at TIMESTAMPTZ NOT NULL, kind TEXT NOT NULL, detail JSON
      );
      CREATE INDEX device_events_device ON device_events (device_id, id);
      CREATE TABLE bundles (
        id TEXT COLLATE "C" NOT NULL, model TEXT COLLATE "C" NOT NULL, model_version INTEGER NOT NULL, version TEXT NOT NULL,
        sequence INTEGER NOT NULL, manifest_digest TEXT NOT NULL, envelope_digest TEXT NOT NULL, key_id TEXT NOT NULL,
        chunk_digests TEXT[] NOT NULL, bytes BIGINT NOT NULL, payload_bytes BIGINT NOT NULL, artifact TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, created_by TEXT NOT NULL,
        CONSTRAINT bundles_pkey PRIMARY KEY (id),
        CONSTRAINT bundles_model_sequence UNIQUE (model, sequence)
      );
      CREATE INDEX bundles_created ON bundles (created_at DESC, sequence DESC);
    `,
  },
  {
    id: 6,
    name: 'events_webhooks',
    // Events (server/src/events): the numbered event log, webhooks and their delivery logs. The sequence is
    // taken from the one-row event_head table inside the appending transaction: its row lock serialises
    // appenders until commit, so numbers are gap-free and commit in order (an identity column would leave
    // gaps on rollback and let a reader see 12 before 11 commits).
    sql: `
      CREATE TABLE events (
        seq BIGINT PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, type TEXT NOT NULL, subject TEXT NOT NULL,
        time TIMESTAMPTZ NOT NULL, data TEXT NOT NULL
      );
      CREATE TABLE event_head (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), seq BIGINT NOT NULL);
      INSERT INTO event_head (seq) VALUES (0);
      CREATE TABLE webhooks (
        id TEXT COLLATE "C" PRIMARY KEY, url TEXT NOT NULL, events JSONB NOT NULL, secret TEXT NOT NULL, description TEXT NOT NULL,
        enabled BOOLEAN NOT NULL, disabled_reason TEXT, disabled_at TIMESTAMPTZ, cursor BIGINT NOT NULL, failures INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, created_by TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, hook_id TEXT COLLATE "C" NOT NULL, event_id TEXT NOT NULL, seq BIGINT NOT NULL,
        type TEXT NOT NULL, attempt INTEGER NOT NULL, ok BOOLEAN NOT NULL, status INTEGER, error TEXT, latency_ms INTEGER NOT NULL,
        at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (hook_id, id);
    `,
  },
  {
    id: 8,
    name: 'identity',
    // Enrollment by claim and rotating credentials: see the SQLite migration of the same id.
    sql: `
      CREATE TABLE enrollments (
        id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, claim_hash TEXT NOT NULL, quota INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0, expires_at TIMESTAMPTZ NOT NULL, template JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL,
        created_by TEXT NOT NULL, revoked_at TIMESTAMPTZ
      );
      ALTER TABLE devices ADD COLUMN prev_token_hash TEXT, ADD COLUMN prev_token_until TIMESTAMPTZ,
        ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0, ADD COLUMN serial TEXT COLLATE "C",
        ADD COLUMN public_key TEXT, ADD COLUMN enrollment_id TEXT, ADD COLUMN proof_at BIGINT;
      CREATE UNIQUE INDEX devices_serial ON devices (serial) WHERE serial IS NOT NULL;
    `,
  },
  {
    id: 7,
    name: 'credential-age',
    // See the SQLite migration of the same id.
    sql: 'ALTER TABLE devices ADD COLUMN credential_at TIMESTAMPTZ;',
  },
  {
    id: 9,
    name: 'retraining_store',
    // Retraining policies and retrain jobs: see the SQLite migration of the same id. JSON as TEXT (a job's
    // error may hold `\u0000`, which JSONB refuses); the partial unique index keeps one running job per model
    // whichever process starts it. (Field samples migrate on their own: postgres-field-sample-store.ts.)
    sql: `
      CREATE TABLE retraining_policies (model TEXT COLLATE "C" PRIMARY KEY, policy TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
      CREATE TABLE retrain_jobs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, model TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL, holder TEXT NOT NULL, lease_until BIGINT NOT NULL, job TEXT NOT NULL
      );
      CREATE INDEX retrain_jobs_model ON retrain_jobs (model, seq);
      CREATE UNIQUE INDEX retrain_jobs_one_running ON retrain_jobs (model) WHERE status = 'running';
    `,
  },
  {
    id: 10,
    name: 'device-events-age',
    // See the SQLite migration 11: the device-event retention sweep deletes by age, a bounded slice at a time.
    // (The rollout tables migrate on their own, in postgres-rollout-store.ts: their index is not added here.)
    sql: 'CREATE INDEX device_events_at ON device_events (at);',
  },
];
