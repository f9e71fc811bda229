//! A polite HTTP client for arXiv: one request at a time over one connection, a fixed pause
//! between requests, `Retry-After` honoured, bounded retries, timeouts and a response size cap.
//!
//! arXiv's terms for its API and OAI-PMH interface ask for no more than one request every three
//! seconds over a single connection, and it answers bursts with 503 or 429 and a `Retry-After`
//! (<https://info.arxiv.org/help/api/tou.html>). Every request therefore goes through one gate:
//! a lock held for the whole exchange, so requests never overlap (and HTTP/1.1 keep-alive reuses
//! the one connection), and a "not before" instant set after each response.
//!
//! The client never lets a response choose where the next request goes: it follows a redirect
//! only to the same scheme, host and port, and reports any other as an error.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, LOCATION, RETRY_AFTER};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// How the client behaves. [`ClientConfig::new`] gives arXiv's politeness defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Sent with every request; arXiv asks for a name and a way to reach the operator.
    pub user_agent: String,
    /// The pause between the end of one response and the start of the next request.
    pub delay: Duration,
    pub connect_timeout: Duration,
    /// The whole exchange, from connecting until the last byte of the body.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first wait after a failure without `Retry-After`; it doubles with each attempt.
    pub backoff: Duration,
    /// The longest `Retry-After` (or backoff) honoured. A server asking for more gets an error
    /// instead of a request sooner than it wanted.
    pub max_wait: Duration,
}

impl ClientConfig {
    pub fn new(user_agent: impl Into<String>) -> ClientConfig {
        ClientConfig {
            user_agent: user_agent.into(),
            delay: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(10),
            // An OAI-PMH page of 1,000 records can take arXiv tens of seconds to produce.
            timeout: Duration::from_secs(120),
            max_attempts: 5,
            backoff: Duration::from_secs(5),
            max_wait: Duration::from_secs(600),
        }
    }
}

/// Why a request produced no usable body.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A status that retrying will not change (such as 400 or 404), or a retryable one once the
    /// attempts are used up. The body is kept (within the size cap): arXiv explains a 400 in it.
    #[error("{url}: HTTP {status}")]
    Status {
        url: String,
        status: StatusCode,
        body: Bytes,
    },
    #[error("{url}: the response exceeds the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    #[error(
        "{url}: refused to follow a redirect to {location:?} (the arXiv host is fixed by configuration)"
    )]
    Redirect { url: String, location: String },
    #[error("{url}: no complete response within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: the server asks to wait {wait:?}, longer than the {max:?} this client waits")]
    WaitTooLong {
        url: String,
        wait: Duration,
        max: Duration,
    },
    #[error(
        "{url}: gave up after {attempts} attempts; the last one failed with: {}",
        last.reason()
    )]
    GaveUp {
        url: String,
        attempts: u32,
        last: Box<FetchError>,
    },
    #[error("building the HTTP client: {0}")]
    Build(String),
}

impl FetchError {
    /// What went wrong, without the URL the message starts with (for a message that has
    /// already named it).
    pub fn reason(&self) -> String {
        let text = self.to_string();
        match self.url() {
            Some(url) => text
                .strip_prefix(url)
                .and_then(|rest| rest.strip_prefix(": "))
                .map_or_else(|| text.clone(), str::to_owned),
            None => text,
        }
    }

    /// The URL the error is about, if it has one.
    fn url(&self) -> Option<&str> {
        match self {
            FetchError::Status { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::Redirect { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::Transport { url, .. }
            | FetchError::WaitTooLong { url, .. }
            | FetchError::GaveUp { url, .. } => Some(url),
            FetchError::Build(_) => None,
        }
    }
}

/// The polite client. Clones share the connection and the gate, so every clone counts towards
/// the same request rate.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    /// The earliest instant the next request may start; holding the lock is holding the turn.
    gate: Arc<Mutex<Option<Instant>>>,
}

/// What one attempt came to.
enum Attempt {
    Done(Bytes),
    /// Worth retrying, after at least `wait` (from `Retry-After`, when the server said).
    Retry {
        error: FetchError,
        wait: Option<Duration>,
    },
    Fail(FetchError),
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, FetchError> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(same_origin_redirects())
            .pool_max_idle_per_host(1)
            .http1_only()
            .build()
            .map_err(|e| FetchError::Build(e.to_string()))?;
        Ok(Client {
            http,
            config: Arc::new(config),
            gate: Arc::new(Mutex::new(None)),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// GETs `url`, retrying what is worth retrying, and returns a body of at most `max_bytes`.
    pub async fn get(&self, url: &Url, max_bytes: usize) -> Result<Bytes, FetchError> {
        let mut turn = self.gate.lock().await;
        let mut attempt = 1;
        loop {
            if let Some(not_before) = *turn {
                tokio::time::sleep_until(not_before).await;
            }
            let outcome = self.attempt(url, max_bytes).await;
            let mut pause = self.config.delay;
            let result = match outcome {
                Attempt::Done(body) => Ok(body),
                Attempt::Fail(error) => Err(error),
                Attempt::Retry { error, wait } => {
                    let backoff = self
                        .config
                        .backoff
                        .saturating_mul(1 << (attempt - 1).min(16));
                    let wait = wait.unwrap_or(backoff);
                    if wait > self.config.max_wait {
                        Err(FetchError::WaitTooLong {
                            url: url.to_string(),
                            wait,
                            max: self.config.max_wait,
                        })
                    } else if attempt >= self.config.max_attempts {
                        Err(FetchError::GaveUp {
                            url: url.to_string(),
                            attempts: attempt,
                            last: Box::new(error),
                        })
                    } else {
                        tracing::warn!(%url, attempt, wait_ms = wait.as_millis() as u64, error = %error.reason(), "arXiv request failed; retrying");
                        pause = pause.max(wait);
                        attempt += 1;
                        *turn = Some(Instant::now() + pause);
                        continue;
                    }
                }
            };
            *turn = Some(Instant::now() + pause);
            return result;
        }
    }

    async fn attempt(&self, url: &Url, max_bytes: usize) -> Attempt {
        let response = match self.http.get(url.clone()).send().await {
            Ok(response) => response,
            Err(e) => return self.transport_error(url, e),
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            return Attempt::Fail(FetchError::Redirect {
                url: url.to_string(),
                location,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        if let Some(length) = response.headers().get(CONTENT_LENGTH)
            && length
                .to_str()
                .ok()
                .and_then(|l| l.parse::<u64>().ok())
                .is_some_and(|l| l > max_bytes as u64)
        {
            return Attempt::Fail(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_bytes,
            });
        }
        let body = match read_capped(response, max_bytes).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Attempt::Fail(FetchError::TooLarge {
                    url: url.to_string(),
                    limit: max_bytes,
                });
            }
            Err(BodyError::Http(e)) => return self.transport_error(url, e),
        };
        if status.is_success() {
            return Attempt::Done(body);
        }
        let error = FetchError::Status {
            url: url.to_string(),
            status,
            body,
        };
        match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Attempt::Retry {
                error,
                wait: retry_after,
            },
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::GATEWAY_TIMEOUT => Attempt::Retry { error, wait: None },
            _ => Attempt::Fail(error),
        }
    }

    /// Connection failures and resets are retried; a request that ran out of time is not: a
    /// server that slow will not be faster a few seconds later, and the caller should know soon.
    fn transport_error(&self, url: &Url, e: reqwest::Error) -> Attempt {
        if e.is_timeout() && !e.is_connect() {
            return Attempt::Fail(FetchError::Timeout {
                url: url.to_string(),
                timeout: self.config.timeout,
            });
        }
        Attempt::Retry {
            error: FetchError::Transport {
                url: url.to_string(),
                message: describe(&e),
            },
            wait: None,
        }
    }
}

enum BodyError {
    TooLarge,
    Http(reqwest::Error),
}

/// Reads the body chunk by chunk, stopping as soon as it passes `max_bytes`, so an endless or
/// huge response costs at most the cap in memory.
async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Bytes, BodyError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Http)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Follows a redirect only within the original scheme, host and port, at most five times.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() <= 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Reads `Retry-After`: delay seconds, or an HTTP date (which is in the past, so zero, when the
/// clocks disagree that way).
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// reqwest's error with its causes (the interesting part, such as "connection reset", is a
/// cause several levels down).
fn describe(e: &reqwest::Error) -> String {
    // The error names its URL ("error sending request for url (…)"); the message around it
    // already does.
    let mut message = e.to_string();
    if let Some(url) = e.url() {
        message = message.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-08-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Fri, 21 Aug 2026 10:00:42 GMT", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_retry_after("Fri, 21 Aug 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
