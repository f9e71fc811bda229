//! The parsers against real arXiv responses (the recorded fixtures kept with the application's
//! tests), plus truncated and corrupted copies of them.

use std::path::PathBuf;

use arxiv::api::parse_feed;
use arxiv::oai::{ListRecords, Response, parse_list_records};

fn fixture(path: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../paperboy/tests/fixtures/arxiv")
        .join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn page(name: &str) -> ListRecords {
    match parse_list_records(&fixture(&format!("oai-pmh/{name}"))).unwrap() {
        Response::Records(list) => list,
        Response::Errors { errors, .. } => panic!("{errors:?}"),
    }
}

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

#[test]
fn arxiv_format_pages_read_every_record_and_the_next_token() {
    for (name, first_id, next) in [
        (
            "listrecords-arxiv-cursor4000.xml",
            "0704.4001",
            "436115|5001",
        ),
        (
            "listrecords-arxiv-cursor405000.xml",
            "1302.0649",
            "436115|406001",
        ),
    ] {
        let list = page(name);
        let raw = fixture(&format!("oai-pmh/{name}"));
        assert_eq!(list.records.len(), count(&raw, "<record>"), "{name}");
        assert_eq!(list.records.len(), 1000, "{name}");
        assert!(list.skipped.is_empty(), "{name}: {:?}", list.skipped);
        assert_eq!(list.next_token(), Some(next));
        let first = list.records[0].metadata.as_ref().unwrap();
        assert_eq!(first.id.as_str(), first_id);
        let resumption = list.resumption.as_ref().unwrap();
        assert_eq!(resumption.complete_list_size, Some(846_926));
    }
    let list = page("listrecords-arxiv-cursor4000.xml");
    let r = &list.records[0];
    assert_eq!(r.header.identifier, "oai:arXiv.org:0704.4001");
    assert_eq!(r.header.datestamp.to_string(), "2008-01-28");
    assert_eq!(r.header.sets, ["physics:hep-th"]);
    let m = r.metadata.as_ref().unwrap();
    assert_eq!(
        m.authors,
        ["Michael R. Douglas", "Jessie Shelton", "Gonzalo Torroba"]
    );
    assert_eq!(m.title, "Warping and Supersymmetry Breaking");
    assert_eq!(m.created.unwrap().to_string(), "2007-04-30");
    assert_eq!(m.updated.unwrap().to_string(), "2008-01-28");
    assert_eq!(m.report_no.as_deref(), Some("RUNHETC-07-05"));
    assert!(
        m.comments
            .as_deref()
            .unwrap()
            .contains("Reference added, some typos corrected and\n")
    );
    assert!(
        m.abstract_text
            .starts_with("We analyze supersymmetry breaking")
    );
    assert_eq!(
        list.response_date.unwrap().to_rfc3339(),
        "2013-05-24T20:43:21+00:00"
    );
    let m = list.records[1].metadata.as_ref().unwrap();
    assert_eq!(m.categories, ["math.AT", "math.GR"]);
    assert_eq!(m.doi.as_deref(), Some("10.1112/jtopol/jtn021"));
}

#[test]
fn arxiv_raw_pages_keep_every_version_with_its_time() {
    let list = page("listrecords-arxivraw-cursor46000.xml");
    assert_eq!(list.records.len(), 1000);
    assert!(list.skipped.is_empty(), "{:?}", list.skipped);
    assert_eq!(list.next_token(), Some("496549|47001"));
    let m = list.records[1].metadata.as_ref().unwrap();
    assert_eq!(m.id.as_str(), "0801.3674");
    assert_eq!(m.submitter.as_deref(), Some("Robert Brandenberger"));
    assert_eq!(
        m.authors,
        [
            "Robert H. Brandenberger",
            "Keshav Dasgupta",
            "Anne-Christine Davis"
        ]
    );
    assert_eq!(m.categories, ["hep-th", "astro-ph", "gr-qc", "hep-ph"]);
    let versions: Vec<String> = m
        .versions
        .iter()
        .map(|v| format!("v{} {}", v.number, v.submitted.to_rfc3339()))
        .collect();
    assert_eq!(
        versions,
        [
            "v1 2008-01-23T21:13:53+00:00",
            "v2 2008-02-04T15:05:55+00:00",
            "v3 2008-03-19T01:33:03+00:00",
            "v4 2008-09-11T22:03:53+00:00"
        ]
    );
    assert_eq!(list.records[1].header.sets.len(), 4);
    assert!(
        list.records
            .iter()
            .all(|r| r.metadata.as_ref().is_some_and(|m| !m.versions.is_empty()))
    );
}

#[test]
fn a_truncated_page_is_an_error_with_a_position_never_fewer_records() {
    let raw = fixture("oai-pmh/listrecords-arxiv-cursor4000.xml");
    for cut in (1..40).map(|i| raw.len() * i / 40) {
        let err = parse_list_records(&raw[..cut]).expect_err("a truncated page must not parse");
        assert!(err.line() >= 1 && err.offset() <= cut as u64, "{err}");
    }
}

#[test]
fn corrupted_documents_never_panic() {
    // A fixed-seed generator keeps this reproducible without a dependency.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let inputs = [
        fixture("api/recorded-02.xml"),
        fixture("api/recorded-10.xml"),
        fixture("oai-pmh/listrecords-arxivraw-cursor46000.xml")[..20_000].to_vec(),
    ];
    for input in &inputs {
        for _ in 0..300 {
            let mut bytes = input.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = b"<>&;/'\"x\0\xff"[(next() % 10) as usize];
            }
            let _ = parse_feed(&bytes);
            let _ = parse_list_records(&bytes);
        }
    }
}

/// (file, HTTP status, request) rows of `api/INDEX.tsv`.
fn api_index() -> Vec<(String, u16, String)> {
    String::from_utf8(fixture("api/INDEX.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let mut cols = line.split('\t');
            let file = cols.next().unwrap().to_owned();
            let status = cols.next().unwrap().parse().unwrap();
            (file, status, cols.next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn every_recorded_api_response_parses() {
    let index = api_index();
    assert_eq!(index.len(), 27);
    for (file, status, _) in &index {
        let feed =
            parse_feed(&fixture(&format!("api/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(feed.skipped.is_empty(), "{file}: {:?}", feed.skipped);
        assert_eq!(status == &400, !feed.errors.is_empty(), "{file}");
        if feed.errors.is_empty() {
            assert!(feed.total_results.is_some(), "{file}");
            for entry in &feed.entries {
                assert!(
                    !entry.title.is_empty() && !entry.authors.is_empty(),
                    "{file}"
                );
                assert!(!entry.categories.is_empty(), "{file}");
            }
        }
    }
}

#[test]
fn api_feeds_carry_totals_errors_and_entry_details() {
    let feed = |n: u32| parse_feed(&fixture(&format!("api/recorded-{n:02}.xml"))).unwrap();
    let empty = feed(1);
    assert_eq!((empty.total_results, empty.entries.len()), (Some(0), 0));
    assert_eq!(empty.next_start(), None);

    assert_eq!(feed(7).errors, ["incorrect id format for abc"]);

    let page = feed(16);
    assert_eq!(
        (page.total_results, page.start_index, page.items_per_page),
        (Some(214_881), Some(10), Some(10))
    );
    assert_eq!(page.entries.len(), 10);
    assert_eq!(page.next_start(), Some(20));

    let old_style = feed(10);
    let e = &old_style.entries[0];
    assert_eq!(e.id.to_string(), "1111.2011v2");
    assert_eq!(e.doi.as_deref(), Some("10.1103/PhysRevB.85.115117"));
    assert_eq!(
        e.journal_ref.as_deref(),
        Some("Phys. Rev. B 85, 115117 (2012)")
    );
    assert_eq!(e.categories, ["cond-mat.str-el", "cond-mat.stat-mech"]);
    assert_eq!(e.published.to_rfc3339(), "2011-11-08T18:48:36+00:00");
    assert_eq!(e.updated.to_rfc3339(), "2012-04-02T12:38:54+00:00");

    let e = &feed(9).entries[0];
    assert_eq!(e.id.to_string(), "hep-ex/0406020v1");
    assert_eq!(e.authors[0].name, "Alessia Tricomi");
    assert_eq!(
        e.authors[0].affiliations,
        ["for the ATLAS and CMS Collaborations"]
    );

    let e = &feed(2).entries[0];
    assert_eq!(e.id.to_string(), "1707.08567v1");
    assert_eq!(e.authors.len(), 34);
    assert!(
        e.summary
            .contains(r#""Concepts in Information Theory and Communications""#)
    );
}
