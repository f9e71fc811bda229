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
    let s = s.trim();
    parse_gmt(s)
        .or_else(|| {
            DateTime::parse_from_rfc2822(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .ok_or_else(|| format!("version date {s:?} is not an RFC 2822 date"))
}

/// The one shape arXiv writes, `Wed, 23 Jan 2008 21:06:41 GMT`, read by hand: a general RFC 2822
/// parser costs more than the rest of a record, and stays the fallback for any other shape.
fn parse_gmt(s: &str) -> Option<DateTime<Utc>> {
    let rest = s.get(5..)?.strip_suffix(" GMT")?;
    if s.as_bytes().get(3..5)? != b", " {
        return None;
    }
    // What is left: `23 Jan 2008 21:06:41` or `3 Jan 2008 21:06:41`.
    let b = rest.as_bytes();
    let day_len = if b.get(1) == Some(&b' ') { 1 } else { 2 };
    let b = b.get(..day_len + 18)?;
    if b.len() != rest.len()
        || b[day_len] != b' '
        || b[day_len + 4] != b' '
        || b[day_len + 9] != b' '
    {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let month = match &b[day_len + 1..day_len + 4] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let t = day_len + 10;
    if b[t + 2] != b':' || b[t + 5] != b':' {
        return None;
    }
    let year = i32::try_from(digits(day_len + 5..day_len + 9)?).ok()?;
    NaiveDate::from_ymd_opt(year, month, digits(0..day_len)?)?
        .and_hms_opt(
            digits(t..t + 2)?,
            digits(t + 3..t + 5)?,
            digits(t + 6..t + 8)?,
        )
        .map(|t| t.and_utc())
}

/// Parses a `YYYY-MM-DD` day. arXiv's formats are full of them, and reading the digits by hand
/// costs a fraction of chrono's general parser.
pub(crate) fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
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
        // Other RFC 2822 shapes take the general parser.
        let t = parse_version_date("Wed, 23 Jan 2008 22:06:41 +0100").unwrap();
        assert_eq!(t.to_rfc3339(), "2008-01-23T21:06:41+00:00");
        assert!(parse_version_date("Wed, 31 Feb 2008 21:06:41 GMT").is_err());
        let t = parse_version_date("Thu, 3 Jan 2008 01:02:03 GMT").unwrap();
        assert_eq!(t.to_rfc3339(), "2008-01-03T01:02:03+00:00");
        for odd in [
            "Thu, 3 Jan 2008 01:02:03",
            "Thu, 3 Jan 08 01:02:03 GMT",
            "Thu 3 Jan 2008 01:02:03 GMT",
            "Thu, 3 Jan 2008 1:02:03 GMT",
        ] {
            assert_eq!(parse_gmt(odd), None, "{odd}");
        }
        assert!(parse_version_date("yesterday").is_err());
        assert_eq!(
            parse_day("2008-01-28"),
            NaiveDate::from_ymd_opt(2008, 1, 28)
        );
        for bad in [
            "2008-1-28",
            "2008-02-30",
            "2008/01/28",
            "٢٠٠٨-01-28",
            "2008-01-28T",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }
}
