//! Email against a real SMTP server process (aiosmtpd on 127.0.0.1): double opt-in, digests,
//! one-click unsubscribe, crash safety, outages, bounces and DKIM.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use paperboy::domain::subscription::{EditionKey, EmailAddress};
use paperboy::email::edition;
use paperboy::email::outbox::{RunMode, send_pending};
use paperboy::store::Store;
use serde_json::Value;

use crate::support::{TestApp, hf_daily_fixtures, tool};

fn mail_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd, writing each accepted mail to its own file.
struct Sink {
    child: Child,
    python: PathBuf,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Sink {
    fn start(python: &Path, port: u16, reject: &[&str]) -> Sink {
        let maildir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(mail_dir().join("smtp_sink.py"))
            .args(["--port", &port.to_string(), "--maildir"])
            .arg(maildir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for r in reject {
            cmd.args(["--reject", r]);
        }
        let mut child = cmd.spawn().expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("listening"),
            "sink did not start: {line:?}"
        );
        Sink {
            child,
            python: python.to_owned(),
            port,
            maildir,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.maildir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".eml")
            })
            .count()
    }

    /// Every captured mail, parsed strictly by Python's email package.
    fn messages(&self, dkim: Option<(&Path, &str, &str)>) -> Vec<Value> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(mail_dir().join("mail_check.py"))
            .arg(self.maildir.path());
        if let Some((key, selector, domain)) = dkim {
            cmd.arg("--dkim-public-key").arg(key).args([
                "--dkim-selector",
                selector,
                "--dkim-domain",
                domain,
            ]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn confirmed(store: &Store, email: &str) -> i64 {
    let email = EmailAddress::parse(email).unwrap();
    store
        .request_subscription(&email, Utc::now(), chrono::Duration::minutes(10), "test")
        .await
        .unwrap();
    let s = store.subscriber_by_email(&email).await.unwrap();
    store.confirm_subscriber(s.id, Utc::now()).await.unwrap();
    s.id
}

fn mails_to<'a>(messages: &'a [Value], to: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["to"] == to).collect()
}

fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_confirm_digest_unsubscribe_round_trip() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let sink = Sink::start(&python, free_port(), &[]);
    let url = sink.url();
    let t = TestApp::spawn_with_env(&[hf_daily_fixtures()], &[("PAPERBOY_SMTP_URL", &url)]).await;
    let (store, mailer) = (&t.app.store, &t.app.mailer);

    // Subscribe through the form, as a browser would.
    let res = t
        .client
        .post(format!("{}/subscribe", t.base_url))
        .form(&[("email", "Reader@Example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Check your inbox"));
    send_pending(store, mailer, RunMode::Once).await.unwrap();
    let messages = sink.messages(None);
    assert_eq!(messages.len(), 1, "one confirmation mail");
    let confirm = &messages[0];
    assert_eq!(confirm["to"], "reader@example.org");
    let link = confirm["text_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .find(|l| l.contains("/subscribe/confirm"))
        .expect("a confirmation link");

    // No digest goes to a pending address.
    let (edition, queued) = edition::queue(
        store,
        mailer,
        EditionKey::Daily(day("2026-08-20")),
        Utc::now(),
    )
    .await
    .unwrap()
    .expect("the day has papers");
    assert_eq!(queued, 0, "pending subscribers get nothing");
    assert!(!edition.paper_ids.is_empty());

    // Following the link shows a button; the GET alone confirms nothing.
    let (status, page) = t.get_text(&path_of(link)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Confirm subscription"));
    let email = EmailAddress::parse("reader@example.org").unwrap();
    assert_eq!(
        store
            .subscriber_by_email(&email)
            .await
            .unwrap()
            .status
            .as_str(),
        "pending"
    );
    let res = t.client.post(link).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        store
            .subscriber_by_email(&email)
            .await
            .unwrap()
            .status
            .as_str(),
        "confirmed"
    );

    // A second confirmed subscriber, to show the unsubscribe affects one address only.
    confirmed(store, "other@example.org").await;

    // The digest arrives, standards-correct, with links that work.
    let key = EditionKey::Daily(day("2026-08-21"));
    let (_, queued) = edition::queue(store, mailer, key, Utc::now())
        .await
        .unwrap()
        .expect("the day has papers");
    assert_eq!(queued, 2);
    let report = send_pending(store, mailer, RunMode::Once).await.unwrap();
    assert_eq!(report.sent, 2);
    let messages = sink.messages(None);
    let digest = mails_to(&messages, "reader@example.org")
        .into_iter()
        .find(|m| m["list_id"].is_string())
        .expect("digest");
    assert_eq!(digest["defects"], serde_json::json!([]));
    assert_eq!(digest["content_type"], "multipart/alternative");
    assert_eq!(
        digest["part_types"],
        serde_json::json!(["text/html", "text/plain"])
    );
    assert_eq!(
        digest["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    // `<digest-EDITION-SUBSCRIBER.RANDOM@host>`: unique even across a database started afresh.
    let message_id = digest["message_id"].as_str().unwrap();
    let (name, _) = message_id
        .strip_prefix("<digest-")
        .and_then(|m| m.split_once('@'))
        .expect(message_id);
    let random = name.rsplit_once('.').expect(message_id).1;
    assert!(
        random.len() == 16 && random.chars().all(|c| c.is_ascii_hexdigit()),
        "{message_id}"
    );
    assert!(digest["date"].is_string());
    assert!(
        !digest["html_has_img"].as_bool().unwrap(),
        "no images or tracking pixels"
    );
    let unsubscribe = digest["list_unsubscribe"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with('<') && unsubscribe.ends_with('>') && !unsubscribe.contains(','),
        "one URL"
    );
    let unsubscribe = unsubscribe.trim_matches(['<', '>']).to_owned();
    for link in digest["html_links"]
        .as_array()
        .unwrap()
        .iter()
        .chain(digest["text_links"].as_array().unwrap())
    {
        let link = link.as_str().unwrap();
        if link.starts_with(&t.base_url) {
            let (status, _) = t.get_text(&path_of(link)).await;
            assert_eq!(status, 200, "{link}");
        }
    }
    // Unsubscribe GET only shows a page.
    let (status, _) = t.get_text(&path_of(&unsubscribe)).await;
    assert_eq!(status, 200);
    assert_eq!(
        store
            .subscriber_by_email(&email)
            .await
            .unwrap()
            .status
            .as_str(),
        "confirmed"
    );

    // RFC 8058 one-click: no cookies, no CSRF token, 200 and no redirect.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("location").is_none());
    let again = t
        .client
        .post(&unsubscribe)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200, "repeating it is harmless");
    // The old confirmation link does not undo the unsubscribe, and the preferences page says
    // the address is unsubscribed.
    let res = t.client.post(link).send().await.unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("You unsubscribed"), "{page}");
    let reader = store.subscriber_by_email(&email).await.unwrap();
    assert_eq!(reader.status.as_str(), "unsubscribed");
    let links = paperboy::email::outbox::recipient_links(
        mailer,
        reader.id,
        reader.token_version,
        Utc::now(),
    );
    let (status, page) = t.get_text(&path_of(&links.preferences_url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("This address is unsubscribed"), "{page}");
    assert!(!page.contains("Unsubscribe instead"), "{page}");

    // The next digest skips that address only.
    let before = sink.count();
    let (_, queued) = edition::queue(
        store,
        mailer,
        EditionKey::Daily(day("2026-08-20")),
        Utc::now(),
    )
    .await
    .unwrap()
    .expect("the day has papers");
    assert_eq!(queued, 1);
    send_pending(store, mailer, RunMode::Once).await.unwrap();
    let messages = sink.messages(None);
    assert_eq!(sink.count(), before + 1);
    assert_eq!(
        mails_to(&messages, "reader@example.org").len(),
        2,
        "confirmation + one digest"
    );
    assert_eq!(
        mails_to(&messages, "other@example.org").len(),
        2,
        "two digests"
    );
}

#[tokio::test]
async fn subscribe_answers_are_neutral_and_rate_limited() {
    let t = TestApp::spawn().await;
    confirmed(&t.app.store, "known@example.org").await;
    let post = |email: &'static str| {
        let client = t.client.clone();
        let url = format!("{}/subscribe", t.base_url);
        async move {
            let res = client
                .post(url)
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let known = post("known@example.org").await;
    let unknown = post("nobody@example.org").await;
    assert_eq!(
        known, unknown,
        "no way to tell a known address from an unknown one"
    );
    let (status, page) = post("not an address").await;
    assert_eq!(status, 400);
    assert!(page.contains("look like an email address"));
    // The field points at the error, so a screen reader tells them together.
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"subscribe-error\"")
            && page.contains("id=\"subscribe-error\""),
        "{page}"
    );
    // Ten per IP per hour: the rest get 429 with Retry-After.
    let mut last = None;
    for _ in 0..12 {
        let res = t
            .client
            .post(format!("{}/subscribe", t.base_url))
            .form(&[("email", "x@example.org")])
            .send()
            .await
            .unwrap();
        last = Some((
            res.status().as_u16(),
            res.headers().get("retry-after").cloned(),
        ));
    }
    let (status, retry_after) = last.unwrap();
    assert_eq!(status, 429);
    assert!(retry_after.is_some());
    // Cross-site form posts are refused.
    let res = t
        .client
        .post(format!("{}/subscribe", t.base_url))
        .header("origin", "https://evil.example")
        .form(&[("email", "y@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // Forged or tampered links get the same 404 page.
    for path in [
        "/unsubscribe/u.1.1.99999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "/preferences/garbage",
        "/subscribe/confirm?t=x",
    ] {
        let (status, _) = t.get_text(path).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn preferences_are_saved_through_the_signed_link() {
    let t = TestApp::spawn().await;
    let id = confirmed(&t.app.store, "prefs@example.org").await;
    let links = paperboy::email::outbox::recipient_links(&t.app.mailer, id, 1, Utc::now());
    let path = path_of(&links.preferences_url);
    let (status, page) = t.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(page.contains("prefs@example.org"));
    let res = t
        .client
        .post(format!("{}{path}", t.base_url))
        .form(&[
            ("frequency", "weekly"),
            ("max_papers", "5"),
            ("min_upvotes", "3"),
            ("include_categories", "cs.CL, cs.LG"),
            ("exclude_keywords", "survey"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let s = t.app.store.subscriber(id).await.unwrap();
    assert_eq!(s.prefs.frequency.as_str(), "weekly");
    assert_eq!((s.prefs.max_papers, s.prefs.min_upvotes), (5, 3));
    assert_eq!(s.prefs.include_categories, ["cs.CL", "cs.LG"]);
    let res = t
        .client
        .post(format!("{}{path}", t.base_url))
        .form(&[
            ("frequency", "hourly"),
            ("max_papers", "500"),
            ("min_upvotes", "-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    // A category filter that cannot be a category is refused, not kept to match nothing.
    let res = t
        .client
        .post(format!("{}{path}", t.base_url))
        .form(&[
            ("frequency", "daily"),
            ("max_papers", "5"),
            ("min_upvotes", "0"),
            ("include_categories", "<script>, cs.CL"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is not an arXiv category such as cs.CL")
    );
    let s = t.app.store.subscriber(id).await.unwrap();
    assert_eq!(
        s.prefs.include_categories,
        ["cs.CL", "cs.LG"],
        "nothing saved"
    );
}

fn paperboy_cmd(data_dir: &Path, smtp_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperboy"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("PAPERBOY_SMTP_URL", smtp_url)
        .env("PAPERBOY_SEND_LEASE_SECONDS", "1")
        .env_remove("PAPERBOY_DATA_DIR");
    cmd
}

/// A data dir with the fixtures imported and `n` confirmed daily subscribers.
async fn prepared_data_dir(n: usize, extra: &[&str]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("import")
        .arg(hf_daily_fixtures())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open_sqlite(&dir.path().join("paperboy.db"))
        .await
        .unwrap();
    for i in 0..n {
        confirmed(&store, &format!("reader{i}@example.org")).await;
    }
    for e in extra {
        confirmed(&store, e).await;
    }
    (dir, store)
}

fn digest_send(data_dir: &Path, smtp_url: &str) -> std::process::Output {
    paperboy_cmd(data_dir, smtp_url)
        .args([
            "digest",
            "send",
            "--period",
            "daily",
            "--date",
            "2026-08-21",
        ])
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_send_is_idempotent_and_skips_bounces() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let sink = Sink::start(&python, free_port(), &["bounce"]);
    let (dir, store) = prepared_data_dir(5, &["bounce@example.org"]).await;
    let out = digest_send(dir.path(), &sink.url());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("6 newly queued"), "{err}");
    assert!(err.contains("sent 5, retry later 0, bounced 1"), "{err}");
    assert_eq!(sink.count(), 5, "the others are unaffected by the 550");
    let bouncer = store
        .subscriber_by_email(&EmailAddress::parse("bounce@example.org").unwrap())
        .await
        .unwrap();
    assert_eq!(bouncer.bounce_count, 1, "the address is marked as bouncing");
    let again = digest_send(dir.path(), &sink.url());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(
        err.contains("0 newly queued") && err.contains("sent 0,"),
        "{err}"
    );
    assert_eq!(sink.count(), 5, "re-running sends nothing new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_ended_periods_with_papers_make_an_edition() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let sink = Sink::start(&python, free_port(), &[]);
    let (dir, store) = prepared_data_dir(2, &[]).await;
    let send = |period: &str, date: &str| {
        paperboy_cmd(dir.path(), &sink.url())
            .args(["digest", "send", "--period", period, "--date", date])
            .output()
            .unwrap()
    };
    // A period that has not ended is refused, and nothing is recorded for it.
    let today = Utc::now().date_naive();
    for (period, date) in [("daily", "2999-01-01"), ("weekly", &today.to_string())] {
        let out = send(period, date);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("cannot be sent yet"), "{err}");
    }
    // A day with no papers on the feed (a Saturday of the fixtures) sends nothing and freezes
    // nothing, so a paper imported for it later still goes out.
    let saturday = "2026-08-22";
    let out = send("daily", saturday);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("has no papers on the feed: nothing to send"),
        "{err}"
    );
    let key = EditionKey::Daily(day(saturday));
    assert!(store.find_edition(key).await.unwrap().is_none());
    let late = dir.path().join("late.jsonl");
    std::fs::write(
        &late,
        r#"{"id": "2608.99001", "title": "A paper put on a Saturday", "hf_daily_date": "2026-08-22"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("import")
        .arg(&late)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = send("daily", saturday);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 papers, 2 newly queued"), "{err}");
    assert_eq!(sink.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_waits_while_smtp_is_down_and_goes_out_once_it_is_back() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let port = free_port();
    let (dir, _store) = prepared_data_dir(4, &[]).await;
    let down = digest_send(dir.path(), &format!("smtp://127.0.0.1:{port}"));
    let err = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(1), "{err}");
    assert!(err.contains("stay queued"), "{err}");
    assert!(
        err.contains("Connection refused"),
        "the line says why the mail could not go: {err}"
    );
    assert_eq!(
        err.trim_end()
            .lines()
            .last()
            .unwrap()
            .matches("paperboy:")
            .count(),
        1
    );
    let sink = Sink::start(&python, port, &[]);
    let up = digest_send(dir.path(), &sink.url());
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let messages = sink.messages(None);
    assert_eq!(messages.len(), 4);
    for i in 0..4 {
        assert_eq!(
            mails_to(&messages, &format!("reader{i}@example.org")).len(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sender_never_sends_twice() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let sink = Sink::start(&python, free_port(), &[]);
    let n = 120;
    let (dir, store) = prepared_data_dir(n, &[]).await;
    // Slow the sender down, and kill it once the sink has taken a few mails of this run, so
    // that each kill lands mid-send.
    for _ in 0..3 {
        let before = sink.count();
        let mut child = paperboy_cmd(dir.path(), &sink.url())
            .env("PAPERBOY_SMTP_RATE", "40")
            .args([
                "digest",
                "send",
                "--period",
                "daily",
                "--date",
                "2026-08-21",
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while sink.count() < before + 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Let the dead sender's lease run out.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = digest_send(dir.path(), &sink.url());
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let messages = sink.messages(None);
    let edition = store
        .find_edition(EditionKey::Daily(day("2026-08-21")))
        .await
        .unwrap()
        .unwrap();
    let counts = store.outbox_counts(Some(edition.id)).await.unwrap();
    assert_eq!(counts.pending + counts.sending, 0);
    assert_eq!(counts.sent + counts.unknown, n as i64, "{counts:?}");
    let mut unknown_mails = 0;
    for i in 0..n {
        let got = mails_to(&messages, &format!("reader{i}@example.org")).len();
        assert!(got <= 1, "reader{i} got {got} mails");
        if got == 0 {
            unknown_mails += 1;
        }
    }
    assert!(
        unknown_mails as i64 <= counts.unknown,
        "only rows flagged unknown may lack a mail: {counts:?}"
    );
    // A kill strands only the mails in flight, one per SMTP connection (4 by default): every
    // other reader still gets the digest.
    assert!(
        counts.unknown <= 3 * 4,
        "three kills left {} mails unknown: {counts:?}",
        counts.unknown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_signatures_verify_and_cover_the_list_headers() {
    let Some(python) = tool("PAPERBOY_TEST_PYTHON") else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let private = keys.path().join("dkim.pem");
    let public = keys.path().join("dkim.pub.pem");
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&private)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let sink = Sink::start(&python, free_port(), &[]);
    let url = sink.url();
    let key = private.display().to_string();
    let t = TestApp::spawn_with_env(
        &[hf_daily_fixtures()],
        &[
            ("PAPERBOY_SMTP_URL", &url),
            ("PAPERBOY_MAIL_FROM", "paperboy <papers@papers.example.org>"),
            ("PAPERBOY_DKIM_DOMAIN", "papers.example.org"),
            ("PAPERBOY_DKIM_SELECTOR", "pb2026"),
            ("PAPERBOY_DKIM_KEY_FILE", &key),
        ],
    )
    .await;
    confirmed(&t.app.store, "signed@example.org").await;
    edition::queue(
        &t.app.store,
        &t.app.mailer,
        EditionKey::Daily(day("2026-08-21")),
        Utc::now(),
    )
    .await
    .unwrap();
    send_pending(&t.app.store, &t.app.mailer, RunMode::Once)
        .await
        .unwrap();
    let messages = sink.messages(Some((&public, "pb2026", "papers.example.org")));
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m["dkim"], true, "{m}");
    assert_eq!(
        m["dkim_after_tamper"], false,
        "altering List-Unsubscribe-Post breaks the signature"
    );
    let signed: Vec<&str> = m["dkim_signed_headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    for h in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(signed.contains(&h), "{h} not signed: {signed:?}");
    }
}
