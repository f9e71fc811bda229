//! RSS, Atom and JSON feeds over real HTTP: Python's feedparser reads every feed cleanly and in
//! page order, hostile text stays inert, conditional GET answers 304, and every list page
//! announces its feeds. The search feeds are in `feeds_search.rs`, the private saved-papers feed
//! in `feeds_private.rs`; both use this file's feedparser runner.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{TestApp, ids, tool};

/// Every list's page path and the `/api/daily_papers` query that lists the same papers.
const LISTS: [(&str, &str); 6] = [
    ("/", "limit=100"),
    ("/papers/date/2026-08-21", "date=2026-08-21&limit=100"),
    ("/papers/week/2026-W34", "week=2026-W34&limit=100"),
    ("/papers/month/2024-05", "month=2024-05&limit=100"),
    ("/trending", "sort=trending&limit=100"),
    ("/members/taesiri", "submitter=taesiri&limit=100"),
];

pub const FORMATS: [(&str, &str); 3] = [
    ("rss", "application/rss+xml"),
    ("atom", "application/atom+xml"),
    ("json", "application/feed+json"),
];

fn feed_path(page: &str, ext: &str) -> String {
    match page {
        "/" => format!("/feed.{ext}"),
        p => format!("{p}/feed.{ext}"),
    }
}

/// Checks what feedparser must find in every RSS and Atom feed (well formed, answered 200, the
/// version the path's extension names) and returns the entries' arXiv ids in feed order (RSS
/// guids are bare ids; Atom ids are the arXiv abstract URL).
pub fn clean_entry_ids(path: &str, feed: &Value) -> Vec<String> {
    assert_eq!(feed["bozo"], false, "{path}: {}", feed["bozo_exception"]);
    assert_eq!(feed["status"], 200, "{path}");
    let version = if path.contains(".rss") {
        "rss20"
    } else {
        "atom10"
    };
    assert_eq!(feed["version"], version, "{path}");
    feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = e["id"].as_str().unwrap();
            id.strip_prefix("https://arxiv.org/abs/")
                .unwrap_or(id)
                .to_owned()
        })
        .collect()
}

/// Runs `read_feeds.py` (feedparser) over `paths` and returns its report, keyed by path.
pub async fn read_with_feedparser(t: &TestApp, paths: &[String]) -> Option<Value> {
    let python = tool("PAPERBOY_TEST_PYTHON")?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/feed_readers/read_feeds.py");
    let base_url = t.base_url.clone();
    let paths = paths.to_vec();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base_url)
            .args(paths)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run read_feeds.py")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "read_feeds.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("read_feeds.py prints JSON"))
}

/// Checks a JSON Feed against the rules of version 1.1 that a reader relies on.
pub fn check_json_feed(path: &str, doc: &Value, base_url: &str) -> Vec<String> {
    assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1", "{path}");
    assert!(
        doc["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{path}"
    );
    assert_eq!(doc["feed_url"], format!("{base_url}{path}"), "{path}");
    for (key, _) in doc.as_object().unwrap() {
        assert!(
            [
                "version",
                "title",
                "home_page_url",
                "feed_url",
                "description",
                "language",
                "items"
            ]
            .contains(&key.as_str()),
            "{path}: unexpected top-level key {key}"
        );
    }
    let items = doc["items"].as_array().expect("items");
    items
        .iter()
        .map(|item| {
            let id = item["id"].as_str().expect("id is a string").to_owned();
            assert!(item["content_html"].is_string(), "{path} {id}");
            assert_eq!(item["url"], format!("{base_url}/papers/{id}"), "{path}");
            let date = item["date_published"].as_str().expect("date_published");
            chrono::DateTime::parse_from_rfc3339(date).expect("RFC 3339 date");
            assert!(
                item["authors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|a| a["name"].is_string())
            );
            assert!(
                item["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(Value::is_string)
            );
            assert!(item["_paperboy"]["upvotes"].is_i64(), "{path} {id}");
            for (key, _) in item.as_object().unwrap() {
                assert!(
                    [
                        "id",
                        "url",
                        "external_url",
                        "title",
                        "content_html",
                        "date_published",
                        "authors",
                        "tags"
                    ]
                    .contains(&key.as_str())
                        || key.starts_with('_'),
                    "{path}: unexpected item key {key} (extensions start with _)"
                );
            }
            id
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedparser_reads_every_feed_cleanly_with_items_in_page_order() {
    let t = TestApp::spawn().await;
    let mut xml_paths = Vec::new();
    let mut expected = std::collections::HashMap::new();
    for (page, query) in LISTS {
        let (status, api) = t.get_json(&format!("/api/daily_papers?{query}")).await;
        assert_eq!(status, 200, "{query}");
        let want = ids(&api);
        assert!(!want.is_empty(), "{page} has papers in the fixtures");
        for (ext, media_type) in FORMATS {
            let path = feed_path(page, ext);
            let res = t.get(&path).await;
            assert_eq!(res.status().as_u16(), 200, "{path}");
            let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(
                content_type,
                format!("{media_type}; charset=utf-8"),
                "{path}"
            );
            if ext == "json" {
                let doc: Value = res.json().await.unwrap();
                let got = check_json_feed(&path, &doc, &t.base_url);
                assert_eq!(got, want, "{path}: JSON Feed items out of page order");
                for (item, api_item) in doc["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(api.as_array().unwrap())
                {
                    assert_eq!(item["_paperboy"]["upvotes"], api_item["upvotes"], "{path}");
                    assert_eq!(item["title"], api_item["title"], "{path}");
                }
            } else {
                xml_paths.push(path.clone());
            }
            expected.insert(path, api.clone());
        }
    }
    let Some(report) = read_with_feedparser(&t, &xml_paths).await else {
        return;
    };
    for path in &xml_paths {
        let feed = &report[path];
        let api = &expected[path];
        let got = clean_entry_ids(path, feed);
        assert_eq!(got, ids(api), "{path}: items out of page order");
        let entries = feed["entries"].as_array().unwrap();
        for (entry, item) in entries.iter().zip(api.as_array().unwrap()) {
            let id = item["paper"]["id"].as_str().unwrap();
            assert_eq!(
                entry["link"],
                format!("{}/papers/{id}", t.base_url),
                "{path}"
            );
            assert_eq!(entry["title"], item["title"], "{path} {id}");
            assert_eq!(entry["upvotes"], item["upvotes"].to_string(), "{path} {id}");
            let authors: Vec<&str> = item["paper"]["authors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap())
                .collect();
            let entry_authors: Vec<&str> = entry["authors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap_or_default())
                .collect();
            assert_eq!(entry_authors, authors, "{path} {id}");
            assert_eq!(entry["tags"], item["categories"], "{path} {id}");
            assert!(entry["published"].is_string(), "{path} {id}: no date");
            let html = entry["content"][0]["value"]
                .as_str()
                .or(entry["summary_detail"]["value"].as_str())
                .unwrap_or_default();
            assert!(html.contains("upvote"), "{path} {id}: {html}");
        }
        assert_eq!(feed["status_with_etag"], 304, "{path}");
        assert_eq!(feed["status_with_modified"], 304, "{path}");
    }
}

/// The XSS corpus of the page tests, plus what breaks XML: `]]>` and control characters.
const HOSTILE: &str = r#"{"id": "2608.00001", "title": "<script>window.__xss=1</script> ]]> \u0001\u000b\u001b x<y", "abstract": "<img src=x onerror=alert(1)> <script>window.__xss=2</script> ]]> & \"quotes\" \u0000\u0008 end", "authors": ["<b>Bold</b>", "]]>"], "categories": ["cs.CL", "<i>x</i>"], "github_repo": "javascript:alert(1)", "hf_daily_date": "2026-08-21", "upvotes": 3}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_and_abstracts_stay_inert_in_every_feed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.jsonl");
    std::fs::write(&path, HOSTILE).unwrap();
    let t = TestApp::spawn_with(&[path]).await;
    let mut xml_paths = Vec::new();
    for page in ["/", "/papers/date/2026-08-21", "/search"] {
        for (ext, _) in FORMATS {
            let feed = match page {
                // A search feed that finds the hostile paper by a word of its title.
                "/search" => format!("/search/feed.{ext}?q=window"),
                page => feed_path(page, ext),
            };
            let (status, body) = t.get_text(&feed).await;
            assert_eq!(status, 200, "{feed}");
            assert!(
                !body
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
                "{feed} carries a control character"
            );
            assert!(!body.contains("javascript:"), "{feed}");
            let markup = if ext == "json" {
                let doc: Value = serde_json::from_str(&body).unwrap();
                let item = &doc["items"][0];
                assert!(item["title"].as_str().unwrap().contains("window.__xss=1"));
                item["content_html"].as_str().unwrap().to_owned()
            } else {
                xml_paths.push(feed.clone());
                body
            };
            for bad in ["<script", "<img", "<b>", "<i>"] {
                assert!(!markup.contains(bad), "{feed} has raw {bad}:\n{markup}");
            }
            assert!(
                markup.contains("window.__xss=2"),
                "{feed} lost the abstract"
            );
        }
    }
    let Some(report) = read_with_feedparser(&t, &xml_paths).await else {
        return;
    };
    for path in &xml_paths {
        let feed = &report[path];
        assert_eq!(feed["bozo"], false, "{path}: {}", feed["bozo_exception"]);
        let entry = &feed["entries"][0];
        // Whatever feedparser decodes as HTML must hold no live element.
        let details = std::iter::once(&entry["title_detail"])
            .chain(std::iter::once(&entry["summary_detail"]))
            .chain(entry["content"].as_array().unwrap());
        let mut saw_abstract = false;
        for detail in details.filter(|d| d.is_object()) {
            let value = detail["value"].as_str().unwrap();
            if detail["type"] == "text/html" {
                for bad in ["<script", "<img", "<b>", "<i>"] {
                    assert!(!value.contains(bad), "{path}: HTML with {bad}: {value}");
                }
            }
            saw_abstract |= value.contains("window.__xss=2");
        }
        assert!(saw_abstract, "{path}: the abstract should survive as text");
        assert!(
            entry["title"].as_str().unwrap().contains("window.__xss=1"),
            "{path}: the title should survive as text: {}",
            entry["title"]
        );
    }
}

#[tokio::test]
async fn conditional_get_returns_304_for_a_current_copy() {
    let t = TestApp::spawn().await;
    for (ext, media_type) in FORMATS {
        let path = format!("/papers/date/2026-08-21/feed.{ext}");
        let url = format!("{}{path}", t.base_url);
        let first = t.get(&path).await;
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let headers = first.headers().clone();
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let modified = headers["last-modified"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        assert!(modified.ends_with(" GMT"), "{modified}");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(media_type)
        );
        let body = first.text().await.unwrap();
        assert_eq!(t.get_text(&path).await.1, body, "{path} is stable");

        let send = |name: &'static str, value: String| {
            let request = t.client.get(&url).header(name, value);
            async move { request.send().await.unwrap() }
        };
        for (name, value) in [
            ("if-none-match", etag.clone()),
            ("if-none-match", format!("W/{etag}")),
            ("if-none-match", format!("\"nope\", {etag}")),
            ("if-modified-since", modified.clone()),
        ] {
            let res = send(name, value.clone()).await;
            assert_eq!(res.status().as_u16(), 304, "{path} {name}: {value}");
            assert_eq!(res.headers()["etag"], etag.as_str());
            assert!(res.text().await.unwrap().is_empty());
        }
        let stale = send("if-none-match", "\"nope\"".into()).await;
        assert_eq!(stale.status().as_u16(), 200, "{path}");
        let old = send("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT".into()).await;
        assert_eq!(old.status().as_u16(), 200, "{path}");
        // If-None-Match decides when both are present (RFC 9110 §13.2.2).
        let both = t
            .client
            .get(&url)
            .header("if-none-match", "\"nope\"")
            .header("if-modified-since", modified.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(both.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn every_list_page_announces_its_feeds_in_the_head() {
    let t = TestApp::spawn().await;
    for (page, _) in LISTS {
        let (status, html) = t.get_text(page).await;
        assert_eq!(status, 200, "{page}");
        let head = html.split("</head>").next().unwrap();
        for (ext, media_type) in FORMATS {
            let href = feed_path(page, ext);
            let link = format!(r#"<link rel="alternate" type="{media_type}" "#);
            let tag = head
                .split(&link)
                .nth(1)
                .and_then(|rest| rest.split('>').next())
                .unwrap_or_else(|| panic!("{page}: no {media_type} link in the head"));
            assert!(tag.contains(&format!(r#"href="{href}""#)), "{page}: {tag}");
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
    // Pages without a list of their own point at the site-wide feed.
    let (_, about) = t.get_text("/about").await;
    assert!(
        about.contains(r#"type="application/rss+xml" title="Daily Papers (RSS)" href="/feed.rss""#)
    );
}

#[tokio::test]
async fn unknown_feed_files_and_members_are_404_and_bad_periods_400() {
    let t = TestApp::spawn().await;
    for path in [
        "/papers/date/2026-08-21/feed.xml",
        "/papers/week/2026-W34/rss",
        "/trending/feed",
        "/members/taesiri/feed.xml",
        "/members/nobody-by-this-name/feed.rss",
    ] {
        assert_eq!(t.get(path).await.status().as_u16(), 404, "{path}");
    }
    for path in [
        "/papers/date/2026-13-40/feed.rss",
        "/papers/week/2026-W60/feed.atom",
        "/papers/month/2026-1/feed.json",
    ] {
        assert_eq!(t.get(path).await.status().as_u16(), 400, "{path}");
    }
    // A period with no papers is an empty, valid feed.
    let (status, body) = t.get_text("/papers/date/2020-01-01/feed.json").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["items"], serde_json::json!([]));
}
