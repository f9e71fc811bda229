//! The incremental OAI-PMH harvest: per set, page by page, each page stored in the same
//! transaction as the checkpoint that points past it.
//!
//! A set's checkpoint holds the day the next harvest starts from and, while a list is in progress,
//! the resumption token of its next page. So a harvest killed at any point resumes at the first
//! page it had not stored, and a page that fails (a malformed document, a server that gave up)
//! leaves the checkpoint where it was: the next run asks for the same page again. Records merge
//! idempotently, so the overlap when a harvest starts again from the same day costs nothing.

use anyhow::{Context as _, anyhow};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use arxiv::oai::{ListRecords, ListRequest, MetadataFormat, OaiClient, OaiError, Record};

use super::arxiv::{as_of_day, observed_from_metadata};
use crate::domain::merge::Observed;
use crate::store::harvest::{HarvestCheckpoint, HarvestRun};
use crate::store::{Store, WriteCounts};

/// `arXivRaw` carries every version with its submission time, which the version history needs.
pub const FORMAT: MetadataFormat = MetadataFormat::ArxivRaw;

/// How far back a set's first harvest reaches when no `from` is given. The full history comes
/// from the bulk snapshot (`paperboy import --format arxiv-snapshot`), not from OAI-PMH.
pub const FIRST_HARVEST_DAYS: u64 = 7;

/// What to harvest. Serialised as the payload of a harvest job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarvestRequest {
    /// Records changed on or after this day; default: where the set's checkpoint stands.
    pub from: Option<NaiveDate>,
    /// Records changed on or before this day; default: up to now.
    pub until: Option<NaiveDate>,
    /// OAI-PMH sets; empty means the whole archive.
    pub sets: Vec<String>,
}

/// What happened, as it happens, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarvestEvent<'a> {
    Started {
        set: &'a str,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
        resumed: bool,
    },
    Page {
        set: &'a str,
        page: u64,
        records: usize,
        /// Records stored so far in this list, and in the whole list, when the server says.
        position: Option<u64>,
        complete_list_size: Option<u64>,
        counts: WriteCounts,
    },
    Skipped {
        set: &'a str,
        identifier: &'a str,
        reason: &'a str,
    },
    /// The resumption token was refused (it expired); the list starts again from its `from`.
    Restarted { set: &'a str, reason: String },
}

/// What one set's harvest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetReport {
    /// `""` for the whole archive.
    pub set: String,
    pub pages: u64,
    pub counts: WriteCounts,
    /// Records marked deleted upstream. They stay in the store: votes and comments hang on them.
    pub deleted: u64,
    /// Records present but unusable (a malformed id or date).
    pub skipped: u64,
    pub harvested_through: Option<NaiveDate>,
}

/// What a harvest did: one report per set (a set that failed reports the pages it committed
/// before it failed), and one error per set that failed.
#[derive(Debug, Default)]
pub struct HarvestReport {
    pub sets: Vec<SetReport>,
    pub failures: Vec<anyhow::Error>,
}

impl HarvestReport {
    pub fn totals(&self) -> SetReport {
        let mut total = SetReport::default();
        for s in &self.sets {
            total.pages += s.pages;
            total.counts.add(s.counts);
            total.deleted += s.deleted;
            total.skipped += s.skipped;
        }
        total
    }
}

/// Harvests every requested set in turn. A set that fails is reported and the others still
/// run; what a failed set stored before failing stays, with its checkpoint.
pub async fn harvest(
    store: &Store,
    oai: &OaiClient,
    request: &HarvestRequest,
    today: NaiveDate,
    mut on_event: impl FnMut(HarvestEvent<'_>),
) -> anyhow::Result<HarvestReport> {
    let whole_archive = [String::new()];
    let sets = if request.sets.is_empty() {
        &whole_archive[..]
    } else {
        &request.sets[..]
    };
    let mut report = HarvestReport::default();
    for set in sets {
        let mut set_report = SetReport {
            set: set.to_owned(),
            ..SetReport::default()
        };
        let outcome = harvest_set(
            store,
            oai,
            set,
            request,
            today,
            &mut set_report,
            &mut on_event,
        )
        .await;
        // A set that failed part-way still reports the pages it committed.
        report.sets.push(set_report);
        if let Err(e) = outcome {
            report
                .failures
                .push(e.context(format!("harvesting {}", set_label(set))));
        }
    }
    Ok(report)
}

/// `"all sets"` for the whole archive, else `set cs`.
pub fn set_label(set: &str) -> String {
    if set.is_empty() {
        "the whole archive".to_owned()
    } else {
        format!("set {set}")
    }
}

/// Where the next page comes from.
enum Next {
    Start {
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
    Resume(HarvestRun),
}

async fn harvest_set(
    store: &Store,
    oai: &OaiClient,
    set: &str,
    request: &HarvestRequest,
    today: NaiveDate,
    report: &mut SetReport,
    on_event: &mut impl FnMut(HarvestEvent<'_>),
) -> anyhow::Result<()> {
    let mut checkpoint = store
        .harvest_checkpoint(set)
        .await?
        .unwrap_or_else(|| HarvestCheckpoint::new(set, FORMAT.prefix()));
    if checkpoint.metadata_prefix != FORMAT.prefix() {
        // A token belongs to the format it was issued for.
        checkpoint.metadata_prefix = FORMAT.prefix().to_owned();
        checkpoint.run = None;
    }
    let mut next = match checkpoint.run.clone() {
        Some(run) if continues(&run, request) => Next::Resume(run),
        _ => Next::Start {
            from: Some(
                request
                    .from
                    .or(checkpoint.harvested_through)
                    .unwrap_or_else(|| {
                        today
                            .checked_sub_days(Days::new(FIRST_HARVEST_DAYS))
                            .unwrap_or(today)
                    }),
            ),
            until: request.until,
        },
    };
    on_event(match &next {
        Next::Start { from, until } => HarvestEvent::Started {
            set,
            from: *from,
            until: *until,
            resumed: false,
        },
        Next::Resume(run) => HarvestEvent::Started {
            set,
            from: run.from,
            until: run.until,
            resumed: true,
        },
    });
    let mut restarted = false;
    loop {
        let page_number = report.pages + 1;
        let (result, from, until, through) = match &next {
            Next::Start { from, until } => {
                let list = ListRequest {
                    format: FORMAT,
                    from: *from,
                    until: *until,
                    set: (!set.is_empty()).then(|| set.to_owned()),
                };
                (oai.list_records(&list).await, *from, *until, None)
            }
            Next::Resume(run) => (
                oai.resume(&run.token).await,
                run.from,
                run.until,
                Some(run.through),
            ),
        };
        let page = match result {
            Ok(page) => page,
            Err(OaiError::BadResumptionToken { message, .. }) if !restarted => {
                // Tokens expire; the list can be asked for again from its start. Once only:
                // a repository that refuses its own fresh tokens would otherwise loop forever.
                restarted = true;
                on_event(HarvestEvent::Restarted {
                    set,
                    reason: message,
                });
                next = Next::Start { from, until };
                continue;
            }
            Err(e) => {
                return Err(anyhow!(e).context(format!(
                    "page {page_number} failed; the checkpoint stays before it, so the next run retries it"
                )));
            }
        };
        let ListRecords {
            response_date,
            records,
            skipped,
            resumption,
        } = page;
        let through = through
            .or(until)
            .or(response_date.map(|t| t.date_naive()))
            .unwrap_or(today);
        let n_records = records.len() + skipped.len();
        let (batch, deleted) = observed(records);
        for s in &skipped {
            report.skipped += 1;
            on_event(HarvestEvent::Skipped {
                set,
                identifier: &s.identifier,
                reason: &s.reason,
            });
        }
        let resumption = resumption.unwrap_or_default();
        let position = resumption.cursor.map(|c| c + n_records as u64);
        checkpoint.run = resumption.token.map(|token| HarvestRun {
            from,
            until,
            through,
            token,
            cursor: position,
            complete_list_size: resumption.complete_list_size,
        });
        if checkpoint.run.is_none() {
            checkpoint.harvested_through = advance(checkpoint.harvested_through, from, through);
        }
        let counts = store
            .save_harvest_page(batch, &checkpoint)
            .await
            .with_context(|| format!("storing page {page_number}"))?;
        report.pages += 1;
        report.deleted += deleted;
        report.counts.add(counts);
        on_event(HarvestEvent::Page {
            set,
            page: page_number,
            records: n_records,
            position,
            complete_list_size: resumption.complete_list_size,
            counts,
        });
        match &checkpoint.run {
            Some(run) => next = Next::Resume(run.clone()),
            None => break,
        }
    }
    report.harvested_through = checkpoint.harvested_through;
    Ok(())
}

/// A stored list continues when this run asks for the same list, or leaves the range open.
fn continues(run: &HarvestRun, request: &HarvestRequest) -> bool {
    request.from.is_none_or(|f| Some(f) == run.from)
        && request.until.is_none_or(|u| Some(u) == run.until)
}

/// A page's records as observations, and how many were deletions.
fn observed(records: Vec<Record>) -> (Vec<Observed>, u64) {
    let mut batch = Vec::with_capacity(records.len());
    let mut deleted = 0;
    for record in records {
        match record.metadata {
            Some(meta) => batch.push(observed_from_metadata(
                meta,
                as_of_day(record.header.datestamp),
            )),
            None => deleted += 1,
        }
    }
    (batch, deleted)
}

/// Where incremental harvests start after a list from `from` completed through `through`. A list
/// that starts after the checkpoint (leaving a gap) or ends before it leaves the checkpoint be:
/// backfilling an old range must not move the next incremental harvest back to it.
fn advance(
    previous: Option<NaiveDate>,
    from: Option<NaiveDate>,
    through: NaiveDate,
) -> Option<NaiveDate> {
    match previous {
        None => Some(through),
        Some(p) if from.is_none_or(|f| Some(f) <= p.succ_opt()) => Some(p.max(through)),
        Some(p) => Some(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn the_checkpoint_moves_forward_over_contiguous_ranges_only() {
        let p = Some(day("2026-08-20"));
        assert_eq!(
            advance(None, Some(day("2026-01-01")), day("2026-08-21")),
            Some(day("2026-08-21"))
        );
        assert_eq!(
            advance(p, Some(day("2026-08-20")), day("2026-08-21")),
            Some(day("2026-08-21"))
        );
        assert_eq!(
            advance(p, Some(day("2026-08-21")), day("2026-08-22")),
            Some(day("2026-08-22"))
        );
        assert_eq!(advance(p, None, day("2026-08-22")), Some(day("2026-08-22")));
        assert_eq!(
            advance(p, Some(day("2026-08-25")), day("2026-08-26")),
            p,
            "a gap"
        );
        assert_eq!(
            advance(p, Some(day("2020-01-01")), day("2020-12-31")),
            p,
            "a backfill"
        );
    }

    #[test]
    fn a_stored_list_continues_unless_another_range_is_asked_for() {
        let run = HarvestRun {
            from: Some(day("2026-08-01")),
            until: None,
            through: day("2026-08-21"),
            token: "t".into(),
            cursor: None,
            complete_list_size: None,
        };
        assert!(continues(&run, &HarvestRequest::default()));
        let mut request = HarvestRequest {
            from: Some(day("2026-08-01")),
            ..HarvestRequest::default()
        };
        assert!(continues(&run, &request));
        request.from = Some(day("2026-07-01"));
        assert!(!continues(&run, &request));
        request.from = None;
        request.until = Some(day("2026-08-10"));
        assert!(!continues(&run, &request));
    }
}
