//! Search feeds over real HTTP: every format lists the search's results in the API's order,
//! feedparser reads them cleanly, the page announces them, conditional GET answers 304, and bad
//! queries get a 400.

use serde_json::Value;

use crate::feeds::{FORMATS, check_json_feed, clean_entry_ids, read_with_feedparser};
use crate::support::{TestApp, ids};

/// Searches (canonical query strings, as the page writes them) with results in the fixtures:
/// words, words with a filter and a mode, and a filter alone (newest first).
const SEARCHES: [&str; 4] = [
    "q=models",
    "q=visual+encoder&mode=lexical",
    "q=models&author=Chunjiang+Ge",
    "after=2025",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_feeds_list_the_results_in_order_in_every_format() {
    let t = TestApp::spawn().await;
    let mut xml_paths = Vec::new();
    let mut expected = std::collections::HashMap::new();
    for search in SEARCHES {
        let (status, api) = t
            .get_json(&format!("/api/papers/search?{search}&limit=100"))
            .await;
        assert_eq!(status, 200, "{search}");
        let want = ids(&api);
        assert!(!want.is_empty(), "{search} finds papers in the fixtures");
        for (ext, media_type) in FORMATS {
            let path = format!("/search/feed.{ext}?{search}");
            let res = t.get(&path).await;
            assert_eq!(res.status().as_u16(), 200, "{path}");
            let headers = res.headers().clone();
            assert_eq!(
                headers["content-type"],
                format!("{media_type}; charset=utf-8").as_str(),
                "{path}"
            );
            assert!(
                headers["cache-control"]
                    .to_str()
                    .unwrap()
                    .starts_with("public"),
                "{path}"
            );
            // A search can gain papers older than those it lists: no Last-Modified.
            assert!(headers.get("last-modified").is_none(), "{path}");
            if ext == "json" {
                let doc: Value = res.json().await.unwrap();
                assert_eq!(
                    check_json_feed(&path, &doc, &t.base_url),
                    want,
                    "{path}: items out of result order"
                );
                assert_eq!(
                    doc["home_page_url"],
                    format!("{}/search?{search}", t.base_url),
                    "{path}"
                );
            } else {
                xml_paths.push(path.clone());
            }
            expected.insert(path, want.clone());
        }
    }
    let Some(report) = read_with_feedparser(&t, &xml_paths).await else {
        return;
    };
    for path in &xml_paths {
        let feed = &report[path];
        let got = clean_entry_ids(path, feed);
        assert_eq!(got, expected[path], "{path}: items out of result order");
        assert!(
            feed["title"].as_str().unwrap().contains("Search"),
            "{path}: {}",
            feed["title"]
        );
        assert_eq!(feed["status_with_etag"], 304, "{path}");
    }
}

#[tokio::test]
async fn an_arxiv_id_search_feed_holds_that_paper_alone() {
    let t = TestApp::spawn().await;
    let (status, body) = t.get_text("/search/feed.json?q=2405.15738").await;
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], "2405.15738");
}

#[tokio::test]
async fn search_feeds_answer_304_to_a_current_etag() {
    let t = TestApp::spawn().await;
    for (ext, _) in FORMATS {
        let url = format!("{}/search/feed.{ext}?q=models", t.base_url);
        let first = t.client.get(&url).send().await.unwrap();
        assert_eq!(first.status().as_u16(), 200, "{url}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let body = first.text().await.unwrap();
        for value in [etag.clone(), format!("W/{etag}")] {
            let res = t
                .client
                .get(&url)
                .header("if-none-match", &value)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 304, "{url} {value}");
            assert_eq!(res.headers()["etag"], etag.as_str());
            assert!(res.text().await.unwrap().is_empty());
        }
        let stale = t
            .client
            .get(&url)
            .header("if-none-match", "\"nope\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status().as_u16(), 200, "{url}");
        assert_eq!(stale.text().await.unwrap(), body, "{url} is stable");
        // Another search is another document.
        let other = t.get(&format!("/search/feed.{ext}?q=visual+encoder")).await;
        assert_ne!(other.headers()["etag"], etag.as_str(), "{url}");
    }
}

/// The `href` of the `<link rel="alternate" type=media_type>` in the head of `html`.
fn alternate_href(html: &str, media_type: &str) -> Option<String> {
    let head = html.split("</head>").next().unwrap();
    let tag = head
        .split(&format!(r#"<link rel="alternate" type="{media_type}" "#))
        .nth(1)?
        .split('>')
        .next()?;
    let href = tag.split(r#"href=""#).nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn a_search_page_announces_its_feeds_in_the_head() {
    let t = TestApp::spawn().await;
    for (page, feed_query) in [
        ("/search?q=visual+encoder", "q=visual+encoder"),
        (
            "/search?q=visual+encoder&mode=lexical&p=1",
            "q=visual+encoder&mode=lexical",
        ),
        ("/search?q=&after=2025", "after=2025"),
    ] {
        let (status, html) = t.get_text(page).await;
        assert_eq!(status, 200, "{page}");
        for (ext, media_type) in FORMATS {
            let href = alternate_href(&html, media_type)
                .unwrap_or_else(|| panic!("{page}: no {media_type} link in the head"));
            assert_eq!(href, format!("/search/feed.{ext}?{feed_query}"), "{page}");
            let res = t.get(&href).await;
            assert_eq!(res.status().as_u16(), 200, "{href}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(media_type)
            );
        }
    }
    // Before a search there is nothing to follow but the site-wide feed.
    let (_, html) = t.get_text("/search").await;
    assert_eq!(
        alternate_href(&html, "application/rss+xml").as_deref(),
        Some("/feed.rss")
    );
}

#[tokio::test]
async fn search_feeds_refuse_what_the_search_page_refuses_and_empty_queries() {
    let t = TestApp::spawn().await;
    let long = "x".repeat(251);
    for (path, why) in [
        (
            format!("/search/feed.rss?q={long}"),
            "q over 250 characters",
        ),
        ("/search/feed.atom".to_owned(), "no query"),
        ("/search/feed.json?q=".to_owned(), "an empty query"),
        ("/search/feed.rss?q=+++&mode=".to_owned(), "blank query"),
        ("/search/feed.rss?q=a&mode=fuzzy".to_owned(), "unknown mode"),
    ] {
        let (status, body) = t.get_text(&path).await;
        assert_eq!(status, 400, "{why}: {path}");
        assert!(!body.contains("Internal"), "{why}: {body}");
    }
    let (_, body) = t.get_text("/search/feed.atom").await;
    assert!(body.contains("needs a query"), "{body}");
    for path in [
        "/search/feed.xml?q=models",
        "/search/feed?q=models",
        "/search/rss?q=a",
    ] {
        assert_eq!(t.get(path).await.status().as_u16(), 404, "{path}");
    }
    // Exactly 250 characters is fine, and a search with no hits is an empty, valid feed.
    let (status, body) = t
        .get_text(&format!("/search/feed.json?q={}", "x".repeat(250)))
        .await;
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["items"], serde_json::json!([]));
}
