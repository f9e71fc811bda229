//! Tidy checks on the source tree itself: file headers, layer boundaries, banned names.
//!
//! These are the architecture's invariants (ARCHITECTURE.md) in executable form, in the way
//! rust-analyzer's `tidy` tests keep its tree honest.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files_under(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dir = workspace().join(rel);
    if dir.is_dir() {
        rust_files(&dir, &mut out);
    }
    out
}

fn all_files() -> Vec<PathBuf> {
    [
        "crates/paperboy/src",
        "crates/paperboy/tests",
        "crates/paperboy/benches",
        "crates/paperboy/examples",
        "crates/arxiv",
        "xtask/src",
    ]
    .iter()
    .flat_map(|d| files_under(d))
    .collect()
}

fn relative(p: &Path) -> String {
    p.strip_prefix(workspace())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[test]
fn every_rust_file_opens_with_a_module_doc_line() {
    let missing: Vec<String> = all_files()
        .into_iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| relative(&f))
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` first line: {missing:?}"
    );
}

/// Files under `crates/paperboy/src` that mention `needle` outside the allowed folders.
fn offenders(needle: &str, allowed: &[&str]) -> Vec<String> {
    files_under("crates/paperboy/src")
        .into_iter()
        .filter(|f| {
            let rel = relative(f);
            !allowed
                .iter()
                .any(|a| rel.starts_with(&format!("crates/paperboy/src/{a}")))
        })
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains(needle))
        })
        .map(|f| relative(&f))
        .collect()
}

#[test]
fn sql_lives_only_in_the_store() {
    let found = offenders("sqlx", &["store/"]);
    assert!(found.is_empty(), "sqlx used outside store/: {found:?}");
}

#[test]
fn axum_stays_in_the_web_layer() {
    let found = offenders("axum", &["web/"]);
    assert!(found.is_empty(), "axum used outside web/: {found:?}");
}

#[test]
fn the_domain_does_no_io() {
    let mut found = Vec::new();
    for needle in [
        "std::fs", "tokio", "reqwest", "sqlx", "axum", "tantivy", "std::net", "std::env",
    ] {
        for f in files_under("crates/paperboy/src/domain") {
            let text = std::fs::read_to_string(&f).unwrap();
            if text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains(needle))
            {
                found.push(format!("{} uses {needle}", relative(&f)));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn only_config_reads_the_environment() {
    let found = offenders("std::env::var", &["config.rs"]);
    assert!(
        found.is_empty(),
        "environment read outside config.rs: {found:?}"
    );
}

#[test]
fn unsafe_code_lives_only_in_the_allocator_set_up() {
    // The workspace denies unsafe code; main.rs may allow it for one FFI call (mallopt).
    let found: Vec<String> = all_files()
        .into_iter()
        .filter(|f| !relative(f).ends_with("tidy.rs"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let allowed = text.matches("allow(unsafe_code)").count();
            allowed > usize::from(relative(f) == "crates/paperboy/src/main.rs")
        })
        .map(|f| relative(&f))
        .collect();
    assert!(found.is_empty(), "unsafe code allowed in {found:?}");
}

#[test]
fn the_binary_never_prints_with_macros_that_panic() {
    // `println!` and `eprintln!` panic when the stream is a closed pipe (`paperboy … | head`);
    // the command line uses `report!` and `output!` (cli/mod.rs) instead.
    let mut found = Vec::new();
    for needle in ["println!(", "print!(", "eprint!("] {
        found.extend(offenders(needle, &[]));
    }
    assert!(found.is_empty(), "printing macros that panic in {found:?}");
}

#[test]
fn no_grab_bag_names_or_debug_leftovers() {
    let mut found = Vec::new();
    for f in all_files() {
        let name = f.file_stem().unwrap().to_string_lossy().to_lowercase();
        if [
            "utils", "util", "helpers", "helper", "manager", "common", "misc",
        ]
        .contains(&name.as_str())
        {
            found.push(format!("{}: name says nothing", relative(&f)));
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in ["dbg!(", "todo!(", "unimplemented!("] {
            if f != Path::new(file!())
                && !relative(&f).ends_with("tidy.rs")
                && text.contains(banned)
            {
                found.push(format!("{} contains {banned}", relative(&f)));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn migrations_are_numbered_uniquely_and_in_order() {
    let dir = workspace().join("crates/paperboy/migrations/sqlite");
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n.split('_').next().unwrap().to_owned())
        .collect();
    versions.sort();
    let count = versions.len();
    versions.dedup();
    assert_eq!(versions.len(), count, "two migrations share a number");
    assert!(
        versions
            .iter()
            .all(|v| v.len() == 4 && v.chars().all(|c| c.is_ascii_digit())),
        "{versions:?}"
    );
}
