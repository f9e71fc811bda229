//! The OAI-PMH harvest through the application, against the fake arXiv: the three recorded pages
//! chained by their tokens, checkpoints, and every fault the harvest must survive.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use paperboy::app::App;
use paperboy::config::{Config, Overrides};
use paperboy::domain::ArxivId;
use paperboy::ingest::harvest::{HarvestEvent, HarvestReport, HarvestRequest};
use paperboy::jobs::harvest::run_now;
use paperboy::store::harvest::HarvestCheckpoint;

use crate::fake_arxiv::{
    FakeArxiv, Fault, LAST_TOKEN, RECORDS, SECOND_TOKEN, Target, fixture, oai_error, wait_for,
};

async fn build_app(fake: &FakeArxiv, dir: &Path) -> App {
    let overrides = Overrides {
        data_dir: Some(dir.to_owned()),
        ..Default::default()
    };
    let env: HashMap<&str, String> = fake.env(10).into_iter().collect();
    let config = Config::load_with(&overrides, |k| env.get(k).cloned()).expect("config");
    App::build(config).await.expect("app")
}

async fn harvest(app: &App) -> (HarvestReport, Vec<String>) {
    let mut events = Vec::new();
    let report = run_now(app, &HarvestRequest::default(), |e| {
        events.push(match e {
            HarvestEvent::Started { resumed, from, .. } => {
                format!("start resumed={resumed} from={from:?}")
            }
            HarvestEvent::Page { page, records, .. } => format!("page {page}: {records}"),
            HarvestEvent::Skipped { identifier, .. } => format!("skipped {identifier}"),
            HarvestEvent::Restarted { reason, .. } => format!("restarted: {reason}"),
        })
    })
    .await
    .expect("harvest runs");
    (report, events)
}

async fn checkpoint(app: &App) -> HarvestCheckpoint {
    app.store
        .harvest_checkpoint("")
        .await
        .unwrap()
        .expect("a checkpoint")
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

/// The OAI requests the fake saw, as the resumption token each carried ("" for a first page).
fn tokens(fake: &FakeArxiv) -> Vec<String> {
    fake.seen()
        .iter()
        .filter(|s| s.target.starts_with("/oai"))
        .map(|s| {
            url::form_urlencoded::parse(s.target.split_once('?').unwrap().1.as_bytes())
                .find(|(k, _)| k == "resumptionToken")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn the_three_pages_chain_through_their_tokens_into_the_store() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, events) = harvest(&app).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(tokens(&fake), ["", SECOND_TOKEN, LAST_TOKEN]);
    assert_eq!(
        events[1..],
        ["page 1: 1000", "page 2: 1000", "page 3: 1000"]
    );
    let totals = report.totals();
    assert_eq!((totals.pages, totals.counts.added), (3, RECORDS as u64));
    assert_eq!(app.store.counts().await.unwrap().papers, RECORDS as i64);

    // The first request asks for arXivRaw from a week before today.
    let first = &fake.seen()[0].target;
    assert!(
        first.contains("metadataPrefix=arXivRaw") && first.contains("from="),
        "{first}"
    );

    // arXivRaw keeps every version; the arXiv format gives the day of v1.
    let paper = app.store.paper(&id("0801.3674")).await.unwrap();
    assert_eq!(paper.versions.len(), 4);
    assert_eq!(paper.authors[2], "Anne-Christine Davis");
    assert_eq!(paper.primary_category(), Some("hep-th"));
    let paper = app.store.paper(&id("0704.4001")).await.unwrap();
    assert_eq!(paper.title, "Warping and Supersymmetry Breaking");
    assert_eq!(
        paper.authors,
        ["Michael R. Douglas", "Jessie Shelton", "Gonzalo Torroba"]
    );

    // Complete: no list in progress, and the next harvest starts from the day of the first page.
    let cp = checkpoint(&app).await;
    assert_eq!(cp.run, None);
    assert_eq!(cp.harvested_through, NaiveDate::from_ymd_opt(2013, 5, 24));
}

#[tokio::test]
async fn the_next_harvest_starts_from_the_checkpoint_and_changes_nothing() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    harvest(&app).await;
    let (again, events) = harvest(&app).await;
    assert_eq!(events[0], "start resumed=false from=Some(2013-05-24)");
    let totals = again.totals();
    assert_eq!(
        (
            totals.counts.added,
            totals.counts.updated,
            totals.counts.unchanged
        ),
        (0, 0, RECORDS as u64)
    );
    assert!(fake.seen()[3].target.contains("from=2013-05-24"));
}

#[tokio::test]
async fn malformed_xml_names_the_page_and_position_and_the_checkpoint_stays() {
    let fake = FakeArxiv::start().await;
    let page = String::from_utf8(fixture("oai-pmh/listrecords-arxiv-cursor405000.xml")).unwrap();
    let broken = page.replacen("</record>", "</recrod>", 3);
    fake.fail_next(Target::OaiToken(SECOND_TOKEN.into()), Fault::Body(broken));
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, _) = harvest(&app).await;
    assert_eq!(report.failures.len(), 1);
    let message = format!("{:#}", report.failures[0]);
    for want in [
        "page 2 failed",
        "resumptionToken=436115%7C5001",
        "malformed page: line 31, column 1",
        "expected `</record>`, but `</recrod>` was found",
    ] {
        assert!(message.contains(want), "{want:?} not in {message}");
    }
    // Page 1 is stored and the checkpoint points at page 2, not past it.
    assert_eq!(app.store.counts().await.unwrap().papers, 1000);
    let cp = checkpoint(&app).await;
    assert_eq!(
        cp.run.as_ref().map(|r| r.token.as_str()),
        Some(SECOND_TOKEN)
    );
    assert_eq!(cp.harvested_through, None);
    let job = app.store.job(1).await.unwrap();
    assert_eq!(job.state.as_str(), "failed");
    assert!(job.last_error.unwrap().contains("malformed page"));

    // The next run asks for page 2 again and completes the list.
    let (report, events) = harvest(&app).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(events[0].starts_with("start resumed=true"), "{events:?}");
    assert_eq!(app.store.counts().await.unwrap().papers, RECORDS as i64);
    assert_eq!(tokens(&fake)[2..], [SECOND_TOKEN, LAST_TOKEN]);
}

#[tokio::test]
async fn no_records_match_is_an_empty_harvest_not_an_error() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Body(oai_error("noRecordsMatch", "No records match the request")),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, _) = harvest(&app).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.totals().counts.added, 0);
    // The (empty) range counts as harvested, through the day of the answer.
    let cp = checkpoint(&app).await;
    assert_eq!(cp.harvested_through, NaiveDate::from_ymd_opt(2026, 8, 21));
}

#[tokio::test]
async fn a_refused_resumption_token_restarts_the_list_once() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiToken(SECOND_TOKEN.into()),
        Fault::Body(oai_error("badResumptionToken", "The token has expired")),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, events) = harvest(&app).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(
        events.contains(&"restarted: The token has expired".to_owned()),
        "{events:?}"
    );
    assert_eq!(
        tokens(&fake),
        ["", SECOND_TOKEN, "", SECOND_TOKEN, LAST_TOKEN]
    );
    assert_eq!(app.store.counts().await.unwrap().papers, RECORDS as i64);

    // Refused twice in one run: an error, and the checkpoint keeps the list's start.
    let fake = FakeArxiv::start().await;
    for _ in 0..2 {
        fake.fail_next(
            Target::OaiToken(SECOND_TOKEN.into()),
            Fault::Body(oai_error("badResumptionToken", "The token has expired")),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, _) = harvest(&app).await;
    let message = format!("{:#}", report.failures[0]);
    assert!(
        message.contains("refused the resumption token"),
        "{message}"
    );
}

#[tokio::test]
async fn an_empty_page_is_suspicious_and_moves_nothing() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Body(
            "<OAI-PMH><responseDate>2026-08-21T06:00:00Z</responseDate><ListRecords>\
             <resumptionToken cursor='0'/></ListRecords></OAI-PMH>"
                .into(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, _) = harvest(&app).await;
    let message = format!("{:#}", report.failures[0]);
    assert!(message.contains("without records"), "{message}");
    assert_eq!(app.store.harvest_checkpoint("").await.unwrap(), None);
}

#[tokio::test]
async fn a_503_with_retry_after_and_a_reset_mid_body_are_survived() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Status {
            status: 503,
            retry_after: Some("1".into()),
        },
    );
    fake.fail_next(
        Target::OaiToken(SECOND_TOKEN.into()),
        Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
        },
    );
    fake.fail_next(Target::OaiToken(LAST_TOKEN.into()), Fault::ResetMidBody);
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let (report, _) = harvest(&app).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(app.store.counts().await.unwrap().papers, RECORDS as i64);
    let seen = fake.seen();
    assert_eq!(seen.len(), 6);
    assert!(
        seen[1].at - seen[0].at >= Duration::from_secs(1),
        "503 Retry-After honoured"
    );
    assert!(
        seen[3].at - seen[2].at >= Duration::from_secs(1),
        "429 Retry-After honoured"
    );
    assert!(
        seen[5].at - seen[4].at >= Duration::from_secs(1),
        "backoff after the reset"
    );
}

#[tokio::test]
async fn only_one_harvest_runs_at_a_time() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(Target::OaiToken(SECOND_TOKEN.into()), Fault::Stall);
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    let first = tokio::spawn({
        let app = app.clone();
        async move { harvest(&app).await.0 }
    });
    wait_for(&fake, |s| s.target.contains("resumptionToken")).await;
    let err = run_now(&app, &HarvestRequest::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("another harvest is running: job 1"),
        "{err}"
    );
    fake.release();
    let report = first.await.unwrap();
    assert!(report.failures.is_empty());
    assert_eq!(app.store.job(1).await.unwrap().state.as_str(), "done");
    // Once it is done, the next one may start.
    assert!(harvest(&app).await.0.failures.is_empty());
}

#[tokio::test]
async fn a_newer_version_updates_the_paper_keeps_its_history_and_its_votes() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(&fake, dir.path()).await;
    // A community copy with votes exists first.
    let votes = dir.path().join("votes.jsonl");
    std::fs::write(
        &votes,
        r#"{"id": "0801.3674", "title": "Old title", "upvotes": 7, "published": "2008-01-23"}"#,
    )
    .unwrap();
    paperboy::ingest::import_paths(&app.store, &[votes], Default::default(), false, |p| {
        panic!("{p}")
    })
    .await
    .unwrap();
    harvest(&app).await;
    let paper = app.store.paper(&id("0801.3674")).await.unwrap();
    assert_eq!(paper.latest_version(), Some(4));
    assert_eq!(paper.upvotes, 7);
    assert!(paper.title.starts_with("A Study of Structure Formation"));

    // arXiv announces v5 with a new title.
    let v5 = String::from_utf8(fixture("oai-pmh/listrecords-arxivraw-cursor46000.xml"))
        .unwrap()
        .replacen("<datestamp>2008-11-26</datestamp>", "<datestamp>2026-08-20</datestamp>", 1)
        .replacen(
            "<resumptionToken completeListSize='907096' cursor='46000'>496549|47001</resumptionToken>",
            "<resumptionToken completeListSize='907096' cursor='46000'/>",
            1,
        )
        .replacen(
            "<size>31kb</size></version><title>A Study of Structure Formation and Reheating in the D3/D7 Brane\n  Inflation Model</title>",
            "<size>31kb</size></version><version version='v5'><date>Thu, 20 Aug 2026 10:00:00 GMT</date><size>32kb</size></version><title>Reheating in D3/D7 Brane Inflation, revisited</title>",
            1,
        );
    assert!(v5.contains("version='v5'"), "the fixture edit applied");
    fake.fail_next(Target::OaiFirstPage, Fault::Body(v5));
    let request = HarvestRequest {
        from: NaiveDate::from_ymd_opt(2026, 8, 20),
        ..HarvestRequest::default()
    };
    let report = run_now(&app, &request, |_| {}).await.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.totals().counts.updated, 1);
    let paper = app.store.paper(&id("0801.3674")).await.unwrap();
    assert_eq!(paper.title, "Reheating in D3/D7 Brane Inflation, revisited");
    assert_eq!(
        paper.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(paper.upvotes, 7, "votes survive a new version");
}
