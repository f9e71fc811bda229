//! Requests for `ListRecords` pages, and what their answers mean for a harvester.

use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use super::{ErrorCode, ListRecords, ProtocolError, Response, parse_list_records};
use crate::http::{Client, FetchError};
use crate::xml::ParseError;

/// The largest page accepted. arXiv's pages of 1,000 records are 2–4 MB.
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;

/// The metadata formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataFormat {
    /// `arXiv`: structured author names, created and updated days.
    Arxiv,
    /// `arXivRaw`: every version with its submission time, and the submitter.
    ArxivRaw,
}

impl MetadataFormat {
    /// The `metadataPrefix` value.
    pub fn prefix(self) -> &'static str {
        match self {
            MetadataFormat::Arxiv => "arXiv",
            MetadataFormat::ArxivRaw => "arXivRaw",
        }
    }
}

/// The first request of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub format: MetadataFormat,
    /// Records changed on or after this day.
    pub from: Option<NaiveDate>,
    /// Records changed on or before this day.
    pub until: Option<NaiveDate>,
    /// A set such as `cs` or `physics:hep-th`; None for the whole archive. Check it with
    /// [`super::is_valid_set_spec`] first.
    pub set: Option<String>,
}

/// Why a page could not be had.
#[derive(Debug, thiserror::Error)]
pub enum OaiError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: malformed page: {source}")]
    Parse { url: String, source: ParseError },
    /// A page with no records that does not say `noRecordsMatch`: OAI-PMH does not allow it,
    /// and treating it as the end of the list could skip records, so it is an error.
    #[error("{url}: a ListRecords page without records (and without noRecordsMatch)")]
    EmptyPage { url: String },
    /// The token expired or was never valid; the list has to be started again.
    #[error("{url}: the repository refused the resumption token: {message}")]
    BadResumptionToken { url: String, message: String },
    #[error("{url}: OAI-PMH error {code}: {message}")]
    Protocol {
        url: String,
        code: ErrorCode,
        message: String,
    },
}

impl OaiError {
    /// The page's URL, for errors that concern one page.
    pub fn url(&self) -> Option<&str> {
        match self {
            OaiError::Fetch(_) => None,
            OaiError::Parse { url, .. }
            | OaiError::EmptyPage { url }
            | OaiError::BadResumptionToken { url, .. }
            | OaiError::Protocol { url, .. } => Some(url),
        }
    }
}

/// Reads `ListRecords` pages from one repository, whose base URL is fixed at construction.
#[derive(Debug, Clone)]
pub struct OaiClient {
    http: Client,
    base: Url,
}

impl OaiClient {
    pub fn new(http: Client, base: Url) -> OaiClient {
        OaiClient { http, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The first page of a list. `noRecordsMatch` comes back as an empty, complete list.
    pub async fn list_records(&self, request: &ListRequest) -> Result<ListRecords, OaiError> {
        self.page(self.list_url(request)).await
    }

    /// The page a resumption token asks for.
    pub async fn resume(&self, token: &str) -> Result<ListRecords, OaiError> {
        self.page(self.resume_url(token)).await
    }

    pub fn list_url(&self, request: &ListRequest) -> Url {
        let mut url = self.base.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("verb", "ListRecords")
                .append_pair("metadataPrefix", request.format.prefix());
            if let Some(from) = request.from {
                query.append_pair("from", &from.format("%Y-%m-%d").to_string());
            }
            if let Some(until) = request.until {
                query.append_pair("until", &until.format("%Y-%m-%d").to_string());
            }
            if let Some(set) = &request.set {
                query.append_pair("set", set);
            }
        }
        url
    }

    pub fn resume_url(&self, token: &str) -> Url {
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("verb", "ListRecords")
            .append_pair("resumptionToken", token);
        url
    }

    async fn page(&self, url: Url) -> Result<ListRecords, OaiError> {
        let body = self.http.get(&url, MAX_PAGE_BYTES).await?;
        let response = match parse_list_records(&body) {
            Ok(response) => response,
            Err(source) => {
                return Err(OaiError::Parse {
                    url: url.to_string(),
                    source,
                });
            }
        };
        match response {
            Response::Records(list) if list.records.is_empty() && list.skipped.is_empty() => {
                Err(OaiError::EmptyPage {
                    url: url.to_string(),
                })
            }
            Response::Records(list) => Ok(list),
            Response::Errors {
                response_date,
                errors,
            } => interpret_errors(url.to_string(), response_date, errors),
        }
    }
}

fn interpret_errors(
    url: String,
    response_date: Option<DateTime<Utc>>,
    errors: Vec<ProtocolError>,
) -> Result<ListRecords, OaiError> {
    if errors.iter().any(|e| e.code == ErrorCode::NoRecordsMatch) {
        return Ok(ListRecords {
            response_date,
            ..ListRecords::default()
        });
    }
    let first = errors
        .into_iter()
        .next()
        .expect("Response::Errors holds at least one error");
    Err(match first.code {
        ErrorCode::BadResumptionToken => OaiError::BadResumptionToken {
            url,
            message: first.message,
        },
        code => OaiError::Protocol {
            url,
            code,
            message: first.message,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;

    fn client() -> OaiClient {
        let http = Client::new(ClientConfig::new("test")).unwrap();
        OaiClient::new(http, Url::parse("https://oaipmh.arxiv.org/oai").unwrap())
    }

    #[test]
    fn builds_requests_on_the_configured_base_only() {
        let c = client();
        let request = ListRequest {
            format: MetadataFormat::ArxivRaw,
            from: NaiveDate::from_ymd_opt(2026, 8, 20),
            until: None,
            set: Some("physics:hep-th".into()),
        };
        assert_eq!(
            c.list_url(&request).as_str(),
            "https://oaipmh.arxiv.org/oai?verb=ListRecords&metadataPrefix=arXivRaw&from=2026-08-20&set=physics%3Ahep-th"
        );
        let url = c.resume_url("436115|5001&verb=Identify");
        assert_eq!(url.host_str(), Some("oaipmh.arxiv.org"));
        assert_eq!(
            url.query(),
            Some("verb=ListRecords&resumptionToken=436115%7C5001%26verb%3DIdentify")
        );
    }
}
