//! The HF-compatible JSON API over real HTTP: ordering, paging, shapes and errors.

use std::io::Read;

use crate::support::{TestApp, fixtures, hf_daily_fixtures, ids};

/// The ids of a raw HF daily fixture file, in file (upvote) order.
fn fixture_ids(date: &str) -> Vec<String> {
    let path = hf_daily_fixtures().join(format!("{date}.json.gz"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    items
        .iter()
        .map(|i| i["paper"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn is_hf_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn a_dated_list_is_in_upvote_order_with_hf_fields() {
    let t = TestApp::spawn().await;
    let (status, body) = t.get_json("/api/daily_papers?date=2026-08-21").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), fixture_ids("2026-08-21"));
    let item = &body[0];
    for key in [
        "paper",
        "publishedAt",
        "title",
        "summary",
        "thumbnail",
        "numComments",
        "isAuthorParticipating",
    ] {
        assert!(item.get(key).is_some(), "item lacks {key}: {item}");
    }
    let paper = &item["paper"];
    assert!(is_hf_timestamp(paper["publishedAt"].as_str().unwrap()));
    assert!(is_hf_timestamp(
        paper["submittedOnDailyAt"].as_str().unwrap()
    ));
    assert_eq!(paper["discussionId"].as_str().unwrap().len(), 24);
    assert!(paper["authors"][0]["name"].is_string());
    let upvotes: Vec<i64> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["paper"]["upvotes"].as_i64().unwrap())
        .collect();
    assert!(upvotes.windows(2).all(|w| w[0] >= w[1]), "{upvotes:?}");
    assert!(!paper["title"].as_str().unwrap().contains('\n'));
}

#[tokio::test]
async fn python_repr_and_wrapped_archives_are_served_in_order() {
    let t = TestApp::spawn().await;
    let (_, body) = t.get_json("/api/daily_papers?date=2024-12-11").await;
    assert!(!ids(&body).is_empty());
    let (_, body) = t.get_json("/api/daily_papers?date=2025-01-10").await;
    assert!(!ids(&body).is_empty());
}

#[tokio::test]
async fn paging_follows_link_headers_to_the_end() {
    let t = TestApp::spawn().await;
    let all = fixture_ids("2026-08-21");
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "{}/api/daily_papers?date=2026-08-21&limit=4",
        t.base_url
    ));
    while let Some(url) = next {
        let res = t.client.get(&url).send().await.unwrap();
        next = res
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned())
            .map(|v| {
                v.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned()
            });
        let body: serde_json::Value = res.json().await.unwrap();
        seen.extend(ids(&body));
        assert!(seen.len() <= all.len() + 4, "paging does not end");
    }
    assert_eq!(seen, all);
    let (_, body) = t.get_json("/api/daily_papers?date=2026-08-21&p=100").await;
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test]
async fn week_month_and_submitter_filter_the_feed() {
    let t = TestApp::spawn().await;
    let mut expected: Vec<String> = [fixture_ids("2026-08-20"), fixture_ids("2026-08-21")].concat();
    expected.sort();
    for q in ["week=2026-W34", "month=2026-08"] {
        let (status, body) = t
            .get_json(&format!("/api/daily_papers?{q}&limit=100"))
            .await;
        assert_eq!(status, 200);
        let mut got = ids(&body);
        got.sort();
        assert_eq!(got, expected, "{q}");
    }
    let (_, body) = t
        .get_json("/api/daily_papers?submitter=taesiri&limit=100")
        .await;
    let items = body.as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert_eq!(item["submittedBy"]["user"], "taesiri");
    }
}

#[tokio::test]
async fn trending_ranks_the_last_active_week() {
    let t = TestApp::spawn().await;
    let (status, body) = t
        .get_json("/api/daily_papers?sort=trending&limit=100")
        .await;
    assert_eq!(status, 200);
    let got = ids(&body);
    assert!(!got.is_empty());
    let recent: Vec<String> = [fixture_ids("2026-08-20"), fixture_ids("2026-08-21")].concat();
    assert!(got.iter().all(|id| recent.contains(id)), "{got:?}");
}

#[tokio::test]
async fn bad_parameters_get_400_with_a_json_error() {
    let t = TestApp::spawn().await;
    for q in [
        "date=2025-13-40",
        "date=2025-02-30",
        "date=yesterday",
        "date=2999-01-01",
        "week=2026-W99",
        "month=2026-13",
        "p=-1",
        "p=x",
        "limit=1000",
        "limit=0",
        "sort=upvotes",
        "date=2026-08-21&week=2026-W34",
    ] {
        let (status, body) = t.get_json(&format!("/api/daily_papers?{q}")).await;
        assert_eq!(status, 400, "{q}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{q}: {body}"
        );
    }
}

#[tokio::test]
async fn paper_info_and_markdown() {
    let t = TestApp::spawn().await;
    let id = &fixture_ids("2026-08-21")[0];
    let (status, body) = t.get_json(&format!("/api/papers/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], id.as_str());
    assert!(body["linkedModels"].is_array());
    assert!(body.get("paper").is_none(), "paper_info is flat");
    let (status, md) = t.get_text(&format!("/papers/{id}.md")).await;
    assert_eq!(status, 200);
    assert!(md.starts_with(&format!("# {}", body["title"].as_str().unwrap())));
    let res = t.get(&format!("/papers/{id}.md")).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_404_json() {
    let t = TestApp::spawn().await;
    for id in [
        "1234.56789",
        "2608.99999",
        "not-an-id",
        "..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, body) = t.get_json(&format!("/api/papers/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert_eq!(body["error"], "Paper not found");
    }
    let (status, _) = t.get_text("/papers/2608.99999.md").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn old_style_ids_work_in_pages_and_api() {
    let t = TestApp::spawn_with(&[fixtures().join("import/papers-sample.jsonl")]).await;
    let (status, body) = t.get_json("/api/papers/hep-th/9108002").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "hep-th/9108002");
    let (status, html) = t.get_text("/papers/hep-th/9108002").await;
    assert_eq!(status, 200);
    assert!(html.contains("hep-th/9108002"));
    let (status, _) = t.get_text("/papers/hep-th/9108002.md").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn health_and_metrics_report_counts_and_routes() {
    let t = TestApp::spawn().await;
    let (status, body) = t.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert!(body["papers"].as_i64().unwrap() > 0);
    t.get("/api/daily_papers?date=2026-08-21").await;
    t.get("/no/such/page").await;
    let (status, text) = t.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains(
            r#"paperboy_http_requests_total{method="GET",route="/api/daily_papers",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("paperboy_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"paperboy_papers{state="on_feed"}"#));
    assert!(text.contains(r#"status="404""#));
}

#[tokio::test]
async fn errors_from_below_the_handlers_get_the_sites_shape() {
    let t = TestApp::spawn().await;
    let send = |method: &str, path: &str| {
        t.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", t.base_url),
        )
    };
    // A method the route does not take: JSON under /api, the error page elsewhere; both keep
    // the Allow header and say what the address takes.
    for (method, path, json) in [
        ("GET", "/api/papers/submit", true),
        ("POST", "/api/daily_papers", true),
        ("GET", "/papers/2608.19880/upvote", false),
        ("PUT", "/login", false),
    ] {
        let res = send(method, path).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 405, "{method} {path}");
        assert!(res.headers().contains_key("allow"), "{method} {path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("does not take {method} requests")),
            "{body}"
        );
        if json {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"].is_string());
        } else {
            assert!(body.contains("<!doctype html>"), "{body}");
        }
    }
    // Path segments that are not UTF-8 or not a number.
    for path in ["/papers/%FF", "/members/%FF", "/papers/date/%FF"] {
        let (status, html) = t.get_text(path).await;
        assert_eq!(status, 400, "{path}");
        assert!(
            html.contains("<!doctype html>") && html.contains("could not be read"),
            "{html}"
        );
    }
    let res = send("POST", "/comments/abc/edit").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("could not be read"));
    // A body over the limit.
    let res = send("POST", "/api/papers/2608.19880/comment")
        .header("content-type", "application/json")
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("64 KiB"), "{body}");
    // An answer meant as plain text stays so (the Markdown view of a paper is not a page).
    let res = t.get("/papers/2608.99999.md").await;
    assert_eq!(res.status().as_u16(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    // A made-up method is refused, and counted as "other" rather than under its own name.
    let res = send("XYZZY1", "/").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let (_, metrics) = t.get_text("/metrics").await;
    assert!(!metrics.contains("XYZZY1"));
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

#[tokio::test]
async fn refusals_word_the_input_plainly() {
    let t = TestApp::spawn().await;
    // A repeated key: no axum preamble, no Rust type names, on the API and on pages.
    let (status, body) = t.get_json("/api/daily_papers?p=1&p=2").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"], "invalid query string: `p` is given more than once",
        "{body}"
    );
    let (status, html) = t.get_text("/search?q=a&q=b").await;
    assert_eq!(status, 400);
    assert!(html.contains("`q` is given more than once"), "{html}");
    // Input is quoted as typed (a backslash stays one backslash), and a character that would
    // not show, such as a right-to-left override, is named rather than hidden or obeyed.
    let (status, body) = t
        .get_json("/api/papers/search?q=a&mode=%5Calpha%E2%80%AE")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"], "unknown mode \"\\alpha<U+202E>\": use lexical, semantic or hybrid",
        "{body}"
    );
    let (status, html) = t.get_text("/papers/date/2026-02-30").await;
    assert_eq!(status, 400);
    assert!(html.contains("&#34;2026-02-30&#34;"), "{html}");
}

#[tokio::test]
async fn a_date_filter_that_is_not_a_date_is_refused_not_searched_for() {
    let t = TestApp::spawn().await;
    let (status, body) = t.get_json("/api/papers/search?q=model&after=banana").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("\"banana\" is not a date"),
        "{body}"
    );
    let (status, html) = t.get_text("/search?q=model&before=2026-02-30").await;
    assert_eq!(status, 400);
    assert!(html.contains("is not a date"), "{html}");
    // The search page itself says so, with the form as filled in: the query is not lost.
    assert!(
        html.contains("value=\"model\"") && html.contains("value=\"2026-02-30\""),
        "{html}"
    );
    // A query with nothing to search for says so instead of showing an empty page.
    let (status, html) = t.get_text("/search?q=author%3A").await;
    assert_eq!(status, 200);
    assert!(html.contains("There is nothing to search for"), "{html}");
    // A feed page past the end of its list says so and leads back to the first page.
    let (status, html) = t.get_text("/papers/month/2026-08?p=99").await;
    assert_eq!(status, 200);
    assert!(html.contains("The list ends before this page."), "{html}");
    // A paper's address with a trailing slash leads to the paper; a list without its date says
    // what to add.
    let res = t.get("/papers/2405.15738/").await;
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers()["location"], "/papers/2405.15738");
    let (status, html) = t.get_text("/papers/date/").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("Add the date to the address, as in /papers/date/"),
        "{html}"
    );
    let (status, html) = t.get_text("/papers/date/2099-01-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("Jan 1, 2099 is still to come"), "{html}");
    // A conditional GET dated in the future is ignored (RFC 9110, 13.1.3).
    let res = t
        .client
        .get(format!("{}/feed.rss", t.base_url))
        .header("if-modified-since", "Fri, 31 Dec 9999 23:59:59 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}
