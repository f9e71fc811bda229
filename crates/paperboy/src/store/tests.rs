//! The store test suite: behaviour every backend must share (run against SQLite today).

use chrono::{Duration, NaiveDate};

use super::{FeedOrder, FeedQuery, Store, StoreError};
use crate::domain::merge::Observed;
use crate::domain::paper::midnight_utc;
use crate::domain::{ArxivId, FeedEntry, Paper, PaperVersion, Period, Submitter};

struct TestStore {
    store: Store,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("paperboy.db"))
        .await
        .unwrap();
    TestStore { store, _dir: dir }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn on_feed(id: &str, date: &str, upvotes: i64, position: i64, submitter: Option<&str>) -> Observed {
    let mut paper = Paper::new(ArxivId::parse(id).unwrap(), format!("Paper {id}"));
    paper.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    paper.categories = vec!["cs.LG".into(), "stat.ML".into()];
    paper.upvotes = upvotes;
    paper.published_at = Some(midnight_utc(day(date)) - Duration::days(1));
    paper.versions = vec![PaperVersion {
        version: 1,
        created_at: paper.published_at,
    }];
    paper.feed = Some(FeedEntry {
        daily_date: day(date),
        submitted_at: midnight_utc(day(date)),
        submitter: submitter.map(|u| Submitter {
            username: u.into(),
            fullname: u.to_uppercase(),
            avatar_url: None,
        }),
        position,
    });
    Observed {
        paper,
        as_of: midnight_utc(day(date)),
    }
}

fn ids(papers: &[Paper]) -> Vec<&str> {
    papers.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test]
async fn merged_papers_round_trip_with_versions_and_submitter() {
    let t = sqlite().await;
    let o = on_feed("2608.00001", "2026-08-21", 7, 0, Some("ada"));
    let counts = t.store.merge_observed(vec![o.clone()]).await.unwrap();
    assert_eq!(counts.added, 1);
    let back = t.store.paper(&o.paper.id).await.unwrap();
    assert_eq!(back, o.paper);
}

#[tokio::test]
async fn reimporting_the_same_batch_changes_nothing() {
    let t = sqlite().await;
    let batch = vec![
        on_feed("2608.00001", "2026-08-20", 3, 0, Some("ada")),
        on_feed("2608.00002", "2026-08-21", 5, 0, None),
        on_feed("2608.00001", "2026-08-21", 9, 1, Some("bob")),
    ];
    let first = t.store.merge_observed(batch.clone()).await.unwrap();
    assert_eq!((first.added, first.updated), (2, 1));
    let second = t.store.merge_observed(batch).await.unwrap();
    assert_eq!((second.added, second.updated, second.unchanged), (0, 0, 3));
    let p = t
        .store
        .paper(&ArxivId::parse("2608.00001").unwrap())
        .await
        .unwrap();
    assert_eq!(p.upvotes, 9);
    assert_eq!(p.feed.unwrap().daily_date, day("2026-08-20"));
}

#[tokio::test]
async fn unknown_paper_is_not_found() {
    let t = sqlite().await;
    let err = t
        .store
        .paper(&ArxivId::parse("2608.99999").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

#[tokio::test]
async fn feed_orders_by_upvotes_then_arrival_and_filters_by_period_and_submitter() {
    let t = sqlite().await;
    t.store
        .merge_observed(vec![
            on_feed("2608.00001", "2026-08-20", 5, 0, Some("ada")),
            on_feed("2608.00002", "2026-08-20", 9, 1, None),
            on_feed("2608.00003", "2026-08-20", 5, 2, Some("ada")),
            on_feed("2608.00004", "2026-08-21", 1, 0, Some("bob")),
            on_feed("2608.00005", "2026-07-31", 50, 0, None),
        ])
        .await
        .unwrap();
    let query = |period: Option<Period>, submitter: Option<&str>, order, offset, limit| FeedQuery {
        period,
        submitter: submitter.map(str::to_owned),
        order,
        offset,
        limit,
    };
    let d = Period::parse_day("2026-08-20").unwrap();
    let got = t
        .store
        .feed(&query(Some(d), None, FeedOrder::Upvotes, 0, 50))
        .await
        .unwrap();
    assert_eq!(ids(&got), ["2608.00002", "2608.00001", "2608.00003"]);
    let got = t
        .store
        .feed(&query(Some(d), None, FeedOrder::Upvotes, 1, 1))
        .await
        .unwrap();
    assert_eq!(ids(&got), ["2608.00001"]);
    let w = Period::parse_week("2026-W34").unwrap();
    let got = t
        .store
        .feed(&query(Some(w), None, FeedOrder::Upvotes, 0, 50))
        .await
        .unwrap();
    assert_eq!(got.len(), 4);
    let m = Period::parse_month("2026-07").unwrap();
    let got = t
        .store
        .feed(&query(Some(m), None, FeedOrder::Upvotes, 0, 50))
        .await
        .unwrap();
    assert_eq!(ids(&got), ["2608.00005"]);
    let got = t
        .store
        .feed(&query(None, Some("ada"), FeedOrder::Latest, 0, 50))
        .await
        .unwrap();
    assert_eq!(ids(&got), ["2608.00001", "2608.00003"]);
    let got = t
        .store
        .feed(&query(None, None, FeedOrder::Latest, 0, 2))
        .await
        .unwrap();
    assert_eq!(ids(&got), ["2608.00004", "2608.00002"]);
    let got = t
        .store
        .feed(&query(Some(d), None, FeedOrder::Published, 0, 50))
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
}

#[tokio::test]
async fn dates_and_counts_describe_the_feed() {
    let t = sqlite().await;
    assert!(t.store.is_empty().await.unwrap());
    assert_eq!(t.store.latest_daily_date().await.unwrap(), None);
    t.store
        .merge_observed(vec![
            on_feed("2608.00001", "2026-08-17", 5, 0, Some("ada")),
            on_feed("2608.00002", "2026-08-20", 9, 0, None),
        ])
        .await
        .unwrap();
    assert_eq!(
        t.store.latest_daily_date().await.unwrap(),
        Some(day("2026-08-20"))
    );
    assert_eq!(
        t.store
            .adjacent_daily_date(day("2026-08-20"), false)
            .await
            .unwrap(),
        Some(day("2026-08-17"))
    );
    assert_eq!(
        t.store
            .adjacent_daily_date(day("2026-08-20"), true)
            .await
            .unwrap(),
        None
    );
    let counts = t.store.counts().await.unwrap();
    assert_eq!(
        (
            counts.papers,
            counts.papers_on_feed,
            counts.feed_days,
            counts.accounts
        ),
        (2, 2, 2, 1)
    );
    let recent = t
        .store
        .submitted_since(midnight_utc(day("2026-08-18")))
        .await
        .unwrap();
    assert_eq!(ids(&recent), ["2608.00002"]);
}

#[tokio::test]
async fn a_reopened_store_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paperboy.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    store
        .merge_observed(vec![on_feed("2608.00001", "2026-08-17", 5, 0, None)])
        .await
        .unwrap();
    drop(store);
    let store = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(store.counts().await.unwrap().papers, 1);
}
