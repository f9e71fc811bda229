-- Private feeds of saved papers: each member may hold one secret feed URL
-- (`/saved/{token}/feed.rss`, `.atom`, `.json`) that a feed reader can poll without a session.
--
-- As with the other secrets, only the SHA-256 hex digest of the token is stored: the raw token
-- is shown to the member once, when it is made. Making a new one replaces the row (the old URL
-- stops working at once); revoking deletes it. An unknown digest is a 404, as is a revoked one.

CREATE TABLE saved_feed_token (
    account_id INTEGER PRIMARY KEY REFERENCES account (account_id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
