//! arXiv's bulk metadata snapshot (Kaggle's `arxiv-metadata-oai-snapshot.json`): one JSON object
//! per line, about 2.7 million lines, the fields of the `arXivRaw` format plus parsed authors.
//!
//! ```json
//! {"id":"0704.0001","submitter":"Pavel Nadolsky","authors":"C. Bal\\'azs, E. L. Berger, …",
//!  "title":"Calculation of prompt diphoton …","comments":"37 pages, 15 figures",
//!  "journal-ref":"Phys.Rev.D76:013009,2007","doi":"10.1103/PhysRevD.76.013009",
//!  "report-no":"ANL-HEP-PR-07-12","categories":"hep-ph","license":null,"abstract":"  A fully …",
//!  "versions":[{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"}, …],
//!  "update_date":"2008-11-13","authors_parsed":[["Balázs","C.",""], …]}
//! ```

use chrono::NaiveDate;
use serde::Deserialize;

use crate::metadata::{parse_day, parse_version_date, parse_version_label, split_categories};
use crate::{ArxivId, Metadata, Version, split_authors};

/// One line of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRecord {
    pub metadata: Metadata,
    /// The day the record last changed: the OAI-PMH datestamp.
    pub update_date: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    #[serde(default)]
    submitter: Option<String>,
    #[serde(default)]
    authors: Option<String>,
    title: String,
    #[serde(default)]
    comments: Option<String>,
    #[serde(default, rename = "journal-ref")]
    journal_ref: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default, rename = "report-no")]
    report_no: Option<String>,
    #[serde(default)]
    categories: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default, rename = "abstract")]
    abstract_text: Option<String>,
    #[serde(default)]
    versions: Vec<LineVersion>,
    #[serde(default)]
    update_date: Option<String>,
    #[serde(default)]
    authors_parsed: Option<Vec<Vec<String>>>,
}

#[derive(Deserialize)]
struct LineVersion {
    version: String,
    created: String,
}

/// A decoding error of the value at `path` ("." for the whole record), in words: the field it
/// is about, without serde's line and column (a record is one line).
fn describe(path: &str, error: &serde_json::Error) -> String {
    let text = error.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    match error.classify() {
        serde_json::error::Category::Data if path != "." => format!("field `{path}`: {what}"),
        serde_json::error::Category::Data => format!("bad record: {what}"),
        _ => format!("invalid JSON: {what}"),
    }
}

/// Parses one line. The error says which field is wrong, for a report by line number.
pub fn parse_line(text: &str) -> Result<SnapshotRecord, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let line: Line = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let path = e.path().to_string();
            describe(&path, &e.into_inner())
        })
        .and_then(|line| de.end().map(|()| line).map_err(|e| describe(".", &e)))?;
    let id = ArxivId::parse(&line.id).map_err(|e| format!("field `id`: {e}"))?;
    let title = line.title.trim();
    if title.is_empty() {
        return Err("field `title`: empty".into());
    }
    let mut versions = line
        .versions
        .iter()
        .map(|v| {
            Ok(Version {
                number: parse_version_label(&v.version)?,
                submitted: parse_version_date(&v.created)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| format!("field `versions`: {e}"))?;
    versions.sort_by_key(|v| v.number);
    let update_date = line
        .update_date
        .as_deref()
        .map(|d| {
            parse_day(d)
                .ok_or_else(|| format!("field `update_date`: {d:?} is not a YYYY-MM-DD date"))
        })
        .transpose()?;
    let authors = match &line.authors_parsed {
        Some(parsed) if !parsed.is_empty() => {
            parsed.iter().filter_map(|p| name_from_parts(p)).collect()
        }
        _ => split_authors(line.authors.as_deref().unwrap_or_default()),
    };
    let text_field = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(SnapshotRecord {
        metadata: Metadata {
            id,
            title: title.to_owned(),
            authors,
            abstract_text: line.abstract_text.unwrap_or_default().trim().to_owned(),
            categories: split_categories(line.categories.as_deref().unwrap_or_default()),
            comments: text_field(line.comments),
            journal_ref: text_field(line.journal_ref),
            doi: text_field(line.doi),
            license: text_field(line.license),
            report_no: text_field(line.report_no),
            submitter: text_field(line.submitter),
            versions,
            created: None,
            updated: None,
        },
        update_date,
    })
}

/// `["Balázs", "C.", ""]` (keyname, forenames, suffix) → "C. Balázs".
fn name_from_parts(parts: &[String]) -> Option<String> {
    let keyname = parts.first().map(|s| s.trim()).unwrap_or_default();
    let forenames = parts.get(1).map(|s| s.trim()).unwrap_or_default();
    let suffix = parts.get(2).map(|s| s.trim()).unwrap_or_default();
    let name = [forenames, keyname, suffix]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"id":"0704.0001","submitter":"Pavel Nadolsky","authors":"C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan","title":"Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies","comments":"37 pages, 15 figures; published version","journal-ref":"Phys.Rev.D76:013009,2007","doi":"10.1103/PhysRevD.76.013009","report-no":"ANL-HEP-PR-07-12","categories":"hep-ph","license":null,"abstract":"  A fully differential calculation in perturbative quantum chromodynamics is\npresented.\n","versions":[{"version":"v2","created":"Tue, 24 Jul 2007 20:10:27 GMT"},{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"}],"update_date":"2008-11-13","authors_parsed":[["Balázs","C.",""],["Berger","E. L.",""],["Nadolsky","P. M.",""],["Yuan","C. -P.",""]]}"#;

    #[test]
    fn reads_a_real_line() {
        let r = parse_line(LINE).unwrap();
        let m = &r.metadata;
        assert_eq!(m.id.as_str(), "0704.0001");
        assert_eq!(m.authors[0], "C. Balázs");
        assert_eq!(m.authors.len(), 4);
        assert_eq!(
            m.versions.iter().map(|v| v.number).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(m.license, None);
        assert_eq!(m.journal_ref.as_deref(), Some("Phys.Rev.D76:013009,2007"));
        assert!(m.abstract_text.starts_with("A fully"));
        assert_eq!(r.update_date, NaiveDate::from_ymd_opt(2008, 11, 13));
    }

    #[test]
    fn says_which_field_is_wrong() {
        for (line, want) in [
            (r#"{"id":"0704.0001","title":"x""#, "invalid JSON"),
            (r#"{"id":"nope","title":"x"}"#, "field `id`"),
            (r#"{"id":"0704.0001","title":" "}"#, "field `title`"),
            (
                r#"{"id":"0704.0001","title":"x","versions":[{"version":"v1","created":"then"}]}"#,
                "field `versions`",
            ),
            (
                r#"{"id":"0704.0001","title":"x","update_date":"2008-13-01"}"#,
                "update_date",
            ),
            (r#"{"id":"0704.0001"}"#, "missing field `title`"),
            (
                r#"{"id":"0704.0001","title":5}"#,
                "field `title`: invalid type: integer `5`, expected a string",
            ),
        ] {
            let err = parse_line(line).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
