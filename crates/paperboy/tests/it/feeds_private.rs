//! A member's private saved-papers feed over real HTTP: made, read by feedparser in saved
//! order, regenerated and revoked from /saved (CSRF-checked forms), and a 404 for every token
//! that is not the member's current one.

use chrono::{Duration, TimeZone as _, Utc};
use paperboy::domain::ArxivId;
use paperboy::web::session;
use reqwest::header;
use serde_json::Value;

use crate::feeds::{FORMATS, check_json_feed, clean_entry_ids, read_with_feedparser};
use crate::members::{Session, members_fixture, post_form, session_for};
use crate::support::TestApp;

async fn get_with(t: &TestApp, s: &Session, path: &str) -> reqwest::Response {
    t.client
        .get(format!("{}{path}", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .unwrap()
}

/// The feed token in a page that shows a new feed address (`…/saved/{token}/feed.rss`).
fn shown_token(t: &TestApp, html: &str) -> String {
    let prefix = format!("{}/saved/", t.base_url);
    let rest = html
        .split(&prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("the page shows no feed address:\n{html}"));
    let token = rest.split('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 43, "{token}");
    token
}

/// Makes (or remakes) the member's feed through the /saved form; returns the new token.
async fn make_feed(t: &TestApp, s: &Session) -> String {
    let res = post_form(t, s, "/saved/feed-token", &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let html = res.text().await.unwrap();
    let token = shown_token(t, &html);
    // The page that shows the address also announces it, for this member only.
    let head = html.split("</head>").next().unwrap();
    assert!(
        head.contains(r#"type="application/atom+xml" title="Saved papers of "#)
            && head.contains(&format!(r#"href="/saved/{token}/feed.atom""#)),
        "{head}"
    );
    token
}

async fn status_of(t: &TestApp, path: &str) -> u16 {
    t.get(path).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_private_feed_lists_saved_papers_newest_saved_first() {
    let t = TestApp::spawn_with(&[members_fixture()]).await;
    let s = session_for(&t, "ada@example.org").await;
    let member = t
        .app
        .store
        .ensure_member("ada@example.org", false, Utc::now())
        .await
        .unwrap();
    // Saved at known times, out of id order; the last one through the page's form (now).
    let start = Utc.with_ymd_and_hms(2026, 8, 1, 12, 0, 0).unwrap();
    for (i, id) in ["2608.90003", "hep-th/9901001", "2608.90001"]
        .into_iter()
        .enumerate()
    {
        t.app
            .store
            .set_saved(
                member.account_id,
                &ArxivId::parse(id).unwrap(),
                true,
                start + Duration::hours(i as i64),
            )
            .await
            .unwrap();
    }
    let res = post_form(
        &t,
        &s,
        "/papers/2608.90002/save",
        &[("csrf", &s.csrf), ("save", "1")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let want = ["2608.90002", "2608.90001", "hep-th/9901001", "2608.90003"];

    let token = make_feed(&t, &s).await;
    let mut xml_paths = Vec::new();
    for (ext, media_type) in FORMATS {
        let path = format!("/saved/{token}/feed.{ext}");
        let res = t.get(&path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let headers = res.headers().clone();
        assert_eq!(
            headers["content-type"],
            format!("{media_type}; charset=utf-8").as_str()
        );
        assert_eq!(headers["cache-control"], "private, no-store", "{path}");
        assert_eq!(headers["x-robots-tag"], "noindex", "{path}");
        assert!(headers.get("last-modified").is_none(), "{path}");
        if ext == "json" {
            let doc: Value = res.json().await.unwrap();
            assert_eq!(check_json_feed(&path, &doc, &t.base_url), want, "{path}");
            // The feed links home to /saved, never to a URL holding the token.
            assert_eq!(doc["home_page_url"], format!("{}/saved", t.base_url));
            let body = doc.to_string();
            assert_eq!(body.matches(&token).count(), 1, "only feed_url: {body}");
        } else {
            xml_paths.push(path);
        }
    }
    if let Some(report) = read_with_feedparser(&t, &xml_paths).await {
        for path in &xml_paths {
            let feed = &report[path];
            assert_eq!(
                clean_entry_ids(path, feed),
                want,
                "{path}: not in saved order"
            );
            assert_eq!(feed["link"], format!("{}/saved", t.base_url), "{path}");
            assert_eq!(feed["status_with_etag"], 304, "{path}");
        }
    }

    // Unsaving a paper changes the feed (and its ETag).
    let before = t.get(&format!("/saved/{token}/feed.json")).await;
    let etag = before.headers()["etag"].to_str().unwrap().to_owned();
    post_form(
        &t,
        &s,
        "/papers/2608.90001/save",
        &[("csrf", &s.csrf), ("save", "0")],
    )
    .await;
    let after = t
        .client
        .get(format!("{}/saved/{token}/feed.json", t.base_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 200);
    let doc: Value = after.json().await.unwrap();
    let ids = json_feed_ids(&doc);
    assert_eq!(ids, ["2608.90002", "hep-th/9901001", "2608.90003"]);

    // A paper an admin hides leaves the saved list and the feed like every other list.
    let hidden = ArxivId::parse("hep-th/9901001").unwrap();
    t.app
        .store
        .set_paper_hidden(&hidden, true, Utc::now())
        .await
        .unwrap();
    let doc: Value = t
        .get(&format!("/saved/{token}/feed.json"))
        .await
        .json()
        .await
        .unwrap();
    let ids = json_feed_ids(&doc);
    assert_eq!(ids, ["2608.90002", "2608.90003"]);
    let page = get_with(&t, &s, "/saved").await.text().await.unwrap();
    assert!(!page.contains("hep-th/9901001"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_or_revoking_a_feed_address_makes_the_old_one_404() {
    let t = TestApp::spawn_with(&[members_fixture()]).await;
    let s = session_for(&t, "ada@example.org").await;
    let page = get_with(&t, &s, "/saved").await;
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Make a feed address"), "{html}");
    assert!(
        !html.contains("/saved/feed-token/revoke"),
        "nothing to revoke"
    );

    let first = make_feed(&t, &s).await;
    for (ext, _) in FORMATS {
        assert_eq!(
            status_of(&t, &format!("/saved/{first}/feed.{ext}")).await,
            200
        );
    }
    // Later visits say there is a feed, but cannot show (or announce) its address again.
    let html = get_with(&t, &s, "/saved").await.text().await.unwrap();
    assert!(html.contains("Make a new feed address"), "{html}");
    assert!(html.contains("/saved/feed-token/revoke"));
    assert!(!html.contains(&first));
    // Only the digest is stored.
    let store = &t.app.store;
    assert!(store.saved_feed_owner(&first).await.unwrap().is_none());
    assert!(
        store
            .saved_feed_owner(&session::digest(&first))
            .await
            .unwrap()
            .is_some()
    );

    let second = make_feed(&t, &s).await;
    assert_ne!(first, second);
    for (ext, _) in FORMATS {
        assert_eq!(
            status_of(&t, &format!("/saved/{first}/feed.{ext}")).await,
            404
        );
        assert_eq!(
            status_of(&t, &format!("/saved/{second}/feed.{ext}")).await,
            200
        );
    }

    let res = post_form(&t, &s, "/saved/feed-token/revoke", &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Your private feed is off"), "{html}");
    assert!(html.contains("Make a feed address"));
    for (ext, _) in FORMATS {
        assert_eq!(
            status_of(&t, &format!("/saved/{second}/feed.{ext}")).await,
            404
        );
    }
    // Revoking twice is harmless.
    let res = post_form(&t, &s, "/saved/feed-token/revoke", &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status().as_u16(), 200);

    // A new address works again; a ban ends it like every other token of the member.
    let third = make_feed(&t, &s).await;
    assert_eq!(
        status_of(&t, &format!("/saved/{third}/feed.rss")).await,
        200
    );
    let member = store
        .ensure_member("ada@example.org", false, Utc::now())
        .await
        .unwrap();
    store
        .ban_member(member.account_id, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        status_of(&t, &format!("/saved/{third}/feed.rss")).await,
        404
    );
}

#[tokio::test]
async fn unknown_and_malformed_feed_tokens_are_404_and_forms_need_csrf() {
    let t = TestApp::spawn_with(&[members_fixture()]).await;
    let unknown = session::random_secret(32);
    for path in [
        format!("/saved/{unknown}/feed.rss"),
        format!("/saved/{unknown}/feed.json"),
        "/saved/abc/feed.atom".to_owned(),
        format!("/saved/{}/feed.rss", "x".repeat(500)),
        "/saved/feed-token/feed.rss".to_owned(),
        format!("/saved/{unknown}/feed.xml"),
    ] {
        let res = t.get(&path).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("revoked"), "{path}: says nothing about why");
    }

    let s = session_for(&t, "ada@example.org").await;
    // Another site's form, or a form without the session's CSRF token, is refused.
    let forged = post_form(&t, &s, "/saved/feed-token", &[("csrf", "wrong")]).await;
    assert_eq!(forged.status().as_u16(), 403);
    let cross = t
        .client
        .post(format!("{}/saved/feed-token", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);
    let member = t
        .app
        .store
        .ensure_member("ada@example.org", false, Utc::now())
        .await
        .unwrap();
    assert!(
        t.app
            .store
            .saved_feed_token_created(member.account_id)
            .await
            .unwrap()
            .is_none(),
        "a refused form makes no feed"
    );
    // Logged out: to the login page. GET on the form routes: 405.
    let anonymous = t
        .client
        .post(format!("{}/saved/feed-token", t.base_url))
        .header(header::ORIGIN, &t.base_url)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(anonymous.headers()[header::LOCATION], "/login");
    for path in ["/saved/feed-token", "/saved/feed-token/revoke"] {
        assert_eq!(status_of(&t, path).await, 405, "{path}");
    }
}

/// A JSON Feed's item ids, in order.
fn json_feed_ids(doc: &Value) -> Vec<&str> {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}
