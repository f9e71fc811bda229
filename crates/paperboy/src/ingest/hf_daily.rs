//! Raw Hugging Face `/api/daily_papers?date=…` responses, with the quirks of real archives.
//!
//! A file is one day's response: a JSON array of DailyPaper items in feed order (upvotes, then
//! arrival). Real archives also hold
//! - arrays of Python `repr()` strings instead of objects (read with [`super::pyrepr`]);
//! - a wrapped form `{"status", "date", "count", "data": [...]}`;
//! - titles with arXiv's hard line breaks (collapsed here).
//!
//! The daily date of every item is the wrapper's `date`, else the `YYYY-MM-DD` in the file name,
//! else the item's own `submittedOnDailyAt`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::pyrepr;
use crate::domain::merge::Observed;
use crate::domain::paper::{collapse_whitespace, midnight_utc};
use crate::domain::{ArxivId, FeedEntry, Paper, Submitter};

/// One parsed item, or why it was skipped, with the line it starts on.
pub struct Item {
    pub line: usize,
    pub result: Result<Observed, String>,
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    date: Option<String>,
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

/// True when `text` looks like a daily_papers response rather than JSONL.
pub fn looks_like(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('[') || (t.starts_with('{') && t.contains("\"data\"") && t.contains("\"status\""))
}

/// Parses a whole response. `file_date` is the date in the file name, if any.
pub fn parse_file(text: &str, file_date: Option<NaiveDate>) -> Result<Vec<Item>, String> {
    let not_a_response = |e: serde_json::Error| {
        format!("not a daily_papers response (a JSON array, or an object with `data`): {e}")
    };
    let (wrapped_date, raw_items) = if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(not_a_response)?;
        (None, items)
    } else {
        let wrapped: Wrapped<'_> = serde_json::from_str(text).map_err(not_a_response)?;
        (wrapped.date, wrapped.data)
    };
    let wrapped_date = wrapped_date
        .map(|d| {
            d.parse::<NaiveDate>()
                .map_err(|_| format!("field `date`: {d:?} is not YYYY-MM-DD"))
        })
        .transpose()?;
    let day = wrapped_date.or(file_date);
    Ok(raw_items
        .iter()
        .enumerate()
        .map(|(position, raw)| {
            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            let line = text[..offset].matches('\n').count() + 1;
            // The item's number, as several items can share a line (or the whole file).
            let result = item_value(raw)
                .and_then(|v| observed(&v, day, position as i64))
                .map_err(|e| format!("item {}: {e}", position + 1));
            Item { line, result }
        })
        .collect())
}

fn item_value(raw: &RawValue) -> Result<Value, String> {
    let v: Value = serde_json::from_str(raw.get()).map_err(|e| format!("invalid JSON: {e}"))?;
    match v {
        Value::String(s) => pyrepr::parse(&s),
        other => Ok(other),
    }
}

fn observed(item: &Value, day: Option<NaiveDate>, position: i64) -> Result<Observed, String> {
    let paper_v = item.get("paper").ok_or("missing field `paper`")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let id_text = text(paper_v, "id").ok_or("missing field `paper.id`")?;
    let id = ArxivId::parse(&id_text).map_err(|e| format!("field `paper.id`: {e}"))?;
    let title = text(paper_v, "title")
        .or_else(|| text(item, "title"))
        .map(|t| collapse_whitespace(&t))
        .filter(|t| !t.is_empty())
        .ok_or("missing field `paper.title`")?;
    let time = |v: &Value, key: &str| -> Result<Option<DateTime<Utc>>, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| format!("field `{key}`: {s:?} is not an RFC 3339 time")),
            Some(_) => Err(format!("field `{key}`: not a string")),
        }
    };
    let submitted_at = time(paper_v, "submittedOnDailyAt")?;
    let daily_date = day
        .or(submitted_at.map(|t| t.date_naive()))
        .ok_or("no daily date: not in the file name and no `submittedOnDailyAt`")?;
    let mut paper = Paper::new(id, title);
    paper.summary = text(paper_v, "summary")
        .or_else(|| text(item, "summary"))
        .map(|s| collapse_whitespace(&s))
        .unwrap_or_default();
    paper.authors = paper_v
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|author| {
                    !author
                        .get("hidden")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                })
                .filter_map(|author| text(author, "name"))
                .map(|n| collapse_whitespace(&n))
                .collect()
        })
        .unwrap_or_default();
    paper.published_at = time(paper_v, "publishedAt")?;
    paper.upvotes = paper_v
        .get("upvotes")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    paper.num_comments = item
        .get("numComments")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    paper.github_repo = text(paper_v, "githubRepo").filter(|s| !s.is_empty());
    paper.project_page = text(paper_v, "projectPage").filter(|s| !s.is_empty());
    paper.ai_summary = text(paper_v, "ai_summary").filter(|s| !s.is_empty());
    paper.ai_keywords = paper_v
        .get("ai_keywords")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let submitter = paper_v
        .get("submittedOnDailyBy")
        .or_else(|| item.get("submittedBy"))
        .and_then(|u| {
            let username = text(u, "user").or_else(|| text(u, "name"))?;
            Some(Submitter {
                fullname: text(u, "fullname").unwrap_or_else(|| username.clone()),
                avatar_url: text(u, "avatarUrl"),
                username,
            })
        });
    paper.feed = Some(FeedEntry {
        daily_date,
        submitted_at: submitted_at.unwrap_or_else(|| midnight_utc(daily_date)),
        submitter,
        position,
    });
    Ok(Observed {
        paper,
        as_of: midnight_utc(daily_date),
    })
}

/// The `YYYY-MM-DD` at the start of a file name such as `2026-08-21.json.gz`.
pub fn date_from_file_name(name: &str) -> Option<NaiveDate> {
    name.get(..10)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_repr_and_wrapped_forms() {
        let plain = r#"[{"paper": {"id": "2608.19880", "title": "Env\n Harness", "upvotes": 163,
            "authors": [{"_id": "x", "name": "A", "hidden": false}],
            "submittedOnDailyBy": {"user": "taesiri", "fullname": "T"}}, "numComments": 2}]"#;
        let items = parse_file(plain, date_from_file_name("2026-08-21.json.gz")).unwrap();
        let o = items[0].result.as_ref().unwrap();
        assert_eq!(o.paper.title, "Env Harness");
        assert_eq!(o.paper.upvotes, 163);
        assert_eq!(o.paper.num_comments, 2);
        let feed = o.paper.feed.as_ref().unwrap();
        assert_eq!(feed.daily_date.to_string(), "2026-08-21");
        assert_eq!(feed.submitter.as_ref().unwrap().username, "taesiri");

        let repr =
            r#"["{'paper': {'id': '2412.07730', 'title': 'T', 'upvotes': 3, 'hidden': False}}"]"#;
        let items = parse_file(repr, date_from_file_name("2024-12-11.json")).unwrap();
        assert_eq!(
            items[0].result.as_ref().unwrap().paper.id.as_str(),
            "2412.07730"
        );

        let wrapped = "{\n\"status\": \"success\", \"date\": \"2025-01-10\", \"count\": 1,\n\"data\": [\n\"{'paper': {'id': '2501.05441', 'title': 'W'}}\"]}";
        let items = parse_file(wrapped, None).unwrap();
        assert_eq!(items[0].line, 4);
        let o = items[0].result.as_ref().unwrap();
        assert_eq!(
            o.paper.feed.as_ref().unwrap().daily_date.to_string(),
            "2025-01-10"
        );
    }

    #[test]
    fn bad_items_are_reported_with_their_line() {
        let text = "[\n{\"paper\": {\"id\": \"2608.19880\", \"title\": \"ok\"}},\n{\"paper\": {\"id\": \"nope\", \"title\": \"x\"}},\n{\"nopaper\": 1}\n]";
        let items = parse_file(text, date_from_file_name("2026-08-21")).unwrap();
        assert!(items[0].result.is_ok());
        assert_eq!(items[1].line, 3);
        assert!(items[1].result.as_ref().unwrap_err().contains("paper.id"));
        assert!(
            items[2]
                .result
                .as_ref()
                .unwrap_err()
                .contains("missing field `paper`")
        );
        assert!(parse_file("{\"x\": 1}", None).is_err());
    }
}
