//! Members end to end in headless Chromium: log in through the link mailed to a real SMTP
//! server, upvote (with the page's JavaScript), submit, comment, save, log out; and hostile
//! strings stay inert under the CSP (`window.__xss` never set).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use paperboy::email::outbox::{RunMode, send_pending};
use serde_json::Value;

use crate::browser::{click, connect, console_errors, start_driver, type_into};
use crate::fake_arxiv::FakeArxiv;
use crate::members::members_fixture;
use crate::support::{TestApp, tool};

fn mail_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail")
}

/// aiosmtpd writing each accepted mail to a file, killed on drop.
struct Sink {
    child: Child,
    python: PathBuf,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Sink {
    fn start(python: &Path) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(mail_dir().join("smtp_sink.py"))
            .args(["--port", &port.to_string(), "--maildir"])
            .arg(maildir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP sink");
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

    fn messages(&self) -> Vec<Value> {
        let out = Command::new(&self.python)
            .arg(mail_dir().join("mail_check.py"))
            .arg(self.maildir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = client.execute(script, vec![]).await.unwrap();
        if v == Value::Bool(true) {
            return;
        }
        if Instant::now() >= deadline {
            let url = client.current_url().await.unwrap();
            let text = client
                .find(Locator::Css("main"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            panic!(
                "timed out waiting for {what} on {url}: {}",
                text.chars().take(600).collect::<String>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn xss_marker(client: &Client) -> Value {
    client
        .execute(
            "return typeof window.__xss === 'undefined' ? null : window.__xss;",
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_logs_in_by_mail_upvotes_submits_comments_saves_and_logs_out() {
    let (Some(chromium), Some(chromedriver), Some(python)) = (
        tool("PAPERBOY_CHROMIUM"),
        tool("PAPERBOY_CHROMEDRIVER"),
        tool("PAPERBOY_TEST_PYTHON"),
    ) else {
        return;
    };
    let sink = Sink::start(&python);
    let fake = FakeArxiv::start().await;
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let mut env: Vec<(&str, String)> = fake.env(0);
    env.push(("PAPERBOY_SMTP_URL", smtp));
    env.push(("PAPERBOY_SUBMIT_WINDOW_DAYS", "100000".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with_env(&[members_fixture()], &env).await;
    let driver = start_driver(&chromedriver).await;
    let client = connect(&driver, &chromium).await;
    let base = t.base_url.clone();
    let result = async {
        // Ask for a link, starting from a page that needs a login: the link comes back to it.
        client.goto(&format!("{base}/saved")).await.unwrap();
        let url = client.current_url().await.unwrap();
        assert_eq!(url.as_str(), format!("{base}/login?next=%2Fsaved"));
        type_into(&client, "#login-email", "ada@example.org").await;
        click(&client, ".login-form button").await;
        wait_for(&client, "the notice", "return document.querySelector('main h1').textContent === 'Check your inbox';").await;
        send_pending(&t.app.store, &t.app.mailer, RunMode::Once).await.unwrap();
        let messages = sink.messages();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0]["to"], "ada@example.org");
        let link = messages[0]["text_links"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|l| l.contains("/login/confirm?t="))
            .expect("a login link")
            .to_owned();
        // The link's page has a button; pressing it logs in.
        client.goto(&link).await.unwrap();
        assert!(link.contains("&next=%2Fsaved"), "{link}");
        click(&client, "main form button").await;
        wait_for(&client, "the login", "return document.querySelector('.account-name') !== null;").await;
        let account = client.find(Locator::Css(".account-name")).await.unwrap();
        assert_eq!(account.text().await.unwrap(), "ada");
        let url = client.current_url().await.unwrap();
        assert_eq!(url.as_str(), format!("{base}/saved"), "back where the login started");

        // Upvote from a day page: the JavaScript updates the count in place.
        client.goto(&format!("{base}/papers/date/2026-08-21")).await.unwrap();
        let before = t.get_json("/api/papers/2608.90002").await.1["upvotes"].as_i64().unwrap();
        let form = "form.vote-form[action='/papers/2608.90002/upvote']";
        click(&client, &format!("{form} button")).await;
        wait_for(
            &client,
            "the upvote",
            &format!(
                "return document.querySelector(\"{form} button\").classList.contains('upvoted') && document.querySelector(\"{form} .vote-count\").textContent === '{}';",
                before + 1
            ),
        )
        .await;
        assert_eq!(
            t.get_json("/api/papers/2608.90002").await.1["upvotes"].as_i64().unwrap(),
            before + 1
        );
        assert!(client.current_url().await.unwrap().as_str().ends_with("/papers/date/2026-08-21"));

        // Submit an unknown paper: fetched from (fake) arXiv, onto today's feed.
        client.goto(&format!("{base}/submit")).await.unwrap();
        type_into(&client, "#submit-paper", "https://arxiv.org/abs/1707.08567v1").await;
        click(&client, ".submit-form button").await;
        wait_for(&client, "the paper page", "return location.pathname === '/papers/1707.08567';").await;
        let (_, info) = t.get_json("/api/papers/1707.08567").await;
        assert_eq!(info["submittedOnDailyBy"]["name"], "ada");

        // Comment on it, then save it.
        type_into(&client, "#comment-body", "Worth reading: **section 3**.").await;
        click(&client, ".comment-form button").await;
        wait_for(&client, "the comment", "return document.querySelector('.comment-body strong') !== null;").await;
        let strong = client.find(Locator::Css(".comment-body strong")).await.unwrap();
        assert_eq!(strong.text().await.unwrap(), "section 3");
        // A script click: after the jump to the new comment, the sticky header covers the top.
        client
            .execute("document.querySelector('.save-form button').click();", vec![])
            .await
            .unwrap();
        wait_for(&client, "the save", "return document.querySelector('.save-form button').textContent === 'Saved';").await;
        client.goto(&format!("{base}/saved")).await.unwrap();
        let cards = client.find_all(Locator::Css(".paper-card")).await.unwrap();
        assert_eq!(cards.len(), 1);

        // Hostile titles, abstracts, authors, comments and display names stay inert.
        client.goto(&format!("{base}/settings")).await.unwrap();
        let name = client.find(Locator::Css("#fullname")).await.unwrap();
        name.clear().await.unwrap();
        name.send_keys("<img src=x onerror=\"window.__xss=1\"><script>window.__xss=1</script>")
            .await
            .unwrap();
        click(&client, ".profile-form button").await;
        wait_for(&client, "the profile", "return document.querySelector('main .notice') !== null;").await;
        client.goto(&format!("{base}/papers/2608.90001")).await.unwrap();
        type_into(&client, "#comment-body", "<img src=x onerror=\"window.__xss=1\"> [x](javascript:window.__xss=1) <script>window.__xss=1</script>").await;
        click(&client, ".comment-form button").await;
        wait_for(&client, "the hostile comment", "return document.querySelectorAll('.comment').length === 1;").await;
        for path in ["/papers/2608.90001", "/papers/date/2026-08-21", "/saved", "/papers/2608.90001.md"] {
            client.goto(&format!("{base}{path}")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(xss_marker(&client).await, Value::Null, "{path}");
        }
        // Click the hostile javascript: link text if it became a link: it must not be one.
        client.goto(&format!("{base}/papers/2608.90001")).await.unwrap();
        let js_links = client
            .execute("return Array.from(document.querySelectorAll('a')).filter(a => a.href.startsWith('javascript:')).length;", vec![])
            .await
            .unwrap();
        assert_eq!(js_links, Value::from(0));
        let errors: Vec<String> = console_errors(&driver, &client)
            .await
            .into_iter()
            .filter(|e| !e.contains("favicon"))
            .collect();
        assert!(errors.iter().all(|e| !e.contains("__xss")), "{errors:?}");

        // Log out.
        click(&client, ".account-nav form button").await;
        wait_for(&client, "the logout", "return document.querySelector(\".account-nav a[href='/login']\") !== null;").await;
        let login = client.find(Locator::Css(".account-nav a[href='/login']")).await.unwrap();
        assert_eq!(login.text().await.unwrap(), "Log in");
        client.goto(&format!("{base}/saved")).await.unwrap();
        assert!(client.current_url().await.unwrap().as_str().ends_with("/login?next=%2Fsaved"));
    }
    .await;
    client.close().await.unwrap();
    drop(fake);
    result
}
