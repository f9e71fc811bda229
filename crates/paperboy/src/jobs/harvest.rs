//! The harvest as a job: `serve`'s daily schedule, and a harvest run now from the command line.
//! Both go through a job row of the exclusive kind [`JobKind::Harvest`], so at most one harvest
//! runs at a time whichever process (or node) starts it.

use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

use super::{JobKind, Lease};
use crate::app::App;
use crate::ingest::harvest::{HarvestEvent, HarvestReport, HarvestRequest, harvest, set_label};

/// Attempts of a scheduled harvest: with the backoff this spans about two and a half hours.
const SCHEDULED_ATTEMPTS: u32 = 5;

/// How often the scheduler looks for due or retried harvests.
const POLL: Duration = Duration::from_secs(60);

/// Runs a harvest now, in this process. Fails at once, naming the other job, when a harvest is
/// already running; a harvest run by hand is not retried.
pub async fn run_now(
    app: &App,
    request: &HarvestRequest,
    on_event: impl FnMut(HarvestEvent<'_>),
) -> anyhow::Result<HarvestReport> {
    let key = format!(
        "run:{}:{}",
        app.now().timestamp_millis(),
        std::process::id()
    );
    let lease = match super::start(&app.store, JobKind::Harvest, &key, request, 1).await? {
        Ok(lease) => lease,
        Err(running) => {
            let others = running
                .iter()
                .map(|j| {
                    format!(
                        "job {} ({}), held by {} until {}",
                        j.id,
                        j.key,
                        j.locked_by.as_deref().unwrap_or("?"),
                        j.locked_until.map(|t| t.to_rfc3339()).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            bail!("another harvest is running: {others}");
        }
    };
    run(app, lease, request, on_event).await
}

/// Runs the daily harvest at `at` (local time in the site's time zone) for as long as the
/// process lives, and any queued harvest whose retry is due.
pub async fn run_schedule(app: App, at: NaiveTime) {
    let request = HarvestRequest {
        sets: app.config.harvest.sets.clone(),
        ..HarvestRequest::default()
    };
    loop {
        let now = Utc::now();
        if let Err(e) = tick(&app, &request, at, now).await {
            tracing::error!(
                error = format!("{e:#}"),
                "the harvest scheduler failed; trying again later"
            );
        }
        let wait = (next_due(now, at, app.config.timezone) - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(POLL);
        tokio::time::sleep(wait).await;
    }
}

/// Queues today's harvest once it is due, then runs whatever harvest is due.
async fn tick(
    app: &App,
    request: &HarvestRequest,
    at: NaiveTime,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if let Some(day) = due_day(now, at, app.config.timezone) {
        let key = format!("daily:{day}");
        if super::enqueue(
            &app.store,
            JobKind::Harvest,
            &key,
            request,
            now,
            SCHEDULED_ATTEMPTS,
        )
        .await?
        .is_some()
        {
            tracing::info!(job.key = %key, "queued the daily harvest");
        }
    }
    while let Some(lease) = super::claim(&app.store, JobKind::Harvest).await? {
        let request: HarvestRequest = serde_json::from_str(&lease.job().payload)
            .with_context(|| format!("reading the payload of harvest job {}", lease.job().id))?;
        let report = run(app, lease, &request, log_event).await?;
        let totals = report.totals();
        tracing::info!(
            pages = totals.pages,
            added = totals.counts.added,
            updated = totals.counts.updated,
            failed_sets = report.failures.len(),
            "harvest finished"
        );
    }
    Ok(())
}

/// Harvests under `lease` and records the outcome on the job.
async fn run(
    app: &App,
    lease: Lease,
    request: &HarvestRequest,
    on_event: impl FnMut(HarvestEvent<'_>),
) -> anyhow::Result<HarvestReport> {
    let today = app.now().date_naive();
    let result = harvest(&app.store, &app.arxiv.oai, request, today, on_event).await;
    let outcome = match &result {
        Ok(report) if report.failures.is_empty() => Ok(()),
        Ok(report) => Err(report
            .failures
            .iter()
            .map(|e| format!("{e:#}"))
            .collect::<Vec<_>>()
            .join("; ")),
        Err(e) => Err(format!("{e:#}")),
    };
    lease.finish(outcome).await?;
    result
}

fn log_event(event: HarvestEvent<'_>) {
    match event {
        HarvestEvent::Started {
            set, from, resumed, ..
        } => {
            tracing::info!(set = %set_label(set), ?from, resumed, "harvest started");
        }
        HarvestEvent::Page {
            set,
            page,
            records,
            counts,
            ..
        } => {
            tracing::info!(set = %set_label(set), page, records, added = counts.added, updated = counts.updated, "harvested a page");
        }
        HarvestEvent::Skipped {
            set,
            identifier,
            reason,
        } => {
            tracing::warn!(set = %set_label(set), identifier, reason, "skipped a record");
        }
        HarvestEvent::Restarted { set, reason } => {
            tracing::warn!(set = %set_label(set), reason, "resumption token refused; restarting the list");
        }
    }
}

/// The local day whose harvest is due at `now`: today, once today's `at` has passed.
fn due_day(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> Option<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    (now >= local_instant(today, at, tz)).then_some(today)
}

/// The next instant after `now` at which a day's harvest becomes due.
fn next_due(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let todays = local_instant(today, at, tz);
    if now < todays {
        todays
    } else {
        local_instant(today.succ_opt().unwrap_or(today), at, tz)
    }
}

/// `day` at `at` in `tz`. A time skipped by a daylight-saving jump is taken an hour later; a
/// repeated one at its first occurrence.
fn local_instant(day: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = day.and_time(at);
    let resolved = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest(),
    };
    resolved.map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_daily_harvest_is_due_after_its_local_time() {
        let tz = chrono_tz::America::New_York;
        let at = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        // 04:59 UTC is 00:59 in New York (EDT): not yet.
        assert_eq!(due_day(utc("2026-08-21T04:59:00Z"), at, tz), None);
        assert_eq!(
            next_due(utc("2026-08-21T04:59:00Z"), at, tz),
            utc("2026-08-21T05:00:00Z")
        );
        let day = NaiveDate::from_ymd_opt(2026, 8, 21);
        assert_eq!(due_day(utc("2026-08-21T05:00:00Z"), at, tz), day);
        assert_eq!(
            next_due(utc("2026-08-21T05:00:00Z"), at, tz),
            utc("2026-08-22T05:00:00Z")
        );
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_runs_an_hour_later() {
        let tz = chrono_tz::America::New_York;
        let at = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let spring_forward = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(
            local_instant(spring_forward, at, tz),
            utc("2026-03-08T07:30:00Z")
        );
    }
}
