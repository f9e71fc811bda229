//! Members over HTTP: magic-link login, sessions and CSRF, upvotes under concurrency,
//! submissions and their refusals, comments, saved papers, API tokens, admin and rate limits.

use std::path::PathBuf;

use futures_util::StreamExt as _;
use paperboy::web::session;
use reqwest::header;
use serde_json::Value;

use crate::support::{TestApp, fixtures};

/// The members fixture: a hostile paper and calm ones on 2026-08-21, and two stored papers that
/// are not on the feed.
pub fn members_fixture() -> PathBuf {
    fixtures().join("members/papers.jsonl")
}

/// A logged-in browser-like client: the session cookie and the CSRF token of its session.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Creates (or finds) the member with `email` and a session for them, as a login would.
pub async fn session_for(t: &TestApp, email: &str) -> Session {
    let store = &t.app.store;
    let member = store
        .ensure_member(email, false, chrono::Utc::now())
        .await
        .unwrap();
    let raw = session::random_secret(32);
    let csrf = session::random_secret(32);
    let now = chrono::Utc::now();
    store
        .create_session(&paperboy::store::members::NewSession {
            session_hash: &session::digest(&raw),
            account_id: member.account_id,
            csrf_token: &csrf,
            now,
            expires_at: now + session::ABSOLUTE_LIFETIME,
            replaces: None,
        })
        .await
        .unwrap();
    Session {
        cookie: format!("{}={raw}", session::cookie_name(&t.app)),
        csrf,
    }
}

/// A same-origin form POST with the session's cookie.
pub async fn post_form(
    t: &TestApp,
    s: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    t.client
        .post(format!("{}{path}", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .header(header::ORIGIN, &t.base_url)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn get_with(t: &TestApp, s: &Session, path: &str) -> (u16, String) {
    let res = t
        .client
        .get(format!("{}{path}", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn upvotes(t: &TestApp, id: &str) -> i64 {
    let (status, body) = t.get_json(&format!("/api/papers/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body["upvotes"].as_i64().unwrap()
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(&[members_fixture()]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upvotes_toggle_add_to_imported_counts_and_survive_reimports() {
    let t = spawn().await;
    let s = session_for(&t, "ada@example.org").await;
    assert_eq!(upvotes(&t, "2608.90002").await, 10);
    // Without JavaScript: a 303 back to the page the form was on.
    let res = t
        .client
        .post(format!("{}/papers/2608.90002/upvote", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .header(header::ORIGIN, &t.base_url)
        .header(
            header::REFERER,
            format!("{}/papers/date/2026-08-21", t.base_url),
        )
        .form(&[("csrf", s.csrf.as_str()), ("vote", "up")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/papers/date/2026-08-21");
    assert_eq!(upvotes(&t, "2608.90002").await, 11);
    // A double click changes nothing: the form says which state it wants.
    post_form(
        &t,
        &s,
        "/papers/2608.90002/upvote",
        &[("csrf", &s.csrf), ("vote", "up")],
    )
    .await;
    assert_eq!(upvotes(&t, "2608.90002").await, 11);
    // The page marks the vote and lists the upvoter; the API flags it for the viewer.
    let (_, page) = get_with(&t, &s, "/papers/2608.90002").await;
    assert!(page.contains("vote-box vote-box-lg upvoted"), "{page}");
    assert!(page.contains(">ada<"), "upvoter listed");
    // Search results carry the same button, marked for the viewer, and anonymous ones unmarked.
    let (_, results) = get_with(&t, &s, "/search?q=calm+paper&mode=lexical").await;
    let button = r#"action="/papers/2608.90002/upvote"><input type="hidden" name="csrf""#;
    assert!(results.contains(button), "{results}");
    assert!(results.contains(r#"value="down"><button class="vote-box upvoted""#));
    let (_, results) = t.get_text("/search?q=calm+paper&mode=lexical").await;
    assert!(results.contains(button) && !results.contains("vote-box upvoted"));
    let res = t
        .client
        .get(format!("{}/api/daily_papers?date=2026-08-21", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    let items: Value = res.json().await.unwrap();
    let flags: Vec<(String, Value)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["paper"]["id"].as_str().unwrap().to_owned(),
                i["upvoted"].clone(),
            )
        })
        .collect();
    assert!(
        flags.contains(&("2608.90002".into(), Value::Bool(true))),
        "{flags:?}"
    );
    assert!(
        flags.contains(&("2608.90001".into(), Value::Bool(false))),
        "{flags:?}"
    );
    let (_, anonymous) = t.get_json("/api/daily_papers?date=2026-08-21").await;
    assert!(
        anonymous[0].get("upvoted").is_none(),
        "no flag without a viewer"
    );
    // A re-import merges the imported count only; the member's vote stays.
    paperboy::ingest::import_paths(
        &t.app.store,
        &[members_fixture()],
        paperboy::ingest::Format::Auto,
        false,
        |p| panic!("{p}"),
    )
    .await
    .unwrap();
    assert_eq!(upvotes(&t, "2608.90002").await, 11);
    // With JavaScript: JSON back; and the vote comes off.
    let res = t
        .client
        .post(format!("{}/papers/2608.90002/upvote", t.base_url))
        .header(header::COOKIE, &s.cookie)
        .header(header::ORIGIN, &t.base_url)
        .header(header::ACCEPT, "application/json")
        .form(&[("csrf", s.csrf.as_str()), ("vote", "down")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let state: Value = res.json().await.unwrap();
    assert_eq!(state, serde_json::json!({"upvoted": false, "upvotes": 10}));
    // Old-style ids have their slash encoded in the form's action.
    let res = post_form(
        &t,
        &s,
        "/papers/hep-th%2F9901001/upvote",
        &[("csrf", &s.csrf), ("vote", "up")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(upvotes(&t, "hep-th/9901001").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_posts_get_403_and_gets_on_mutating_routes_get_405() {
    let t = spawn().await;
    let s = session_for(&t, "ada@example.org").await;
    let url = format!("{}/papers/2608.90002/upvote", t.base_url);
    let forged = [
        (
            "evil origin",
            Some(("origin", "http://evil.test")),
            s.csrf.clone(),
        ),
        (
            "cross-site fetch",
            Some(("sec-fetch-site", "cross-site")),
            s.csrf.clone(),
        ),
        ("no token", None, String::new()),
        ("wrong token", None, "x".repeat(43)),
    ];
    for (what, header, csrf) in forged {
        let mut req = t
            .client
            .post(&url)
            .header(header::COOKIE, &s.cookie)
            .form(&[("csrf", csrf.as_str()), ("vote", "up")]);
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 403, "{what}");
    }
    assert_eq!(
        upvotes(&t, "2608.90002").await,
        10,
        "no forged vote counted"
    );
    // Logout, comments, settings and admin are protected the same way.
    for path in [
        "/logout",
        "/papers/2608.90002/comments",
        "/settings/tokens",
        "/submit",
    ] {
        let res = t
            .client
            .post(format!("{}{path}", t.base_url))
            .header(header::COOKIE, &s.cookie)
            .header(header::ORIGIN, "http://evil.test")
            .form(&[
                ("csrf", s.csrf.as_str()),
                ("body", "x"),
                ("paper", "2608.90003"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{path}");
    }
    for path in [
        "/papers/2608.90002/upvote",
        "/papers/2608.90002/save",
        "/papers/2608.90002/comments",
        "/comments/1/edit",
        "/comments/1/delete",
        "/logout",
        "/settings/profile",
        "/settings/tokens",
        "/settings/tokens/1/revoke",
        "/admin/papers/hide",
        "/admin/comments/1/hide",
        "/admin/members/1/ban",
        "/api/papers/submit",
        "/api/papers/2608.90002/upvote",
        "/api/papers/2608.90002/comment",
    ] {
        let (status, _) = get_with(&t, &s, path).await;
        assert_eq!(status, 405, "GET {path}");
    }
    // The anonymous subscribe form keeps working with no cookie and no token.
    let res = t
        .client
        .post(format!("{}/subscribe", t.base_url))
        .form(&[("email", "reader@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn an_unreadable_form_gets_400_naming_it_and_an_admin_form_404_for_anyone_else() {
    let t = spawn().await;
    let s = session_for(&t, "ada@example.org").await;
    // A body that is not a form (JSON sent to a form route).
    let post_json = |path: &str| {
        t.client
            .post(format!("{}{path}", t.base_url))
            .header(header::COOKIE, &s.cookie)
            .header(header::ORIGIN, &t.base_url)
            .json(&serde_json::json!({"csrf": s.csrf, "vote": "up"}))
            .send()
    };
    for (path, name) in [
        ("/papers/2608.90002/upvote", "vote"),
        ("/papers/2608.90002/save", "save"),
        ("/papers/2608.90002/comments", "comment"),
        ("/submit", "submission"),
        ("/settings/profile", "profile"),
        ("/settings/tokens", "token"),
    ] {
        let res = post_json(path).await.unwrap();
        assert_eq!(res.status().as_u16(), 400, "{path}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!("The {name} form was incomplete.")),
            "{path}: {page}"
        );
    }
    assert_eq!(upvotes(&t, "2608.90002").await, 10);
    // A form that carries only its token reads as forged without one.
    let res = post_json("/settings/tokens/1/revoke").await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // Admin forms: a member who is not an admin finds nothing there, with a sound form or an
    // unreadable one, and so does a visitor who is not logged in.
    for path in ["/admin/papers/hide", "/admin/members/1/ban"] {
        let res = post_form(&t, &s, path, &[("csrf", &s.csrf), ("paper", "2608.90002")]).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        assert_eq!(
            post_json(path).await.unwrap().status().as_u16(),
            404,
            "{path}"
        );
        let res = t
            .client
            .post(format!("{}{path}", t.base_url))
            .header(header::ORIGIN, &t.base_url)
            .form(&[("paper", "2608.90002")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    let hidden = t.get_json("/api/papers/2608.90002").await.0;
    assert_eq!(hidden, 200, "the paper was not hidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_members_and_a_hundred_duplicate_votes_leave_an_exact_count() {
    let t = spawn().await;
    let mut sessions = Vec::new();
    for i in 0..1000 {
        sessions.push(session_for(&t, &format!("m{i}@example.org")).await);
    }
    let dup = session_for(&t, "dup@example.org").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let url = format!("{}/papers/2608.90002/upvote", t.base_url);
    let requests = sessions
        .iter()
        .chain(std::iter::repeat_n(&dup, 100))
        .map(|s| {
            let client = client.clone();
            let url = url.clone();
            let base = t.base_url.clone();
            async move {
                let res = client
                    .post(&url)
                    .header(header::COOKIE, &s.cookie)
                    .header(header::ORIGIN, base)
                    .header(header::ACCEPT, "application/json")
                    .form(&[("csrf", s.csrf.as_str()), ("vote", "up")])
                    .send()
                    .await
                    .unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        });
    let results: Vec<(u16, String)> = futures_util::stream::iter(requests)
        .buffer_unordered(256)
        .collect()
        .await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        assert!(
            !body.to_lowercase().contains("busy") && !body.contains("locked"),
            "{body}"
        );
    }
    assert_eq!(results.len(), 1100);
    assert_eq!(upvotes(&t, "2608.90002").await, 10 + 1000 + 1);
    let upvoters = t
        .app
        .store
        .upvoters(
            &paperboy::domain::ArxivId::parse("2608.90002").unwrap(),
            5000,
        )
        .await
        .unwrap();
    assert_eq!(upvoters.len(), 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_requests_are_neutral_rate_limited_and_links_are_single_use() {
    let t = spawn().await;
    t.app
        .store
        .ensure_member("known@example.org", false, chrono::Utc::now())
        .await
        .unwrap();
    let ask = |email: &'static str| {
        let t = &t;
        async move {
            let res = t
                .client
                .post(format!("{}/login", t.base_url))
                .header(header::ORIGIN, &t.base_url)
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res.headers().get(header::RETRY_AFTER).cloned();
            (status, retry, res.text().await.unwrap())
        }
    };
    let known = ask("known@example.org").await;
    let unknown = ask("nobody@example.org").await;
    assert_eq!(known.0, 200);
    assert_eq!(
        (known.0, &known.2),
        (unknown.0, &unknown.2),
        "identical for known and unknown"
    );
    // Per address: five links an hour, then 429 with Retry-After.
    for _ in 0..4 {
        assert_eq!(ask("known@example.org").await.0, 200);
    }
    let limited = ask("known@example.org").await;
    assert_eq!(limited.0, 429);
    assert!(limited.1.unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // A forged cross-site login request is refused.
    let res = t
        .client
        .post(format!("{}/login", t.base_url))
        .header(header::ORIGIN, "http://evil.test")
        .form(&[("email", "x@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    // A link: GET three times changes nothing, the POST logs in, a second POST fails.
    let store = &t.app.store;
    let token = session::random_secret(16);
    let now = chrono::Utc::now();
    store
        .create_login_token(
            &session::digest(&token),
            "known@example.org",
            now,
            chrono::Duration::minutes(15),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        let (status, page) = t.get_text(&format!("/login/confirm?t={token}")).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("<form method=\"post\" action=\"/login/confirm\">"),
            "{page}"
        );
    }
    let before = session_for(&t, "other@example.org").await;
    let res = t
        .client
        .post(format!("{}/login/confirm", t.base_url))
        .header(header::COOKIE, &before.cookie)
        .header(header::ORIGIN, &t.base_url)
        .form(&[("t", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let set_cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("paperboy_session="), "{set_cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain-http local mode");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert_ne!(cookie, before.cookie, "a new session id at login");
    let (_, page) = get_with(&t, &before, "/settings").await;
    assert!(
        !page.contains("other@example.org"),
        "the replaced session is gone"
    );
    let after = Session {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    let (status, page) = get_with(&t, &after, "/settings").await;
    assert_eq!(status, 200);
    assert!(page.contains("known@example.org"));
    let again = t
        .client
        .post(format!("{}/login/confirm", t.base_url))
        .form(&[("t", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 404);
    assert!(again.text().await.unwrap().contains("used already"));
    // Expiry, with the clock moved: links after 10 minutes (reliability P6), sessions after 30 days (or 7 idle).
    let late = session::random_secret(16);
    store
        .create_login_token(
            &session::digest(&late),
            "known@example.org",
            now,
            chrono::Duration::minutes(paperboy::web::login::LINK_MINUTES),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .consume_login_token(
                &session::digest(&late),
                now + chrono::Duration::seconds(601)
            )
            .await
            .unwrap(),
        paperboy::store::members::LoginOutcome::Expired
    );
    let hash = session::digest(cookie.split('=').nth(1).unwrap());
    assert!(
        store
            .session(&hash, now, session::IDLE_TIMEOUT)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session(
                &hash,
                now + chrono::Duration::days(8),
                session::IDLE_TIMEOUT
            )
            .await
            .unwrap()
            .is_none()
    );
    // Logout deletes the session: the old cookie no longer works.
    let csrf = store
        .session(&hash, now, session::IDLE_TIMEOUT)
        .await
        .unwrap()
        .unwrap()
        .csrf_token;
    let s = Session { cookie, csrf };
    let res = post_form(&t, &s, "/logout", &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = get_with(&t, &s, "/settings").await;
    assert_eq!(status, 303, "logged out: settings redirect to /login");
}

async fn submit(t: &TestApp, s: &Session, paper: &str) -> (u16, String) {
    let res = post_form(t, s, "/submit", &[("csrf", &s.csrf), ("paper", paper)]).await;
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    (status, location.unwrap_or(res.text().await.unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_follow_the_rules_and_every_refusal_says_why() {
    let fake = crate::fake_arxiv::FakeArxiv::start().await;
    let mut env: Vec<(&str, String)> = fake.env(0);
    env.push(("PAPERBOY_SUBMIT_PER_DAY", "2".into()));
    env.push(("PAPERBOY_SUBMIT_WINDOW_DAYS", "100000".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with_env(&[members_fixture()], &env).await;
    let s = session_for(&t, "ada@example.org").await;
    // A stored paper, given as a versioned abs URL.
    let (status, location) = submit(&t, &s, "https://arxiv.org/abs/2608.90003v2").await;
    assert_eq!((status, location.as_str()), (303, "/papers/2608.90003"));
    let (_, info) = t.get_json("/api/papers/2608.90003").await;
    assert_eq!(info["submittedOnDailyBy"]["name"], "ada");
    let today = t.app.today().to_string();
    let (_, items) = t.get_json(&format!("/api/daily_papers?date={today}")).await;
    assert!(crate::support::ids(&items).contains(&"2608.90003".to_owned()));
    // An unknown paper is fetched from arXiv.
    let (status, location) = submit(&t, &s, "arXiv:1707.08567").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/papers/1707.08567"),
        "{location}"
    );
    // Refusals, each with its reason.
    for (input, reason) in [
        ("2608.90003", "already on the feed"),
        ("not an id", "is not an arXiv id"),
        ("https://evil.test/abs/2608.90004", "is not an arXiv id"),
        ("2608.90004", "the daily limit"),
    ] {
        let (status, page) = submit(&t, &s, input).await;
        assert_eq!(status, 422, "{input}");
        assert!(page.contains(reason), "{input}: {page}");
    }
    let other = session_for(&t, "bob@example.org").await;
    let (status, page) = submit(&t, &other, "2608.99999").await;
    assert_eq!(status, 422);
    assert!(page.contains("arXiv has no paper 2608.99999"), "{page}");
    drop(fake);

    // With the default 14-day window, an old paper is refused.
    let t = TestApp::spawn_with(&[members_fixture()]).await;
    let s = session_for(&t, "ada@example.org").await;
    let (status, page) = submit(&t, &s, "2608.90004").await;
    assert_eq!(status, 422);
    assert!(page.contains("more than 14 days ago"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_arxiv_does_not_answer_is_refused_in_time_and_bad_ids_cost_no_quota() {
    let fake = crate::fake_arxiv::FakeArxiv::start().await;
    let env: Vec<(&str, String)> = fake.env(0);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with_env(&[members_fixture()], &env).await;
    let s = session_for(&t, "ada@example.org").await;
    // An id that does not parse is refused before it counts: twelve of them (the limit is
    // ten submissions in ten minutes) leave the member free to submit.
    for _ in 0..12 {
        let (status, page) = submit(&t, &s, "not an id").await;
        assert_eq!(status, 422, "{page}");
    }
    // arXiv takes the request and never answers: the page says so before the server's own
    // 15 s timeout would send an empty 503, and so does the API, as JSON.
    let (_, token) = token_for(&t, "bob@example.org").await;
    fake.fail_next(
        crate::fake_arxiv::Target::Api,
        crate::fake_arxiv::Fault::Stall,
    );
    fake.fail_next(
        crate::fake_arxiv::Target::Api,
        crate::fake_arxiv::Fault::Stall,
    );
    let started = std::time::Instant::now();
    let page = submit(&t, &s, "2608.99991");
    let api = t
        .client
        .post(format!("{}/api/papers/submit", t.base_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"paper_id": "2608.99992"}))
        .send();
    let ((status, page), res) = tokio::join!(page, api);
    let res = res.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(status, 422);
    assert!(page.contains("arXiv could not be reached"), "{page}");
    assert_eq!(res.status().as_u16(), 503);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("arXiv could not be reached"),
        "{body}"
    );
    fake.release();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_member_forms_are_refused_with_the_reason() {
    let t = spawn().await;
    let s = session_for(&t, "ada@example.org").await;
    for (path, fields, reason) in [
        (
            "/papers/2608.90002/upvote",
            [("vote", "bogus")],
            "vote=up or vote=down",
        ),
        ("/papers/2608.90002/upvote", [("vote", "")], "vote=up"),
        (
            "/papers/2608.90002/save",
            [("save", "2")],
            "save=1 or save=0",
        ),
        (
            "/settings/tokens",
            [("name", "a\u{1}b")],
            "cannot hold control characters",
        ),
        (
            "/settings/tokens",
            [("name", &"n".repeat(61))],
            "at most 60 characters; this one has 61",
        ),
        (
            "/papers/2608.90002/comments",
            [("body", "\u{0}\u{1}\u{2} \r\n")],
            "cannot be empty",
        ),
    ] {
        let mut form = vec![("csrf", s.csrf.as_str())];
        form.extend(fields);
        let res = post_form(&t, &s, path, &form).await;
        let status = res.status().as_u16();
        let page = res.text().await.unwrap();
        assert_eq!(status, 400, "{path} {fields:?}: {page}");
        assert!(page.contains(reason), "{path} {fields:?}: {page}");
    }
    assert_eq!(upvotes(&t, "2608.90002").await, 10, "no vote counted");
    // A comment that does not exist is answered like one of someone else's.
    for action in ["edit", "delete"] {
        let res = post_form(
            &t,
            &s,
            &format!("/comments/999999/{action}"),
            &[("csrf", &s.csrf), ("body", "x")],
        )
        .await;
        assert_eq!(res.status().as_u16(), 404);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("There is no such comment of yours.")
        );
    }
    // Control characters are dropped from a comment, line breaks and tabs kept.
    let res = post_form(
        &t,
        &s,
        "/papers/2608.90002/comments",
        &[("csrf", &s.csrf), ("body", "one\u{7}\r\ntwo\tthree")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = t.get_text("/papers/2608.90002").await;
    assert!(
        page.contains("one\ntwo\tthree") || page.contains("one<br>two\tthree"),
        "{page}"
    );
    assert!(!page.contains('\u{7}'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_sanitised_editable_by_their_author_and_counted() {
    let t = spawn().await;
    let ada = session_for(&t, "ada@example.org").await;
    let bob = session_for(&t, "bob@example.org").await;
    let (_, before) = t.get_json("/api/papers/2608.90002").await;
    assert_eq!(before["numComments"], 0);
    // A paper whose count came with its import (HF's comments) says where they are.
    let (_, page) = t.get_text("/papers/2608.90001").await;
    assert!(
        page.contains("<span aria-hidden=\"true\">💬</span> 2 comments"),
        "{page}"
    );
    assert!(page.contains("made on Hugging Face, which are not copied here"));
    let (_, page) = t.get_text("/papers/2608.90002").await;
    assert!(page.contains("No comments here yet.</p>"));
    let body = "**Nice** [code](https://example.org) <script>window.__xss=1</script> [x](javascript:window.__xss=1)";
    let res = post_form(
        &t,
        &ada,
        "/papers/2608.90002/comments",
        &[("csrf", &ada.csrf), ("body", body)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let comment_id: i64 = location.rsplit("comment-").next().unwrap().parse().unwrap();
    let (_, page) = get_with(&t, &ada, "/papers/2608.90002").await;
    assert!(page.contains("<strong>Nice</strong>"));
    assert!(page.contains("rel=\"nofollow ugc noopener noreferrer\""));
    assert!(!page.contains("<script>window.__xss"), "raw HTML is text");
    assert!(!page.contains("href=\"javascript:"), "no javascript: links");
    assert!(
        page.contains("<p class=\"comment-meta\"><strong><a href=\"/members/ada\">"),
        "the author's name leads to their page"
    );
    let (_, after) = t.get_json("/api/papers/2608.90002").await;
    assert_eq!(after["numComments"], 1);
    let (_, items) = t.get_json("/api/daily_papers?date=2026-08-21").await;
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["paper"]["id"] == "2608.90002")
        .unwrap();
    assert_eq!(item["numComments"], 1);
    // Bob can neither edit nor delete Ada's comment.
    for action in ["edit", "delete"] {
        let res = post_form(
            &t,
            &bob,
            &format!("/comments/{comment_id}/{action}"),
            &[("csrf", &bob.csrf), ("body", "pwned")],
        )
        .await;
        assert_eq!(res.status().as_u16(), 404, "{action}");
    }
    let res = post_form(
        &t,
        &ada,
        &format!("/comments/{comment_id}/edit"),
        &[("csrf", &ada.csrf), ("body", "Edited")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = t.get_text("/papers/2608.90002").await;
    assert!(page.contains("Edited") && page.contains("· edited"));
    // An admin hides it: gone for readers and from the count; shown again, back.
    let admin = session_for(&t, "admin@example.org").await;
    t.app.store.grant_admin("admin@example.org").await.unwrap();
    let hide = |hidden: &'static str| {
        let (t, admin) = (&t, &admin);
        async move {
            post_form(
                t,
                admin,
                &format!("/admin/comments/{comment_id}/hide"),
                &[("csrf", &admin.csrf), ("hidden", hidden)],
            )
            .await
        }
    };
    assert_eq!(hide("1").await.status().as_u16(), 303);
    let (_, page) = t.get_text("/papers/2608.90002").await;
    assert!(!page.contains("Edited"));
    assert_eq!(
        t.get_json("/api/papers/2608.90002").await.1["numComments"],
        0
    );
    // Bob is no admin: the hide route is a 404 for him.
    let res = post_form(
        &t,
        &bob,
        &format!("/admin/comments/{comment_id}/hide"),
        &[("csrf", &bob.csrf), ("hidden", "0")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(hide("0").await.status().as_u16(), 303);
    assert_eq!(
        t.get_json("/api/papers/2608.90002").await.1["numComments"],
        1
    );
    let res = post_form(
        &t,
        &ada,
        &format!("/comments/{comment_id}/delete"),
        &[("csrf", &ada.csrf)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        t.get_json("/api/papers/2608.90002").await.1["numComments"],
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_papers_are_listed_on_the_saved_page() {
    let t = spawn().await;
    let s = session_for(&t, "ada@example.org").await;
    let res = post_form(
        &t,
        &s,
        "/papers/2608.90002/save",
        &[("csrf", &s.csrf), ("save", "1")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (status, page) = get_with(&t, &s, "/saved").await;
    assert_eq!(status, 200);
    assert!(page.contains("A calm paper on the feed"));
    post_form(
        &t,
        &s,
        "/papers/2608.90002/save",
        &[("csrf", &s.csrf), ("save", "0")],
    )
    .await;
    let (_, page) = get_with(&t, &s, "/saved").await;
    assert!(!page.contains("A calm paper on the feed"));
    assert_eq!(
        t.get("/saved").await.status().as_u16(),
        303,
        "anonymous: to /login"
    );
}

/// The member with `email` (created when new) and a new API token of theirs.
async fn token_for(t: &TestApp, email: &str) -> (paperboy::domain::member::Member, String) {
    let member = t
        .app
        .store
        .ensure_member(email, false, chrono::Utc::now())
        .await
        .unwrap();
    let token =
        paperboy::web::account::create_token(&t.app.store, &member, "test", chrono::Utc::now())
            .await
            .unwrap();
    (member, token)
}

async fn api(
    t: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = t.client.request(method, format!("{}{path}", t.base_url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_upvote_submit_comment_and_stop_at_revocation_or_ban() {
    let t = spawn().await;
    let (member, token) = token_for(&t, "ada@example.org").await;
    assert!(token.starts_with("pb_"));
    use reqwest::Method;
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/upvote",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/upvote",
        Some("pb_wrong"),
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/upvote",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"upvoted": true, "upvotes": 11}))
    );
    let res = t
        .client
        .get(format!("{}/api/papers/2608.90002", t.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["upvoted"], true);
    let (status, body) = api(
        &t,
        Method::DELETE,
        "/api/papers/2608.90002/upvote",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"upvoted": false, "upvotes": 10}))
    );
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/9999.99999/upvote",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/comment",
        Some(&token),
        Some(serde_json::json!({"comment": "Hello *there*"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["type"], "comment");
    assert_eq!(body["author"]["name"], "ada");
    assert_eq!(body["data"]["latest"]["raw"], "Hello *there*");
    assert_eq!(
        body["data"]["latest"]["html"],
        "<p>Hello <em>there</em></p>\n"
    );
    let (status, _) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/comment",
        Some(&token),
        Some(serde_json::json!({"comment": "  "})),
    )
    .await;
    assert_eq!(status, 400);
    // A body of the wrong shape says what is wrong in the API's words, not Rust's.
    for (body, want) in [
        (
            serde_json::json!({}),
            "invalid JSON body: missing field `comment`",
        ),
        (
            serde_json::json!(null),
            "invalid JSON body: invalid type: null, expected a JSON object",
        ),
    ] {
        let (status, answer) = api(
            &t,
            Method::POST,
            "/api/papers/2608.90002/comment",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(answer["error"], want);
    }
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/submit",
        Some(&token),
        Some(serde_json::json!({"paper_id": "2608.90002"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("already on the feed")
    );
    let (status, body) = api(
        &t,
        Method::POST,
        "/api/papers/submit",
        Some(&token),
        Some(serde_json::json!({"paper_id": "2608.90003"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("more than 14 days ago")
    );
    // An admin bans the member: the token stops working and the upvote is removed.
    api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/upvote",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(upvotes(&t, "2608.90002").await, 11);
    let admin = session_for(&t, "admin@example.org").await;
    t.app.store.grant_admin("admin@example.org").await.unwrap();
    let res = post_form(
        &t,
        &admin,
        &format!("/admin/members/{}/ban", member.account_id),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        upvotes(&t, "2608.90002").await,
        10,
        "a ban removes the member's votes"
    );
    let (status, _) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90002/upvote",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Admins hide papers from the feed lists and the API lists.
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
    let (_, items) = t.get_json("/api/daily_papers?date=2026-08-21").await;
    assert!(!crate::support::ids(&items).contains(&"2608.90002".to_owned()));
    // Revocation in settings.
    let bob = t
        .app
        .store
        .ensure_member("bob@example.org", false, chrono::Utc::now())
        .await
        .unwrap();
    let bob_token =
        paperboy::web::account::create_token(&t.app.store, &bob, "t", chrono::Utc::now())
            .await
            .unwrap();
    let tokens = t.app.store.api_tokens(bob.account_id).await.unwrap();
    assert!(
        t.app
            .store
            .revoke_api_token(bob.account_id, tokens[0].id, chrono::Utc::now())
            .await
            .unwrap()
    );
    let (status, _) = api(
        &t,
        Method::POST,
        "/api/papers/2608.90001/upvote",
        Some(&bob_token),
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_inert_in_pages_and_the_api() {
    let t = spawn().await;
    let s = session_for(&t, "mallory@example.org").await;
    let fullname = "<script>window.__xss=1</script><img src=x onerror=alert(1)>";
    let res = post_form(
        &t,
        &s,
        "/settings/profile",
        &[
            ("csrf", &s.csrf),
            ("username", "mallory"),
            ("fullname", fullname),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    post_form(
        &t,
        &s,
        "/papers/2608.90001/upvote",
        &[("csrf", &s.csrf), ("vote", "up")],
    )
    .await;
    let body = "<img src=x onerror=window.__xss=1> <script>window.__xss=1</script> [a](javascript:window.__xss=1) <a href=\"javascript:window.__xss=1\">b</a>";
    post_form(
        &t,
        &s,
        "/papers/2608.90001/comments",
        &[("csrf", &s.csrf), ("body", body)],
    )
    .await;
    for path in [
        "/papers/2608.90001",
        "/papers/date/2026-08-21",
        "/saved",
        "/settings",
    ] {
        let (_, page) = get_with(&t, &s, path).await;
        for bad in [
            "<script>window",
            "<img src=x",
            "<svg onload",
            "</title><script",
        ] {
            assert!(!page.contains(bad), "{path} contains {bad:?}");
        }
        assert!(
            !attribute_in_a_tag(&page, "href=\"javascript:"),
            "{path} has a javascript: link"
        );
    }
    // The API returns the strings as data, intact.
    let (_, info) = t.get_json("/api/papers/2608.90001").await;
    assert!(
        info["title"]
            .as_str()
            .unwrap()
            .contains("<script>window.__xss=1</script>")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_papers_are_inert_in_digest_mails() {
    use paperboy::email::render::{DigestPaper, RecipientLinks, Site, digest};
    let t = spawn().await;
    let paper = t
        .app
        .store
        .paper(&paperboy::domain::ArxivId::parse("2608.90001").unwrap())
        .await
        .unwrap();
    let site = Site {
        name: "paperboy",
        url: "https://papers.example.org",
    };
    let one = DigestPaper::new(&paper, site.url);
    let links = RecipientLinks {
        preferences_url: "https://papers.example.org/preferences/t".into(),
        unsubscribe_url: "https://papers.example.org/unsubscribe/t".into(),
    };
    let key = paperboy::domain::subscription::EditionKey::Daily("2026-08-21".parse().unwrap());
    let mail = digest(&site, key, &[&one], false, &links).unwrap();
    for bad in [
        "<script>window",
        "<img src=x",
        "<svg onload",
        "href=\"javascript:",
    ] {
        assert!(!mail.html.contains(bad), "digest HTML contains {bad:?}");
    }
    assert!(!mail.subject.contains('\n'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_links_are_limited_per_ip_across_addresses() {
    let t = spawn().await;
    let mut statuses = Vec::new();
    for i in 0..21 {
        let res = t
            .client
            .post(format!("{}/login", t.base_url))
            .form(&[("email", format!("person{i}@example.org"))])
            .send()
            .await
            .unwrap();
        statuses.push((
            res.status().as_u16(),
            res.headers().contains_key(header::RETRY_AFTER),
        ));
    }
    assert!(statuses[..20].iter().all(|s| s.0 == 200), "{statuses:?}");
    assert_eq!(statuses[20], (429, true));
    // A spoofed X-Forwarded-For does not open a new bucket.
    let res = t
        .client
        .post(format!("{}/login", t.base_url))
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[("email", "late@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
}

/// True when `needle` occurs inside a tag (after a `<` with no `>` since), not in text.
fn attribute_in_a_tag(page: &str, needle: &str) -> bool {
    page.match_indices(needle).any(|(i, _)| {
        let before = &page[..i];
        before.rfind('<') > before.rfind('>')
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_host_prefixed_and_secure() {
    let t = TestApp::spawn_with_env(
        &[members_fixture()],
        &[("PAPERBOY_BASE_URL", "https://papers.example.org")],
    )
    .await;
    let token = session::random_secret(16);
    t.app
        .store
        .create_login_token(
            &session::digest(&token),
            "ada@example.org",
            chrono::Utc::now(),
            chrono::Duration::minutes(15),
        )
        .await
        .unwrap();
    let res = t
        .client
        .post(format!("{}/login/confirm", t.base_url))
        .header(header::ORIGIN, "https://papers.example.org")
        .form(&[("t", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-paperboy_session="), "{cookie}");
    for attr in ["; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[test]
fn member_token_and_admin_commands_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("PAPERBOY_DATA_DIR")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = run(&["member", "add", "Ada.Lovelace@Example.org", "--admin"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "ada-lovelace");
    let (code, out, err) = run(&["token", "create", "ada.lovelace@example.org"]);
    assert_eq!(code, Some(0), "{err}");
    let token = out.trim().to_owned();
    assert!(token.starts_with("pb_") && token.len() > 40, "{token}");
    let (code, _, err) = run(&["admin", "grant", "nobody@example.org"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("paperboy: no member has the address"),
        "{err}"
    );
    let (code, out, err) = run(&["admin", "grant", "ada.lovelace@example.org"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "ada-lovelace is an admin");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let member = rt.block_on(async {
        let store = paperboy::store::Store::open_sqlite(&dir.path().join("paperboy.db"))
            .await
            .unwrap();
        store
            .member_by_api_token(&session::digest(&token))
            .await
            .unwrap()
    });
    let member = member.expect("the printed token works");
    assert!(member.is_admin);
}
