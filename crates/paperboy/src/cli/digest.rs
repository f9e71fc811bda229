//! `paperboy digest preview|send`: render an edition, or queue and send it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::{Datelike, NaiveDate};
use clap::{Subcommand, ValueEnum};

use crate::app::App;
use crate::config::Config;
use crate::domain::subscription::{EditionKey, EmailAddress, Preferences};
use crate::email::outbox::{self, EditionContent, RunMode};
use crate::email::{edition, message};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DigestCommand,
}

#[derive(Debug, Subcommand)]
enum DigestCommand {
    /// Render an edition to stdout or a file, without sending or recording anything.
    Preview {
        #[arg(long, value_enum, default_value_t = PeriodArg::Daily)]
        period: PeriodArg,
        /// The feed day (daily) or a day in the ISO week (weekly) [default: the latest day with papers]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::day_arg)]
        date: Option<NaiveDate>,
        /// Render as this subscriber sees it (their filters and links).
        #[arg(long, value_name = "EMAIL")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = PreviewFormat::Text)]
        format: PreviewFormat,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Queue an edition for its confirmed subscribers and send everything pending. Idempotent:
    /// running it again for the same edition sends nothing new.
    Send {
        #[arg(long, value_enum, default_value_t = PeriodArg::Daily)]
        period: PeriodArg,
        /// The feed day (daily) or a day in the ISO week (weekly)
        /// [default: yesterday (daily) or last week (weekly), in the site's time zone]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::day_arg)]
        date: Option<NaiveDate>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PeriodArg {
    Daily,
    Weekly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PreviewFormat {
    /// The text/plain part.
    Text,
    /// The HTML part.
    Html,
    /// The whole RFC 5322 message.
    Eml,
}

fn edition_key(period: PeriodArg, date: NaiveDate) -> EditionKey {
    match period {
        PeriodArg::Daily => EditionKey::Daily(date),
        PeriodArg::Weekly => EditionKey::Weekly(date.iso_week()),
    }
}

pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    if !config.base_url_given {
        report!(
            "paperboy: note: base_url is not set, so the links in these mails lead to {} (made \
             from listen, not from the address `serve` was started on); set PAPERBOY_BASE_URL to \
             the site's public address",
            config.base_url.as_str().trim_end_matches('/')
        );
    }
    let app = App::build(config).await?;
    match args.command {
        DigestCommand::Preview {
            period,
            date,
            to,
            format,
            output,
        } => preview(&app, period, date, to, format, output).await,
        DigestCommand::Send { period, date } => send(&app, period, date).await,
    }
}

async fn preview(
    app: &App,
    period: PeriodArg,
    date: Option<NaiveDate>,
    to: Option<String>,
    format: PreviewFormat,
    output: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let date = match date {
        Some(d) => d,
        None => app
            .store
            .latest_daily_date()
            .await?
            .context("the store has no papers on the feed yet")?,
    };
    let key = edition_key(period, date);
    // A preview never records an edition: build it in memory from the same query.
    let edition = match app.store.find_edition(key).await? {
        Some(e) => e,
        None => crate::store::mail::Edition {
            id: 0,
            key,
            paper_ids: preview_ids(app, key).await?,
        },
    };
    let (address, prefs, links) = match &to {
        Some(raw) => {
            let email = EmailAddress::parse(raw).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            match app.store.subscriber_by_email(&email).await {
                Ok(s) => {
                    let links =
                        outbox::recipient_links(&app.mailer, s.id, s.token_version, app.now());
                    (email, s.prefs, links)
                }
                Err(crate::store::StoreError::NotFound) => {
                    report!(
                        "paperboy: note: {} is not a subscriber: the preview uses the default \
                         preferences, and its links are placeholders",
                        email.as_str()
                    );
                    (
                        email,
                        Preferences::default(),
                        outbox::recipient_links(&app.mailer, 0, 0, app.now()),
                    )
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => (
            EmailAddress::parse("subscriber@example.org").expect("valid"),
            Preferences::default(),
            outbox::recipient_links(&app.mailer, 0, 0, app.now()),
        ),
    };
    let content = EditionContent::load(&app.store, edition, &app.mailer.site_url).await?;
    let Some(rendered) = content.render_for(&app.mailer, &prefs, &links)? else {
        bail!(
            "the {} edition for {} has no papers{}",
            key.frequency().as_str(),
            key.period_key(),
            if to.is_some() {
                " that match this subscriber's preferences"
            } else {
                ""
            }
        );
    };
    let body = match format {
        PreviewFormat::Text => rendered.text,
        PreviewFormat::Html => rendered.html,
        PreviewFormat::Eml => {
            let list = message::ListHeaders {
                list_id: format!(
                    "paperboy {} digest <{}.{}>",
                    key.frequency().as_str(),
                    key.frequency().as_str(),
                    app.mailer.host
                ),
                unsubscribe_url: &links.unsubscribe_url,
            };
            let message_id = format!("<preview-{}@{}>", key.period_key(), app.mailer.host);
            let m = message::build(
                &app.mailer.from,
                &address,
                &rendered,
                &message_id,
                Some(&list),
                None,
            )?;
            String::from_utf8_lossy(&m.formatted()).into_owned()
        }
    };
    match output {
        Some(path) => std::fs::write(&path, body)
            .with_context(|| format!("{}: cannot write", path.display()))?,
        None => output!("{body}")?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn preview_ids(app: &App, key: EditionKey) -> anyhow::Result<Vec<crate::domain::ArxivId>> {
    let papers = app
        .store
        .feed(&crate::store::FeedQuery {
            period: Some(key.period()),
            submitter: None,
            order: crate::store::FeedOrder::Upvotes,
            offset: 0,
            limit: 100,
        })
        .await?;
    Ok(papers.into_iter().map(|p| p.id).collect())
}

async fn send(app: &App, period: PeriodArg, date: Option<NaiveDate>) -> anyhow::Result<ExitCode> {
    if !app.mailer.can_send() {
        bail!(
            "no SMTP server configured: set PAPERBOY_SMTP_URL (e.g. smtp://127.0.0.1:2525) or smtp_url in the config file"
        );
    }
    let today = app.today();
    let date = date.unwrap_or(match period {
        PeriodArg::Daily => today.pred_opt().unwrap_or(today),
        PeriodArg::Weekly => today - chrono::Duration::days(7),
    });
    let key = edition_key(period, date);
    if key.period().end_day() > today {
        bail!(
            "the {} edition for {} cannot be sent yet: its last day, {}, has not ended in {} (today is {today})",
            key.frequency().as_str(),
            key.period_key(),
            key.period().end_day().pred_opt().unwrap_or(date),
            app.config.timezone
        );
    }
    let Some((edition, queued)) = edition::queue(&app.store, &app.mailer, key, app.now()).await?
    else {
        report!(
            "the {} edition for {} has no papers on the feed: nothing to send",
            key.frequency().as_str(),
            key.period_key()
        );
        return Ok(ExitCode::SUCCESS);
    };
    report!(
        "edition {} {}: {} papers, {} newly queued",
        key.frequency().as_str(),
        key.period_key(),
        edition.paper_ids.len(),
        queued
    );
    let report = outbox::send_pending(&app.store, &app.mailer, RunMode::Once).await?;
    let counts = app.store.outbox_counts(Some(edition.id)).await?;
    report!(
        "sent {}, retry later {}, bounced {}, failed {}, unknown {}, skipped {}; edition total: {} sent, {} pending, {} being sent, {} failed, {} unknown, {} skipped",
        report.sent,
        report.retry_later,
        report.bounced,
        report.failed,
        report.unknown,
        report.skipped,
        counts.sent,
        counts.pending,
        counts.sending,
        counts.failed,
        counts.unknown,
        counts.skipped
    );
    if report.expired_leases > 0 {
        report!(
            "{} mail(s) were caught mid-send by an earlier crash and are marked unknown (not retried, to never send twice)",
            report.expired_leases
        );
    }
    if report.retry_later > 0 {
        bail!(
            "{} mail(s) could not be sent yet ({}) and stay queued; run `paperboy digest send` again or let `serve` retry them",
            report.retry_later,
            report.retry_reason.as_deref().unwrap_or("no reason given")
        );
    }
    if counts.sending > 0 {
        bail!(
            "{} mail(s) of this edition are being sent by another sender, or were by one that stopped less than {} s ago; run `paperboy digest send` again to see them settled",
            counts.sending,
            app.mailer.send_lease.num_seconds()
        );
    }
    Ok(ExitCode::SUCCESS)
}
