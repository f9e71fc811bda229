//! The single place where errors become HTTP responses: HTML pages for people, JSON for the API.

use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::pages::ErrorPage;
use crate::store::StoreError;

/// The JSON body of every `/api` error, as Hugging Face sends it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in words.
    #[schema(example = "Paper not found")]
    pub error: String,
}

/// An error on a page route, rendered as a friendly HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// A rate limit was hit; the value is how long until the next try may succeed.
    #[error("too many requests")]
    TooManyRequests(std::time::Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An error on an `/api` route, rendered as `{"error": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// No valid API token was given.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The request was understood but a rule refused it.
    #[error("{0}")]
    Unprocessable(String),
    /// Something the request needs (arXiv) could not be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("too many requests")]
    TooManyRequests(std::time::Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PageError::NotFound("That page does not exist.".into()),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("Not found".into()),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            PageError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "That request doesn't look right",
                m,
            ),
            PageError::TooManyRequests(wait) => {
                let page = ErrorPage::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Slow down a little",
                    &format!("Too many requests. Please try again {}.", in_about(wait)),
                );
                let body = askama::Template::render(&page).unwrap_or_default();
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, retry_after(wait))],
                    Html(body),
                )
                    .into_response();
            }
            PageError::Internal(err) => {
                // Logged here, never shown: the cause may hold paths or SQL.
                tracing::error!(error = ?err, "page request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged. Please try again in a moment.".to_owned(),
                )
            }
        };
        let page = ErrorPage::new(status, heading, &message);
        match askama::Template::render(&page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = ?e, "rendering the error page failed");
                (status, message).into_response()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::TooManyRequests(wait) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, retry_after(wait))],
                    Json(ErrorBody {
                        error: "Too many requests".into(),
                    }),
                )
                    .into_response();
            }
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "api request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
        };
        (status, Json(ErrorBody { error: message })).into_response()
    }
}

/// When a wait ends, in words: "in a few seconds", "in about 2 minutes".
fn in_about(wait: std::time::Duration) -> String {
    match wait.as_secs() {
        0..=9 => "in a few seconds".to_owned(),
        s @ 10..=89 => format!("in about {} seconds", s.div_ceil(10) * 10),
        s @ 90..=5399 => format!("in about {} minutes", s.div_ceil(60)),
        s => format!("in about {} hours", s.div_ceil(3600)),
    }
}

/// Marks a response whose error status goes out as written (an error in a format a client
/// asked for, such as the plain-text 404 of `/papers/{id}.md`), so [`dress`] leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct AsWritten;

/// Middleware that gives every error the site's own shape. Handlers answer errors through
/// [`PageError`] and [`ApiError`], but some answers come from below them: axum's extractors
/// (a path segment that is not UTF-8 or not a number, a repeated query key, a form body over
/// the limit), the router (a method the route does not take) and the timeout layer. Those carry
/// plain text or nothing. This turns each into the `{"error": ...}` body under `/api` and the
/// HTML error page elsewhere, keeping the status and headers such as `Retry-After`.
pub async fn dress(request: Request, next: Next) -> Response {
    let api = request.uri().path() == "/api" || request.uri().path().starts_with("/api/");
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let in_shape = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || in_shape
        || response.extensions().get::<AsWritten>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = axum::body::to_bytes(body, 2048)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = bare_error_message(status, &method, &detail);
    let mut dressed = if api {
        (status, Json(ErrorBody { error: message })).into_response()
    } else {
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::METHOD_NOT_ALLOWED => "Not here",
            s if s.is_server_error() => "Something went wrong",
            _ => "That request doesn't look right",
        };
        let page = ErrorPage::new(status, heading, &message);
        match askama::Template::render(&page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    };
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            dressed.headers_mut().append(name, value.clone());
        }
    }
    dressed
}

/// What a bare error from below the handlers means, for a person.
fn bare_error_message(status: StatusCode, method: &Method, detail: &str) -> String {
    match status {
        StatusCode::NOT_FOUND => "There is nothing at this address.".to_owned(),
        // The router adds `Allow` (the methods it does take) after this layer has run.
        StatusCode::METHOD_NOT_ALLOWED => format!("This address does not take {method} requests."),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "The request is larger than the {} KiB this site accepts.",
            super::BODY_LIMIT / 1024
        ),
        StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::REQUEST_TIMEOUT
        | StatusCode::GATEWAY_TIMEOUT
            if detail.is_empty() =>
        {
            "The server took too long to answer. Please try again in a moment.".to_owned()
        }
        _ if status.is_server_error() => {
            "The error has been logged. Please try again in a moment.".to_owned()
        }
        _ if detail.is_empty() => format!(
            "The request could not be read ({}).",
            status.canonical_reason().unwrap_or("error")
        ),
        _ => format!("The request could not be read: {}.", rejection_text(detail)),
    }
}

/// What an axum extractor's rejection found wrong, in words: its text without the preamble
/// ("Failed to deserialize query string: "), serde's line and column (a body is one value) or
/// Rust type names, so every route words a request it cannot read the same way: the JSON
/// bodies of the API, query strings, forms and path segments.
pub fn rejection_text(text: &str) -> String {
    const PREAMBLES: [&str; 7] = [
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to parse the request body as JSON: ",
        "Failed to deserialize query string: ",
        "Failed to deserialize form body: ",
        "Failed to deserialize form: ",
        "Invalid URL: ",
        "Failed to buffer the request body: ",
    ];
    let text = text.trim();
    let what = PREAMBLES
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    let what = what.rfind(" at line ").map_or(what, |at| &what[..at]);
    if let Some(field) = what
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!("`{field}` is given more than once");
    }
    if let Some((value, ty)) = what
        .strip_prefix("Cannot parse `")
        .and_then(|rest| rest.split_once("` to a `"))
    {
        let ty = ty.trim_end_matches('`');
        return format!("`{value}` is not {}", type_in_words(ty));
    }
    let mut out = what.to_owned();
    if let Some(at) = out.find("expected struct ") {
        out.truncate(at);
        out.push_str("expected a JSON object");
    }
    for ty in [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize", "f32", "f64",
        "bool",
    ] {
        let rust = format!("expected {ty}");
        if out.ends_with(&rust) {
            out.truncate(out.len() - rust.len());
            out.push_str(&format!("expected {}", type_in_words(ty)));
        }
    }
    out.trim_end_matches('.').to_owned()
}

/// A query string that could not be read, in words: the message of the 400 a page or the API
/// answers.
pub fn query_error(e: &axum::extract::rejection::QueryRejection) -> String {
    format!("invalid query string: {}", rejection_text(&e.body_text()))
}

/// A Rust type of a rejection's text, as a reader would say it.
fn type_in_words(ty: &str) -> &'static str {
    match ty {
        "f32" | "f64" => "a number",
        "bool" => "true or false",
        t if t.starts_with('u') => "a whole number, 0 or more",
        t if t.starts_with('i') => "a whole number",
        _ => "a value of the right kind",
    }
}

/// A `Retry-After` value in whole seconds, at least 1.
fn retry_after(wait: std::time::Duration) -> String {
    wait.as_secs().max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_worded_without_preambles_positions_or_rust_types() {
        let cases = [
            (
                "Failed to deserialize query string: duplicate field `p`",
                "`p` is given more than once",
            ),
            (
                "Invalid URL: Cannot parse `abc` to a `u64`",
                "`abc` is not a whole number, 0 or more",
            ),
            (
                "Failed to deserialize the JSON body into the target type: paper: invalid type: \
                 integer `5`, expected a string at line 1 column 11",
                "paper: invalid type: integer `5`, expected a string",
            ),
            (
                "Failed to deserialize the JSON body into the target type: invalid type: \
                 sequence, expected struct SubmitRequest at line 1 column 0",
                "invalid type: sequence, expected a JSON object",
            ),
            (
                "Failed to parse the request body as JSON: EOF while parsing an object at line 1 \
                 column 1",
                "EOF while parsing an object",
            ),
            (
                "Failed to deserialize form body: limit: invalid type: string \"x\", expected u32",
                "limit: invalid type: string \"x\", expected a whole number, 0 or more",
            ),
            (
                "Failed to deserialize form: missing field `email`",
                "missing field `email`",
            ),
            (
                "Expected request with `Content-Type: application/json`",
                "Expected request with `Content-Type: application/json`",
            ),
        ];
        for (text, words) in cases {
            assert_eq!(rejection_text(text), words, "{text}");
        }
    }

    #[test]
    fn a_bare_rejection_becomes_one_sentence() {
        assert_eq!(
            bare_error_message(
                StatusCode::BAD_REQUEST,
                &Method::GET,
                "Failed to deserialize query string: duplicate field `t`"
            ),
            "The request could not be read: `t` is given more than once."
        );
    }
}
