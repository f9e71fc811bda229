-- Email: subscribers (double opt-in), digest editions, and the outbox every mail goes through.

CREATE TABLE subscriber (
    subscriber_id      INTEGER PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,          -- normalised, lower case
    status             TEXT NOT NULL,                 -- pending | confirmed | unsubscribed
    frequency          TEXT NOT NULL DEFAULT 'daily', -- daily | weekly | paused
    max_papers         INTEGER NOT NULL DEFAULT 10,
    min_upvotes        INTEGER NOT NULL DEFAULT 0,
    include_categories TEXT NOT NULL DEFAULT '[]',
    exclude_categories TEXT NOT NULL DEFAULT '[]',
    include_keywords   TEXT NOT NULL DEFAULT '[]',
    exclude_keywords   TEXT NOT NULL DEFAULT '[]',
    -- Permanent SMTP rejections; at the configured limit the address is suppressed.
    bounce_count       INTEGER NOT NULL DEFAULT 0,
    suppressed         INTEGER NOT NULL DEFAULT 0,
    -- Bumped to revoke every signed link issued so far (confirm, preferences, unsubscribe).
    token_version      INTEGER NOT NULL DEFAULT 1,
    -- How many confirmation mails were queued, and when the last one was.
    confirm_requests   INTEGER NOT NULL DEFAULT 0,
    confirm_sent_at    TEXT,
    created_at         TEXT NOT NULL,
    confirmed_at       TEXT,
    unsubscribed_at    TEXT,
    updated_at         TEXT NOT NULL
);

CREATE INDEX subscriber_sendable ON subscriber (status, frequency, suppressed);

-- One row per digest edition; the unique key makes scheduling idempotent across runs and nodes.
CREATE TABLE edition (
    edition_id   INTEGER PRIMARY KEY,
    frequency    TEXT NOT NULL,                      -- daily | weekly
    period_key   TEXT NOT NULL,                      -- 2026-08-21 | 2026-W34
    -- The candidate papers, frozen when the edition is created, as a JSON array of ids in order.
    paper_ids    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (frequency, period_key)
);

-- Every mail is a row here first. Unique per (recipient, purpose), so re-running a send never
-- queues a second copy. States: pending → sending → sent | failed | unknown | skipped.
-- `sending` rows whose lease expired (the sender died mid-send) become `unknown` and are never
-- retried: the mail may or may not have been accepted (RFC 1047), and we never send twice.
-- Digests and confirmations are rendered at send time from the subscriber and edition; mails
-- that must be rendered when queued (a login link, whose token is only kept hashed) carry their
-- subject and bodies here until they are sent, then the bodies are cleared.
CREATE TABLE outbox (
    outbox_id       INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subscriber_id   INTEGER REFERENCES subscriber (subscriber_id),
    kind            TEXT NOT NULL,                   -- confirm | digest | login | …
    dedupe_key      TEXT NOT NULL,                   -- confirm:<n> | digest:<edition_id> | …
    edition_id      INTEGER REFERENCES edition (edition_id),
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT,
    body_text       TEXT,
    body_html       TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (recipient, dedupe_key)
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_edition ON outbox (edition_id, status);
