//! Merging a newly observed paper record into the stored one, so that imports are idempotent.
//!
//! Every import source (paperboy JSONL, HF daily-papers responses, arXiv) yields [`Observed`]
//! records: a paper as some source saw it at some time. [`merge`] folds one into what the store
//! holds. The rules are chosen so that importing the same files again, in any order, changes
//! nothing, and newer observations win:
//!
//! - descriptive fields (title, abstract, authors, links, …) come from the newest observation
//!   that has them; an older observation only fills fields that are still empty;
//! - upvote and comment counts only grow (sources report lower bounds taken on some day);
//! - a paper keeps the first day it was put on the feed: HF never features a paper twice;
//! - versions are the union of all versions seen.

use chrono::{DateTime, Utc};

use super::paper::{FeedEntry, Paper, PaperVersion};

/// A paper as one source saw it, at `as_of`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub paper: Paper,
    pub as_of: DateTime<Utc>,
}

/// What merging did to the stored record.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeOutcome {
    /// The paper was new.
    Added(Observed),
    /// Content changed.
    Updated(Observed),
    /// Content is the same, but the observation is newer: store the new `as_of` only.
    Refreshed(Observed),
    /// Nothing to write.
    Unchanged,
}

/// Folds `incoming` into `stored` (None when the paper is not in the store yet).
pub fn merge(stored: Option<&Observed>, incoming: Observed) -> MergeOutcome {
    let Some(stored) = stored else {
        return MergeOutcome::Added(incoming);
    };
    let newer = incoming.as_of > stored.as_of;
    let (winner, loser) = if newer {
        (&incoming.paper, &stored.paper)
    } else {
        (&stored.paper, &incoming.paper)
    };
    let merged = Paper {
        id: stored.paper.id.clone(),
        title: pick_string(&winner.title, &loser.title),
        authors: pick_vec(&winner.authors, &loser.authors),
        summary: pick_string(&winner.summary, &loser.summary),
        categories: pick_vec(&winner.categories, &loser.categories),
        comments: pick(&winner.comments, &loser.comments),
        journal_ref: pick(&winner.journal_ref, &loser.journal_ref),
        doi: pick(&winner.doi, &loser.doi),
        license: pick(&winner.license, &loser.license),
        published_at: winner.published_at.or(loser.published_at),
        updated_at: winner.updated_at.or(loser.updated_at),
        versions: union_versions(&stored.paper.versions, &incoming.paper.versions),
        github_repo: pick(&winner.github_repo, &loser.github_repo),
        project_page: pick(&winner.project_page, &loser.project_page),
        ai_summary: pick(&winner.ai_summary, &loser.ai_summary),
        ai_keywords: pick_vec(&winner.ai_keywords, &loser.ai_keywords),
        upvotes: stored.paper.upvotes.max(incoming.paper.upvotes),
        num_comments: stored.paper.num_comments.max(incoming.paper.num_comments),
        feed: first_feed_entry(stored.paper.feed.as_ref(), incoming.paper.feed.as_ref()),
    };
    let as_of = stored.as_of.max(incoming.as_of);
    if merged != stored.paper {
        MergeOutcome::Updated(Observed {
            paper: merged,
            as_of,
        })
    } else if as_of != stored.as_of {
        MergeOutcome::Refreshed(Observed {
            paper: merged,
            as_of,
        })
    } else {
        MergeOutcome::Unchanged
    }
}

fn pick_string(winner: &str, loser: &str) -> String {
    if winner.is_empty() { loser } else { winner }.to_owned()
}

fn pick_vec(winner: &[String], loser: &[String]) -> Vec<String> {
    if winner.is_empty() { loser } else { winner }.to_vec()
}

fn pick(winner: &Option<String>, loser: &Option<String>) -> Option<String> {
    winner.clone().or_else(|| loser.clone())
}

fn union_versions(a: &[PaperVersion], b: &[PaperVersion]) -> Vec<PaperVersion> {
    let mut all: Vec<PaperVersion> = a.iter().chain(b).cloned().collect();
    // Sorting puts `created_at: None` first within a version; keep the last, dated one.
    all.sort();
    let mut out: Vec<PaperVersion> = Vec::with_capacity(all.len());
    for v in all {
        match out.last_mut() {
            Some(last) if last.version == v.version => *last = v,
            _ => out.push(v),
        }
    }
    out
}

fn first_feed_entry(stored: Option<&FeedEntry>, incoming: Option<&FeedEntry>) -> Option<FeedEntry> {
    match (stored, incoming) {
        (None, None) => None,
        (Some(s), None) => Some(s.clone()),
        (None, Some(i)) => Some(i.clone()),
        (Some(s), Some(i)) if i.daily_date < s.daily_date => Some(i.clone()),
        (Some(s), Some(i)) => {
            let mut kept = s.clone();
            if kept.submitter.is_none() && i.daily_date == s.daily_date {
                kept.submitter = i.submitter.clone();
            }
            Some(kept)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArxivId;
    use crate::domain::paper::midnight_utc;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 8, n).unwrap()
    }

    fn observed(title: &str, upvotes: i64, feed_day: Option<u32>, as_of_day: u32) -> Observed {
        let mut paper = Paper::new(ArxivId::parse("2608.00001").unwrap(), title);
        paper.upvotes = upvotes;
        paper.feed = feed_day.map(|d| FeedEntry {
            daily_date: day(d),
            submitted_at: midnight_utc(day(d)),
            submitter: None,
            position: 0,
        });
        Observed {
            paper,
            as_of: midnight_utc(day(as_of_day)),
        }
    }

    fn apply(stored: Option<Observed>, incoming: Observed) -> Option<Observed> {
        match merge(stored.as_ref(), incoming) {
            MergeOutcome::Added(o) | MergeOutcome::Updated(o) | MergeOutcome::Refreshed(o) => {
                Some(o)
            }
            MergeOutcome::Unchanged => stored,
        }
    }

    #[test]
    fn newer_observation_wins_descriptive_fields() {
        let merged = apply(
            Some(observed("Old", 1, None, 1)),
            observed("New", 1, None, 2),
        )
        .unwrap();
        assert_eq!(merged.paper.title, "New");
        let merged = apply(
            Some(observed("New", 1, None, 2)),
            observed("Old", 1, None, 1),
        )
        .unwrap();
        assert_eq!(merged.paper.title, "New");
    }

    #[test]
    fn counts_only_grow_and_first_feed_day_sticks() {
        let merged = apply(
            Some(observed("T", 9, Some(5), 5)),
            observed("T", 3, Some(7), 7),
        )
        .unwrap();
        assert_eq!(merged.paper.upvotes, 9);
        assert_eq!(merged.paper.feed.unwrap().daily_date, day(5));
    }

    #[test]
    fn same_record_twice_is_unchanged() {
        let o = observed("T", 4, Some(3), 3);
        assert_eq!(merge(Some(&o), o.clone()), MergeOutcome::Unchanged);
    }

    proptest! {
        /// Importing the same records a second time, in any order, changes nothing.
        #[test]
        fn reimport_is_a_no_op(records in prop::collection::vec(
            ("[a-c]{0,2}", 0i64..50, prop::option::of(1u32..28), 1u32..28), 1..8))
        {
            let records: Vec<Observed> = records
                .iter()
                .map(|(t, u, f, a)| observed(t, *u, *f, *a))
                .collect();
            let mut stored = None;
            for r in &records {
                stored = apply(stored, r.clone());
            }
            for r in records.iter().rev() {
                prop_assert_eq!(merge(stored.as_ref(), r.clone()), MergeOutcome::Unchanged);
            }
        }
    }
}
