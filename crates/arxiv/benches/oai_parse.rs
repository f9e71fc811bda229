//! OAI-PMH parse throughput: `arxiv::oai::parse_list_records` against quick-xml's bare event loop
//! over the same bytes (the ceiling for any parser built on it). Run with
//! `cargo bench -p arxiv --bench oai_parse`; it prints a Markdown table for BENCHMARKS.md.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arxiv::oai::{Response, parse_list_records};
use quick_xml::Reader;
use quick_xml::events::Event;

const PAGES: [&str; 3] = [
    "listrecords-arxiv-cursor4000.xml",
    "listrecords-arxiv-cursor405000.xml",
    "listrecords-arxivraw-cursor46000.xml",
];

/// Each measurement runs for at least this long, and the best of `ROUNDS` is kept.
const MIN_TIME: Duration = Duration::from_millis(1500);
const ROUNDS: usize = 5;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../paperboy/tests/fixtures/arxiv/oai-pmh");
    println!("| page | records | MB | raw event loop (records/s) | parse_list_records (records/s) | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    let (mut raw_total, mut parsed_total) = (0.0, 0.0);
    for name in PAGES {
        let bytes = std::fs::read(dir.join(name)).expect("fixture");
        let records = match parse_list_records(&bytes).expect("fixture parses") {
            Response::Records(list) => list.records.len(),
            Response::Errors { errors, .. } => panic!("{errors:?}"),
        };
        let raw = if std::env::var_os("ONLY_PARSE").is_some() { 1.0 } else { best_rate(|| raw_event_loop(&bytes)) };
        let parsed = best_rate(|| match parse_list_records(black_box(&bytes)) {
            Ok(Response::Records(list)) => list.records.len(),
            _ => 0,
        });
        let raw_rps = records as f64 / raw;
        let parsed_rps = records as f64 / parsed;
        raw_total += raw;
        parsed_total += parsed;
        println!(
            "| {name} | {records} | {:.2} | {raw_rps:.0} | {parsed_rps:.0} | {:.0}% |",
            bytes.len() as f64 / 1e6,
            100.0 * parsed_rps / raw_rps
        );
    }
    println!(
        "\nOverall: parsing takes {:.2}× the time of the bare event loop ({:.0}% of its rate).",
        parsed_total / raw_total,
        100.0 * raw_total / parsed_total
    );
}

/// Seconds per call: the best of several timed runs.
fn best_rate(mut f: impl FnMut() -> usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut calls = 0u32;
        while start.elapsed() < MIN_TIME {
            black_box(f());
            calls += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / f64::from(calls));
    }
    best
}

/// What any quick-xml parser has to do at least: read every event, with the same reader
/// settings as the real parser, and look at element names.
fn raw_event_loop(bytes: &[u8]) -> usize {
    let mut reader = Reader::from_reader(black_box(bytes));
    reader.config_mut().check_end_names = true;
    let mut records = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "record" => records += 1,
            Ok(Event::Eof) | Err(_) => return records,
            Ok(other) => {
                black_box(other);
            }
        }
    }
}
