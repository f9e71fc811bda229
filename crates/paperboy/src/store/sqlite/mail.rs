//! SQL for subscribers, editions and the outbox.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite};

use super::papers::{PAPER_COLUMNS, paper_from_row};
use super::{SqliteStore, parse_time, time_text};
use crate::domain::subscription::{EditionKey, EmailAddress, Frequency, Preferences};
use crate::domain::{ArxivId, Paper, Period};
use crate::store::mail::{
    Claim, Edition, MailContent, MailKind, OutboxCounts, OutboxItem, QueuedMail, SendResult,
    SubscribeOutcome, Subscriber, SubscriberStatus,
};
use crate::store::{Result, StoreError};

const SUBSCRIBER_COLUMNS: &str = "subscriber_id, email, status, frequency, max_papers, min_upvotes, \
    include_categories, exclude_categories, include_keywords, exclude_keywords, bounce_count, suppressed, \
    token_version, confirm_sent_at";

impl SqliteStore {
    pub async fn request_subscription(
        &self,
        email: &EmailAddress,
        now: DateTime<Utc>,
        throttle: Duration,
        host: &str,
    ) -> Result<SubscribeOutcome> {
        let mut tx = self.begin_write().await?;
        let now_text = time_text(now);
        sqlx::query(
            "INSERT INTO subscriber (email, status, created_at, updated_at) VALUES (?, 'pending', ?, ?) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(email.as_str())
        .bind(&now_text)
        .bind(&now_text)
        .execute(&mut *tx)
        .await
        .context("recording a subscriber")?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUBSCRIBER_COLUMNS}, confirm_requests FROM subscriber WHERE email = ?"
        )))
        .bind(email.as_str())
        .fetch_one(&mut *tx)
        .await
        .context("reading a subscriber")?;
        let subscriber = subscriber_from_row(&row)?;
        let last_sent: Option<String> =
            row.try_get("confirm_sent_at").context("confirm_sent_at")?;
        let requests: i64 = row
            .try_get("confirm_requests")
            .context("confirm_requests")?;
        if subscriber.status == SubscriberStatus::Confirmed && !subscriber.suppressed {
            return Ok(SubscribeOutcome::AlreadyConfirmed);
        }
        if let Some(last) = last_sent.map(|t| parse_time(&t)).transpose()?
            && now - last < throttle
        {
            return Ok(SubscribeOutcome::Throttled);
        }
        let n = requests + 1;
        sqlx::query(
            "UPDATE subscriber SET confirm_requests = ?, confirm_sent_at = ?, updated_at = ? WHERE subscriber_id = ?",
        )
        .bind(n)
        .bind(&now_text)
        .bind(&now_text)
        .bind(subscriber.id)
        .execute(&mut *tx)
        .await
        .context("counting confirmation requests")?;
        sqlx::query(
            "INSERT INTO outbox (recipient, subscriber_id, kind, dedupe_key, message_id, next_attempt_at, created_at) \
             VALUES (?, ?, 'confirm', ?, '<' || ? || '.' || lower(hex(randomblob(8))) || '@' || ? || '>', ?, ?) \
             ON CONFLICT (recipient, dedupe_key) DO NOTHING",
        )
        .bind(email.as_str())
        .bind(subscriber.id)
        .bind(format!("confirm:{n}"))
        .bind(format!("confirm-{}-{n}", subscriber.id))
        .bind(host)
        .bind(&now_text)
        .bind(&now_text)
        .execute(&mut *tx)
        .await
        .context("queueing a confirmation mail")?;
        tx.commit().await.context("committing a subscription")?;
        Ok(SubscribeOutcome::ConfirmQueued)
    }

    pub async fn queue_mail(&self, mail: &QueuedMail<'_>, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO outbox (recipient, kind, dedupe_key, message_id, subject, body_text, body_html, \
             next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (recipient, dedupe_key) DO NOTHING",
        )
        .bind(mail.recipient.as_str())
        .bind(mail.kind)
        .bind(mail.dedupe_key)
        .bind(mail.message_id)
        .bind(&mail.content.subject)
        .bind(&mail.content.text)
        .bind(&mail.content.html)
        .bind(time_text(now))
        .bind(time_text(now))
        .execute(&mut *tx)
        .await
        .context("queueing a mail")?;
        tx.commit().await.context("committing a queued mail")?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn subscriber(&self, id: i64) -> Result<Subscriber> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscriber WHERE subscriber_id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .context("reading a subscriber")?
        .ok_or(StoreError::NotFound)?;
        subscriber_from_row(&row)
    }

    pub async fn subscriber_by_email(&self, email: &EmailAddress) -> Result<Subscriber> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscriber WHERE email = ?"
        )))
        .bind(email.as_str())
        .fetch_optional(&self.reader)
        .await
        .context("reading a subscriber")?
        .ok_or(StoreError::NotFound)?;
        subscriber_from_row(&row)
    }

    pub async fn confirm_subscriber(&self, id: i64, now: DateTime<Utc>) -> Result<Subscriber> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE subscriber SET status = 'confirmed', confirmed_at = COALESCE(confirmed_at, ?), \
             unsubscribed_at = NULL, updated_at = ? WHERE subscriber_id = ?",
        )
        .bind(time_text(now))
        .bind(time_text(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("confirming a subscriber")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.context("committing a confirmation")?;
        self.subscriber(id).await
    }

    pub async fn unsubscribe(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE subscriber SET status = 'unsubscribed', \
             unsubscribed_at = COALESCE(unsubscribed_at, ?), updated_at = ? WHERE subscriber_id = ?",
        )
        .bind(time_text(now))
        .bind(time_text(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("unsubscribing")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Anything still queued for this address is dropped now, not at send time only.
        sqlx::query(
            "UPDATE outbox SET status = 'skipped', last_error = 'unsubscribed' \
             WHERE subscriber_id = ? AND status = 'pending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("dropping queued mail")?;
        tx.commit().await.context("committing an unsubscribe")?;
        Ok(())
    }

    pub async fn update_preferences(
        &self,
        id: i64,
        prefs: &Preferences,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE subscriber SET frequency = ?, max_papers = ?, min_upvotes = ?, include_categories = ?, \
             exclude_categories = ?, include_keywords = ?, exclude_keywords = ?, updated_at = ? \
             WHERE subscriber_id = ?",
        )
        .bind(prefs.frequency.as_str())
        .bind(i64::from(prefs.max_papers))
        .bind(prefs.min_upvotes)
        .bind(json(&prefs.include_categories))
        .bind(json(&prefs.exclude_categories))
        .bind(json(&prefs.include_keywords))
        .bind(json(&prefs.exclude_keywords))
        .bind(time_text(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("saving preferences")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.context("committing preferences")?;
        Ok(())
    }

    pub async fn create_edition(
        &self,
        key: EditionKey,
        paper_ids: &[ArxivId],
        now: DateTime<Utc>,
    ) -> Result<Edition> {
        let ids: Vec<&str> = paper_ids.iter().map(ArxivId::as_str).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO edition (frequency, period_key, paper_ids, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (frequency, period_key) DO NOTHING",
        )
        .bind(key.frequency().as_str())
        .bind(key.period_key())
        .bind(serde_json::to_string(&ids).expect("strings serialise"))
        .bind(time_text(now))
        .execute(&mut *tx)
        .await
        .context("creating an edition")?;
        tx.commit().await.context("committing an edition")?;
        self.find_edition(key)
            .await?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("edition vanished after insert")))
    }

    pub async fn edition(&self, id: i64) -> Result<Edition> {
        let row = sqlx::query(
            "SELECT edition_id, frequency, period_key, paper_ids FROM edition WHERE edition_id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .context("reading an edition")?
        .ok_or(StoreError::NotFound)?;
        edition_from_row(&row)
    }

    pub async fn find_edition(&self, key: EditionKey) -> Result<Option<Edition>> {
        let row = sqlx::query(
            "SELECT edition_id, frequency, period_key, paper_ids FROM edition WHERE frequency = ? AND period_key = ?",
        )
        .bind(key.frequency().as_str())
        .bind(key.period_key())
        .fetch_optional(&self.writer)
        .await
        .context("finding an edition")?;
        row.as_ref().map(edition_from_row).transpose()
    }

    pub async fn enqueue_edition(
        &self,
        edition: &Edition,
        now: DateTime<Utc>,
        host: &str,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        // The Message-ID names (edition, subscriber), fixed when the row is queued, so a retry
        // of the same mail carries the same one. A random part keeps it unique across
        // databases: a site started afresh numbers its editions from 1 again, and mail clients
        // drop a message whose Message-ID they have already seen.
        let done = sqlx::query(
            "INSERT INTO outbox (recipient, subscriber_id, kind, dedupe_key, edition_id, message_id, next_attempt_at, created_at) \
             SELECT email, subscriber_id, 'digest', ?, ?, \
               '<digest-' || ? || '-' || subscriber_id || '.' || lower(hex(randomblob(8))) || '@' || ? || '>', ?, ? \
             FROM subscriber WHERE status = 'confirmed' AND suppressed = 0 AND frequency = ? \
             ON CONFLICT (recipient, dedupe_key) DO NOTHING",
        )
        .bind(format!("digest:{}", edition.id))
        .bind(edition.id)
        .bind(edition.id)
        .bind(host)
        .bind(time_text(now))
        .bind(time_text(now))
        .bind(edition.key.frequency().as_str())
        .execute(&mut *tx)
        .await
        .context("queueing an edition")?;
        tx.commit().await.context("committing an edition queue")?;
        Ok(done.rows_affected())
    }

    pub async fn expire_send_leases(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'unknown', \
             last_error = 'the sender stopped while this mail was being sent; it may or may not have been delivered' \
             WHERE status = 'sending' AND lease_until < ?",
        )
        .bind(time_text(now))
        .execute(&mut *tx)
        .await
        .context("expiring send leases")?;
        tx.commit().await.context("committing lease expiry")?;
        Ok(done.rows_affected())
    }

    pub async fn claim_outbox(
        &self,
        settled: &[(i64, SendResult)],
        bounce_limit: i64,
        claim: &Claim,
    ) -> Result<Vec<OutboxItem>> {
        let (now, lease_until) = (claim.now, claim.lease_until);
        let mut tx = self.begin_write().await?;
        record_sends(&mut tx, settled, now, bounce_limit).await?;
        let claimed = sqlx::query(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ?, last_attempt_at = ? \
             WHERE outbox_id IN (SELECT outbox_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? \
               AND (? IS NULL OR last_attempt_at IS NULL OR last_attempt_at < ?) ORDER BY outbox_id LIMIT ?) \
             RETURNING outbox_id, recipient, subscriber_id, kind, edition_id, message_id, attempts, \
               subject, body_text, body_html",
        )
        .bind(time_text(lease_until))
        .bind(time_text(now))
        .bind(time_text(claim.due_by))
        .bind(claim.not_attempted_since.map(time_text))
        .bind(claim.not_attempted_since.map(time_text))
        .bind(i64::from(claim.limit))
        .fetch_all(&mut *tx)
        .await
        .context("claiming outbox rows")?;
        tx.commit().await.context("committing an outbox claim")?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut subscriber_ids: Vec<i64> = claimed
            .iter()
            .map(|r| r.try_get::<Option<i64>, _>("subscriber_id"))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("subscriber_id")?
            .into_iter()
            .flatten()
            .collect();
        subscriber_ids.sort_unstable();
        subscriber_ids.dedup();
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscriber WHERE subscriber_id IN ("
        ));
        let mut sep = qb.separated(", ");
        for id in &subscriber_ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        let subscribers: HashMap<i64, Subscriber> = if subscriber_ids.is_empty() {
            HashMap::new()
        } else {
            qb.build()
                .fetch_all(&self.reader)
                .await
                .context("reading claimed subscribers")?
                .iter()
                .map(|r| subscriber_from_row(r).map(|s| (s.id, s)))
                .collect::<Result<_>>()?
        };
        let mut items = Vec::with_capacity(claimed.len());
        for row in &claimed {
            let subscriber_id: Option<i64> =
                row.try_get("subscriber_id").context("subscriber_id")?;
            let kind: String = row.try_get("kind").context("kind")?;
            let recipient: String = row.try_get("recipient").context("recipient")?;
            let subject: Option<String> = row.try_get("subject").context("subject")?;
            let content = match subject {
                Some(subject) => Some(MailContent {
                    subject,
                    text: row
                        .try_get::<Option<String>, _>("body_text")
                        .context("body_text")?
                        .unwrap_or_default(),
                    html: row
                        .try_get::<Option<String>, _>("body_html")
                        .context("body_html")?
                        .unwrap_or_default(),
                }),
                None => None,
            };
            items.push(OutboxItem {
                outbox_id: row.try_get("outbox_id").context("outbox_id")?,
                kind: match (kind.as_str(), content) {
                    ("confirm", _) => MailKind::Confirm,
                    ("digest", _) => MailKind::Digest,
                    (_, Some(content)) => MailKind::Prerendered(content),
                    (other, None) => MailKind::Unknown(other.to_owned()),
                },
                recipient: EmailAddress::parse(&recipient)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("stored recipient: {e}")))?,
                edition_id: row.try_get("edition_id").context("edition_id")?,
                message_id: row.try_get("message_id").context("message_id")?,
                attempts: row.try_get("attempts").context("attempts")?,
                subscriber: subscriber_id.and_then(|id| subscribers.get(&id).cloned()),
            });
        }
        Ok(items)
    }

    pub async fn outbox_counts(&self, edition_id: Option<i64>) -> Result<OutboxCounts> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE (? IS NULL OR edition_id = ?) GROUP BY status",
        )
        .bind(edition_id)
        .bind(edition_id)
        .fetch_all(&self.reader)
        .await
        .context("counting outbox rows")?;
        let mut counts = OutboxCounts::default();
        for row in rows {
            let status: String = row.try_get("status").context("status")?;
            let n: i64 = row.try_get("n").context("n")?;
            match status.as_str() {
                "pending" => counts.pending = n,
                "sending" => counts.sending = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                "unknown" => counts.unknown = n,
                "skipped" => counts.skipped = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    pub async fn papers_by_id(&self, ids: &[ArxivId]) -> Result<Vec<Paper>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {PAPER_COLUMNS} FROM paper p LEFT JOIN account a ON a.account_id = p.submitter_id \
             WHERE p.paper_id IN ("
        ));
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.to_string());
        }
        qb.push(")");
        let mut by_id: HashMap<String, Paper> = qb
            .build()
            .fetch_all(&self.reader)
            .await
            .context("reading papers by id")?
            .iter()
            .map(|r| paper_from_row(r).map(|o| (o.paper.id.to_string(), o.paper)))
            .collect::<Result<_>>()?;
        Ok(ids
            .iter()
            .filter_map(|id| by_id.remove(id.as_str()))
            .collect())
    }
}

fn subscriber_from_row(row: &SqliteRow) -> Result<Subscriber> {
    let text = |name: &str| -> Result<String> {
        Ok(row
            .try_get::<String, _>(name)
            .with_context(|| name.to_owned())?)
    };
    let list = |name: &str| -> Result<Vec<String>> {
        let t = text(name)?;
        Ok(serde_json::from_str(&t).with_context(|| format!("stored list {name}"))?)
    };
    let email = text("email")?;
    let status = text("status")?;
    let frequency = text("frequency")?;
    Ok(Subscriber {
        id: row.try_get("subscriber_id").context("subscriber_id")?,
        email: EmailAddress::parse(&email)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("stored email: {e}")))?,
        status: SubscriberStatus::parse(&status)
            .with_context(|| format!("stored status {status:?}"))?,
        prefs: Preferences {
            frequency: Frequency::parse(&frequency)
                .with_context(|| format!("stored frequency {frequency:?}"))?,
            max_papers: u32::try_from(row.try_get::<i64, _>("max_papers").context("max_papers")?)
                .unwrap_or(10),
            min_upvotes: row.try_get("min_upvotes").context("min_upvotes")?,
            include_categories: list("include_categories")?,
            exclude_categories: list("exclude_categories")?,
            include_keywords: list("include_keywords")?,
            exclude_keywords: list("exclude_keywords")?,
        },
        bounce_count: row.try_get("bounce_count").context("bounce_count")?,
        suppressed: row.try_get::<i64, _>("suppressed").context("suppressed")? != 0,
        token_version: row.try_get("token_version").context("token_version")?,
    })
}

fn edition_from_row(row: &SqliteRow) -> Result<Edition> {
    let frequency: String = row.try_get("frequency").context("frequency")?;
    let period_key: String = row.try_get("period_key").context("period_key")?;
    let key = match frequency.as_str() {
        "daily" => Period::parse_day(&period_key).map(|p| EditionKey::Daily(p.first_day())),
        _ => Period::parse_week(&period_key)
            .map(|p| EditionKey::Weekly(chrono::Datelike::iso_week(&p.first_day()))),
    }
    .map_err(|e| StoreError::Other(anyhow::anyhow!("stored edition key: {e}")))?;
    let ids: Vec<String> =
        serde_json::from_str(&row.try_get::<String, _>("paper_ids").context("paper_ids")?)
            .context("paper ids")?;
    Ok(Edition {
        id: row.try_get("edition_id").context("edition_id")?,
        key,
        paper_ids: ids
            .iter()
            .map(|i| ArxivId::parse(i))
            .collect::<std::result::Result<_, _>>()
            .context("stored paper id")?,
    })
}

/// Records the outcome of send attempts within `tx`: each row that is still `sending` gets its
/// new status, and a bounce counts against its subscriber.
async fn record_sends(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    results: &[(i64, SendResult)],
    now: DateTime<Utc>,
    bounce_limit: i64,
) -> Result<()> {
    let now_text = time_text(now);
    for (outbox_id, result) in results {
        let (status, error, next_at) = match result {
            SendResult::Sent => ("sent", None, None),
            SendResult::Retry { at, error } => {
                ("pending", Some(error.as_str()), Some(time_text(*at)))
            }
            SendResult::Bounced { error } | SendResult::Failed { error } => {
                ("failed", Some(error.as_str()), None)
            }
            SendResult::Unknown { error } => ("unknown", Some(error.as_str()), None),
            SendResult::Skipped { reason } => ("skipped", Some(reason.as_str()), None),
        };
        sqlx::query(
            "UPDATE outbox SET status = ?, last_error = ?, lease_until = NULL, \
                 next_attempt_at = COALESCE(?, next_attempt_at), \
                 sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, \
                 body_text = CASE WHEN ? = 'pending' THEN body_text END, \
                 body_html = CASE WHEN ? = 'pending' THEN body_html END \
                 WHERE outbox_id = ? AND status = 'sending'",
        )
        .bind(status)
        .bind(error)
        .bind(next_at)
        .bind(status)
        .bind(&now_text)
        .bind(status)
        .bind(status)
        .bind(outbox_id)
        .execute(&mut **tx)
        .await
        .context("recording a send")?;
        if matches!(result, SendResult::Bounced { .. }) {
            sqlx::query(
                    "UPDATE subscriber SET bounce_count = bounce_count + 1, \
                     suppressed = CASE WHEN bounce_count + 1 >= ? THEN 1 ELSE suppressed END, updated_at = ? \
                     WHERE subscriber_id = (SELECT subscriber_id FROM outbox WHERE outbox_id = ?)",
                )
                .bind(bounce_limit)
                .bind(&now_text)
                .bind(outbox_id)
                .execute(&mut **tx)
                .await
                .context("recording a bounce")?;
        }
    }
    Ok(())
}
