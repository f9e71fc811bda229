//! The arXiv clients over real HTTP against the fake arXiv: every recorded API response, paging,
//! and the politeness rules (spacing, one connection, `Retry-After`, bounded retries, size cap,
//! timeout, no redirect to another host).

use std::time::{Duration, Instant};

use arxiv::api::{ApiClient, ApiError, parse_feed};
use arxiv::oai::{ListRequest, MetadataFormat, OaiClient};
use arxiv::{Client, ClientConfig, FetchError, VersionedId};
use url::Url;

use crate::fake_arxiv::{FakeArxiv, Fault, Target, index_rows};

fn config(delay_ms: u64) -> ClientConfig {
    let mut c = ClientConfig::new("paperboy-tests");
    c.delay = Duration::from_millis(delay_ms);
    c.backoff = Duration::from_millis(50);
    c.timeout = Duration::from_secs(10);
    c.max_attempts = 3;
    c.max_wait = Duration::from_secs(5);
    c
}

fn clients(fake: &FakeArxiv, config: ClientConfig) -> (Client, OaiClient, ApiClient) {
    let http = Client::new(config).unwrap();
    let oai = OaiClient::new(http.clone(), Url::parse(&fake.oai_url()).unwrap());
    let api = ApiClient::new(http.clone(), Url::parse(&fake.api_url()).unwrap());
    (http, oai, api)
}

fn first_page() -> ListRequest {
    ListRequest {
        format: MetadataFormat::ArxivRaw,
        from: None,
        until: None,
        set: None,
    }
}

fn ids(list: &[&str]) -> Vec<VersionedId> {
    list.iter()
        .map(|s| VersionedId::parse(s).unwrap())
        .collect()
}

/// Gaps between consecutive requests the fake saw.
fn gaps(fake: &FakeArxiv) -> Vec<Duration> {
    let seen = fake.seen();
    seen.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn every_recorded_api_response_replays_over_http_and_parses() {
    let fake = FakeArxiv::start().await;
    let (http, _, _) = clients(&fake, config(0));
    let rows = index_rows();
    assert_eq!(rows.len(), 27);
    for (file, status, query) in rows {
        let url = Url::parse(&format!("{}?{query}", fake.api_url())).unwrap();
        let body = match http.get(&url, 1 << 20).await {
            Ok(body) => {
                assert_eq!(status, 200, "{file}");
                body
            }
            Err(FetchError::Status {
                status: s, body, ..
            }) => {
                assert_eq!(s.as_u16(), status, "{file}");
                body
            }
            Err(e) => panic!("{file}: {e}"),
        };
        let feed = parse_feed(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        match file.as_str() {
            "recorded-07.xml" => assert_eq!(feed.errors, ["incorrect id format for abc"]),
            "recorded-01.xml" | "recorded-03.xml" => {
                assert_eq!(
                    (feed.total_results, feed.entries.len()),
                    (Some(0), 0),
                    "{file}"
                )
            }
            _ => assert!(!feed.entries.is_empty() && feed.errors.is_empty(), "{file}"),
        }
    }
}

#[tokio::test]
async fn papers_are_fetched_by_id_old_and_new_style_with_versions() {
    let fake = FakeArxiv::start().await;
    let (_, _, api) = clients(&fake, config(0));
    let feed = api
        .fetch(&ids(&["1605.08386", "hep-ex/0406020v1", "2104.12255v1"]))
        .await
        .unwrap();
    let got: Vec<String> = feed.entries.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(got, ["1605.08386v1", "hep-ex/0406020v1", "2104.12255v1"]);
    assert_eq!(
        feed.entries[0].title,
        "Heat-bath random walks with Markov bases"
    );
    assert_eq!(feed.entries[0].categories, ["math.CO", "math.ST"]);
}

#[tokio::test]
async fn an_unknown_id_is_an_empty_result_not_an_error() {
    let fake = FakeArxiv::start().await;
    let (_, _, api) = clients(&fake, config(0));
    let feed = api.fetch(&ids(&["2401.99999"])).await.unwrap();
    assert_eq!(feed.total_results, Some(0));
    assert!(feed.entries.is_empty());
}

#[tokio::test]
async fn the_http_400_error_feed_surfaces_arxivs_message() {
    let fake = FakeArxiv::start().await;
    fake.route_ids("2401.00001", 400, "recorded-07.xml");
    let (_, _, api) = clients(&fake, config(0));
    let err = api.fetch(&ids(&["2401.00001"])).await.unwrap_err();
    assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");
    assert!(
        err.to_string().contains("incorrect id format for abc"),
        "{err}"
    );
    assert_eq!(fake.seen().len(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn search_results_page_by_the_opensearch_totals() {
    let fake = FakeArxiv::start().await;
    let (_, _, api) = clients(&fake, config(0));
    let mut start = 0;
    let mut seen_ids = std::collections::HashSet::new();
    let mut pages = 0;
    while pages < 6 {
        let feed = api.search("testing", start, 10).await.unwrap();
        assert_eq!(feed.total_results, Some(214_881));
        assert_eq!(feed.start_index, Some(start));
        assert_eq!(feed.entries.len(), 10);
        seen_ids.extend(feed.entries.iter().map(|e| e.id.id.clone()));
        pages += 1;
        start = feed.next_start().unwrap();
    }
    assert_eq!(start, 60);
    assert!(
        seen_ids.len() > 50,
        "pages are distinct: {}",
        seen_ids.len()
    );
}

#[tokio::test]
async fn requests_are_spaced_by_the_delay_and_share_one_connection() {
    let fake = FakeArxiv::start().await;
    let (_, _, api) = clients(&fake, config(300));
    for id in ["1605.08386", "1707.08567", "2104.12255v1"] {
        api.fetch(&ids(&[id])).await.unwrap();
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.connection == seen[0].connection),
        "{seen:?}"
    );
    for gap in gaps(&fake) {
        assert!(gap >= Duration::from_millis(300), "{gap:?}");
    }
}

#[tokio::test]
async fn concurrent_callers_still_take_turns() {
    let fake = FakeArxiv::start().await;
    let (_, _, api) = clients(&fake, config(200));
    let calls = ["1605.08386", "1707.08567", "2104.12255v1"].map(|id| {
        let api = api.clone();
        tokio::spawn(async move { api.fetch(&ids(&[id])).await.map(|f| f.entries.len()) })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 1);
    }
    for gap in gaps(&fake) {
        assert!(gap >= Duration::from_millis(200), "{gap:?}");
    }
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Status {
            status: 503,
            retry_after: Some("1".into()),
        },
    );
    let (_, oai, _) = clients(&fake, config(10));
    let page = oai.list_records(&first_page()).await.unwrap();
    assert_eq!(page.records.len(), 1000);
    let gaps = gaps(&fake);
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0] >= Duration::from_secs(1), "waited {:?}", gaps[0]);
}

#[tokio::test]
async fn a_429_is_retried_after_backoff() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Status {
            status: 429,
            retry_after: None,
        },
    );
    let (_, oai, _) = clients(&fake, config(10));
    oai.list_records(&first_page()).await.unwrap();
    assert_eq!(fake.seen().len(), 2);
    assert!(gaps(&fake)[0] >= Duration::from_millis(50));
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_retried() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(Target::OaiFirstPage, Fault::ResetMidBody);
    let (_, oai, _) = clients(&fake, config(10));
    let page = oai.list_records(&first_page()).await.unwrap();
    assert_eq!(page.records.len(), 1000);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(
        seen[0].connection, seen[1].connection,
        "a new connection after the reset"
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = FakeArxiv::start().await;
    for _ in 0..3 {
        fake.fail_next(
            Target::OaiFirstPage,
            Fault::Status {
                status: 503,
                retry_after: None,
            },
        );
    }
    let (_, oai, _) = clients(&fake, config(10));
    let err = oai.list_records(&first_page()).await.unwrap_err();
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    // The message names the URL once, not again in its last failure.
    let text = err.to_string();
    let url = text.split(": ").next().unwrap();
    assert_eq!(text.matches(url).count(), 1, "{err}");
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn a_server_asking_for_a_long_wait_is_not_asked_again_sooner() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Status {
            status: 503,
            retry_after: Some("3600".into()),
        },
    );
    let (_, oai, _) = clients(&fake, config(10));
    let err = oai.list_records(&first_page()).await.unwrap_err();
    assert!(err.to_string().contains("asks to wait 3600s"), "{err}");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::Api,
        Fault::Redirect("http://127.0.0.2:9/api/query?id_list=1605.08386".into()),
    );
    let (_, _, api) = clients(&fake, config(0));
    let err = api.fetch(&ids(&["1605.08386"])).await.unwrap_err();
    assert!(
        matches!(err, ApiError::Fetch(FetchError::Redirect { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.2"), "{err}");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn an_endless_body_stops_at_the_size_cap() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(Target::OaiFirstPage, Fault::Endless);
    let (http, oai, _) = clients(&fake, config(0));
    let url = oai.list_url(&first_page());
    let err = http.get(&url, 1 << 20).await.unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_trickling_body_hits_the_total_timeout() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiFirstPage,
        Fault::Trickle(Duration::from_millis(50)),
    );
    let mut c = config(0);
    c.timeout = Duration::from_secs(1);
    let (_, oai, _) = clients(&fake, c);
    let started = Instant::now();
    let err = oai.list_records(&first_page()).await.unwrap_err();
    assert!(
        err.to_string().contains("no complete response within 1s"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.seen().len(), 1, "a timed-out request is not repeated");
}
