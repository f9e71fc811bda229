-- Durable jobs (the arXiv harvest now, digest editions next) and where ingestion stands:
-- OAI-PMH harvest checkpoints per set, and bulk import checkpoints per file.
--
-- Conventions as in 0001: timestamps are UTC text `YYYY-MM-DDTHH:MM:SS.sssZ`, dates `YYYY-MM-DD`.

-- A job is a unit of background work. `(kind, key)` is unique, so scheduling the same work twice
-- (a restart, a second node) queues it once: the daily harvest uses `daily:<date>` as its key.
--
-- States: queued → running → done | failed; a failed attempt with attempts left goes back to
-- queued with a later `run_after`. A worker takes a job with one `UPDATE … RETURNING` that sets a
-- lease (`locked_until`) and bumps `attempts`; it renews the lease while it works. `attempts` is
-- also the fencing token: finishing a job checks it, so a worker whose lease expired and was
-- taken over cannot overwrite the new attempt's outcome. A running job whose lease expired (its
-- worker died) is returned to queued, or failed once its attempts are used up.
CREATE TABLE job (
    job_id        INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    payload       TEXT NOT NULL DEFAULT '{}',  -- JSON, read by the job's kind
    -- At most one job of an exclusive kind runs at a time (see job_exclusive_running).
    exclusive     INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued',
    run_after     TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 5,
    last_error    TEXT,
    -- Who holds the lease (a process identity, for logs and for detecting a dead holder).
    locked_by     TEXT,
    locked_until  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    finished_at   TEXT,
    UNIQUE (kind, key),
    CHECK (state IN ('queued', 'running', 'done', 'failed')),
    CHECK ((state = 'running') = (locked_until IS NOT NULL))
);

CREATE INDEX job_ready ON job (kind, state, run_after);

-- The guarantee behind "one harvest at a time": the database, not a check in code, refuses a
-- second running row of an exclusive kind, whichever process or node tries.
CREATE UNIQUE INDEX job_exclusive_running ON job (kind) WHERE state = 'running' AND exclusive = 1;

-- Where the OAI-PMH harvest of each set stands ('' is the whole archive). A page's records and
-- the move of this row commit in one transaction, so the checkpoint never runs ahead of the data.
CREATE TABLE harvest_checkpoint (
    set_spec           TEXT PRIMARY KEY,
    metadata_prefix    TEXT NOT NULL,
    -- Every record whose datestamp is on or before this day has been stored. The next harvest
    -- starts from this day (inclusive: a day can gain records after it was harvested).
    harvested_through  TEXT,
    -- The list in progress, if any: how it was asked for, the day it will complete the
    -- checkpoint through, and the token for its next page.
    run_from           TEXT,
    run_until          TEXT,
    run_through        TEXT,
    resumption_token   TEXT,
    -- How many records precede the next page, and how many the list has, as the server said.
    cursor             INTEGER,
    complete_list_size INTEGER,
    updated_at         TEXT NOT NULL,
    CHECK ((resumption_token IS NULL) OR (run_through IS NOT NULL))
);

-- How far a bulk import of one file got. Each batch commits its rows together with the byte
-- offset (and line number) after them, so a killed import resumes at the first line it had not
-- committed. `fingerprint` (size and a hash of the file's head) tells a new file at the same path
-- from the old one, which restarts from the top.
CREATE TABLE import_checkpoint (
    source       TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    byte_offset  INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
);
