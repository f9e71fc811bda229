//! What members do with papers: upvotes, saved papers, comments, submissions, and moderation.
//!
//! Member counts live in `paper.member_upvotes` and `paper.member_comments`, updated in the
//! same transaction as the rows they count, so they are exact under any concurrency.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Result, Store};
use crate::domain::{ArxivId, Paper};

/// A paper's vote state after a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteState {
    pub upvoted: bool,
    /// The paper's total upvotes (imported plus members').
    pub upvotes: i64,
}

/// A comment as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub paper_id: String,
    pub account_id: i64,
    pub username: String,
    pub fullname: String,
    /// Markdown source.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited: bool,
    pub hidden: bool,
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// The paper is on today's feed.
    Submitted(Box<Paper>),
    AlreadyOnFeed(NaiveDate),
    /// The member has already submitted this many papers today.
    DailyLimit(i64),
}

impl Store {
    /// Sets (`on`) or clears a member's upvote on a paper. Repeating it changes nothing.
    pub async fn set_upvote(
        &self,
        account_id: i64,
        paper: &ArxivId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<VoteState> {
        match self {
            Store::Sqlite(s) => s.set_upvote(account_id, paper, on, now).await,
        }
    }

    /// Which of `papers` the member has upvoted.
    pub async fn upvoted_among(
        &self,
        account_id: i64,
        papers: &[ArxivId],
    ) -> Result<HashSet<String>> {
        match self {
            Store::Sqlite(s) => s.upvoted_among(account_id, papers).await,
        }
    }

    /// Members who upvoted a paper, earliest first: (username, display name).
    pub async fn upvoters(&self, paper: &ArxivId, limit: u32) -> Result<Vec<(String, String)>> {
        match self {
            Store::Sqlite(s) => s.upvoters(paper, limit).await,
        }
    }

    pub async fn set_saved(
        &self,
        account_id: i64,
        paper: &ArxivId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.set_saved(account_id, paper, on, now).await,
        }
    }

    /// Which of `papers` the member has saved.
    pub async fn saved_among(
        &self,
        account_id: i64,
        papers: &[ArxivId],
    ) -> Result<HashSet<String>> {
        match self {
            Store::Sqlite(s) => s.saved_among(account_id, papers).await,
        }
    }

    /// The member's saved papers, most recently saved first.
    pub async fn saved_papers(&self, account_id: i64, limit: u32) -> Result<Vec<Paper>> {
        match self {
            Store::Sqlite(s) => s.saved_papers(account_id, limit).await,
        }
    }

    /// Gives the member a private saved-papers feed token (its SHA-256 hex digest), replacing
    /// any earlier one, whose URL stops working at once.
    pub async fn set_saved_feed_token(
        &self,
        account_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.set_saved_feed_token(account_id, token_hash, now).await,
        }
    }

    /// Revokes the member's saved-papers feed token; false if they had none.
    pub async fn revoke_saved_feed_token(&self, account_id: i64) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.revoke_saved_feed_token(account_id).await,
        }
    }

    /// When the member's current saved-papers feed token was made, if they have one.
    pub async fn saved_feed_token_created(&self, account_id: i64) -> Result<Option<DateTime<Utc>>> {
        match self {
            Store::Sqlite(s) => s.saved_feed_token_created(account_id).await,
        }
    }

    /// The member whose saved-papers feed token has this digest (None for an unknown or
    /// revoked token, or a banned member).
    pub async fn saved_feed_owner(&self, token_hash: &str) -> Result<Option<i64>> {
        match self {
            Store::Sqlite(s) => s.saved_feed_owner(token_hash).await,
        }
    }

    pub async fn add_comment(
        &self,
        account_id: i64,
        paper: &ArxivId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment> {
        match self {
            Store::Sqlite(s) => s.add_comment(account_id, paper, body, now).await,
        }
    }

    pub async fn comment(&self, id: i64) -> Result<Comment> {
        match self {
            Store::Sqlite(s) => s.comment(id).await,
        }
    }

    /// A paper's comments, oldest first; hidden ones only when `include_hidden` (for admins).
    /// Deleted comments are never listed.
    pub async fn comments(&self, paper: &ArxivId, include_hidden: bool) -> Result<Vec<Comment>> {
        match self {
            Store::Sqlite(s) => s.comments(paper, include_hidden).await,
        }
    }

    /// The newest comments across papers, hidden ones included, for the admin page.
    pub async fn recent_comments(&self, limit: u32) -> Result<Vec<Comment>> {
        match self {
            Store::Sqlite(s) => s.recent_comments(limit).await,
        }
    }

    /// Changes the body of the member's own comment; false if it is not theirs or deleted.
    pub async fn edit_comment(
        &self,
        account_id: i64,
        id: i64,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.edit_comment(account_id, id, body, now).await,
        }
    }

    /// Deletes the member's own comment; false if it is not theirs or already deleted.
    pub async fn delete_comment(
        &self,
        account_id: i64,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.delete_comment(account_id, id, now).await,
        }
    }

    /// Hides (or shows again) any comment; for admins.
    pub async fn set_comment_hidden(
        &self,
        id: i64,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.set_comment_hidden(id, hidden, now).await,
        }
    }

    /// Hides (or shows again) a paper in every feed list; for admins.
    pub async fn set_paper_hidden(
        &self,
        paper: &ArxivId,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.set_paper_hidden(paper, hidden, now).await,
        }
    }

    /// Papers hidden by admins, for the admin page.
    pub async fn hidden_papers(&self) -> Result<Vec<ArxivId>> {
        match self {
            Store::Sqlite(s) => s.hidden_papers().await,
        }
    }

    /// Puts a stored paper on `today`'s feed with the member as submitter, unless it is on the
    /// feed already or the member has reached `per_day` submissions since `day_start`.
    pub async fn submit_paper(
        &self,
        account_id: i64,
        paper: &ArxivId,
        today: NaiveDate,
        day_start: DateTime<Utc>,
        per_day: i64,
        now: DateTime<Utc>,
    ) -> Result<SubmitOutcome> {
        match self {
            Store::Sqlite(s) => {
                s.submit_paper(account_id, paper, today, day_start, per_day, now)
                    .await
            }
        }
    }
}
