//! A paper's metadata as arXiv's bulk formats carry it: OAI-PMH `arXiv` and `arXivRaw` records and
//! lines of the Kaggle snapshot all become a [`Metadata`].
//!
//! Text fields are as arXiv wrote them, trimmed: titles and abstracts keep their hard line
//! breaks and TeX. Deciding how to display them is the application's business.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ArxivId;

/// Descriptive metadata of one paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub id: ArxivId,
    pub title: String,
    /// Author names in the paper's order, "Forenames Keyname" where arXiv gives them structured.
    pub authors: Vec<String>,
    pub abstract_text: String,
    /// arXiv categories, primary first.
    pub categories: Vec<String>,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    /// The license URL.
    pub license: Option<String>,
    pub report_no: Option<String>,
    /// Who submitted the paper (`arXivRaw` and the snapshot only).
    pub submitter: Option<String>,
    /// Every version with its submission time (`arXivRaw` and the snapshot only), oldest first.
    pub versions: Vec<Version>,
    /// The day version 1 was submitted (`arXiv` format only).
    pub created: Option<NaiveDate>,
    /// The day the latest version was submitted (`arXiv` format only).
    pub updated: Option<NaiveDate>,
}

/// One version of a paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// 1 for `v1`.
    pub number: u32,
    pub submitted: DateTime<Utc>,
}

impl Metadata {
    /// Metadata with only an id and a title.
    pub fn new(id: ArxivId, title: impl Into<String>) -> Metadata {
        Metadata {
            id,
            title: title.into(),
            authors: Vec::new(),
            abstract_text: String::new(),
            categories: Vec::new(),
            comments: None,
            journal_ref: None,
            doi: None,
            license: None,
            report_no: None,
            submitter: None,
            versions: Vec::new(),
            created: None,
            updated: None,
        }
    }
}

/// Parses a version label such as `v2`.
pub(crate) fn parse_version_label(label: &str) -> Result<u32, String> {
    label
        .trim()
        .strip_prefix('v')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("version {label:?} is not v1, v2, …"))
}

/// Parses a version date as arXiv writes it: RFC 2822, `Wed, 23 Jan 2008 21:06:41 GMT`.
pub(crate) fn parse_version_date(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc2822(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("version date {s:?} is not an RFC 2822 date"))
}

/// Splits a space-separated category list (primary first, as arXiv orders it).
pub(crate) fn split_categories(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_labels_and_dates() {
        assert_eq!(parse_version_label("v12"), Ok(12));
        assert!(parse_version_label("v0").is_err());
        assert!(parse_version_label("2").is_err());
        let t = parse_version_date("Wed, 23 Jan 2008 21:06:41 GMT").unwrap();
        assert_eq!(t.to_rfc3339(), "2008-01-23T21:06:41+00:00");
        assert!(parse_version_date("yesterday").is_err());
    }
}
