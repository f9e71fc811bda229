//! The rendered-page cache over HTTP: every kind of write shows on the next anonymous request
//! (upvotes, admin hides, imports in this process and by a separate `paperboy import`), members
//! neither get nor leave cached pages, and hits keep HEAD, content types and metrics right.

use std::process::Command;

use reqwest::header;

use crate::members::{Session, members_fixture, post_form, session_for};
use crate::support::TestApp;

const DAY: &str = "/papers/date/2026-08-21";

async fn spawn() -> TestApp {
    TestApp::spawn_with(&[members_fixture()]).await
}

/// The upvote count a list page shows on `id`'s card, or None when the card is not there.
fn card_upvotes(page: &str, id: &str) -> Option<i64> {
    let card = page
        .split("<li class=\"paper-card\">")
        .find(|card| card.contains(&format!("action=\"/papers/{id}/upvote\"")))?;
    let count = card.split("title=\"").nth(1)?.split(" upvote").next()?;
    Some(count.parse().expect("an upvote count"))
}

async fn anonymous(t: &TestApp, path: &str) -> String {
    let (status, page) = t.get_text(path).await;
    assert_eq!(status, 200, "{path}: {page}");
    page
}

async fn as_member(t: &TestApp, s: &Session, path: &str) -> reqwest::Response {
    t.client
        .get(format!("{}{path}", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .unwrap()
}

/// Loads `DAY` twice, so that the second answer came from the cache, and returns it.
async fn cached_day(t: &TestApp) -> String {
    let first = anonymous(t, DAY).await;
    let second = anonymous(t, DAY).await;
    assert_eq!(first, second, "the same page again");
    assert!(!t.app.page_cache.is_empty(), "the page was kept");
    second
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upvotes_hides_and_imports_show_on_the_next_anonymous_request() {
    let t = spawn().await;
    let ada = session_for(&t, "ada@example.org").await;

    // An upvote by a member.
    assert_eq!(card_upvotes(&cached_day(&t).await, "2608.90002"), Some(10));
    let res = post_form(
        &t,
        &ada,
        "/papers/2608.90002/upvote",
        &[("csrf", &ada.csrf), ("vote", "up")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let page = anonymous(&t, DAY).await;
    assert_eq!(card_upvotes(&page, "2608.90002"), Some(11), "{page}");

    // A comment (the card counts them).
    let comments = |page: &str| {
        let card = page
            .split("<li class=\"paper-card\">")
            .find(|c| c.contains("/papers/2608.90002/upvote"))
            .unwrap()
            .to_owned();
        card.contains("title=\"1 comment\"")
    };
    assert!(!comments(&cached_day(&t).await));
    let res = post_form(
        &t,
        &ada,
        "/papers/2608.90002/comments",
        &[("csrf", &ada.csrf), ("body", "A first comment.")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "{:?}", res.text().await);
    assert!(comments(&anonymous(&t, DAY).await));

    // An import in this process (the writer connection) raises the imported count.
    cached_day(&t).await;
    crate::support::import_records(
        &t.app.store,
        &[serde_json::json!({
            "id": "2608.90002", "title": "A calm paper on the feed",
            "abstract": "Nothing to see.", "authors": ["Ada Lovelace"], "categories": ["cs.LG"],
            "published": "2026-08-20", "upvotes": 20, "num_comments": 0,
            "hf_daily_date": "2026-08-21",
        })],
    )
    .await;
    assert_eq!(
        card_upvotes(&anonymous(&t, DAY).await, "2608.90002"),
        Some(21),
        "20 imported + 1 member vote"
    );

    // An admin hides the paper: gone from the list, and from the home page (the latest day).
    assert!(
        anonymous(&t, "/")
            .await
            .contains("/papers/2608.90002/upvote")
    );
    cached_day(&t).await;
    let admin = session_for(&t, "admin@example.org").await;
    t.app.store.grant_admin("admin@example.org").await.unwrap();
    let res = post_form(
        &t,
        &admin,
        "/admin/papers/hide",
        &[
            ("csrf", &admin.csrf),
            ("paper", "2608.90002"),
            ("hidden", "1"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(card_upvotes(&anonymous(&t, DAY).await, "2608.90002"), None);
    assert!(
        !anonymous(&t, "/")
            .await
            .contains("/papers/2608.90002/upvote")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_by_another_process_shows_on_the_next_anonymous_request() {
    let t = spawn().await;
    let page = cached_day(&t).await;
    assert!(!page.contains("Imported while the server ran"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new.jsonl");
    std::fs::write(
        &file,
        r#"{"id": "2608.90009", "title": "Imported while the server ran", "abstract": "From another process.", "authors": ["Grace Hopper"], "categories": ["cs.DB"], "published": "2026-08-20", "upvotes": 50, "num_comments": 0, "hf_daily_date": "2026-08-21"}"#,
    )
    .unwrap();
    let data_dir = t.app.config.data_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("import")
            .arg(&file)
            .env_remove("PAPERBOY_DATA_DIR")
            .output()
            .expect("run paperboy import")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = anonymous(&t, DAY).await;
    assert_eq!(card_upvotes(&page, "2608.90009"), Some(50), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_neither_get_nor_leave_cached_pages() {
    let t = spawn().await;
    let ada = session_for(&t, "ada@example.org").await;
    // A member's vote state and CSRF token are on their page…
    post_form(
        &t,
        &ada,
        "/papers/2608.90002/upvote",
        &[("csrf", &ada.csrf), ("vote", "up")],
    )
    .await;
    let anonymous_page = cached_day(&t).await;
    assert!(!anonymous_page.contains(&ada.csrf));
    assert!(!anonymous_page.contains("vote-box upvoted"));
    let res = as_member(&t, &ada, DAY).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&ada.csrf),
        "the member's page, not the cached one"
    );
    assert!(page.contains("vote-box upvoted"));
    assert_ne!(page, anonymous_page);
    // …and never kept: a page first asked for by a member is rendered anew for a reader.
    let held = t.app.page_cache.len();
    for path in ["/papers/date/2026-08-21?sort=new", "/trending", "/"] {
        let page = as_member(&t, &ada, path).await.text().await.unwrap();
        assert!(page.contains(&ada.csrf), "{path}");
    }
    assert_eq!(t.app.page_cache.len(), held, "member pages are not kept");
    for path in ["/papers/date/2026-08-21?sort=new", "/trending", "/"] {
        let page = anonymous(&t, path).await;
        assert!(!page.contains(&ada.csrf), "{path}");
        assert!(page.contains("Log in"), "{path}");
    }
    assert_eq!(t.app.page_cache.len(), held + 3);
    // A stale or unknown session cookie is not a member, but still bypasses the cache.
    let stranger = Session {
        cookie: format!(
            "{}=no-such-session",
            paperboy::web::session::cookie_name(&t.app)
        ),
        csrf: String::new(),
    };
    let page = as_member(&t, &stranger, "/papers/week/2026-W34")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Log in"));
    assert_eq!(t.app.page_cache.len(), held + 3);
    // Logging in sets a cookie: such answers are never kept (the login pages are not cached
    // routes anyway, but a cached route never sets one either).
    let res = t.get(DAY).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_keep_head_content_types_and_metrics() {
    let t = spawn().await;
    let page = cached_day(&t).await;
    let res = t.get(DAY).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(
        res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .split(';')
            .next(),
        Some("default-src 'self'")
    );
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(res.text().await.unwrap(), page);
    // HEAD: the headers of the GET, no body.
    let res = t
        .client
        .head(format!("{}{DAY}", t.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(
        res.headers()[header::CONTENT_LENGTH],
        page.len().to_string().as_str()
    );
    assert_eq!(res.bytes().await.unwrap().len(), 0);
    // Pages have no validators: a conditional request gets the whole page, as uncached.
    let res = t
        .client
        .get(format!("{}{DAY}", t.base_url))
        .header(header::IF_NONE_MATCH, "*")
        .header(header::IF_MODIFIED_SINCE, "Sun, 01 Jan 2090 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().await.unwrap(), page);
    // Errors are not kept, and stay errors.
    for _ in 0..2 {
        let (status, _) = t.get_text("/papers/date/2026-02-30").await;
        assert_eq!(status, 400);
    }
    // Every request is counted under its route, hits included: 2 + 1 GETs and a HEAD.
    let (_, metrics) = t.get_text("/metrics").await;
    let count = |method: &str, status: u16| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("paperboy_http_requests_total{")
                    && l.contains(&format!("method=\"{method}\""))
                    && l.contains("route=\"/papers/date/{date}\"")
                    && l.contains(&format!("status=\"{status}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(|n| n.parse::<u64>().unwrap())
    };
    assert_eq!(count("GET", 200), Some(4), "{metrics}");
    assert_eq!(count("HEAD", 200), Some(1), "{metrics}");
    assert_eq!(count("GET", 400), Some(2), "{metrics}");
}
