//! Imports of the full corpora in `../shared/data` (skipped, with a note, where it is absent).

use std::path::PathBuf;

use paperboy::ingest::{self, Format};

use crate::support::TestApp;

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("PAPERBOY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    if dir.join("hf-daily").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} not found (the large corpora live outside the repo)",
            dir.display()
        );
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_hf_daily_archives_import_once_and_then_change_nothing() {
    let Some(data) = shared_data() else { return };
    let t = TestApp::spawn_with(&[]).await;
    let mut problems = Vec::new();
    let dir = [data.join("hf-daily")];
    let first = ingest::import_paths(&t.app.store, &dir, Format::Auto, false, |p| {
        problems.push(p.to_string())
    })
    .await
    .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(first.files, 580);
    let counts = t.app.store.counts().await.unwrap();
    assert!((9_800..9_900).contains(&counts.papers), "{counts:?}");
    assert_eq!(counts.feed_days, 580);
    let second = ingest::import_paths(&t.app.store, &dir, Format::Auto, false, |p| panic!("{p}"))
        .await
        .unwrap();
    assert_eq!(
        (second.counts.added, second.counts.updated),
        (0, 0),
        "{second:?}"
    );
}
