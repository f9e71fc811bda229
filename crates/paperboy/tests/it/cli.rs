//! The `paperboy` binary itself: imports, exit codes, one-line errors, crash safety, `serve --demo`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::fixtures;

fn paperboy(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PAPERBOY_DATA_DIR")
        .output()
        .expect("run paperboy")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn import_fixture(name: &str) -> String {
    fixtures().join("import").join(name).display().to_string()
}

#[test]
fn import_is_idempotent_and_reports_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let sample = import_fixture("papers-sample.jsonl.gz");
    let first = paperboy(dir.path(), &["import", &sample]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("324 added, 0 updated, 0 unchanged, 0 skipped"),
        "{}",
        stderr(&first)
    );
    let second = paperboy(dir.path(), &["import", &sample]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stderr(&second).contains("0 added, 0 updated, 324 unchanged"),
        "{}",
        stderr(&second)
    );
    let daily = import_fixture("hf-daily");
    let first = paperboy(dir.path(), &["import", "--format", "hf-daily", &daily]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let second = paperboy(dir.path(), &["import", &daily]);
    assert!(
        stderr(&second).contains("0 added, 0 updated"),
        "{}",
        stderr(&second)
    );
}

#[test]
fn bad_records_are_reported_by_line_and_skipped_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = paperboy(
        dir.path(),
        &["import", &import_fixture("bad/malformed.jsonl")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("malformed.jsonl:3: invalid JSON"), "{err}");
    assert!(err.contains("malformed.jsonl:5: field `id`"), "{err}");
    assert!(
        err.contains("3 added, 0 updated, 0 unchanged, 2 skipped"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_stops_no_command_with_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Standard error closed from the start (`paperboy import … 2>&1 | head -0`): the import
    // still runs to its end, and exits as it would have.
    let bad = import_fixture("bad/malformed.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["import", &bad])
        .env_remove("PAPERBOY_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(closed_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2), "skipped records, not a panic (101)");
    let again = paperboy(dir.path(), &["import", &bad]);
    assert!(
        stderr(&again).contains("0 added, 0 updated, 3 unchanged, 2 skipped"),
        "the first run imported everything: {}",
        stderr(&again)
    );
    // Standard output closed: a command whose output is lost fails in one line.
    let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .args(["config", "example"])
        .stdout(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("writing to standard output"),
        "{}",
        stderr(&out)
    );
}

/// The write end of a pipe whose read end is already closed.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_byte_order_mark_is_read_past_and_implausible_or_huge_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.jsonl");
    let mut text = String::from("\u{feff}");
    text.push_str(r#"{"id": "2405.00011", "title": "Behind a byte-order mark"}"#);
    text.push('\n');
    text.push_str(r#"{"id": "2405.00012", "title": "t", "hf_daily_date": "2999-01-01"}"#);
    text.push('\n');
    text.push_str(&format!(
        r#"{{"id": "2405.00013", "title": "t", "abstract": "{}"}}"#,
        "a".repeat(17 << 20)
    ));
    text.push('\n');
    text.push_str(r#"{"id": "2405.00014", "title": "After the long line"}"#);
    std::fs::write(&file, text).unwrap();
    let out = paperboy(dir.path(), &["import", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("odd.jsonl:2: field `hf_daily_date`: 2999-01-01 is in the future"),
        "{err}"
    );
    assert!(
        err.contains("odd.jsonl:3: longer than 16 MiB: not one paper"),
        "{err}"
    );
    assert!(
        err.contains("2 added, 0 updated, 0 unchanged, 2 skipped"),
        "{err}"
    );
}

#[test]
fn a_truncated_gzip_keeps_whole_records_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = paperboy(
        dir.path(),
        &["import", &import_fixture("bad/truncated.jsonl.gz")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("truncated.jsonl.gz:"), "{err}");
    assert!(err.contains("ends early"), "{err}");
    // Every complete line before the cut was imported; re-running the full file adds the rest.
    let full = paperboy(
        dir.path(),
        &["import", &import_fixture("papers-sample.jsonl")],
    );
    assert_eq!(full.status.code(), Some(0));
}

#[test]
fn unusable_inputs_exit_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = paperboy(
        dir.path(),
        &["import", &import_fixture("bad/unknown-format.txt")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown-format.txt: unknown format"),
        "{}",
        stderr(&out)
    );
    let out = paperboy(dir.path(), &["import", "/no/such/file.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("paperboy: /no/such/file.jsonl: cannot read"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let not_a_dir = dir.path().join("afile");
    std::fs::write(&not_a_dir, "").unwrap();
    let out = paperboy(&not_a_dir, &["member", "add", "a@example.org"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "the data directory {} is a file, not a directory",
            not_a_dir.display()
        )),
        "{}",
        stderr(&out)
    );
    let out = paperboy(dir.path(), &["import", "--format", "csv", "x"]);
    assert_eq!(
        out.status.code(),
        Some(64),
        "a usage error exits 64 (EX_USAGE)"
    );
    let err = stderr(&out);
    assert_eq!(
        err.trim_end(),
        "paperboy: invalid value 'csv' for '--format <FORMAT>'; possible values: auto, jsonl, \
         hf-daily, arxiv-snapshot (see --help)"
    );
    // A date argument that is no calendar day says so, in its first line.
    let out = paperboy(dir.path(), &["digest", "preview", "--date", "2026-02-30"]);
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.lines().next().unwrap().contains(
            "'--date <YYYY-MM-DD>': invalid date \"2026-02-30\": no such day in the calendar"
        ),
        "{err}"
    );
    // An empty file is no error: it holds nothing to import.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = paperboy(dir.path(), &["import", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn config_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("paperboy.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:8080\"\ntimezone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .args(["--config", config.to_str().unwrap(), "import", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("paperboy.toml: timezone"),
        "{}",
        stderr(&out)
    );
    let out = paperboy(dir.path(), &["config", "example"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("timezone = \"America/New_York\""));
    // Values that are checked when the configuration is read, whatever the command, each named
    // with where it came from.
    for (var, value, want) in [
        (
            "PAPERBOY_SMTP_URL",
            "smtp://127.0.0.1:99999",
            "$PAPERBOY_SMTP_URL: smtp_url: smtp://127.0.0.1:99999: not a URL (invalid port number)",
        ),
        (
            "PAPERBOY_SMTP_URL",
            "smtp://127.0.0.1:25?tls=bogus",
            "tls=bogus is not `required` or `opportunistic`",
        ),
        ("PAPERBOY_SMTP_URL", "smtp://", "has no host"),
        (
            "PAPERBOY_MAIL_FROM",
            "not a mailbox",
            "$PAPERBOY_MAIL_FROM: mail_from: \"not a mailbox\" is not a mailbox",
        ),
        (
            "PAPERBOY_SECRET_KEY",
            "a",
            "secret_key: 1 characters is too short",
        ),
        (
            "PAPERBOY_HARVEST_SETS",
            ",,,",
            "harvest_sets: \",,,\" names no set",
        ),
        (
            "PAPERBOY_BASE_URL",
            "https://example.org/?x=1",
            "must not have a query",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["member", "add", "a@example.org"])
            .env(var, value)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{var}={value}: {err}");
        assert!(err.contains(want), "{var}={value}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

/// Writes `n` synthetic papers as JSONL, spread over feed days.
fn synthetic_jsonl(path: &Path, n: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"id": "2601.{:05}", "title": "Synthetic paper {i}", "abstract": "An abstract about topic {}.", "authors": ["A. Author", "B. Author"], "categories": ["cs.LG"], "published": "2026-01-{:02}", "upvotes": {}, "hf_daily_date": "2026-01-{:02}"}}"#,
            i + 1,
            i % 97,
            1 + i % 28,
            i % 50,
            2 + i % 27,
        )
        .unwrap();
    }
}

#[test]
fn a_killed_import_resumes_to_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    synthetic_jsonl(&input, 60_000);
    let killed_dir = dir.path().join("killed");
    // Kill the import mid-way, several times, then let it finish.
    for delay_ms in [150u64, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data-dir")
            .arg(&killed_dir)
            .args(["import", input.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let resumed = paperboy(&killed_dir, &["import", input.to_str().unwrap()]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let clean_dir = dir.path().join("clean");
    let clean = paperboy(&clean_dir, &["import", input.to_str().unwrap()]);
    assert_eq!(clean.status.code(), Some(0));
    let again = paperboy(&killed_dir, &["import", input.to_str().unwrap()]);
    assert!(
        stderr(&again).contains("0 added, 0 updated, 60000 unchanged"),
        "{}",
        stderr(&again)
    );
    let count = |d: &Path| {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*), sum(upvotes), count(distinct daily_date) from paper').fetchone())",
            ])
            .arg(d.join("paperboy.db"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(count(&killed_dir), count(&clean_dir));
}

#[test]
fn serve_refuses_plain_http_off_loopback_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("PAPERBOY_BASE_URL")
        .env_remove("PAPERBOY_LISTEN")
        .env("PAPERBOY_EMBEDDER", "off")
        .output()
        .expect("run paperboy");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 with the plain-http base URL"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// Runs `serve --demo` on `data_dir` until it listens, GETs each of `paths`, and stops it.
fn serve_demo_and_get(data_dir: &Path, paths: &[&str]) -> Vec<(u16, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env_remove("PAPERBOY_DATA_DIR")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.split("serving http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "server did not start");
    };
    std::thread::spawn(move || for _ in lines {});
    let bodies = paths
        .iter()
        .map(|path| reqwest::blocking_get(&format!("http://{addr}{path}")))
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    bodies
}

/// A demo paper whose arXiv categories come from `data/demo/arxiv/categories.jsonl.gz`.
const DEMO_PAPER_WITH_CATEGORIES: &str = "/papers/2605.13857";

#[test]
fn serve_demo_serves_the_bundled_papers_with_their_arxiv_categories() {
    let dir = tempfile::tempdir().unwrap();
    let got = serve_demo_and_get(dir.path(), &["/", DEMO_PAPER_WITH_CATEGORIES]);
    let (status, html) = &got[0];
    assert_eq!(*status, 200);
    assert!(
        html.matches(r#"class="paper-card""#).count() >= 5,
        "demo feed has cards"
    );
    let (status, html) = &got[1];
    assert_eq!(*status, 200);
    assert!(html.contains("MoZoo"), "the Hugging Face record: {html}");
    assert!(
        html.contains(r#"href="/search?q=cat:cs.GR""#),
        "the categories file filled the categories: {html}"
    );
    assert!(
        !dir.path().join("demo-import").exists(),
        "the scratch files are gone once the load succeeded"
    );
}

#[test]
fn a_demo_load_that_did_not_finish_is_run_again_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    // What a load killed part-way leaves: some papers in the store, and the unpacked files.
    let sample = import_fixture("papers-sample.jsonl.gz");
    let out = paperboy(dir.path(), &["import", &sample]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::create_dir_all(dir.path().join("demo-import")).unwrap();
    let got = serve_demo_and_get(dir.path(), &[DEMO_PAPER_WITH_CATEGORIES]);
    let (status, html) = &got[0];
    assert_eq!(*status, 200, "the demo was loaded: {html}");
    assert!(html.contains(r#"href="/search?q=cat:cs.GR""#));
    assert!(!dir.path().join("demo-import").exists());
    // With the load finished, a store that holds papers is left alone.
    let got = serve_demo_and_get(dir.path(), &[DEMO_PAPER_WITH_CATEGORIES]);
    assert_eq!(got[0].0, 200);
}

mod reqwest {
    /// A blocking GET without pulling reqwest's blocking feature: one request on a fresh runtime.
    pub fn blocking_get(url: &str) -> (u16, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let res = ::reqwest::get(url).await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        })
    }
}
