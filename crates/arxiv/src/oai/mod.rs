//! OAI-PMH `ListRecords`, the protocol arXiv offers for incremental harvesting
//! (<https://www.openarchives.org/OAI/openarchivesprotocol.html>, arXiv's notes at
//! <https://info.arxiv.org/help/oa/index.html>).
//!
//! A list is read page by page: the first request names a metadata format, a date range and
//! optionally a set; every page but the last ends with a resumption token that asks for the next.
//! [`parse_list_records`] reads one page; [`OaiClient`] builds the requests and turns protocol
//! answers into results.

mod client;
mod parse;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::Metadata;

pub use client::{ListRequest, MetadataFormat, OaiClient, OaiError};
pub use parse::parse_list_records;

/// What a `ListRecords` request was answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A page of records.
    Records(ListRecords),
    /// One or more OAI-PMH errors instead of records.
    Errors {
        response_date: Option<DateTime<Utc>>,
        errors: Vec<ProtocolError>,
    },
}

/// One page of a `ListRecords` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListRecords {
    /// When the repository answered; the natural "harvested through" mark.
    pub response_date: Option<DateTime<Utc>>,
    pub records: Vec<Record>,
    /// Records that were present but unusable (a malformed id or date); the rest of the page
    /// is still good, so one bad record does not block a harvest.
    pub skipped: Vec<SkippedRecord>,
    /// The `resumptionToken` element, absent on a single-page list.
    pub resumption: Option<Resumption>,
}

impl ListRecords {
    /// The token that asks for the next page, or None when this page completes the list.
    pub fn next_token(&self) -> Option<&str> {
        self.resumption.as_ref()?.token.as_deref()
    }
}

/// A page's `resumptionToken` element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resumption {
    /// None (an empty element) on the last page.
    pub token: Option<String>,
    pub complete_list_size: Option<u64>,
    /// How many records came before this page.
    pub cursor: Option<u64>,
}

/// One harvested record: a paper's metadata, or the notice that it was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub header: Header,
    /// None exactly when the header says the record was deleted.
    pub metadata: Option<Metadata>,
}

/// A record's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `oai:arXiv.org:2405.15738`.
    pub identifier: String,
    /// The day the record last changed; `from`/`until` select on it.
    pub datestamp: NaiveDate,
    pub sets: Vec<String>,
    pub deleted: bool,
}

/// A record that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The header's identifier, when there was one.
    pub identifier: String,
    pub reason: String,
}

/// An OAI-PMH `<error>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
}

/// The error codes OAI-PMH 2.0 defines (§3.6), plus whatever else a repository invents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    /// The request selects no records: an empty result, not a failure.
    NoRecordsMatch,
    NoMetadataFormats,
    NoSetHierarchy,
    Other(String),
}

impl ErrorCode {
    pub fn from_code(code: &str) -> ErrorCode {
        match code {
            "badArgument" => ErrorCode::BadArgument,
            "badResumptionToken" => ErrorCode::BadResumptionToken,
            "badVerb" => ErrorCode::BadVerb,
            "cannotDisseminateFormat" => ErrorCode::CannotDisseminateFormat,
            "idDoesNotExist" => ErrorCode::IdDoesNotExist,
            "noRecordsMatch" => ErrorCode::NoRecordsMatch,
            "noMetadataFormats" => ErrorCode::NoMetadataFormats,
            "noSetHierarchy" => ErrorCode::NoSetHierarchy,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::BadArgument => "badArgument",
            ErrorCode::BadResumptionToken => "badResumptionToken",
            ErrorCode::BadVerb => "badVerb",
            ErrorCode::CannotDisseminateFormat => "cannotDisseminateFormat",
            ErrorCode::IdDoesNotExist => "idDoesNotExist",
            ErrorCode::NoRecordsMatch => "noRecordsMatch",
            ErrorCode::NoMetadataFormats => "noMetadataFormats",
            ErrorCode::NoSetHierarchy => "noSetHierarchy",
            ErrorCode::Other(code) => code,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for a syntactically valid OAI-PMH `setSpec` (§2.7: a colon-separated list of
/// URL-safe tokens), such as `cs`, `physics:hep-th` or `math:math:AT`.
pub fn is_valid_set_spec(set: &str) -> bool {
    !set.is_empty()
        && set.len() <= 64
        && set.split(':').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_specs_are_colon_separated_url_safe_tokens() {
        for ok in ["cs", "physics:hep-th", "math:math:AT", "q-bio"] {
            assert!(is_valid_set_spec(ok), "{ok}");
        }
        for bad in ["", "cs:", ":cs", "cs&verb=Identify", "cs math", "../x", "ç"] {
            assert!(!is_valid_set_spec(bad), "{bad}");
        }
    }
}
