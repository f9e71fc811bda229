//! A paper as paperboy knows it: arXiv metadata plus its place on the daily feed.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::ArxivId;

/// An arXiv paper, keyed by its versionless id.
#[derive(Debug, Clone, PartialEq)]
pub struct Paper {
    pub id: ArxivId,
    pub title: String,
    /// Author names, in the paper's order.
    pub authors: Vec<String>,
    /// The abstract. Plain text with TeX kept as written; never HTML.
    pub summary: String,
    /// arXiv categories, primary first.
    pub categories: Vec<String>,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub license: Option<String>,
    /// When version 1 appeared on arXiv.
    pub published_at: Option<DateTime<Utc>>,
    /// When the latest version appeared.
    pub updated_at: Option<DateTime<Utc>>,
    pub versions: Vec<PaperVersion>,
    pub github_repo: Option<String>,
    pub project_page: Option<String>,
    pub ai_summary: Option<String>,
    pub ai_keywords: Vec<String>,
    pub upvotes: i64,
    pub num_comments: i64,
    /// Set once the paper is on the daily feed.
    pub feed: Option<FeedEntry>,
}

/// One arXiv version of a paper.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaperVersion {
    pub version: u32,
    pub created_at: Option<DateTime<Utc>>,
}

/// A paper's place on the daily feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// The feed day, in the site's time zone.
    pub daily_date: NaiveDate,
    pub submitted_at: DateTime<Utc>,
    pub submitter: Option<Submitter>,
    /// Order of arrival within the day; breaks upvote ties (earlier first).
    pub position: i64,
}

/// The member who put a paper on the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    pub username: String,
    pub fullname: String,
    pub avatar_url: Option<String>,
}

impl Paper {
    /// A paper with only its id and title, everything else empty.
    pub fn new(id: ArxivId, title: impl Into<String>) -> Paper {
        Paper {
            id,
            title: title.into(),
            authors: Vec::new(),
            summary: String::new(),
            categories: Vec::new(),
            comments: None,
            journal_ref: None,
            doi: None,
            license: None,
            published_at: None,
            updated_at: None,
            versions: Vec::new(),
            github_repo: None,
            project_page: None,
            ai_summary: None,
            ai_keywords: Vec::new(),
            upvotes: 0,
            num_comments: 0,
            feed: None,
        }
    }

    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.id)
    }

    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{}", self.id)
    }

    pub fn primary_category(&self) -> Option<&str> {
        self.categories.first().map(String::as_str)
    }

    pub fn latest_version(&self) -> Option<u32> {
        self.versions.iter().map(|v| v.version).max()
    }
}

/// Collapses every run of whitespace (arXiv titles keep hard line breaks) to one space, trims,
/// and drops control characters (a stray U+0008 in a title would otherwise reach every page,
/// feed and mail that shows it).
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        let kept = out.len();
        if !out.is_empty() {
            out.push(' ');
        }
        let start = out.len();
        out.extend(word.chars().filter(|c| !c.is_control()));
        if out.len() == start {
            out.truncate(kept);
        }
    }
    out
}

/// Formats a timestamp exactly as Hugging Face does: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn hf_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Midnight UTC of a date, the timestamp HF uses when only a day is known.
pub fn midnight_utc(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_whitespace_joins_hard_line_breaks() {
        assert_eq!(
            collapse_whitespace("  Large\n  Multimodal\tModels \n"),
            "Large Multimodal Models"
        );
        assert_eq!(
            collapse_whitespace("Bell\u{7}\u{8} curves \u{1} \u{85}of\u{9c} doom"),
            "Bell curves of doom"
        );
    }

    #[test]
    fn hf_timestamp_has_millis_and_z() {
        let t = midnight_utc(NaiveDate::from_ymd_opt(2026, 8, 21).unwrap());
        assert_eq!(hf_timestamp(t), "2026-08-21T00:00:00.000Z");
    }
}
