//! The single place where errors become HTTP responses: HTML pages for people, JSON for the API.

use axum::Json;
use axum::http::StatusCode;
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
                    "Too many requests. Please try again in a moment.",
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

/// A `Retry-After` value in whole seconds, at least 1.
fn retry_after(wait: std::time::Duration) -> String {
    wait.as_secs().max(1).to_string()
}
