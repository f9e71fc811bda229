-- Members: magic-link login, server-side sessions, personal API tokens, upvotes, saved papers,
-- comments and moderation.
--
-- Imported submitters are `account` rows without an email: they cannot log in. A member is an
-- account with an email. Secrets (login tokens, session ids, API tokens) are stored only as
-- SHA-256 hex digests; the raw values exist in the mail, the cookie or the client.

ALTER TABLE account ADD COLUMN email TEXT;             -- normalised, lower case; NULL if imported
ALTER TABLE account ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account ADD COLUMN banned_at TEXT;
CREATE UNIQUE INDEX account_email ON account (email) WHERE email IS NOT NULL;

-- Member activity is kept apart from the imported counts (`upvotes`, `num_comments`), which
-- imports merge by taking the maximum: a re-import must never clobber member votes. Pages, feeds
-- and the API show the sums.
ALTER TABLE paper ADD COLUMN member_upvotes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE paper ADD COLUMN member_comments INTEGER NOT NULL DEFAULT 0;
-- Set by an admin: the paper leaves every feed list (its page stays reachable by URL).
ALTER TABLE paper ADD COLUMN hidden_at TEXT;

CREATE INDEX paper_daily_rank_total
    ON paper (daily_date, (upvotes + member_upvotes) DESC, feed_position);

-- One row per login link mailed. Single use: `used_at` is set by the POST that consumes it.
CREATE TABLE login_token (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX login_token_expires ON login_token (expires_at);

CREATE TABLE session (
    session_hash TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    -- The synchronizer token every unsafe form of this session must carry.
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL                 -- the absolute lifetime
);
CREATE INDEX session_account ON session (account_id);

CREATE TABLE api_token (
    api_token_id INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_token_account ON api_token (account_id);

-- One upvote per member per paper; `paper.member_upvotes` is kept equal to the row count in the
-- same transaction.
CREATE TABLE upvote (
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    paper_id   TEXT NOT NULL REFERENCES paper (paper_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, account_id)
);
CREATE INDEX upvote_account ON upvote (account_id, created_at);

CREATE TABLE saved_paper (
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    paper_id   TEXT NOT NULL REFERENCES paper (paper_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, paper_id)
);

-- Comments keep their Markdown source; HTML is rendered and sanitised on output.
-- `paper.member_comments` counts the rows that are neither deleted nor hidden.
CREATE TABLE comment (
    comment_id INTEGER PRIMARY KEY,
    paper_id   TEXT NOT NULL REFERENCES paper (paper_id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    edited_at  TEXT,
    deleted_at TEXT,
    hidden_at  TEXT
);
CREATE INDEX comment_paper ON comment (paper_id, created_at);
CREATE INDEX comment_account ON comment (account_id, created_at);
