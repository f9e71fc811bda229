//! arXiv identifiers: parsing both schemes, versions, and the abs/pdf URL forms people paste.
//!
//! Two schemes exist (<https://info.arxiv.org/help/arxiv_identifier.html>):
//! - new style since April 2007: `YYMM.NNNN` (to 2014) or `YYMM.NNNNN` (from 2015);
//! - old style before that: `archive(.SUBJ)?/YYMMNNN`, for example `hep-th/9901001` or `math.GT/0309136`.
//!
//! Either may carry a version suffix `vN`. [`ArxivId`] is always the bare, versionless id, which is
//! the key of a paper everywhere in paperboy.

use std::fmt;

/// A validated arXiv identifier without version, such as `2405.15738` or `hep-th/9901001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArxivId(String);

/// An identifier together with the version it named, if any (`2405.15738v2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionedId {
    pub id: ArxivId,
    pub version: Option<u32>,
}

/// Why a string is not an arXiv identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    input: String,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.input.chars().take(60).collect();
        write!(
            f,
            "{shown:?} is not an arXiv id (expected e.g. 2405.15738, hep-th/9901001, or an arxiv.org abs/pdf URL)"
        )
    }
}

impl std::error::Error for IdError {}

impl ArxivId {
    /// Parses a bare id, with or without a version suffix; the version is dropped.
    pub fn parse(input: &str) -> Result<ArxivId, IdError> {
        VersionedId::parse(input).map(|v| v.id)
    }

    /// Parses a bare id, a versioned id, or an arxiv.org `abs`/`pdf`/`html` URL.
    pub fn parse_lenient(input: &str) -> Result<ArxivId, IdError> {
        VersionedId::parse_lenient(input).map(|v| v.id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the pre-2007 `archive/YYMMNNN` scheme.
    pub fn is_old_style(&self) -> bool {
        self.0.contains('/')
    }
}

impl VersionedId {
    /// Parses `ID` or `IDvN`.
    pub fn parse(input: &str) -> Result<VersionedId, IdError> {
        let err = || IdError {
            input: input.to_owned(),
        };
        let s = input.trim();
        let (base, version) = split_version(s).ok_or_else(err)?;
        if is_new_style(base) || is_old_style(base) {
            Ok(VersionedId {
                id: ArxivId(base.to_owned()),
                version,
            })
        } else {
            Err(err())
        }
    }

    /// Like [`VersionedId::parse`], but also accepts `arXiv:` prefixes and arxiv.org URLs such as
    /// `https://arxiv.org/abs/2405.15738v2`, `arxiv.org/pdf/2405.15738.pdf` or
    /// `https://export.arxiv.org/abs/hep-th/9901001`.
    pub fn parse_lenient(input: &str) -> Result<VersionedId, IdError> {
        let err = || IdError {
            input: input.to_owned(),
        };
        let mut s = input.trim();
        if let Some(rest) = strip_prefix_ignore_case(s, "arxiv:") {
            s = rest;
        }
        if let Some(rest) = strip_url_prefix(s) {
            let rest = rest.split(['?', '#']).next().unwrap_or(rest);
            let rest = rest.trim_end_matches('/');
            let path = ["abs/", "pdf/", "html/", "format/"]
                .iter()
                .find_map(|p| rest.strip_prefix(p))
                .ok_or_else(err)?;
            let path = path.strip_suffix(".pdf").unwrap_or(path);
            return VersionedId::parse(path).map_err(|_| err());
        }
        VersionedId::parse(s)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Strips `http(s)://(www.|export.)arxiv.org/`, returning the path, or None for any other host.
fn strip_url_prefix(s: &str) -> Option<&str> {
    let s = strip_prefix_ignore_case(s, "https://")
        .or_else(|| strip_prefix_ignore_case(s, "http://"))
        .unwrap_or(s);
    ["arxiv.org/", "www.arxiv.org/", "export.arxiv.org/"]
        .iter()
        .find_map(|host| strip_prefix_ignore_case(s, host))
}

/// Splits a trailing `v<digits>` off, returning None for a malformed version.
fn split_version(s: &str) -> Option<(&str, Option<u32>)> {
    match s.rfind('v') {
        Some(pos) if pos > 0 && s[pos + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &s[pos + 1..];
            if digits.is_empty() {
                return None;
            }
            let version: u32 = digits.parse().ok()?;
            (version >= 1).then_some((&s[..pos], Some(version)))
        }
        _ => Some((s, None)),
    }
}

fn is_new_style(s: &str) -> bool {
    let Some((yymm, number)) = s.split_once('.') else {
        return false;
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if yymm.len() != 4 || !digits(yymm) || !digits(number) {
        return false;
    }
    let month: u32 = yymm[2..].parse().unwrap_or(0);
    let year: u32 = yymm[..2].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || (year, month) < (7, 4) {
        return false;
    }
    // Five-digit numbers started with 1501; before that, four digits.
    let wanted = if year >= 15 { 5 } else { 4 };
    number.len() == wanted
}

fn is_old_style(s: &str) -> bool {
    let Some((archive, number)) = s.split_once('/') else {
        return false;
    };
    let (name, subject) = match archive.split_once('.') {
        Some((name, subject)) => (name, Some(subject)),
        None => (archive, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 16
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && !name.starts_with('-');
    let subject_ok = subject.is_none_or(|sub| {
        (1..=4).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphabetic())
    });
    let number_ok = number.len() == 7 && number.bytes().all(|b| b.is_ascii_digit()) && {
        let month: u32 = number[2..4].parse().unwrap_or(0);
        (1..=12).contains(&month)
    };
    name_ok && subject_ok && number_ok
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for VersionedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{}v{v}", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}

impl AsRef<str> for ArxivId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ArxivId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArxivId::parse(s)
    }
}

impl serde::Serialize for ArxivId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ArxivId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ArxivId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_schemes_and_drops_versions() {
        for (input, want) in [
            ("2405.15738", "2405.15738"),
            ("2405.15738v3", "2405.15738"),
            ("0704.0001", "0704.0001"),
            ("1412.9999v1", "1412.9999"),
            ("hep-th/9901001", "hep-th/9901001"),
            ("math.GT/0309136v2", "math.GT/0309136"),
            ("cond-mat/0102536", "cond-mat/0102536"),
        ] {
            assert_eq!(ArxivId::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn rejects_lookalikes() {
        for input in [
            "",
            "abc",
            "0000.0000",
            "2405.1573",
            "1501.1234",
            "0703.0001",
            "2413.12345",
            "2405.15738v",
            "2405.15738v0",
            "hep-th/990101",
            "HEP-TH/9901001",
            "not-an-id",
            "../etc/passwd",
            "2405.15738/../x",
        ] {
            assert!(
                ArxivId::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn lenient_parse_reads_arxiv_urls_only() {
        for (input, want, version) in [
            ("https://arxiv.org/abs/2405.15738v2", "2405.15738", Some(2)),
            ("http://arxiv.org/pdf/2405.15738.pdf", "2405.15738", None),
            ("arxiv.org/pdf/2405.15738v1", "2405.15738", Some(1)),
            (
                "https://export.arxiv.org/abs/hep-th/9901001",
                "hep-th/9901001",
                None,
            ),
            ("arXiv:2405.15738", "2405.15738", None),
            ("  2405.15738  ", "2405.15738", None),
            (
                "https://arxiv.org/abs/2405.15738?context=cs",
                "2405.15738",
                None,
            ),
        ] {
            let parsed = VersionedId::parse_lenient(input).unwrap();
            assert_eq!(parsed.id.as_str(), want, "{input}");
            assert_eq!(parsed.version, version, "{input}");
        }
        assert!(ArxivId::parse_lenient("https://evil.example/abs/2405.15738").is_err());
        assert!(ArxivId::parse_lenient("https://arxiv.org/list/cs.AI").is_err());
    }
}
