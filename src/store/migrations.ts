// Numbered schema migrations. PRAGMA user_version holds the number applied; append only.
// The queue indexes are partial (status = 'queued') so the scheduler's seeks touch only waiting work.
export const migrations: readonly string[] = [
  // 1: jobs, their events, artifacts, webhook deliveries (outbox) and delivery attempts
  `
  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    lane INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    model_key TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    request TEXT,
    metadata TEXT,
    webhook TEXT,
    idempotency_key TEXT UNIQUE,
    request_hash TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    progress_chunks INTEGER NOT NULL DEFAULT 0,
    progress_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    timings TEXT
  );
  CREATE INDEX jobs_queued_lane ON jobs(lane, seq) WHERE status = 'queued';
  CREATE INDEX jobs_queued_best ON jobs(lane, model_key, priority DESC, seq) WHERE status = 'queued';
  CREATE INDEX jobs_queued_age ON jobs(lane, model_key, seq) WHERE status = 'queued';
  CREATE INDEX jobs_status ON jobs(status, seq);
  CREATE INDEX jobs_model ON jobs(model_key, seq);
  CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;

  CREATE TABLE job_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT
  );
  CREATE INDEX job_events_job ON job_events(job_id, id);

  CREATE TABLE artifacts (
    job_id TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_status INTEGER,
    last_error TEXT
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_job ON webhook_deliveries(job_id, id);

  CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms REAL
  );
  CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);
  `,
  // webhook deliveries: an id unique for all time (the webhook-id header; it was msg_<row id>,
  // which a restored or new database hands out again) and the destination (the URL's origin)
  // whose in-flight cap the delivery counts against (ADR 0015). Rows already attempted keep
  // the id their receiver has seen; the others get a random one. Old rows' destination is
  // scheme://authority in lower case — close enough to the origin for grouping.
  `
  ALTER TABLE webhook_deliveries ADD COLUMN webhook_id TEXT;
  ALTER TABLE webhook_deliveries ADD COLUMN destination TEXT;
  UPDATE webhook_deliveries SET webhook_id = CASE WHEN attempts > 0 THEN 'msg_' || id ELSE 'msg_' || lower(hex(randomblob(16))) END;
  -- the authority ends at the first '/', '?' or '#' after "://"
  UPDATE webhook_deliveries SET destination = lower(substr(url, 1, instr(url, '://') + 1 + instr(a.rest || '/', '/')))
    FROM (SELECT id AS row_id, replace(replace(substr(url, instr(url, '://') + 3), '?', '/'), '#', '/') AS rest FROM webhook_deliveries) AS a
    WHERE a.row_id = webhook_deliveries.id;
  CREATE UNIQUE INDEX webhook_deliveries_webhook_id ON webhook_deliveries(webhook_id);
  CREATE INDEX webhook_deliveries_destination ON webhook_deliveries(destination, next_attempt_at, id) WHERE status = 'pending';
  `,
  // job events: the job's changing fields as they were right after the event (JSON), so an
  // event stream opened later replays each event with the job as it was then; jobs: the
  // request id (X-Request-Id) of the request that made the job or passthrough record, for logs
  // and listings (ADR 0026). Rows stored before have neither.
  `
  ALTER TABLE job_events ADD COLUMN snapshot TEXT;
  ALTER TABLE jobs ADD COLUMN request_id TEXT;
  `,
  // per-job back-off (ADR 0017): a job that failed waits in the queue until not_before. The
  // scheduler's partial indexes leave it out while it waits, so choosing the next job stays a few
  // seeks per model; when its time comes the worker sets not_before back to NULL and it is in them again.
  `
  ALTER TABLE jobs ADD COLUMN not_before INTEGER;
  DROP INDEX jobs_queued_best;
  DROP INDEX jobs_queued_age;
  CREATE INDEX jobs_queued_best ON jobs(lane, model_key, priority DESC, seq) WHERE status = 'queued' AND not_before IS NULL;
  CREATE INDEX jobs_queued_age ON jobs(lane, model_key, seq) WHERE status = 'queued' AND not_before IS NULL;
  CREATE INDEX jobs_not_before ON jobs(not_before) WHERE not_before IS NOT NULL;
  `,
  // preemption and the drain key (ADRs 0020, 0021): whether a job may be preempted and how often
  // it was; the drain key (the model and the load-time options that force a reload) that the
  // scheduler groups work by, so its partial indexes and its loose index scan move from the model
  // key to it. Rows stored before get their model's key: they ran by model alone, and still do.
  `
  ALTER TABLE jobs ADD COLUMN preemptible INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE jobs ADD COLUMN preemptions INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN drain_key TEXT NOT NULL DEFAULT '';
  UPDATE jobs SET drain_key = model_key;
  DROP INDEX jobs_queued_best;
  DROP INDEX jobs_queued_age;
  CREATE INDEX jobs_queued_best ON jobs(lane, drain_key, priority DESC, seq) WHERE status = 'queued' AND not_before IS NULL;
  CREATE INDEX jobs_queued_age ON jobs(lane, drain_key, seq) WHERE status = 'queued' AND not_before IS NULL;
  `,
  // 6: scheduled starts, expiry and run-time caps (ADR 0035): when the job may start (run_after,
  // kept for the view; the gate itself is not_before, as for a back-off), when unstarted work
  // expires (start_by) and the job's own run-time cap (max_run_ms, null: the server's default).
  // The expiry sweep reads the partial index: only queued jobs with a start_by.
  `
  ALTER TABLE jobs ADD COLUMN run_after INTEGER;
  ALTER TABLE jobs ADD COLUMN start_by INTEGER;
  ALTER TABLE jobs ADD COLUMN max_run_ms INTEGER;
  CREATE INDEX jobs_start_by ON jobs(start_by) WHERE status = 'queued' AND start_by IS NOT NULL;
  `,
  // 7: usage (ADR 0036) — what a
  // finished job cost (JSON), who asked (the caller's address and User-Agent product) and its
  // tag; and the rollup GET /usage answers from, which outlives job retention: per dimension
  // (model, endpoint, lane, client, tag), bucket size (an hour, a day, a week: `span`, ms) and
  // bucket start, per value and exactness, the sums of the jobs that finished in it.
  `
  ALTER TABLE jobs ADD COLUMN usage TEXT;
  ALTER TABLE jobs ADD COLUMN client TEXT;
  ALTER TABLE jobs ADD COLUMN tag TEXT;
  CREATE TABLE usage_rollup (
    dimension TEXT NOT NULL,
    span INTEGER NOT NULL,
    start INTEGER NOT NULL,
    value TEXT NOT NULL,
    estimated INTEGER NOT NULL,
    jobs INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    load_ms INTEGER NOT NULL,
    prompt_eval_ms INTEGER NOT NULL,
    generation_ms INTEGER NOT NULL,
    target_ms INTEGER NOT NULL,
    PRIMARY KEY (dimension, span, start, value, estimated)
  ) WITHOUT ROWID;
  `,
  // 8: OpenAI batch files and batches (issue 19, ADR 0039). A file's bytes are on disk beside the
  // database (`files/<id>`); its row records what was fsync'd: size, lines, SHA-256. A batch is a
  // parent over ordinary async jobs: each line a job with the batch's id and the line's custom_id.
  `
  CREATE TABLE files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    filename TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint TEXT NOT NULL,
    input_file_id TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT,
    errors TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    model TEXT,
    usage TEXT,
    total INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    in_progress_at INTEGER,
    finalizing_at INTEGER,
    completed_at INTEGER,
    failed_at INTEGER,
    expired_at INTEGER,
    cancelling_at INTEGER,
    cancelled_at INTEGER
  );
  CREATE INDEX batches_open ON batches(status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');
  ALTER TABLE jobs ADD COLUMN batch_id TEXT;
  ALTER TABLE jobs ADD COLUMN custom_id TEXT;
  CREATE INDEX jobs_batch ON jobs(batch_id, seq) WHERE batch_id IS NOT NULL;
  `,
  // 9: batch files expire (issue 19): a file's expires_at (ms; files kept before expire 30 days
  // after their upload, OpenAI's default), and a batch's output_expires_after (seconds) for the
  // result files it writes.
  `
  ALTER TABLE files ADD COLUMN expires_at INTEGER;
  UPDATE files SET expires_at = created_at + 2592000000;
  CREATE INDEX files_expiry ON files(expires_at) WHERE expires_at IS NOT NULL;
  ALTER TABLE batches ADD COLUMN output_expires_after INTEGER;
  `,
  // 10: a batch's lines counted by state from the index alone, without reading a job row (its
  // request and reply): GET /v1/batches/{id} and /status count them on every call, and a client
  // polling them must not take the event loop from the worker (ADR 0044).
  `
  CREATE INDEX jobs_batch_status ON jobs(batch_id, status) WHERE batch_id IS NOT NULL;
  `,
];
