-- Papers, the accounts that submit them, and the feed.
--
-- Conventions (kept portable so that the PostgreSQL migrations mirror these):
-- - singular table names, `<table>_id` primary keys;
-- - timestamps are TEXT in UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`, so they sort as strings;
-- - dates are TEXT `YYYY-MM-DD`;
-- - ordered lists (authors, categories, AI keywords) are JSON arrays in TEXT.

CREATE TABLE account (
    account_id   INTEGER PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    fullname     TEXT NOT NULL,
    avatar_url   TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE paper (
    paper_id      TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '',
    authors       TEXT NOT NULL DEFAULT '[]',
    categories    TEXT NOT NULL DEFAULT '[]',
    comments      TEXT,
    journal_ref   TEXT,
    doi           TEXT,
    license       TEXT,
    published_at  TEXT,
    updated_at    TEXT,
    github_repo   TEXT,
    project_page  TEXT,
    ai_summary    TEXT,
    ai_keywords   TEXT NOT NULL DEFAULT '[]',
    upvotes       INTEGER NOT NULL DEFAULT 0,
    num_comments  INTEGER NOT NULL DEFAULT 0,
    -- The feed: set together when the paper is put on the daily feed.
    daily_date    TEXT,
    submitted_at  TEXT,
    submitter_id  INTEGER REFERENCES account (account_id),
    feed_position INTEGER,
    -- Bookkeeping: the newest source observation merged in, and a change watermark for
    -- derived data (the search index follows `change_seq`).
    source_as_of  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    change_seq    INTEGER NOT NULL,
    CHECK ((daily_date IS NULL) = (submitted_at IS NULL))
);

CREATE INDEX paper_daily_rank ON paper (daily_date, upvotes DESC, feed_position);
CREATE INDEX paper_submitted_at ON paper (submitted_at);
CREATE INDEX paper_submitter ON paper (submitter_id, submitted_at);
CREATE INDEX paper_published_at ON paper (published_at);
CREATE INDEX paper_change_seq ON paper (change_seq);

CREATE TABLE paper_version (
    paper_id    TEXT NOT NULL REFERENCES paper (paper_id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    created_at  TEXT,
    PRIMARY KEY (paper_id, version)
);

-- Monotonic counters, such as the paper change sequence.
CREATE TABLE counter (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counter (name, value) VALUES ('paper_change_seq', 0);
