// Numbered schema migrations for the SQLite store. Append only: never edit a shipped migration.

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'pipeline',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL, revoked_at TEXT
      );
      CREATE TABLE datasets (
        digest TEXT NOT NULL, name TEXT NOT NULL, bytes INTEGER NOT NULL, rows INTEGER NOT NULL,
        meta TEXT NOT NULL, report TEXT, parents TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (name, digest)
      );
      CREATE INDEX datasets_digest ON datasets(digest);
      CREATE TABLE runs (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, model TEXT NOT NULL, sweep_id TEXT,
        dataset_digest TEXT NOT NULL, dataset_name TEXT NOT NULL, split_seed INTEGER NOT NULL,
        spec TEXT NOT NULL, hyper TEXT NOT NULL, environment TEXT NOT NULL, history TEXT NOT NULL,
        metrics TEXT, artifacts TEXT NOT NULL, error TEXT, created_at TEXT NOT NULL,
        started_at TEXT, ended_at TEXT, created_by TEXT NOT NULL
      );
      CREATE INDEX runs_sweep ON runs(sweep_id);
      CREATE TABLE model_versions (
        model TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT, format TEXT NOT NULL,
        artifacts TEXT NOT NULL, signature TEXT, metrics TEXT, quantization TEXT, tags TEXT NOT NULL,
        description TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (model, version)
      );
      CREATE TABLE model_aliases (
        model TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (model, alias)
      );
      CREATE TABLE alias_moves (
        id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, alias TEXT NOT NULL,
        from_version INTEGER, to_version INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
      );
      CREATE TABLE sweeps (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, model TEXT NOT NULL, config TEXT NOT NULL,
        run_ids TEXT NOT NULL, created_at TEXT NOT NULL, ended_at TEXT
      );
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, detail TEXT
      );
      CREATE INDEX audit_subject ON audit(subject);
    `,
  },
  {
    id: 2,
    name: 'fleet',
    // Tags and groups get their own tables so a filter on one is an index lookup on a 10,000-device
    // fleet; the JSON columns keep the entity cheap to read back.
    sql: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, name TEXT NOT NULL, tags TEXT NOT NULL, groups TEXT NOT NULL,
        attributes TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT, last_seen_at TEXT,
        online INTEGER NOT NULL DEFAULT 0, session INTEGER NOT NULL DEFAULT 0,
        reported TEXT, reported_at TEXT, model_version TEXT, deploy_state TEXT,
        desired TEXT, desired_rev INTEGER NOT NULL DEFAULT 0, desired_bundle TEXT
      );
      CREATE INDEX devices_online ON devices(online, id);
      CREATE INDEX devices_model_version ON devices(model_version, id);
      CREATE INDEX devices_deploy_state ON devices(deploy_state, id);
      CREATE INDEX devices_desired_bundle ON devices(desired_bundle);
      CREATE TABLE device_tags (tag TEXT NOT NULL, device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE, PRIMARY KEY (tag, device_id));
      CREATE TABLE device_groups (grp TEXT NOT NULL, device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE, PRIMARY KEY (grp, device_id));
      CREATE TABLE device_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT
      );
      CREATE INDEX device_events_device ON device_events(device_id, id);
      CREATE TABLE bundles (
        id TEXT PRIMARY KEY, model TEXT NOT NULL, model_version INTEGER NOT NULL, version TEXT NOT NULL,
        sequence INTEGER NOT NULL, manifest_digest TEXT NOT NULL, envelope_digest TEXT NOT NULL, key_id TEXT NOT NULL,
        chunk_digests TEXT NOT NULL, bytes INTEGER NOT NULL, payload_bytes INTEGER NOT NULL, artifact TEXT NOT NULL,
        created_at TEXT NOT NULL, created_by TEXT NOT NULL, UNIQUE (model, sequence)
      );
    `,
  },
  {
    id: 3,
    name: 'rollouts',
    // A rollout's spec never changes after creation; its runtime (stage states, rate windows, last
    // verdicts) is one JSON column rewritten with the state in the same transaction, so a restarted
    // engine reads back exactly where it stood. Device timelines are bounded JSON arrays per row.
    sql: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY, model TEXT NOT NULL, bundle_id TEXT NOT NULL, state TEXT NOT NULL,
        spec TEXT NOT NULL, runtime TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX rollouts_model_state ON rollouts(model, state);
      CREATE INDEX rollouts_state ON rollouts(state);
      CREATE TABLE rollout_devices (
        rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE, device_id TEXT NOT NULL, stage INTEGER,
        hash REAL NOT NULL, state TEXT NOT NULL, previous_bundle_id TEXT, notified_at TEXT, updated_at TEXT NOT NULL,
        timeline TEXT NOT NULL, PRIMARY KEY (rollout_id, device_id)
      );
      CREATE INDEX rollout_devices_device ON rollout_devices(device_id);
      CREATE INDEX rollout_devices_stage ON rollout_devices(rollout_id, stage, hash);
      CREATE TABLE rollout_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
        at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, from_state TEXT, to_state TEXT, stage INTEGER,
        reason TEXT NOT NULL, detail TEXT
      );
      CREATE INDEX rollout_events_rollout ON rollout_events(rollout_id, id);
    `,
  },
  {
    id: 4,
    name: 'telemetry',
    // Telemetry (server/src/monitoring): windows are unique per (device, seq) so a resent window is stored
    // once [WIRE-2.5]; rollups are hourly sums per scope (fleet '*', cohort tag, device id) and model, their
    // counts in one JSON body merged on insert; retention deletes by start time and hour.
    sql: `
      CREATE TABLE telemetry_windows (
        device_id TEXT NOT NULL, seq INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
        model TEXT NOT NULL, cohorts TEXT NOT NULL, received_ms INTEGER NOT NULL, body TEXT NOT NULL,
        UNIQUE (device_id, seq)
      );
      CREATE INDEX telemetry_windows_start ON telemetry_windows(start_ms);
      CREATE TABLE telemetry_rollups (
        scope TEXT NOT NULL, scope_id TEXT NOT NULL, hour_ms INTEGER NOT NULL, model TEXT NOT NULL,
        windows INTEGER NOT NULL, requests INTEGER NOT NULL, errors INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (scope, scope_id, hour_ms, model)
      );
      CREATE INDEX telemetry_rollups_hour ON telemetry_rollups(hour_ms);
      CREATE TABLE telemetry_alerts (
        id TEXT PRIMARY KEY, cohort TEXT NOT NULL, model TEXT NOT NULL, state TEXT NOT NULL,
        opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL
      );
      CREATE INDEX telemetry_alerts_state ON telemetry_alerts(state, opened_at);
      CREATE TABLE telemetry_references (model TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
    `,
  },
  {
    id: 5,
    name: 'field_samples',
    // Field samples (server/src/retraining): sampled device inputs with predictions and feedback labels,
    // unique per (device, prediction id) so a resent batch is stored once; labelled rows are read by time.
    sql: `
      CREATE TABLE field_samples (
        device_id TEXT NOT NULL, prediction_id TEXT NOT NULL, cohorts TEXT NOT NULL, model TEXT NOT NULL,
        input BLOB NOT NULL, shape TEXT NOT NULL, prediction INTEGER NOT NULL, confidence REAL NOT NULL,
        label INTEGER, at TEXT NOT NULL, received_ms INTEGER NOT NULL,
        PRIMARY KEY (device_id, prediction_id)
      );
      CREATE INDEX field_samples_labelled ON field_samples(model, at) WHERE label IS NOT NULL;
    `,
  },
  {
    id: 6,
    name: 'events_webhooks',
    // Events (server/src/events): the numbered event log (seq is the CloudEvents `sequence`, assigned
    // max + 1 inside the appending transaction, so it is gap-free), webhooks with their delivery cursor,
    // and each hook's delivery log.
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, subject TEXT NOT NULL,
        time TEXT NOT NULL, data TEXT NOT NULL
      );
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, description TEXT NOT NULL,
        enabled INTEGER NOT NULL, disabled_reason TEXT, disabled_at TEXT, cursor INTEGER NOT NULL, failures INTEGER NOT NULL,
        created_at TEXT NOT NULL, created_by TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT, hook_id TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
        attempt INTEGER NOT NULL, ok INTEGER NOT NULL, status INTEGER, error TEXT, latency_ms INTEGER NOT NULL, at TEXT NOT NULL
      );
      CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(hook_id, id);
    `,
  },
  {
    id: 8,
    name: 'identity',
    // Enrollment by claim and rotating credentials (server/src/devices/enrollment-service.ts): an enrollment
    // counts its devices against a quota; a device keeps its current token hash plus the previous one and
    // when it stops being accepted (the overlap window), the generation its derived token was made from,
    // and, when enrolled, its serial, public key and the time of its last accepted proof (replay guard).
    sql: `
      CREATE TABLE enrollments (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, claim_hash TEXT NOT NULL, quota INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0, expires_at TEXT NOT NULL, template TEXT NOT NULL, created_at TEXT NOT NULL,
        created_by TEXT NOT NULL, revoked_at TEXT
      );
      ALTER TABLE devices ADD COLUMN prev_token_hash TEXT;
      ALTER TABLE devices ADD COLUMN prev_token_until TEXT;
      ALTER TABLE devices ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE devices ADD COLUMN serial TEXT;
      ALTER TABLE devices ADD COLUMN public_key TEXT;
      ALTER TABLE devices ADD COLUMN enrollment_id TEXT;
      ALTER TABLE devices ADD COLUMN proof_at INTEGER;
      CREATE UNIQUE INDEX devices_serial ON devices(serial) WHERE serial IS NOT NULL;
    `,
  },
  {
    id: 7,
    name: 'credential-age',
    // When each device's current token was issued (rotation, enrollment, recovery), for scheduled rotation
    // (`flotilla server --rotate-every`) and `devices show`; null means the device's creation time.
    sql: 'ALTER TABLE devices ADD COLUMN credential_at TEXT;',
  },
  {
    id: 9,
    name: 'retraining_store',
    // Retraining policies and retrain jobs (server/src/retraining/retraining-store.ts), until now a JSON file
    // and process memory. A job is its JSON plus the columns it is found and locked by; the partial unique
    // index allows one running job per model. Field samples gain the feedback source of their label.
    sql: `
      CREATE TABLE retraining_policies (model TEXT PRIMARY KEY, policy TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE retrain_jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, status TEXT NOT NULL,
        holder TEXT NOT NULL, lease_until INTEGER NOT NULL, job TEXT NOT NULL
      );
      CREATE INDEX retrain_jobs_model ON retrain_jobs(model, seq);
      CREATE UNIQUE INDEX retrain_jobs_one_running ON retrain_jobs(model) WHERE status = 'running';
      ALTER TABLE field_samples ADD COLUMN source TEXT;
    `,
  },
  {
    id: 10,
    name: 'label-device-index',
    // Deleting a device (an import's undo) or rewriting its labels looked its label rows up by device id with
    // no index: the foreign-key check scanned every label row, once per device (1,000 undone devices: 40 s).
    sql: `
      CREATE INDEX device_tags_device ON device_tags(device_id);
      CREATE INDEX device_groups_device ON device_groups(device_id);
    `,
  },
  {
    id: 11,
    name: 'soak-indexes',
    // The device-event retention sweep deletes by age, oldest first, a bounded slice at a time; without an
    // index on the time each slice scanned the whole table (about 500 rows per device) on the event loop.
    // A status event's rollout row (claimant) is found among the device's rows by state: a device in a
    // hundred past rollouts is `superseded` in most, and the index skips those.
    sql: `
      CREATE INDEX device_events_at ON device_events(at);
      CREATE INDEX rollout_devices_device_state ON rollout_devices(device_id, state);
    `,
  },
];
