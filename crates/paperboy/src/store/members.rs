//! Members, their login links, sessions and API tokens, and bans.
//!
//! Every secret arrives here already hashed (SHA-256 hex, see `web::session::digest`): the store
//! never sees a raw login token, session id or API token.

use chrono::{DateTime, Duration, Utc};

use super::{Result, Store};
use crate::domain::Submitter;
use crate::domain::member::Member;

/// What consuming a login link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The link was valid and is now used; the member (created on first login).
    LoggedIn(Member),
    /// No such link (mistyped, or never issued).
    Invalid,
    /// The link was used before.
    Used,
    Expired,
    /// The link was valid, but the member is banned.
    Banned,
}

/// The state of a login link, for the page its GET shows (which changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginTokenState {
    Valid,
    Invalid,
    Used,
    Expired,
}

/// A live session: its member and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub member: Member,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
}

/// A new session to write.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub session_hash: &'a str,
    pub account_id: i64,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The hash of the session this one replaces (rotation at login), deleted in the same write.
    pub replaces: Option<&'a str>,
}

/// An API token as its owner sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

/// What saving a profile did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileOutcome {
    Saved,
    UsernameTaken,
}

impl Store {
    /// The member with this (normalised) email, if any.
    pub async fn member_by_email(&self, email: &str) -> Result<Option<Member>> {
        match self {
            Store::Sqlite(s) => s.member_by_email(email).await,
        }
    }

    /// The public face of the account called `username`: a member, or a Hugging Face submitter
    /// an import brought in. None when there is no such account.
    pub async fn profile(&self, username: &str) -> Result<Option<Submitter>> {
        match self {
            Store::Sqlite(s) => s.profile(username).await,
        }
    }

    pub async fn member(&self, account_id: i64) -> Result<Member> {
        match self {
            Store::Sqlite(s) => s.member(account_id).await,
        }
    }

    /// Members, newest first, for the admin page.
    pub async fn members(&self, limit: u32) -> Result<Vec<Member>> {
        match self {
            Store::Sqlite(s) => s.members(limit).await,
        }
    }

    /// Finds or creates the member with `email`; a new member's username is derived from the
    /// address (made unique). `admin` grants the admin role (it never revokes it).
    pub async fn ensure_member(
        &self,
        email: &str,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Member> {
        match self {
            Store::Sqlite(s) => s.ensure_member(email, admin, now).await,
        }
    }

    /// Makes the member with `email` an admin; NotFound if there is none.
    pub async fn grant_admin(&self, email: &str) -> Result<Member> {
        match self {
            Store::Sqlite(s) => s.grant_admin(email).await,
        }
    }

    pub async fn update_profile(
        &self,
        account_id: i64,
        username: &str,
        fullname: &str,
    ) -> Result<ProfileOutcome> {
        match self {
            Store::Sqlite(s) => s.update_profile(account_id, username, fullname).await,
        }
    }

    /// Records a login link mailed to `email`, valid for `lifetime`.
    pub async fn create_login_token(
        &self,
        token_hash: &str,
        email: &str,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.create_login_token(token_hash, email, now, lifetime).await,
        }
    }

    pub async fn login_token_state(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<LoginTokenState> {
        match self {
            Store::Sqlite(s) => s.login_token_state(token_hash, now).await,
        }
    }

    /// Uses up a login link and returns its member, created on first login. One transaction:
    /// two concurrent POSTs of the same link log in once.
    pub async fn consume_login_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<LoginOutcome> {
        match self {
            Store::Sqlite(s) => s.consume_login_token(token_hash, now).await,
        }
    }

    pub async fn create_session(&self, session: &NewSession<'_>) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.create_session(session).await,
        }
    }

    /// The session with this hash if it is live: not past its absolute expiry, seen within
    /// `idle`, and its member not banned.
    pub async fn session(
        &self,
        session_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<SessionInfo>> {
        match self {
            Store::Sqlite(s) => s.session(session_hash, now, idle).await,
        }
    }

    pub async fn touch_session(&self, session_hash: &str, now: DateTime<Utc>) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.touch_session(session_hash, now).await,
        }
    }

    pub async fn delete_session(&self, session_hash: &str) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.delete_session(session_hash).await,
        }
    }

    pub async fn create_api_token(
        &self,
        account_id: i64,
        token_hash: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        match self {
            Store::Sqlite(s) => s.create_api_token(account_id, token_hash, name, now).await,
        }
    }

    pub async fn api_tokens(&self, account_id: i64) -> Result<Vec<ApiTokenInfo>> {
        match self {
            Store::Sqlite(s) => s.api_tokens(account_id).await,
        }
    }

    /// Revokes one of the member's tokens; false if it is not theirs or already revoked.
    pub async fn revoke_api_token(
        &self,
        account_id: i64,
        token_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.revoke_api_token(account_id, token_id, now).await,
        }
    }

    /// The member holding this API token, if it is live and they are not banned.
    pub async fn member_by_api_token(&self, token_hash: &str) -> Result<Option<Member>> {
        match self {
            Store::Sqlite(s) => s.member_by_api_token(token_hash).await,
        }
    }

    /// Bans a member: they can no longer log in or write. Their sessions and API tokens end,
    /// and their upvotes are removed (the papers' counts drop by them); comments and
    /// submissions stay, and admins can hide them one by one.
    pub async fn ban_member(&self, account_id: i64, now: DateTime<Utc>) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.ban_member(account_id, now).await,
        }
    }
}
