//! arXiv's records as paperboy papers, and the clients that fetch them.
//!
//! Every arXiv source (OAI-PMH records, the bulk snapshot, API entries) becomes an [`Observed`]
//! paper whose `as_of` comes from the record itself, never from the clock: harvesting or
//! importing the same record twice, or after a crash, then merges to the same store.

use chrono::{DateTime, NaiveDate, Utc};

use arxiv::api::{ApiClient, Entry};
use arxiv::oai::OaiClient;
use arxiv::{Client, ClientConfig, Metadata};

use crate::config::ArxivConfig;
use crate::domain::merge::Observed;
use crate::domain::paper::{collapse_whitespace, midnight_utc};
use crate::domain::{Paper, PaperVersion};

/// The arXiv clients, sharing one polite connection: the OAI-PMH harvester and the API.
#[derive(Debug, Clone)]
pub struct ArxivClients {
    pub oai: OaiClient,
    pub api: ApiClient,
}

impl ArxivClients {
    /// Clients for the configured endpoints. `contact` (the site's URL) goes in the User-Agent,
    /// as arXiv asks of automated clients.
    pub fn new(config: &ArxivConfig, contact: &str) -> anyhow::Result<ArxivClients> {
        let mut client_config = ClientConfig::new(format!(
            "paperboy/{} (+{contact})",
            env!("CARGO_PKG_VERSION")
        ));
        client_config.delay = config.delay;
        // Retries back off from the configured pause (doubling), and never start sooner than 1 s.
        client_config.backoff = config.delay.max(std::time::Duration::from_secs(1));
        let polite_host = [&config.oai_url, &config.api_url]
            .iter()
            .any(|u| u.host_str().is_some_and(|h| h.ends_with("arxiv.org")));
        if polite_host && config.delay.as_millis() < 3000 {
            tracing::warn!(
                delay_ms = config.delay.as_millis() as u64,
                "arxiv_delay_ms is below the 3 s arXiv asks for"
            );
        }
        let http = Client::new(client_config)?;
        Ok(ArxivClients {
            oai: OaiClient::new(http.clone(), config.oai_url.clone()),
            api: ApiClient::new(http, config.api_url.clone()),
        })
    }
}

/// A record from OAI-PMH or the snapshot, as of `as_of` (the day arXiv last changed it).
pub fn observed_from_metadata(meta: Metadata, as_of: DateTime<Utc>) -> Observed {
    let mut versions: Vec<PaperVersion> = meta
        .versions
        .iter()
        .map(|v| PaperVersion {
            version: v.number,
            created_at: Some(v.submitted),
        })
        .collect();
    // The `arXiv` format has no version list, only the day of v1.
    if versions.is_empty()
        && let Some(created) = meta.created
    {
        versions.push(PaperVersion {
            version: 1,
            created_at: Some(midnight_utc(created)),
        });
    }
    let published_at = versions
        .iter()
        .find(|v| v.version == 1)
        .and_then(|v| v.created_at);
    let updated_at = versions
        .iter()
        .max_by_key(|v| v.version)
        .and_then(|v| v.created_at)
        .max(meta.updated.map(midnight_utc));
    let mut paper = Paper::new(meta.id, collapse_whitespace(&meta.title));
    paper.authors = meta.authors;
    paper.summary = collapse_whitespace(&meta.abstract_text);
    paper.categories = meta.categories;
    paper.comments = meta.comments.map(|c| collapse_whitespace(&c));
    paper.journal_ref = meta.journal_ref.map(|j| collapse_whitespace(&j));
    paper.doi = meta.doi;
    paper.license = meta.license;
    paper.published_at = published_at;
    paper.updated_at = updated_at;
    paper.versions = versions;
    Observed { paper, as_of }
}

/// The `as_of` of a record whose last change is known only as a day.
pub fn as_of_day(day: NaiveDate) -> DateTime<Utc> {
    midnight_utc(day)
}

/// An API entry: the paper at the version the entry names, as of that version's date.
pub fn observed_from_entry(entry: Entry) -> Observed {
    let version = entry.id.version.unwrap_or(1);
    let mut versions = vec![PaperVersion {
        version: 1,
        created_at: Some(entry.published),
    }];
    if version > 1 {
        versions.push(PaperVersion {
            version,
            created_at: Some(entry.updated),
        });
    }
    let mut paper = Paper::new(entry.id.id, collapse_whitespace(&entry.title));
    paper.authors = entry.authors.into_iter().map(|a| a.name).collect();
    paper.summary = collapse_whitespace(&entry.summary);
    paper.categories = entry.categories;
    paper.comments = entry.comment.map(|c| collapse_whitespace(&c));
    paper.journal_ref = entry.journal_ref.map(|j| collapse_whitespace(&j));
    paper.doi = entry.doi;
    paper.published_at = Some(entry.published);
    paper.updated_at = Some(entry.updated);
    paper.versions = versions;
    Observed {
        paper,
        as_of: entry.updated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arxiv::{ArxivId, Version};

    #[test]
    fn versions_give_the_published_and_updated_times() {
        let mut meta = Metadata::new(
            ArxivId::parse("0801.3674").unwrap(),
            "A Study of\n  Reheating",
        );
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        meta.versions = vec![
            Version {
                number: 1,
                submitted: t("2008-01-23T21:13:53Z"),
            },
            Version {
                number: 2,
                submitted: t("2008-02-04T15:05:55Z"),
            },
        ];
        let as_of = as_of_day(NaiveDate::from_ymd_opt(2008, 11, 26).unwrap());
        let o = observed_from_metadata(meta, as_of);
        assert_eq!(o.paper.title, "A Study of Reheating");
        assert_eq!(o.paper.published_at, Some(t("2008-01-23T21:13:53Z")));
        assert_eq!(o.paper.updated_at, Some(t("2008-02-04T15:05:55Z")));
        assert_eq!(o.paper.latest_version(), Some(2));
        assert_eq!(o.as_of, as_of);
    }

    #[test]
    fn the_arxiv_format_gives_days_only() {
        let mut meta = Metadata::new(ArxivId::parse("0704.4001").unwrap(), "Warping");
        meta.created = NaiveDate::from_ymd_opt(2007, 4, 30);
        meta.updated = NaiveDate::from_ymd_opt(2008, 1, 28);
        let o = observed_from_metadata(
            meta,
            as_of_day(NaiveDate::from_ymd_opt(2008, 1, 28).unwrap()),
        );
        assert_eq!(
            o.paper.published_at.unwrap().to_rfc3339(),
            "2007-04-30T00:00:00+00:00"
        );
        assert_eq!(
            o.paper.updated_at.unwrap().to_rfc3339(),
            "2008-01-28T00:00:00+00:00"
        );
        assert_eq!(o.paper.versions.len(), 1);
    }
}
