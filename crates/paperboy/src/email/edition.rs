//! Digest editions: freezing a period's top papers, queueing them for subscribers, and the
//! schedule that does both inside `serve`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

use super::Mailer;
use crate::domain::subscription::EditionKey;
use crate::store::mail::Edition;
use crate::store::{FeedOrder, FeedQuery, Store};

/// Candidate papers frozen per edition; each subscriber gets their top `max_papers` of these
/// that pass their filters.
const CANDIDATES: u32 = 100;

/// The edition for `key`, creating it from the period's most upvoted papers if it is new.
/// Once created, an edition's paper list never changes: every recipient sees the same papers.
/// A period with no papers on the feed has no edition (None), and nothing is frozen, so papers
/// imported for it later still go out.
pub async fn prepare(
    store: &Store,
    key: EditionKey,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Edition>> {
    if let Some(existing) = store.find_edition(key).await? {
        return Ok(Some(existing));
    }
    let papers = store
        .feed(&FeedQuery {
            period: Some(key.period()),
            submitter: None,
            order: FeedOrder::Upvotes,
            offset: 0,
            limit: CANDIDATES,
        })
        .await?;
    if papers.is_empty() {
        return Ok(None);
    }
    let ids: Vec<_> = papers.into_iter().map(|p| p.id).collect();
    Ok(Some(store.create_edition(key, &ids, now).await?))
}

/// Prepares the edition and queues it for its subscribers; idempotent. Returns the edition and
/// how many new outbox rows were queued (0 for a repeated call), or None when the period has
/// no papers.
pub async fn queue(
    store: &Store,
    mailer: &Mailer,
    key: EditionKey,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(Edition, u64)>> {
    let Some(edition) = prepare(store, key, now).await? else {
        return Ok(None);
    };
    let queued = store.enqueue_edition(&edition, now, &mailer.host).await?;
    Ok(Some((edition, queued)))
}

/// Inside `serve`: once a minute, queue the editions that fall due today in the site's time
/// zone (yesterday's daily edition after a weekday, last week's weekly edition on Mondays).
/// Editions missed while the server was down are not sent late.
pub async fn run_schedule(store: Store, mailer: Arc<Mailer>, timezone: chrono_tz::Tz) {
    loop {
        let now = Utc::now();
        let today = now.with_timezone(&timezone).date_naive();
        for key in EditionKey::due_on(today) {
            match store.find_edition(key).await {
                Ok(Some(_)) => {}
                Ok(None) => match queue(&store, &mailer, key, now).await {
                    Ok(Some((edition, queued))) => {
                        tracing::info!(edition = edition.id, period = %key.period_key(), queued, "digest edition queued")
                    }
                    // Nothing on the feed for the period (yet): looked at again in a minute.
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = ?e, "queueing a digest edition failed"),
                },
                Err(e) => tracing::error!(error = ?e, "checking digest editions failed"),
            }
        }
        tokio::time::sleep(StdDuration::from_secs(60)).await;
    }
}
