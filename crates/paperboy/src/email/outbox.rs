//! The sender: claims outbox rows, renders each mail, sends it over SMTP and records the outcome.
//!
//! Rows go out in rounds of one per SMTP connection. Each round's rows are marked `sending`
//! with a lease before any of them is sent, in the same transaction that records the previous
//! round's outcomes, so a round costs one commit. If the process dies, the rows of the round in
//! flight (at most one per connection, each in an SMTP transaction) stay `sending` until their
//! lease runs out and then become `unknown`: they may have been accepted by the server, so they
//! are never retried (the RFC 1047 window). Every other row is still `pending` and goes out at
//! the next run. `unknown` rows are counted and reported, never hidden.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt as _};
use lettre::AsyncTransport as _;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::Mailer;
use super::message::{self, ListHeaders};
use super::render::{self, DigestPaper, RecipientLinks};
use super::token::{Purpose, TokenClaims};
use crate::domain::Paper;
use crate::domain::subscription::Frequency;
use crate::store::Store;
use crate::store::mail::{Claim, Edition, MailKind, OutboxItem, SendResult, SubscriberStatus};

/// After this many attempts a row is given up as `failed`.
pub const MAX_ATTEMPTS: i64 = 10;

/// What one sending run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: u64,
    pub retry_later: u64,
    pub bounced: u64,
    pub failed: u64,
    pub unknown: u64,
    pub skipped: u64,
    /// Rows found `sending` from a sender that died, now `unknown`.
    pub expired_leases: u64,
    /// Why the first mail left for later could not be sent (the SMTP error).
    pub retry_reason: Option<String>,
}

/// How a run picks rows.
#[derive(Debug, Clone, Copy)]
pub enum RunMode {
    /// The long-running worker: only rows whose retry time has come.
    Due,
    /// A one-off run (`digest send`): every pending row once, retry times ignored.
    Once,
}

/// Sends until no claimable row is left.
pub async fn send_pending(
    store: &Store,
    mailer: &Mailer,
    mode: RunMode,
) -> anyhow::Result<SendReport> {
    let started = Utc::now();
    let mut report = SendReport {
        expired_leases: store.expire_send_leases(started).await?,
        ..Default::default()
    };
    if !mailer.can_send() {
        return Ok(report);
    }
    let pacer = Pacer::new(mailer.rate_per_second);
    let mut editions: HashMap<i64, Arc<EditionContent>> = HashMap::new();
    // The outcomes of the last round, recorded in the transaction that claims the next one.
    let mut settled: Vec<(i64, SendResult)> = Vec::new();
    loop {
        let claim = |now: DateTime<Utc>| Claim {
            now,
            due_by: match mode {
                RunMode::Due => now,
                RunMode::Once => now + Duration::days(3650),
            },
            not_attempted_since: match mode {
                RunMode::Due => None,
                RunMode::Once => Some(started),
            },
            lease_until: now + mailer.send_lease,
            limit: mailer.connections,
        };
        // Keep trying while outcomes wait to be recorded: those mails are out, and forgetting
        // that would send them twice.
        let mut delay = StdDuration::from_millis(100);
        let batch = loop {
            match store
                .claim_outbox(&settled, mailer.bounce_limit, &claim(Utc::now()))
                .await
            {
                Ok(batch) => break batch,
                Err(e) if settled.is_empty() => return Err(e.into()),
                Err(e) => {
                    tracing::error!(error = ?e, "recording sent mail failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(StdDuration::from_secs(10));
                }
            }
        };
        if batch.is_empty() {
            return Ok(report);
        }
        for item in &batch {
            if let Some(id) = item.edition_id
                && !editions.contains_key(&id)
            {
                let edition = store.edition(id).await?;
                editions.insert(
                    id,
                    Arc::new(EditionContent::load(store, edition, &mailer.site_url).await?),
                );
            }
        }
        settled = stream::iter(batch)
            .map(|item| {
                let content = item.edition_id.and_then(|id| editions.get(&id).cloned());
                let pacer = &pacer;
                async move {
                    let result = deliver(mailer, &item, content.as_deref(), pacer).await;
                    (item.outbox_id, result)
                }
            })
            .buffer_unordered(mailer.connections as usize)
            .collect()
            .await;
        for (_, r) in &settled {
            match r {
                SendResult::Sent => report.sent += 1,
                SendResult::Retry { error, .. } => {
                    report.retry_later += 1;
                    report.retry_reason.get_or_insert_with(|| error.clone());
                }
                SendResult::Bounced { .. } => report.bounced += 1,
                SendResult::Failed { .. } => report.failed += 1,
                SendResult::Unknown { .. } => report.unknown += 1,
                SendResult::Skipped { .. } => report.skipped += 1,
            }
        }
    }
}

/// An edition's papers, loaded once per run and shared by every recipient.
pub struct EditionContent {
    edition: Edition,
    papers: Vec<Paper>,
    rendered: Vec<DigestPaper>,
}

impl EditionContent {
    pub async fn load(
        store: &Store,
        edition: Edition,
        site_url: &str,
    ) -> anyhow::Result<EditionContent> {
        let papers = store.papers_by_id(&edition.paper_ids).await?;
        let rendered = papers
            .iter()
            .map(|p| DigestPaper::new(p, site_url))
            .collect();
        Ok(EditionContent {
            edition,
            papers,
            rendered,
        })
    }

    /// The edition as one subscriber's preferences cut it.
    pub fn render_for(
        &self,
        mailer: &Mailer,
        prefs: &crate::domain::subscription::Preferences,
        links: &RecipientLinks,
    ) -> anyhow::Result<Option<render::Rendered>> {
        let chosen: Vec<usize> = self
            .papers
            .iter()
            .enumerate()
            .filter(|(_, p)| prefs.admits(p))
            .map(|(i, _)| i)
            .take(prefs.max_papers as usize)
            .collect();
        if chosen.is_empty() {
            return Ok(None);
        }
        let filtered = chosen.len() < self.papers.len().min(prefs.max_papers as usize);
        let picked: Vec<&DigestPaper> = chosen.iter().map(|&i| &self.rendered[i]).collect();
        render::digest(&mailer.site(), self.edition.key, &picked, filtered, links)
            .map(Some)
            .context("rendering a digest")
    }
}

/// The signed links of one subscriber.
pub fn recipient_links(
    mailer: &Mailer,
    subscriber_id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> RecipientLinks {
    let claims = TokenClaims {
        subscriber_id,
        version,
    };
    RecipientLinks {
        preferences_url: format!(
            "{}/preferences/{}",
            mailer.site_url,
            mailer.signer.sign(Purpose::Preferences, claims, now)
        ),
        unsubscribe_url: format!(
            "{}/unsubscribe/{}",
            mailer.site_url,
            mailer.signer.sign(Purpose::Unsubscribe, claims, now)
        ),
    }
}

/// Renders and sends one row, returning what to record.
async fn deliver(
    mailer: &Mailer,
    item: &OutboxItem,
    edition: Option<&EditionContent>,
    pacer: &Pacer,
) -> SendResult {
    let message = match build_message(mailer, item, edition) {
        Ok(m) => m,
        Err(Outcome(result)) => return result,
    };
    let Some(transport) = mailer.transport.as_ref() else {
        return retry(item, "no SMTP server configured".into());
    };
    pacer.wait().await;
    match transport.send(message).await {
        Ok(response) if response.is_positive() => SendResult::Sent,
        Ok(response) => retry(item, format!("unexpected reply {}", response.code())),
        Err(e) if e.is_permanent() => SendResult::Bounced {
            error: e.to_string(),
        },
        Err(e) if e.is_transient() => retry(item, e.to_string()),
        // A timeout may strike after the data was sent: the RFC 1047 window.
        Err(e) if e.is_timeout() => SendResult::Unknown {
            error: e.to_string(),
        },
        Err(e) => retry(item, e.to_string()),
    }
}

/// A decision reached before any SMTP traffic (skip, fail).
struct Outcome(SendResult);

fn skip(reason: impl Into<String>) -> Outcome {
    Outcome(SendResult::Skipped {
        reason: reason.into(),
    })
}

/// The message for a row, or the outcome that replaces sending it.
fn build_message(
    mailer: &Mailer,
    item: &OutboxItem,
    edition: Option<&EditionContent>,
) -> Result<lettre::Message, Outcome> {
    let now = Utc::now();
    let failed = |e: anyhow::Error| {
        Outcome(SendResult::Failed {
            error: format!("{e:#}"),
        })
    };
    let built = match &item.kind {
        MailKind::Prerendered(content) => {
            let rendered = render::Rendered {
                subject: content.subject.clone(),
                text: content.text.clone(),
                html: content.html.clone(),
            };
            message::build(
                &mailer.from,
                &item.recipient,
                &rendered,
                &item.message_id,
                None,
                mailer.dkim.as_ref(),
            )
        }
        MailKind::Unknown(kind) => {
            return Err(Outcome(SendResult::Failed {
                error: format!("unknown mail kind {kind:?}"),
            }));
        }
        MailKind::Confirm | MailKind::Digest => {
            let Some(subscriber) = item.subscriber.as_ref() else {
                return Err(failed(anyhow::anyhow!("the row names no subscriber")));
            };
            if subscriber.suppressed {
                return Err(skip("address suppressed after bounces"));
            }
            let claims = TokenClaims {
                subscriber_id: subscriber.id,
                version: subscriber.token_version,
            };
            if item.kind == MailKind::Confirm {
                if subscriber.status == SubscriberStatus::Confirmed {
                    return Err(skip("already confirmed"));
                }
                let url = format!(
                    "{}/subscribe/confirm?t={}",
                    mailer.site_url,
                    mailer.signer.sign(Purpose::Confirm, claims, now)
                );
                render::confirmation(&mailer.site(), &url)
                    .context("rendering a confirmation")
                    .and_then(|r| {
                        message::build(
                            &mailer.from,
                            &subscriber.email,
                            &r,
                            &item.message_id,
                            None,
                            mailer.dkim.as_ref(),
                        )
                    })
            } else {
                if subscriber.status != SubscriberStatus::Confirmed
                    || subscriber.prefs.frequency == Frequency::Paused
                {
                    return Err(skip(format!(
                        "subscriber is {}",
                        subscriber.status.as_str()
                    )));
                }
                let Some(content) = edition else {
                    return Err(failed(anyhow::anyhow!("the row names no edition")));
                };
                let links = recipient_links(mailer, subscriber.id, subscriber.token_version, now);
                match content.render_for(mailer, &subscriber.prefs, &links) {
                    Ok(None) => return Err(skip("no paper matched the preferences")),
                    Ok(Some(r)) => {
                        let frequency = content.edition.key.frequency().as_str();
                        let list = ListHeaders {
                            list_id: format!(
                                "{} {frequency} digest <{frequency}.{}>",
                                super::SITE_NAME,
                                mailer.host
                            ),
                            unsubscribe_url: &links.unsubscribe_url,
                        };
                        message::build(
                            &mailer.from,
                            &subscriber.email,
                            &r,
                            &item.message_id,
                            Some(&list),
                            mailer.dkim.as_ref(),
                        )
                    }
                    Err(e) => Err(e),
                }
            }
        }
    };
    built.map_err(failed)
}

/// Backs off exponentially from 30 s, capped at an hour, with a little per-row spread.
fn retry(item: &OutboxItem, error: String) -> SendResult {
    if item.attempts >= MAX_ATTEMPTS {
        return SendResult::Failed {
            error: format!("gave up after {} attempts: {error}", item.attempts),
        };
    }
    let exponent = u32::try_from(item.attempts.clamp(1, 8) - 1).unwrap_or(0);
    let wait = (30i64 << exponent).min(3600) + item.outbox_id % 10;
    SendResult::Retry {
        at: Utc::now() + Duration::seconds(wait),
        error,
    }
}

/// Spaces sends to at most `rate` per second across all connections.
struct Pacer {
    interval: Option<StdDuration>,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(rate_per_second: f64) -> Pacer {
        Pacer {
            interval: (rate_per_second > 0.0)
                .then(|| StdDuration::from_secs_f64(1.0 / rate_per_second)),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// The long-running sender inside `serve`: sends what is due, then waits a little.
pub async fn run_worker(store: Store, mailer: Arc<Mailer>, wakeup: Arc<tokio::sync::Notify>) {
    loop {
        match send_pending(&store, &mailer, RunMode::Due).await {
            Ok(r) if r.sent + r.retry_later + r.bounced + r.failed + r.unknown + r.skipped > 0 => {
                tracing::info!(
                    sent = r.sent,
                    retry = r.retry_later,
                    bounced = r.bounced,
                    unknown = r.unknown,
                    "outbox run"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "outbox run failed"),
        }
        let _ = tokio::time::timeout(StdDuration::from_secs(5), wakeup.notified()).await;
    }
}
