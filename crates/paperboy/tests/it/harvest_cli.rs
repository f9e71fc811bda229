//! `paperboy harvest`, `paperboy fetch` and `serve`'s schedule, as the real binary against the
//! fake arXiv: progress and summaries, exit codes, `kill -9` mid-harvest, and ids that must never
//! cause a request.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::fake_arxiv::{FakeArxiv, Fault, LAST_TOKEN, SECOND_TOKEN, Target};

fn paperboy(fake: &FakeArxiv, data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paperboy"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PAPERBOY_DATA_DIR")
        .envs(fake.env(10))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(fake: &FakeArxiv, data_dir: &Path, args: &[&str]) -> Output {
    paperboy(fake, data_dir, args)
        .output()
        .await
        .expect("run paperboy")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What Python's sqlite3 module prints running `script` against the store in `data_dir` (a
/// reader that shares no code with paperboy's); the script finds the database in `sys.argv[1]`.
fn python_sqlite(data_dir: &Path, script: &str) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(data_dir.join("paperboy.db"))
        .output()
        .expect("python3 reads the database");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The store's content that a harvest decides (not bookkeeping such as write times).
fn dump(data_dir: &Path) -> String {
    python_sqlite(
        data_dir,
        "import sqlite3,sys,json\n\
             c=sqlite3.connect(sys.argv[1])\n\
             q=lambda s: c.execute(s).fetchall()\n\
             print(json.dumps([\n\
               q('select paper_id,title,summary,authors,categories,comments,journal_ref,doi,license,published_at,updated_at,source_as_of,upvotes from paper order by paper_id'),\n\
               q('select paper_id,version,created_at from paper_version order by paper_id,version'),\n\
               q('select set_spec,metadata_prefix,harvested_through,resumption_token from harvest_checkpoint')]))",
    )
}

/// Whether the fake has seen a request with `token` beyond its first `after` requests.
fn requested(fake: &FakeArxiv, token: &str, after: usize) -> bool {
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let seen = fake.seen();
    seen[after.min(seen.len())..]
        .iter()
        .any(|s| s.target.contains(&encoded))
}

/// Waits for the fake to see a request with `token` beyond its first `after` requests.
async fn wait_for_token(fake: &FakeArxiv, token: &str, after: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !requested(fake, token, after) {
        assert!(Instant::now() < deadline, "no request for {token}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The resumption token the store's harvest checkpoint will ask for next, if any.
fn checkpoint_token(data_dir: &Path) -> Option<String> {
    let token = python_sqlite(
        data_dir,
        "import sqlite3,sys\n\
         c=sqlite3.connect(sys.argv[1])\n\
         try: r=c.execute('select resumption_token from harvest_checkpoint').fetchone()\n\
         except sqlite3.OperationalError: r=None\n\
         print(r[0] if r and r[0] else '')",
    );
    Some(token.trim().to_owned()).filter(|t| !t.is_empty())
}

async fn kill(mut child: Child) {
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_shows_progress_and_a_summary() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(&fake, dir.path(), &["harvest"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for want in [
        "harvesting the whole archive (from ",
        "the whole archive: page 1: 1000 records (5000 of 846926): 1000 added, 0 updated",
        "the whole archive: page 3: 1000 records",
        "harvested 1 set(s) in 3 page(s): 3000 added, 0 updated, 0 unchanged, 0 deleted upstream, 0 skipped",
        "the whole archive: harvested through 2013-05-24",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    for (args, want) in [
        (
            ["--until", "1900-01-01"],
            "--until: 1900-01-01 is before arXiv began (1991)",
        ),
        (
            ["--from", "2999-01-01"],
            "--from: 2999-01-01 is in the future",
        ),
    ] {
        let mut all = vec!["harvest"];
        all.extend(args);
        let out = run(&fake, dir.path(), &all).await;
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
    }
    let out = run(&fake, dir.path(), &["harvest", "--set", "cs&verb=Identify"]).await;
    assert_eq!(out.status.code(), Some(64), "clap rejects a bad set");
    let out = run(
        &fake,
        dir.path(),
        &["harvest", "--from", "2026-08-21", "--until", "2026-08-01"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--from 2026-08-21 is after --until 2026-08-01"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_exits_1_naming_the_page_and_position() {
    let fake = FakeArxiv::start().await;
    fake.fail_next(
        Target::OaiToken(SECOND_TOKEN.into()),
        Fault::Body("<OAI-PMH><ListRecords><record><header>".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = run(&fake, dir.path(), &["harvest", "--set", "cs"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("paperboy: "))
        .expect("an error line");
    assert!(line.contains("harvesting set cs: page 2 failed"), "{line}");
    assert!(line.contains("resumptionToken=436115%7C5001"), "{line}");
    assert!(line.contains("line 1, column"), "{line}");
    // The summary counts the page committed before the failure.
    assert!(
        err.contains("harvested 1 set(s) (1 of them failed part-way) in 1 page(s): 1000 added"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_harvest_then_rerun_equals_an_uninterrupted_harvest() {
    let fake = FakeArxiv::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let killed = tmp.path().join("killed");

    // At a moment chosen by the clock, then while page 2 and then page 3 are on their way. Page 3
    // stalls from the start, so the clock's kill always lands before the harvest is done; where
    // that kill fell decides which of the later kills still have a page to interrupt.
    fake.fail_next(Target::OaiToken(LAST_TOKEN.into()), Fault::Stall);
    let child = paperboy(&fake, &killed, &["harvest"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    kill(child).await;
    let last_stall_armed = !requested(&fake, LAST_TOKEN, 0);
    for token in [SECOND_TOKEN, LAST_TOKEN] {
        if token == SECOND_TOKEN && checkpoint_token(&killed).as_deref() == Some(LAST_TOKEN) {
            continue; // page 2 was committed before the first kill
        }
        if !(token == LAST_TOKEN && last_stall_armed) {
            fake.fail_next(Target::OaiToken(token.into()), Fault::Stall);
        }
        let before = fake.seen().len();
        let child = paperboy(&fake, &killed, &["harvest"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_token(&fake, token, before).await;
        kill(child).await;
    }
    let resumed = run(&fake, &killed, &["harvest"]).await;
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming the whole archive"),
        "{}",
        stderr(&resumed)
    );

    let clean = tmp.path().join("clean");
    let out = run(&fake, &clean, &["harvest"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (killed_dump, clean_dump) = (dump(&killed), dump(&clean));
    assert!(killed_dump.len() > 1_000_000, "the dump holds the papers");
    assert!(killed_dump == clean_dump, "the stores differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_stores_papers_by_id_and_reports_the_missing() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &fake,
        dir.path(),
        &[
            "fetch",
            "1605.08386",
            "arXiv:hep-ex/0406020v1",
            "https://arxiv.org/abs/2401.99999",
        ],
    )
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("asking {}", fake.api_url())) && err.contains("for 3 paper(s)"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1605.08386v1\tHeat-bath random walks with Markov bases\n\
         hep-ex/0406020v1\tSparticle Reconstruction at LHC\n"
    );
    assert!(
        err.contains("paperboy: 2401.99999: not found on arXiv"),
        "{err}"
    );
    assert!(
        err.contains("fetched 2 paper(s): 2 added, 0 updated, 0 unchanged, 1 not found"),
        "{err}"
    );
    assert_eq!(fake.seen().len(), 1, "one request for the three ids");
    let again = run(&fake, dir.path(), &["fetch", "1605.08386"]).await;
    assert_eq!(again.status.code(), Some(0));
    assert!(stderr(&again).contains("0 added, 0 updated, 1 unchanged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_are_refused_without_any_request() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let long = "1".repeat(10_000);
    for id in [
        "../x",
        "1234.5678@evil",
        "%2e%2e",
        "http://169.254.169.254/latest",
        "https://evil.example/abs/2405.15738",
        "٢٤٠٥.١٥٧٣٨",
        "2405.15738&id_list=1",
        long.as_str(),
    ] {
        let out = run(&fake, dir.path(), &["fetch", "1605.08386", id]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{id}: {err}");
        assert!(
            err.starts_with("paperboy: ") && err.contains("is not an arXiv id"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
}

/// Starts `serve` and returns it with its stderr lines as they come.
async fn serve(
    fake: &FakeArxiv,
    data_dir: &Path,
    extra: &[&str],
) -> (Child, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = paperboy(fake, data_dir, &args)
        .env("PAPERBOY_TIMEZONE", "UTC")
        .env("PAPERBOY_HARVEST_AT", "00:00")
        .env("RUST_LOG", "paperboy=info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

async fn wait_for_line(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    want: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) => {
                let done = line.contains(want);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            _ => panic!("{want:?} never appeared in:\n{}", seen.join("\n")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_harvests_on_schedule_and_demo_never_does() {
    let fake = FakeArxiv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (child, mut lines) = serve(&fake, dir.path(), &[]).await;
    wait_for_line(&mut lines, "harvest finished").await;
    kill(child).await;
    assert_eq!(fake.seen().len(), 3, "the three pages, once");
    let job_state = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select key, state from job\").fetchall())",
        ])
        .arg(dir.path().join("paperboy.db"))
        .output()
        .unwrap();
    let jobs = String::from_utf8_lossy(&job_state.stdout).into_owned();
    assert!(
        jobs.contains("'daily:") && jobs.contains("'done'"),
        "{jobs}"
    );

    let demo_dir = tempfile::tempdir().unwrap();
    let (child, mut lines) = serve(&fake, demo_dir.path(), &["--demo"]).await;
    let log = wait_for_line(&mut lines, "serving http://").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kill(child).await;
    assert!(
        log.iter()
            .any(|l| l.contains("the daily arXiv harvest is off")),
        "{log:?}"
    );
    assert_eq!(fake.seen().len(), 3, "the demo made no request");
}
