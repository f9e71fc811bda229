//! The HTTP server: every route in one list, security headers, limits and metrics.
//!
//! **Invariant:** axum types do not leave `web/`; handlers translate to and from domain types.

pub mod account;
pub mod admin;
pub mod api;
pub mod api_write;
pub mod assets;
pub mod community;
pub mod error;
pub mod feed;
pub mod feeds;
pub mod hf;
pub mod login;
pub mod member_form;
pub mod metrics;
pub mod openapi;
pub mod page_cache;
pub mod pages;
pub mod rate_limit;
pub mod search;
pub mod session;
pub mod subscribe;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::App;

/// The content security policy: everything from this origin, no inline script, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'; form-action 'self'";

/// Largest request body accepted (the read API takes none; forms later stay small).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Every route paperboy serves.
pub fn router(app: App) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/papers/date/{date}", get(pages::day))
        .route("/papers/week/{week}", get(pages::week))
        .route("/papers/month/{month}", get(pages::month))
        // A paper's page, and its POST actions `{id}/upvote`, `{id}/save` and `{id}/comments`
        // (old-style ids hold a slash, so they share the catch-all; `community::paper_route`).
        .route("/papers/{*id}", any(community::paper_route))
        .route("/trending", get(pages::trending))
        .route("/members/{username}", get(pages::member))
        .route("/about", get(pages::about))
        // Members (see `login`, `community`, `account`, `admin`): unsafe methods only, so a GET
        // on any of these mutating routes gets 405.
        .route("/login", get(login::login_form).post(login::request_link))
        .route(
            "/login/confirm",
            get(login::confirm_page).post(login::confirm),
        )
        .route("/logout", post(login::logout))
        .route("/comments/{id}/edit", post(community::edit_comment))
        .route("/comments/{id}/delete", post(community::delete_comment))
        .route("/saved", get(community::saved))
        .route(
            "/saved/feed-token",
            post(community::create_saved_feed_token),
        )
        .route(
            "/saved/feed-token/revoke",
            post(community::revoke_saved_feed_token),
        )
        .route(
            "/submit",
            get(community::submit_form).post(community::submit),
        )
        .route("/settings", get(account::settings))
        .route("/settings/profile", post(account::save_profile))
        .route("/settings/tokens", post(account::create_api_token))
        .route(
            "/settings/tokens/{id}/revoke",
            post(account::revoke_api_token),
        )
        .route("/admin", get(admin::admin))
        .route("/admin/papers/hide", post(admin::hide_paper))
        .route("/admin/comments/{id}/hide", post(admin::hide_comment))
        .route("/admin/members/{id}/ban", post(admin::ban_member))
        .route("/search", get(search::search_page))
        .route(
            "/subscribe",
            get(subscribe::subscribe_form).post(subscribe::subscribe),
        )
        .route(
            "/subscribe/confirm",
            get(subscribe::confirm_page).post(subscribe::confirm),
        )
        .route(
            "/unsubscribe/{token}",
            get(subscribe::unsubscribe_page).post(subscribe::unsubscribe),
        )
        .route(
            "/preferences/{token}",
            get(subscribe::preferences_form).post(subscribe::save_preferences),
        )
        // Feeds: a list page's path plus /feed.rss, /feed.atom or /feed.json (see `feeds`).
        .route("/feed.rss", get(feeds::latest))
        .route("/feed.atom", get(feeds::latest))
        .route("/feed.json", get(feeds::latest))
        .route("/papers/date/{date}/{file}", get(feeds::day))
        .route("/papers/week/{week}/{file}", get(feeds::week))
        .route("/papers/month/{month}/{file}", get(feeds::month))
        .route("/trending/{file}", get(feeds::trending))
        .route("/members/{username}/{file}", get(feeds::member))
        .route("/search/{file}", get(search::search_feed))
        // A member's private feed: the token is the credential (`feeds::saved`).
        .route("/saved/{token}/{file}", get(feeds::saved::feed))
        .route("/api/daily_papers", get(api::daily_papers))
        .route("/api/papers/submit", post(api_write::submit))
        .route("/api/papers/search", get(search::search_api))
        // GET a paper, POST/DELETE `{id}/upvote`, POST `{id}/comment` (`api_write::papers_route`).
        .route("/api/papers/{*id}", any(api_write::papers_route))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/{*rest}", any(api::unknown_endpoint))
        .merge(openapi::swagger_ui())
        .route("/static/{*path}", get(assets::static_file))
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            session::load,
        ))
        // Inside the metrics, so cached answers are counted; outside the session, so a hit
        // reads no session (a cached request has no cookie).
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            page_cache::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ));
    routes
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        // Outside the timeout, the body limit and the panic guard, so their answers get the
        // site's shape too.
        .layer(axum::middleware::from_fn(error::dress))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes, then drains open requests.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
