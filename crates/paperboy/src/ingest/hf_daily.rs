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
                .map_err(|_| format!("{d:?} is not YYYY-MM-DD"))
                .and_then(super::plausible_day)
                .map_err(|e| format!("field `date`: {e}"))
        })
        .transpose()?;
    let file_date = file_date
        .map(|d| super::plausible_day(d).map_err(|e| format!("the date in the file name: {e}")))
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
    let id_text = text(paper_v, "paper.id")?.ok_or("missing field `paper.id`")?;
    let id = ArxivId::parse(&id_text).map_err(|e| format!("field `paper.id`: {e}"))?;
    let title = text(paper_v, "paper.title")?
        .or(text(item, "title")?)
        .map(|t| collapse_whitespace(&t))
        .filter(|t| !t.is_empty())
        .ok_or("missing field `paper.title`")?;
    let submitted_at = time(paper_v, "paper.submittedOnDailyAt")?;
    let daily_date = day
        .or(submitted_at.map(|t| t.date_naive()))
        .ok_or("no daily date: not in the file name and no `submittedOnDailyAt`")?;
    let mut paper = Paper::new(id, title);
    paper.summary = text(paper_v, "paper.summary")?
        .or(text(item, "summary")?)
        .map(|s| collapse_whitespace(&s))
        .unwrap_or_default();
    paper.authors = Vec::new();
    for (n, author) in list(paper_v, "paper.authors")?.iter().enumerate() {
        let at = format!("paper.authors[{n}]");
        if !author.is_object() {
            return Err(format!(
                "field `{at}`: {}, expected an object",
                kind(author)
            ));
        }
        let hidden = match author.get("hidden") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "field `{at}.hidden`: {}, expected true or false",
                    kind(other)
                ));
            }
        };
        if let Some(name) = text(author, &format!("{at}.name"))?
            && !hidden
        {
            paper.authors.push(collapse_whitespace(&name));
        }
    }
    paper.published_at = time(paper_v, "paper.publishedAt")?;
    paper.upvotes = count(paper_v, "paper.upvotes")?;
    paper.num_comments = count(item, "numComments")?;
    paper.github_repo = text(paper_v, "paper.githubRepo")?.filter(|s| !s.is_empty());
    paper.project_page = text(paper_v, "paper.projectPage")?.filter(|s| !s.is_empty());
    paper.ai_summary = text(paper_v, "paper.ai_summary")?.filter(|s| !s.is_empty());
    paper.ai_keywords = list(paper_v, "paper.ai_keywords")?
        .iter()
        .enumerate()
        .map(|(n, k)| match k {
            Value::String(k) => Ok(k.clone()),
            other => Err(format!(
                "field `paper.ai_keywords[{n}]`: {}, expected a string",
                kind(other)
            )),
        })
        .collect::<Result<_, _>>()?;
    let submitter_v = match paper_v.get("submittedOnDailyBy") {
        Some(Value::Null) | None => item
            .get("submittedBy")
            .filter(|v| !v.is_null())
            .map(|v| (v, "submittedBy")),
        Some(v) => Some((v, "paper.submittedOnDailyBy")),
    };
    let submitter = match submitter_v {
        None => None,
        Some((u, at)) => {
            let username = text(u, &format!("{at}.user"))?.or(text(u, &format!("{at}.name"))?);
            match username {
                None => None,
                Some(username) => Some(Submitter {
                    fullname: text(u, &format!("{at}.fullname"))?
                        .unwrap_or_else(|| username.clone()),
                    avatar_url: text(u, &format!("{at}.avatarUrl"))?,
                    username,
                }),
            }
        }
    };
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

/// The last part of a field path (`paper.authors[0].name` → `name`): the key within its object.
fn key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// What a JSON value is, for a message.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string {}", crate::domain::quoted(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The string at `path`'s key of `v`: None when it is absent or null, an error when it is
/// there but not a string (nothing is quietly dropped or turned into a default).
fn text(v: &Value, path: &str) -> Result<Option<String>, String> {
    match v.get(key(path)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "field `{path}`: {}, expected a string",
            kind(other)
        )),
    }
}

/// The array at `path`'s key of `v` (empty when absent or null).
fn list<'a>(v: &'a Value, path: &str) -> Result<&'a [Value], String> {
    match v.get(key(path)) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!(
            "field `{path}`: {}, expected an array",
            kind(other)
        )),
    }
}

/// The count at `path`'s key of `v`: 0 when absent or null, an error when it is not a whole
/// number of 0 or more.
fn count(v: &Value, path: &str) -> Result<i64, String> {
    match v.get(key(path)) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(n) if n >= 0 => Ok(n),
            _ => Err(format!(
                "field `{path}`: {n} is not a count (a whole number, 0 or more)"
            )),
        },
        Some(other) => Err(format!(
            "field `{path}`: {}, expected a number",
            kind(other)
        )),
    }
}

/// The RFC 3339 time at `path`'s key of `v`, on a plausible day ([`super::plausible_day`]).
fn time(v: &Value, path: &str) -> Result<Option<DateTime<Utc>>, String> {
    let Some(s) = text(v, path)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&s)
        .map_err(|_| format!("{} is not an RFC 3339 time", crate::domain::quoted(&s)))
        .and_then(|t| {
            let t = t.with_timezone(&Utc);
            super::plausible_day(t.date_naive()).map(|_| t)
        })
        .map(Some)
        .map_err(|e| format!("field `{path}`: {e}"))
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

    #[test]
    fn a_field_of_the_wrong_type_is_refused_not_turned_into_a_default() {
        let cases = [
            (
                r#"{"paper": {"id": "2608.19880", "title": "t", "upvotes": "many"}}"#,
                "item 1: field `paper.upvotes`: string \"many\", expected a number",
            ),
            (
                r#"{"paper": {"id": "2608.19880", "title": "t", "authors": "Ada"}}"#,
                "field `paper.authors`: string \"Ada\", expected an array",
            ),
            (
                r#"{"paper": {"id": "2608.19880", "title": "t", "authors": [{"name": 5}]}}"#,
                "field `paper.authors[0].name`: number `5`, expected a string",
            ),
            (
                r#"{"paper": {"id": "2608.19880", "title": "t"}, "numComments": "lots"}"#,
                "field `numComments`: string \"lots\", expected a number",
            ),
            (
                r#"{"paper": {"id": "2608.19880", "title": "t", "upvotes": -2}}"#,
                "field `paper.upvotes`: -2 is not a count",
            ),
            (
                r#"{"paper": {"id": "2608.19880", "title": "t", "publishedAt": "0001-01-01T00:00:00Z"}}"#,
                "field `paper.publishedAt`: 0001-01-01 is before arXiv began (1991)",
            ),
        ];
        for (item, want) in cases {
            let items =
                parse_file(&format!("[{item}]"), date_from_file_name("2026-08-21")).unwrap();
            let err = items[0].result.as_ref().unwrap_err();
            assert!(err.contains(want), "{item}: {err}");
        }
        // A null is an absent value, as HF writes it.
        let items = parse_file(
            r#"[{"paper": {"id": "2608.19880", "title": "t", "upvotes": null, "authors": null}}]"#,
            date_from_file_name("2026-08-21"),
        )
        .unwrap();
        assert!(items[0].result.is_ok());
    }

    #[test]
    fn a_day_in_the_future_is_refused_for_the_whole_file() {
        let item = r#"[{"paper": {"id": "2608.19880", "title": "t"}}]"#;
        let err = parse_file(item, date_from_file_name("2999-01-01.json"))
            .err()
            .unwrap();
        assert!(
            err.contains("the date in the file name: 2999-01-01 is in the future"),
            "{err}"
        );
    }
}
