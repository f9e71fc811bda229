//! Reading feeds for pages and the API: dated lists from the store, and the hot ranking.

use chrono::Duration;

use crate::app::App;
use crate::domain::Paper;
use crate::domain::ranking::{HOT_WINDOW_HOURS, hot_score, trending_clock};
use crate::store::{FeedQuery, Result};

/// A paper with its hot score.
pub struct Hot {
    pub paper: Paper,
    pub score: f64,
}

/// The global hot ranking (see `domain::ranking`), optionally for one submitter.
pub async fn hot_papers(
    app: &App,
    submitter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<Vec<Hot>> {
    let clock = trending_clock(app.now(), app.store.newest_submission().await?);
    let since = clock - Duration::hours(HOT_WINDOW_HOURS);
    let mut hot: Vec<Hot> = app
        .store
        .submitted_since(since)
        .await?
        .into_iter()
        .filter(|p| submitter.is_none_or(|u| submitter_of(p) == Some(u)))
        .filter_map(|paper| {
            let submitted_at = paper.feed.as_ref()?.submitted_at;
            let score = hot_score(paper.upvotes, submitted_at, clock);
            (score > 0.0).then_some(Hot { paper, score })
        })
        .collect();
    hot.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.paper.id.cmp(&b.paper.id))
    });
    Ok(hot.into_iter().skip(offset).take(limit).collect())
}

/// A dated (or undated) list, straight from the store.
pub async fn list(app: &App, query: &FeedQuery) -> Result<Vec<Paper>> {
    app.store.feed(query).await
}

fn submitter_of(paper: &Paper) -> Option<&str> {
    paper
        .feed
        .as_ref()
        .and_then(|f| f.submitter.as_ref())
        .map(|s| s.username.as_str())
}
