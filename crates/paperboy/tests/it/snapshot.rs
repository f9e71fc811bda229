//! `paperboy import --format arxiv-snapshot`: a snapshot-format file made from paperboy JSONL (by
//! `snapshot_format`), bad lines, and resuming after `kill -9`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::snapshot_format::write_snapshot;
use crate::support::fixtures;

fn paperboy(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paperboy"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PAPERBOY_DATA_DIR");
    command
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    paperboy(data_dir, args).output().expect("run paperboy")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Papers as the store has them: (id, title, authors, categories, published_at).
fn papers(data_dir: &Path) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]); \
             print(json.dumps(c.execute('select paper_id,title,summary,authors,categories,published_at from paper order by paper_id').fetchall()))",
        ])
        .arg(data_dir.join("paperboy.db"))
        .output()
        .expect("python3 reads the database");
    String::from_utf8(out.stdout).unwrap()
}

/// The line the import checkpoint stands at (0 before the first batch commits).
fn committed_line(data_dir: &Path) -> u64 {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys\n\
             try:\n  r=sqlite3.connect(sys.argv[1]).execute('select max(line) from import_checkpoint').fetchone()[0]\n\
             except Exception: r=None\n\
             print(r or 0)",
        ])
        .arg(data_dir.join("paperboy.db"))
        .output()
        .expect("python3 reads the database");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn a_snapshot_imports_the_same_papers_as_the_jsonl_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = fixtures().join("import/papers-sample.jsonl");
    let snapshot = dir.path().join("snapshot.json");
    assert_eq!(write_snapshot(&jsonl, &snapshot, usize::MAX), 324);

    let from_snapshot = dir.path().join("a");
    let out = run(
        &from_snapshot,
        &[
            "import",
            "--format",
            "arxiv-snapshot",
            snapshot.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("324 added, 0 updated, 0 unchanged, 0 skipped"),
        "{}",
        stderr(&out)
    );

    let from_jsonl = dir.path().join("b");
    let out = run(&from_jsonl, &["import", jsonl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (a, b) = (papers(&from_snapshot), papers(&from_jsonl));
    assert!(a.len() > 100_000);
    assert!(a == b, "the two imports differ");

    // Importing again reads the whole file again (the finished import left no checkpoint).
    let again = run(
        &from_snapshot,
        &[
            "import",
            "--format",
            "arxiv-snapshot",
            snapshot.to_str().unwrap(),
        ],
    );
    assert!(
        stderr(&again).contains("0 added, 0 updated, 324 unchanged"),
        "{}",
        stderr(&again)
    );

    // Without --format, a snapshot is recognised and the right flag suggested.
    let auto = run(&from_snapshot, &["import", snapshot.to_str().unwrap()]);
    assert_eq!(auto.status.code(), Some(1));
    assert!(
        stderr(&auto).contains("use --format arxiv-snapshot"),
        "{}",
        stderr(&auto)
    );
}

#[test]
fn bad_snapshot_lines_are_reported_by_number_and_skipped_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap.json");
    write_snapshot(
        &fixtures().join("import/papers-sample.jsonl"),
        &snapshot,
        10,
    );
    let text = std::fs::read_to_string(&snapshot).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2][..lines[2].len() / 2].to_owned();
    let mut edit = |i: usize, field: &str, value: Value| {
        let mut line: Value = serde_json::from_str(&lines[i]).unwrap();
        line[field] = value;
        lines[i] = line.to_string();
    };
    edit(4, "id", json!("not-an-id"));
    edit(6, "versions", json!([{"version": "v1", "created": "soon"}]));
    std::fs::write(&snapshot, lines.join("\n") + "\n").unwrap();
    let out = run(
        dir.path(),
        &[
            "import",
            "--format",
            "arxiv-snapshot",
            snapshot.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("snap.json:3: invalid JSON"), "{err}");
    assert!(err.contains("snap.json:5: field `id`"), "{err}");
    assert!(err.contains("snap.json:7: field `versions`"), "{err}");
    assert!(
        err.contains("7 added, 0 updated, 0 unchanged, 3 skipped"),
        "{err}"
    );
}

#[test]
fn a_killed_snapshot_import_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    write_snapshot(
        &fixtures().join("import/papers-sample.jsonl"),
        &sample,
        usize::MAX,
    );
    // 64,800 lines: the sample over and over, each copy under new ids.
    let big = dir.path().join("big.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    let sample_lines: Vec<Value> = std::fs::read_to_string(&sample)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut n = 0;
    for _ in 0..200 {
        for line in &sample_lines {
            n += 1;
            let mut line = line.clone();
            line["id"] = json!(format!("2601.{n:05}"));
            writeln!(out, "{line}").unwrap();
        }
    }
    drop(out);

    // Kill it twice once batches have committed, each time further in.
    let killed = dir.path().join("killed");
    for past_line in [5_000, 20_000] {
        let mut child = paperboy(
            &killed,
            &[
                "import",
                "--format",
                "arxiv-snapshot",
                big.to_str().unwrap(),
            ],
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while committed_line(&killed) < past_line {
            assert!(
                std::time::Instant::now() < deadline,
                "the import made no progress"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the import ended before the kill"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let resumed = run(
        &killed,
        &[
            "import",
            "--format",
            "arxiv-snapshot",
            big.to_str().unwrap(),
        ],
    );
    let err = stderr(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{err}");
    assert!(err.contains("resuming the import after line"), "{err}");

    let clean = dir.path().join("clean");
    let out = run(
        &clean,
        &[
            "import",
            "--format",
            "arxiv-snapshot",
            big.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("64800 added"), "{}", stderr(&out));
    assert!(papers(&killed) == papers(&clean), "the stores differ");
}
