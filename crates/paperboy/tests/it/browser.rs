//! Headless Chromium (Debian's chromium and chromedriver) renders the pages without console
//! errors, and KaTeX typesets the TeX.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::{TestApp, fixtures, hf_daily_fixtures, tool};

/// A chromedriver process on a free loopback port, killed on drop.
pub struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_driver(chromedriver: &std::path::Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        url,
        _profile: tempfile::tempdir().unwrap(),
    }
}

pub async fn connect(driver: &Driver, chromium: &std::path::Path) -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--no-first-run", "--window-size=1200,900",
                     format!("--user-data-dir={}", driver._profile.path().display())]
        }),
    );
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({"browser": "ALL"}),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

/// Console messages at SEVERE level since the last call (chromedriver's log endpoint).
pub async fn console_errors(driver: &Driver, client: &Client) -> Vec<String> {
    let session = client.session_id().await.unwrap().expect("session id");
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/session/{session}/se/log", driver.url))
        .json(&serde_json::json!({"type": "browser"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_in_chromium_without_console_errors() {
    let (Some(chromium), Some(chromedriver)) =
        (tool("PAPERBOY_CHROMIUM"), tool("PAPERBOY_CHROMEDRIVER"))
    else {
        return;
    };
    let t = TestApp::spawn_with(&[
        hf_daily_fixtures(),
        fixtures().join("import/papers-sample.jsonl"),
    ])
    .await;
    let driver = start_driver(&chromedriver).await;
    let client = connect(&driver, &chromium).await;
    let result = async {
        for path in ["/", "/papers/week/2026-W34", "/trending", "/about"] {
            client.goto(&format!("{}{path}", t.base_url)).await.unwrap();
            client.find(Locator::Css("main")).await.unwrap();
            let errors = console_errors(&driver, &client).await;
            assert!(errors.is_empty(), "{path}: {errors:?}");
        }
        let cards = client.find_all(Locator::Css(".paper-card")).await.unwrap();
        assert!(cards.is_empty(), "about has no cards");
        client
            .goto(&format!("{}/papers/week/2026-W34", t.base_url))
            .await
            .unwrap();
        let cards = client.find_all(Locator::Css(".paper-card")).await.unwrap();
        assert!(cards.len() > 10, "week view shows cards");

        // A paper whose abstract holds TeX: KaTeX must have typeset it.
        let tex_paper = find_tex_paper(&t).await;
        client
            .goto(&format!("{}/papers/{tex_paper}", t.base_url))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let katex = client
                .find_all(Locator::Css(".abstract .katex, .paper-title .katex"))
                .await
                .unwrap();
            if !katex.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "KaTeX did not render on /papers/{tex_paper}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let errors = console_errors(&driver, &client).await;
        assert!(errors.is_empty(), "paper page: {errors:?}");
        let title = client.title().await.unwrap();
        assert!(title.ends_with("· paperboy"), "{title}");

        // TeX's text-mode escapes outside math read as the characters they stand for.
        crate::support::import_records(
            &t.app.store,
            &[serde_json::json!({
                "id": "2503.97531", "title": "Escapes",
                "abstract": r"Latency falls by 57\% to 0.1\,ms at \$400K, with $x_1^2$ kept as math.",
                "authors": ["Ada Quokka"], "published": "2025-03-04T00:00:00Z",
            })],
        )
        .await;
        client
            .goto(&format!("{}/papers/2503.97531", t.base_url))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = client
                .find(Locator::Css(".abstract"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains("57% to 0.1\u{2009}ms at $400K") {
                break;
            }
            assert!(Instant::now() < deadline, "escapes left in: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let math = client
            .find_all(Locator::Css(".abstract .katex"))
            .await
            .unwrap();
        assert_eq!(math.len(), 1, "the math is still typeset");
    }
    .await;
    client.close().await.unwrap();
    result
}

/// The id of a sample paper whose abstract contains `$…$`.
async fn find_tex_paper(t: &TestApp) -> String {
    let text = std::fs::read_to_string(fixtures().join("import/papers-sample.jsonl")).unwrap();
    let line = text
        .lines()
        .find(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["abstract"]
                .as_str()
                .is_some_and(|a| a.matches('$').count() >= 2)
        })
        .expect("a sample abstract with TeX");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    let (status, _) = t.get_text(&format!("/papers/{id}")).await;
    assert_eq!(status, 200);
    id
}

/// Clicks the first element that `css` selects (panics when there is none).
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Types `text` into the first element that `css` selects (panics when there is none).
pub async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}
