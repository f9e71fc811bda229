//! Paperboy JSONL: one paper per line, the format of `papers.jsonl.gz` (documented in the README).
//!
//! ```json
//! {"id": "2405.15738", "title": "…", "abstract": "…", "authors": ["…"], "categories": ["cs.LG"],
//!  "published": "2024-05-24", "upvotes": 12, "num_comments": 3, "hf_daily_date": "2024-05-27"}
//! ```
//!
//! Only `id` and `title` are required. Optional keys: `abstract`, `authors`, `categories`,
//! `published`, `updated` (dates or RFC 3339 times), `upvotes`, `num_comments`, `hf_daily_date`,
//! `comments`, `journal_ref`, `doi`, `license`, `github_repo`, `project_page`. Unknown keys (such
//! as `source`) are ignored.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::domain::merge::Observed;
use crate::domain::paper::{collapse_whitespace, midnight_utc};
use crate::domain::{ArxivId, FeedEntry, Paper};

#[derive(Debug, Deserialize)]
struct Line {
    id: String,
    title: String,
    #[serde(default)]
    r#abstract: Option<String>,
    #[serde(default)]
    authors: Option<Vec<String>>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    upvotes: Option<i64>,
    #[serde(default)]
    num_comments: Option<i64>,
    #[serde(default)]
    hf_daily_date: Option<String>,
    #[serde(default)]
    comments: Option<String>,
    #[serde(default)]
    journal_ref: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    github_repo: Option<String>,
    #[serde(default)]
    project_page: Option<String>,
}

/// Parses one JSONL line. `position` orders papers that share a feed day and upvote count.
pub fn parse_line(text: &str, position: i64) -> Result<Observed, String> {
    let line = read_record(text)?;
    let id = ArxivId::parse(&line.id).map_err(|e| format!("field `id`: {e}"))?;
    let title = collapse_whitespace(&line.title);
    if title.is_empty() {
        return Err("field `title`: empty".into());
    }
    let when = |field: &str, value: Option<&str>| {
        value
            .map(|s| {
                parse_when(s)
                    .and_then(|t| super::plausible_day(t.date_naive()).map(|_| t))
                    .map_err(|e| format!("field `{field}`: {e}"))
            })
            .transpose()
    };
    let published_at = when("published", line.published.as_deref())?;
    let updated_at = when("updated", line.updated.as_deref())?;
    let daily_date = line
        .hf_daily_date
        .as_deref()
        .map(|s| {
            s.parse::<NaiveDate>()
                .map_err(|_| format!("{s:?} is not a YYYY-MM-DD date"))
                .and_then(super::plausible_day)
                .map_err(|e| format!("field `hf_daily_date`: {e}"))
        })
        .transpose()?;
    let mut paper = Paper::new(id, title);
    paper.summary = line
        .r#abstract
        .as_deref()
        .map(collapse_whitespace)
        .unwrap_or_default();
    paper.authors = line.authors.unwrap_or_default();
    paper.categories = line.categories.unwrap_or_default();
    paper.published_at = published_at;
    paper.updated_at = updated_at;
    for (field, value) in [
        ("upvotes", line.upvotes),
        ("num_comments", line.num_comments),
    ] {
        if let Some(n) = value.filter(|n| *n < 0) {
            return Err(format!("field `{field}`: {n} is below 0"));
        }
    }
    paper.upvotes = line.upvotes.unwrap_or(0);
    paper.num_comments = line.num_comments.unwrap_or(0);
    paper.comments = line.comments;
    paper.journal_ref = line.journal_ref;
    paper.doi = line.doi;
    paper.license = line.license;
    paper.github_repo = line.github_repo;
    paper.project_page = line.project_page;
    paper.feed = daily_date.map(|d| FeedEntry {
        daily_date: d,
        submitted_at: midnight_utc(d),
        submitter: None,
        position,
    });
    // A record is as fresh as the latest date it mentions.
    let as_of = [daily_date.map(midnight_utc), updated_at, published_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    Ok(Observed { paper, as_of })
}

/// Decodes one line into a [`Line`], naming the field a wrong value is in ("field `authors`:
/// invalid type: string \"Ada\", expected a sequence"). The column serde_json adds is left
/// out: the caller names the file and line, and a line is one record.
fn read_record(text: &str) -> Result<Line, String> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') && serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return Err("bad record: a line must be one JSON object, {\"id\": …}".into());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let line: Line = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| describe(&e.path().to_string(), &e.into_inner()))?;
    de.end().map_err(|e| describe(".", &e))?;
    Ok(line)
}

/// A decoding error of the value at `path` ("." for the whole record), in words.
fn describe(path: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    // The one Rust type name serde puts in these messages (the counts are i64).
    let what = what.replace("expected i64", "expected a whole number");
    let what = what.as_str();
    match error.classify() {
        serde_json::error::Category::Data => {
            if let Some(field) = what
                .strip_prefix("missing field `")
                .and_then(|f| f.strip_suffix('`'))
            {
                format!("field `{field}`: missing")
            } else if path == "." {
                format!("bad record: {what}")
            } else {
                format!("field `{path}`: {what}")
            }
        }
        _ => format!("invalid JSON: {what}"),
    }
}

/// Reads `YYYY-MM-DD` or an RFC 3339 timestamp.
pub fn parse_when(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = s.parse::<NaiveDate>() {
        return Ok(midnight_utc(d));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_line() {
        let o = parse_line(
            r#"{"id": "2505.15652", "title": "Breaking\n Barriers", "abstract": "We study", "authors": ["A B"], "categories": ["cs.DC"], "published": "2025-05-21", "upvotes": 4, "hf_daily_date": "2025-05-22", "num_comments": null, "source": "x"}"#,
            7,
        )
        .unwrap();
        assert_eq!(o.paper.title, "Breaking Barriers");
        assert_eq!(o.paper.upvotes, 4);
        let feed = o.paper.feed.unwrap();
        assert_eq!(feed.daily_date.to_string(), "2025-05-22");
        assert_eq!(feed.position, 7);
        assert_eq!(o.as_of, midnight_utc(feed.daily_date));
    }

    #[test]
    fn explains_what_is_wrong() {
        let cases = [
            (r#"{"id": "2505.15652", "title": "x""#, "invalid JSON"),
            (r#"{"id": "not-an-id", "title": "x"}"#, "field `id`"),
            (r#"{"title": "x"}"#, "field `id`: missing"),
            (
                r#"{"id": "2505.15652", "title": "x", "authors": "Ada"}"#,
                "field `authors`: invalid type: string \"Ada\", expected a sequence",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "categories": ["cs.LG", 7]}"#,
                "field `categories[1]`: invalid type: integer `7`",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "upvotes": -3}"#,
                "field `upvotes`: -3 is below 0",
            ),
            (
                r#"{"id": "2505.15652", "title": "x"} {}"#,
                "invalid JSON: trailing characters",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "published": "yesterday"}"#,
                "field `published`",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "upvotes": "many"}"#,
                "field `upvotes`: invalid type: string \"many\", expected a whole number",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "published": "0001-01-01"}"#,
                "field `published`: 0001-01-01 is before arXiv began (1991)",
            ),
            (
                r#"{"id": "2505.15652", "title": "x", "hf_daily_date": "2999-01-01"}"#,
                "field `hf_daily_date`: 2999-01-01 is in the future",
            ),
            (r#"[1, 2]"#, "bad record"),
        ];
        for (line, want) in cases {
            let err = parse_line(line, 0).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
            assert!(!err.contains(" column "), "{line}: {err}");
        }
    }
}
