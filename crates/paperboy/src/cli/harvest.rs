//! `paperboy harvest [--from DATE] [--until DATE] [--set SET]...`

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::App;
use crate::config::Config;
use crate::ingest::harvest::{HarvestEvent, HarvestRequest, set_label};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Harvest records changed on or after this day (YYYY-MM-DD) [default: where each set's last
    /// harvest stopped, or a week ago for a set never harvested]
    #[arg(long, value_name = "DATE", value_parser = super::day_arg)]
    from: Option<NaiveDate>,
    /// Harvest records changed on or before this day [default: up to now]
    #[arg(long, value_name = "DATE", value_parser = super::day_arg)]
    until: Option<NaiveDate>,
    /// An OAI-PMH set such as cs or physics:hep-th; repeat for several [default: harvest_sets from
    /// the configuration, else the whole archive]
    #[arg(long = "set", value_name = "SET", value_parser = parse_set)]
    sets: Vec<String>,
}

fn parse_set(s: &str) -> Result<String, String> {
    if arxiv::oai::is_valid_set_spec(s) {
        Ok(s.to_owned())
    } else {
        Err("not an OAI-PMH set such as cs or physics:hep-th".to_owned())
    }
}

/// Exit 0 when every set was harvested, 2 when records were skipped, 1 when a set failed.
pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    for (flag, day) in [("--from", args.from), ("--until", args.until)] {
        if let Some(day) = day {
            crate::ingest::plausible_day(day).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        }
    }
    if let (Some(from), Some(until)) = (args.from, args.until)
        && from > until
    {
        bail!("--from {from} is after --until {until}");
    }
    let request = HarvestRequest {
        from: args.from,
        until: args.until,
        sets: if args.sets.is_empty() {
            config.harvest.sets.clone()
        } else {
            args.sets
        },
    };
    let app = App::build(config).await?;
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let report = crate::jobs::harvest::run_now(&app, &request, |e| progress.show(e)).await?;
    progress.bar.finish_and_clear();
    let t = report.totals();
    let failed = if report.failures.is_empty() {
        String::new()
    } else {
        format!(" ({} of them failed part-way)", report.failures.len())
    };
    report!(
        "harvested {} set(s){failed} in {} page(s): {} added, {} updated, {} unchanged, {} deleted upstream, {} skipped",
        report.sets.len(),
        t.pages,
        t.counts.added,
        t.counts.updated,
        t.counts.unchanged,
        t.deleted,
        t.skipped
    );
    for s in &report.sets {
        if let Some(day) = s.harvested_through {
            report!("{}: harvested through {day}", set_label(&s.set));
        }
    }
    for failure in &report.failures {
        report!("paperboy: {}", super::one_line(failure));
    }
    Ok(if !report.failures.is_empty() {
        ExitCode::from(1)
    } else if t.skipped > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// A bar on a terminal; a line per page otherwise (logs, pipes, tests).
struct Progress {
    bar: ProgressBar,
    terminal: bool,
}

impl Progress {
    fn new(terminal: bool) -> Progress {
        let bar = if terminal {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} records {msg}",
                )
                .expect("template is valid"),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar, terminal }
    }

    fn show(&mut self, event: HarvestEvent<'_>) {
        match event {
            HarvestEvent::Started {
                set,
                from,
                until,
                resumed,
            } => {
                let range = match (from, until) {
                    (Some(f), Some(u)) => format!("from {f} until {u}"),
                    (Some(f), None) => format!("from {f}"),
                    (None, Some(u)) => format!("until {u}"),
                    (None, None) => "all dates".to_owned(),
                };
                let how = if resumed { "resuming" } else { "harvesting" };
                self.bar
                    .suspend(|| report!("{how} {} ({range})", set_label(set)));
                self.bar.reset();
                self.bar.set_message(set_label(set));
            }
            HarvestEvent::Page {
                set,
                page,
                records,
                position,
                complete_list_size,
                counts,
            } => {
                if let Some(total) = complete_list_size {
                    self.bar.set_length(total);
                }
                match position {
                    Some(p) => self.bar.set_position(p),
                    None => self.bar.inc(records as u64),
                }
                if !self.terminal {
                    let of = match (position, complete_list_size) {
                        (Some(p), Some(t)) => format!(" ({p} of {t})"),
                        _ => String::new(),
                    };
                    report!(
                        "{}: page {page}: {records} records{of}: {} added, {} updated",
                        set_label(set),
                        counts.added,
                        counts.updated
                    );
                }
            }
            HarvestEvent::Skipped {
                set,
                identifier,
                reason,
            } => self.bar.suspend(|| {
                report!("{}: skipped {identifier}: {reason}", set_label(set));
            }),
            HarvestEvent::Restarted { set, reason } => self.bar.suspend(|| {
                report!(
                    "{}: the resumption token was refused ({reason}); starting the list again",
                    set_label(set)
                );
            }),
        }
    }
}
