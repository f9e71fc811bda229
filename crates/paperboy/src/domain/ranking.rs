//! How feeds are ordered: the per-period sorts and the global hot score behind `/trending`.
//!
//! # Day, week and month lists
//! `trending` (the default) orders by upvotes, most first, and breaks ties by the order in which
//! papers reached the feed, earlier first. This is Hugging Face's order. `new` orders by arXiv
//! publication time, newest first.
//!
//! # The hot score
//! `/trending` ranks every paper on the feed in the last seven days by
//!
//! ```text
//! hot = log10(max(2, upvotes + 2)) / (hours_since_daily + 2)^1.8
//! ```
//!
//! and the score is zero from 168 hours (seven days) on. This is Lemmy's formula
//! (`hot_rank`): the logarithm makes the first votes count most, and the gravity of 1.8 makes
//! age win: a paper with 100 upvotes stays level with one with 10 that is about 1.4 times
//! younger (in hours on the feed plus two), so ten times the votes buys only some 40% more age.
//! `hours_since_daily` runs from the moment the paper was put on the feed.
//!
//! The clock is [`trending_clock`]: the current time, except that on an archive whose feed has
//! gone quiet (a demo database, or a site whose ingestion stopped) it stops a day after the last
//! submission, so `/trending` shows the last active week rather than an empty page.

use chrono::{DateTime, Duration, Utc};

/// Gravity of the hot score: how fast age outweighs votes.
pub const GRAVITY: f64 = 1.8;
/// Papers older than this on the feed score zero.
pub const HOT_WINDOW_HOURS: i64 = 7 * 24;

/// The order of a day, week or month list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedSort {
    /// Upvotes, most first; ties by arrival on the feed.
    #[default]
    Trending,
    /// arXiv publication time, newest first.
    New,
}

impl FeedSort {
    pub fn parse(s: &str) -> Option<FeedSort> {
        match s {
            "trending" => Some(FeedSort::Trending),
            "new" => Some(FeedSort::New),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FeedSort::Trending => "trending",
            FeedSort::New => "new",
        }
    }
}

/// The hot score of a paper with `upvotes`, put on the feed at `submitted_at`, seen at `now`.
pub fn hot_score(upvotes: i64, submitted_at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let age = now - submitted_at;
    if age < Duration::zero() || age >= Duration::hours(HOT_WINDOW_HOURS) {
        return 0.0;
    }
    let hours = age.num_milliseconds() as f64 / 3_600_000.0;
    let votes = (upvotes.saturating_add(2)).max(2) as f64;
    votes.log10() / (hours + 2.0).powf(GRAVITY)
}

/// The time the hot score is computed at: `now`, but at most a day after the newest submission.
pub fn trending_clock(
    now: DateTime<Utc>,
    newest_submission: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    match newest_submission {
        Some(newest) => now.min(newest + Duration::hours(24)),
        None => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn hot_score_matches_the_formula() {
        let s = hot_score(8, t(0), t(10));
        let want = 10f64.log10() / 12f64.powf(1.8);
        assert!((s - want).abs() < 1e-12);
    }

    #[test]
    fn ten_times_the_votes_balances_about_one_and_a_half_times_the_age() {
        // What the module docs and /about say: 100 upvotes at 1.4 × (h + 2) against 10 at h.
        let young = hot_score(10, t(0), t(48));
        let older = hot_score(100, t(0), t((50.0 * 1.41) as i64 - 2));
        assert!((older / young - 1.0).abs() < 0.02, "{older} vs {young}");
    }

    #[test]
    fn more_votes_rank_higher_at_equal_age() {
        assert!(hot_score(50, t(0), t(5)) > hot_score(10, t(0), t(5)));
    }

    #[test]
    fn age_decays_the_score() {
        assert!(hot_score(10, t(0), t(2)) > hot_score(10, t(0), t(30)));
    }

    #[test]
    fn score_is_zero_after_seven_days_and_for_the_future() {
        assert_eq!(hot_score(1000, t(0), t(168)), 0.0);
        assert_eq!(hot_score(1000, t(10), t(0)), 0.0);
        assert!(hot_score(1000, t(0), t(167)) > 0.0);
    }

    #[test]
    fn zero_and_negative_votes_share_the_floor() {
        assert_eq!(hot_score(0, t(0), t(1)), hot_score(-5, t(0), t(1)));
    }

    #[test]
    fn clock_stops_a_day_after_a_quiet_feed() {
        assert_eq!(trending_clock(t(100), Some(t(10))), t(34));
        assert_eq!(trending_clock(t(100), Some(t(90))), t(100));
        assert_eq!(trending_clock(t(100), None), t(100));
    }
}
