//! The arXiv API (`export.arxiv.org/api/query`): papers by id, and searches, as Atom feeds.
//!
//! Ids reach the wire only as [`VersionedId`]s, which parse to the two canonical shapes and
//! nothing else, and the base URL is fixed when the client is made: whatever a user types, the
//! request goes to the configured host with a well-formed `id_list`.

mod atom;

use url::Url;

use crate::VersionedId;
use crate::http::{Client, FetchError};
use crate::xml::ParseError;

pub use atom::{Author, Entry, Feed, parse_feed};

/// The most ids [`ApiClient::fetch`] sends in one request.
pub const MAX_IDS_PER_REQUEST: usize = 100;

/// The largest response accepted; 100 entries are about 250 kB.
pub const MAX_FEED_BYTES: usize = 4 * 1024 * 1024;

/// Why a query produced no feed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("at most {MAX_IDS_PER_REQUEST} ids per request, not {count}")]
    TooManyIds { count: usize },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: malformed feed: {source}")]
    Parse { url: String, source: ParseError },
    /// The API answered with error entries (with HTTP 400 or 200).
    #[error("{url}: arXiv rejected the query: {message}")]
    Rejected { url: String, message: String },
}

/// Queries one API endpoint, whose base URL is fixed at construction.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: Client,
    base: Url,
}

impl ApiClient {
    pub fn new(http: Client, base: Url) -> ApiClient {
        ApiClient { http, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The entries for `ids` (a version pins that version; without one, the latest). Ids the
    /// API does not know are simply absent from the feed.
    pub async fn fetch(&self, ids: &[VersionedId]) -> Result<Feed, ApiError> {
        if ids.len() > MAX_IDS_PER_REQUEST {
            return Err(ApiError::TooManyIds { count: ids.len() });
        }
        self.query(self.fetch_url(ids)).await
    }

    /// One page of a search (`search_query` syntax, such as `au:del_maestro AND ti:checkerboard`).
    pub async fn search(
        &self,
        query: &str,
        start: u64,
        max_results: u32,
    ) -> Result<Feed, ApiError> {
        self.query(self.search_url(query, start, max_results)).await
    }

    pub fn fetch_url(&self, ids: &[VersionedId]) -> Url {
        let list = ids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("id_list", &list)
            .append_pair("start", "0")
            .append_pair("max_results", &MAX_IDS_PER_REQUEST.to_string());
        url
    }

    pub fn search_url(&self, query: &str, start: u64, max_results: u32) -> Url {
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("search_query", query)
            .append_pair("start", &start.to_string())
            .append_pair("max_results", &max_results.to_string());
        url
    }

    async fn query(&self, url: Url) -> Result<Feed, ApiError> {
        let body = match self.http.get(&url, MAX_FEED_BYTES).await {
            Ok(body) => body,
            // A bad query gets HTTP 400 with an Atom error entry that says what was wrong.
            Err(FetchError::Status { status, body, .. })
                if status.is_client_error()
                    && parse_feed(&body).is_ok_and(|f| !f.errors.is_empty()) =>
            {
                body
            }
            Err(e) => return Err(e.into()),
        };
        let feed = parse_feed(&body).map_err(|source| ApiError::Parse {
            url: url.to_string(),
            source,
        })?;
        if !feed.errors.is_empty() {
            return Err(ApiError::Rejected {
                url: url.to_string(),
                message: feed.errors.join("; "),
            });
        }
        Ok(feed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;

    #[test]
    fn id_lists_are_built_from_parsed_ids_on_the_configured_base() {
        let http = Client::new(ClientConfig::new("test")).unwrap();
        let api = ApiClient::new(
            http,
            Url::parse("https://export.arxiv.org/api/query").unwrap(),
        );
        let ids = ["2104.12255v1", "hep-ex/0406020"].map(|s| VersionedId::parse(s).unwrap());
        assert_eq!(
            api.fetch_url(&ids).as_str(),
            "https://export.arxiv.org/api/query?id_list=2104.12255v1%2Chep-ex%2F0406020&start=0&max_results=100"
        );
    }
}
