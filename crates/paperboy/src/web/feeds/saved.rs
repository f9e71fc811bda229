//! A member's private feed of saved papers, at `/saved/{token}/feed.{rss,atom,json}`.
//!
//! The token is the only credential (feed readers have no session), so it is 32 random bytes,
//! the store keeps only its SHA-256 digest, and the member sees it once, when it is made (like
//! an API token). Making a new one replaces the old one; revoking deletes it. An unknown or
//! revoked token, or a malformed one, is a plain 404 that says nothing about why.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{FEED_LIMIT, FeedFormat, FeedMeta, format_of, respond};
use crate::app::App;
use crate::store::Store;
use crate::web::error::PageError;
use crate::web::session;

/// Random bytes in a token; base64url makes them 43 characters.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// Makes a new feed token for the member, replacing any earlier one, and returns it; only its
/// digest is stored.
pub async fn create_token(
    store: &Store,
    account_id: i64,
    now: DateTime<Utc>,
) -> crate::store::Result<String> {
    let token = session::random_secret(TOKEN_BYTES);
    store
        .set_saved_feed_token(account_id, &session::digest(&token), now)
        .await?;
    Ok(token)
}

/// The metadata of the saved-papers feed whose URL holds `token`.
pub fn meta(token: &str, username: &str) -> FeedMeta {
    FeedMeta {
        title: format!("Saved papers of {username}"),
        description: "Papers saved on paperboy, most recently saved first. This feed's address \
                      is private: anyone who has it can read the list."
            .into(),
        page_path: "/saved".into(),
        feed_path: format!("/saved/{token}/feed"),
        query: None,
        private: true,
        dated_by_items: false,
    }
}

/// True for text that could be a token this module made (43 base64url characters).
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn no_such_feed() -> PageError {
    PageError::NotFound("There is no such feed.".into())
}

/// `GET /saved/{token}/feed.*`: the token's member's saved papers, most recently saved first.
pub async fn feed(
    State(app): State<App>,
    Path((token, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let format: FeedFormat = format_of(&file)?;
    if !well_formed(&token) {
        return Err(no_such_feed());
    }
    let Some(account_id) = app.store.saved_feed_owner(&session::digest(&token)).await? else {
        return Err(no_such_feed());
    };
    let member = app.store.member(account_id).await?;
    let papers = app
        .store
        .saved_papers(account_id, FEED_LIMIT as u32)
        .await?;
    respond(
        &app,
        format,
        &meta(&token, &member.username),
        &papers,
        &headers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_of_the_right_shape_reach_the_store() {
        assert!(well_formed(&session::random_secret(TOKEN_BYTES)));
        for bad in [
            "",
            "short",
            &"a".repeat(42),
            &"a".repeat(44),
            &format!("{}/", "a".repeat(42)),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn the_private_feed_points_home_without_its_token() {
        let token = "A".repeat(TOKEN_CHARS);
        let meta = meta(&token, "ada");
        assert!(meta.private);
        assert_eq!(
            meta.feed_href(FeedFormat::Atom),
            format!("/saved/{token}/feed.atom")
        );
        assert_eq!(meta.page_href(), "/saved");
    }
}
