//! The forms members post, as extractors: a handler that takes a [`MemberForm`] or an
//! [`AdminForm`] runs only once the body has been read and the request has passed the session
//! and CSRF checks (and, for an admin form, the viewer is an admin).

use axum::Json;
use axum::extract::{Form, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::error::PageError;
use super::session::{self, Refused, Viewer};
use crate::app::App;

/// A form body that carries the page's CSRF token.
pub trait Posted: DeserializeOwned + Send {
    /// Names the form in the 400 an unreadable body gets: "The {NAME} form was incomplete."
    const NAME: &'static str;

    fn csrf(&self) -> &str;

    /// What a missing or unreadable body counts as: by default, a 400 naming the form.
    fn unreadable() -> Result<Self, PageError> {
        Err(PageError::BadRequest(format!(
            "The {} form was incomplete.",
            Self::NAME
        )))
    }
}

/// A form that carries nothing but its CSRF token.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

impl Posted for CsrfForm {
    /// Never shown: an unreadable body reads as an empty token instead (below).
    const NAME: &'static str = "token-only";

    fn csrf(&self) -> &str {
        &self.csrf
    }

    /// An empty token, which the CSRF check refuses (so a lost body reads as a forged post).
    fn unreadable() -> Result<Self, PageError> {
        Ok(CsrfForm::default())
    }
}

/// A form posted by a logged-in member, checked by [`guard`].
pub struct MemberForm<T> {
    pub viewer: Viewer,
    pub form: T,
}

/// A form posted by an admin: the viewer must be an admin (anyone else gets a 404, as if there
/// were nothing there), then [`MemberForm`]'s checks.
pub struct AdminForm<T> {
    pub viewer: Viewer,
    pub form: T,
}

impl<T: Posted> FromRequest<App> for MemberForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Response> {
        let (headers, form) = read::<T>(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let viewer = guard(app, &headers, form.csrf()).map_err(|refused| *refused)?;
        Ok(MemberForm { viewer, form })
    }
}

impl<T: Posted> FromRequest<App> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Response> {
        // Anyone but an admin finds nothing here, whatever they send: the session is checked
        // before the body, so not even a 400 tells them the address exists.
        if !session::current().is_some_and(|v| v.member.is_admin) {
            return Err(not_admin().into_response());
        }
        let MemberForm { viewer, form } = MemberForm::<T>::from_request(req, app).await?;
        Ok(AdminForm { viewer, form })
    }
}

/// What a non-admin sees at an admin address.
pub fn not_admin() -> PageError {
    PageError::NotFound("There is nothing at this address.".into())
}

/// The request's headers and its form body, or the error for a body that does not read.
async fn read<T: Posted>(req: Request, app: &App) -> Result<(HeaderMap, T), PageError> {
    let headers = req.headers().clone();
    let form = match Form::<T>::from_request(req, app).await {
        Ok(Form(form)) => form,
        Err(_) => T::unreadable()?,
    };
    Ok((headers, form))
}

/// Checks an unsafe request from a member; Err is the response to send instead: a 403 for a
/// forged or stale form, and for a visitor who is not logged in, a 401 to a script that asked for
/// JSON or a redirect to the login page. (Boxed: the rare path, and it keeps the `Result` small.)
fn guard(app: &App, headers: &HeaderMap, csrf: &str) -> Result<Viewer, Box<Response>> {
    Err(Box::new(match session::check_unsafe(app, headers, csrf) {
        Ok(v) => return Ok(v),
        Err(Refused::Forged) => PageError::Forbidden(
            "This form was sent from another site, or the page was too old. Reload it and try again."
                .into(),
        )
        .into_response(),
        Err(Refused::LoggedOut) if super::community::wants_json(headers) => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "Log in first", "login": "/login"})),
        )
            .into_response(),
        Err(Refused::LoggedOut) => Redirect::to("/login").into_response(),
    }))
}
