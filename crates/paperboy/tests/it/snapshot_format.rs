//! The test helper that writes arXiv's bulk snapshot format (Kaggle's
//! `arxiv-metadata-oai-snapshot.json`) from paperboy JSONL. The integration tests and the
//! `arxiv_snapshot` benchmark (which includes this file by path) share it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde_json::{Value, json};

/// Converts paperboy JSONL (`papers.jsonl`, plain or gzipped) into the Kaggle snapshot format,
/// one line per paper, keeping at most `limit` lines. Authors become both the one-line list and
/// `authors_parsed`; the publication day becomes v1 and the update date.
pub fn write_snapshot(from: &Path, to: &Path, limit: usize) -> usize {
    let file = std::fs::File::open(from).expect("open JSONL");
    let reader: Box<dyn BufRead> = if from.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(to).expect("create snapshot"));
    let mut written = 0;
    for line in reader.lines().take(limit) {
        let paper: Value = serde_json::from_str(&line.expect("read")).expect("JSONL line");
        writeln!(out, "{}", to_snapshot_line(&paper)).expect("write");
        written += 1;
    }
    written
}

/// One paper as a snapshot line.
pub fn to_snapshot_line(paper: &Value) -> Value {
    let text = |k: &str| paper.get(k).and_then(Value::as_str).unwrap_or_default();
    let authors: Vec<&str> = paper
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let authors_parsed: Vec<Value> = authors
        .iter()
        .map(|name| match name.rsplit_once(' ') {
            Some((first, last)) => json!([last, first, ""]),
            None => json!([name, "", ""]),
        })
        .collect();
    let categories: Vec<&str> = paper
        .get("categories")
        .and_then(Value::as_array)
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let published = paper
        .get("published")
        .and_then(Value::as_str)
        .and_then(|d| d.get(..10))
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    let versions: Vec<Value> = published
        .map(|d| {
            let t = d.and_hms_opt(0, 0, 0).unwrap().and_utc();
            json!([{"version": "v1", "created": t.format("%a, %-d %b %Y %H:%M:%S GMT").to_string()}])
        })
        .unwrap_or_else(|| json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default();
    json!({
        "id": text("id"),
        "submitter": authors.first(),
        "authors": authors.join(", "),
        "title": text("title"),
        "comments": paper.get("comments"),
        "journal-ref": paper.get("journal_ref"),
        "doi": paper.get("doi"),
        "report-no": null,
        "categories": categories.join(" "),
        "license": paper.get("license"),
        "abstract": text("abstract"),
        "versions": versions,
        "update_date": published.map(|d| d.to_string()),
        "authors_parsed": authors_parsed,
    })
}
