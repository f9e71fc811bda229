//! `TestApp`: a running paperboy on 127.0.0.1 with its own data directory, plus fixture paths.

use std::path::{Path, PathBuf};

use paperboy::app::App;
use paperboy::config::{Config, Overrides};
use paperboy::ingest::{self, Format};

/// The crate's `tests/fixtures` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The five raw HF daily files every server test starts from.
pub fn hf_daily_fixtures() -> PathBuf {
    fixtures().join("import/hf-daily")
}

pub struct TestApp {
    pub base_url: String,
    pub app: App,
    pub client: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// A server with the HF daily fixtures imported.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[hf_daily_fixtures()]).await
    }

    /// A server with `imports` imported (files or directories).
    pub async fn spawn_with(imports: &[PathBuf]) -> TestApp {
        TestApp::spawn_with_env(imports, &[]).await
    }

    /// A server with `imports` imported and `env` standing in for `PAPERBOY_*` variables.
    pub async fn spawn_with_env(imports: &[PathBuf], env: &[(&str, &str)]) -> TestApp {
        let env: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let overrides = Overrides {
            data_dir: Some(data_dir.path().to_owned()),
            listen: Some(addr.to_string()),
            ..Default::default()
        };
        let config = Config::load_with(&overrides, |k| env.get(k).cloned()).expect("config");
        let app = App::build(config).await.expect("app");
        if !imports.is_empty() {
            let report = ingest::import_paths(&app.store, imports, Format::Auto, false, |p| {
                panic!("fixture problem: {p}")
            })
            .await
            .expect("import fixtures");
            assert!(report.counts.added > 0);
        }
        tokio::spawn(paperboy::web::serve(
            listener,
            app.clone(),
            std::future::pending(),
        ));
        TestApp {
            base_url: format!("http://{addr}"),
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            _data_dir: data_dir,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON body"))
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.expect("text body"))
    }
}

/// A required external tool from the test environment (`cargo xtask test-env` provides them).
/// Under CI a missing tool fails the test; locally the test is skipped with a note.
pub fn tool(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if Path::new(&v).exists() => Some(PathBuf::from(v)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set or missing: run the tests through `cargo xtask ci`")
        }
        _ => {
            eprintln!(
                "skipped: {var} is not set; run `cargo xtask ci` (or `eval \"$(cargo xtask test-env)\"`) to provide it"
            );
            None
        }
    }
}

/// Ids of the items of a daily_papers response, in order.
pub fn ids(items: &serde_json::Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["paper"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Imports `records` (paperboy JSONL objects) into `store`, as `paperboy import` would.
pub async fn import_records(store: &paperboy::store::Store, records: &[serde_json::Value]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.jsonl");
    let lines: Vec<String> = records.iter().map(ToString::to_string).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    ingest::import_paths(store, &[file], Format::Auto, false, |p| panic!("{p}"))
        .await
        .unwrap();
}
