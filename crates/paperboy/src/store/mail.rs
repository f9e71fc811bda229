//! Subscribers, digest editions and the outbox: the store side of email.

use chrono::{DateTime, Duration, Utc};

use super::{Result, Store};
use crate::domain::subscription::{EditionKey, EmailAddress, Preferences};
use crate::domain::{ArxivId, Paper};

/// Where a subscriber is in the double opt-in life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberStatus {
    Pending,
    Confirmed,
    Unsubscribed,
}

impl SubscriberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Confirmed => "confirmed",
            SubscriberStatus::Unsubscribed => "unsubscribed",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriberStatus> {
        match s {
            "pending" => Some(SubscriberStatus::Pending),
            "confirmed" => Some(SubscriberStatus::Confirmed),
            "unsubscribed" => Some(SubscriberStatus::Unsubscribed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub email: EmailAddress,
    pub status: SubscriberStatus,
    pub prefs: Preferences,
    pub bounce_count: i64,
    pub suppressed: bool,
    /// Signed links carry this; bumping it revokes them all.
    pub token_version: i64,
}

/// What a subscribe request led to. The web answer is the same for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// A confirmation mail was queued.
    ConfirmQueued,
    /// A confirmation mail went out recently; nothing new was queued.
    Throttled,
    /// The address is already confirmed; nothing was queued.
    AlreadyConfirmed,
}

/// The kind of mail an outbox row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// A subscription confirmation, rendered at send time.
    Confirm,
    /// A digest edition, rendered at send time for its subscriber.
    Digest,
    /// A mail rendered when it was queued (a login link), stored until sent.
    Prerendered(MailContent),
    /// A kind this binary does not know (written by a newer version); not sent.
    Unknown(String),
}

/// A rendered mail's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A transactional mail to queue: rendered now, sent by the outbox sender like any other row.
#[derive(Debug, Clone)]
pub struct QueuedMail<'a> {
    pub recipient: &'a EmailAddress,
    /// A short name such as `login`, for logs and counts.
    pub kind: &'a str,
    /// Unique per recipient: queueing the same key twice queues one mail.
    pub dedupe_key: &'a str,
    /// With angle brackets, e.g. `<login-42@papers.example.org>`.
    pub message_id: &'a str,
    pub content: MailContent,
}

/// An outbox row claimed for sending.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub outbox_id: i64,
    pub kind: MailKind,
    pub recipient: EmailAddress,
    pub edition_id: Option<i64>,
    pub message_id: String,
    pub attempts: i64,
    /// The subscriber, for confirmations and digests.
    pub subscriber: Option<Subscriber>,
}

/// Which pending outbox rows to claim.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub now: DateTime<Utc>,
    /// Rows whose retry time is at or before this. The worker passes `now`; a one-off
    /// `digest send` passes a far future time, so rows waiting for a retry go out now.
    pub due_by: DateTime<Utc>,
    /// Skip rows attempted at or after this time: a one-off run tries each row once.
    pub not_attempted_since: Option<DateTime<Utc>>,
    pub lease_until: DateTime<Utc>,
    pub limit: u32,
}

/// A digest edition: its key and the candidate papers, frozen at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct Edition {
    pub id: i64,
    pub key: EditionKey,
    pub paper_ids: Vec<ArxivId>,
}

/// How an attempt to send an outbox row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    Sent,
    /// Try again at `at` (4xx, connection refused, …).
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Permanently rejected (5xx): counts as a bounce.
    Bounced {
        error: String,
    },
    /// Gave up after too many attempts.
    Failed {
        error: String,
    },
    /// The outcome cannot be known (the connection broke after the data was sent).
    Unknown {
        error: String,
    },
    /// Not sent: the subscriber unsubscribed or was suppressed since the row was queued.
    Skipped {
        reason: String,
    },
}

/// Outbox rows of an edition by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
    pub skipped: i64,
}

impl Store {
    /// Records a subscribe request for `email`, queueing a confirmation mail unless one went out
    /// within `throttle` or the address is already confirmed.
    pub async fn request_subscription(
        &self,
        email: &EmailAddress,
        now: DateTime<Utc>,
        throttle: Duration,
        host: &str,
    ) -> Result<SubscribeOutcome> {
        match self {
            Store::Sqlite(s) => s.request_subscription(email, now, throttle, host).await,
        }
    }

    /// Queues a mail rendered by the caller; false if one with the same key was queued before.
    pub async fn queue_mail(&self, mail: &QueuedMail<'_>, now: DateTime<Utc>) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.queue_mail(mail, now).await,
        }
    }

    pub async fn subscriber(&self, id: i64) -> Result<Subscriber> {
        match self {
            Store::Sqlite(s) => s.subscriber(id).await,
        }
    }

    pub async fn subscriber_by_email(&self, email: &EmailAddress) -> Result<Subscriber> {
        match self {
            Store::Sqlite(s) => s.subscriber_by_email(email).await,
        }
    }

    /// Confirms a pending (or re-confirms an unsubscribed) subscriber.
    pub async fn confirm_subscriber(&self, id: i64, now: DateTime<Utc>) -> Result<Subscriber> {
        match self {
            Store::Sqlite(s) => s.confirm_subscriber(id, now).await,
        }
    }

    /// Unsubscribes; idempotent. Committed before it returns, so the next send skips the address.
    pub async fn unsubscribe(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.unsubscribe(id, now).await,
        }
    }

    pub async fn update_preferences(
        &self,
        id: i64,
        prefs: &Preferences,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.update_preferences(id, prefs, now).await,
        }
    }

    /// Creates the edition for `key` with these candidate papers, or returns the existing one.
    pub async fn create_edition(
        &self,
        key: EditionKey,
        paper_ids: &[ArxivId],
        now: DateTime<Utc>,
    ) -> Result<Edition> {
        match self {
            Store::Sqlite(s) => s.create_edition(key, paper_ids, now).await,
        }
    }

    pub async fn edition(&self, id: i64) -> Result<Edition> {
        match self {
            Store::Sqlite(s) => s.edition(id).await,
        }
    }

    pub async fn find_edition(&self, key: EditionKey) -> Result<Option<Edition>> {
        match self {
            Store::Sqlite(s) => s.find_edition(key).await,
        }
    }

    /// Queues the edition for every confirmed, unsuppressed subscriber of its frequency, in one
    /// transaction. Rows that exist already are left alone, so this is idempotent.
    pub async fn enqueue_edition(
        &self,
        edition: &Edition,
        now: DateTime<Utc>,
        host: &str,
    ) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.enqueue_edition(edition, now, host).await,
        }
    }

    /// Turns `sending` rows whose lease expired into `unknown`; returns how many.
    pub async fn expire_send_leases(&self, now: DateTime<Utc>) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.expire_send_leases(now).await,
        }
    }

    /// In one transaction: records the outcomes of the sends `settled` (a bounce counts against
    /// its subscriber, and after `bounce_limit` the address is no longer mailed), then claims
    /// pending rows as `claim` describes, marking them `sending` under a lease.
    pub async fn claim_outbox(
        &self,
        settled: &[(i64, SendResult)],
        bounce_limit: i64,
        claim: &Claim,
    ) -> Result<Vec<OutboxItem>> {
        match self {
            Store::Sqlite(s) => s.claim_outbox(settled, bounce_limit, claim).await,
        }
    }

    pub async fn outbox_counts(&self, edition_id: Option<i64>) -> Result<OutboxCounts> {
        match self {
            Store::Sqlite(s) => s.outbox_counts(edition_id).await,
        }
    }

    /// Papers by id, in the order given; unknown ids are left out.
    pub async fn papers_by_id(&self, ids: &[ArxivId]) -> Result<Vec<Paper>> {
        match self {
            Store::Sqlite(s) => s.papers_by_id(ids).await,
        }
    }
}
