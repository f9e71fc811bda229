//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and the response types' `ToSchema` derives, and the vendored Swagger UI that
//! renders it at `/api/docs`.
//!
//! **Invariant:** every `/api` route in `web::router` is in the document (a test below reads the
//! route list), and every documented error is the JSON [`ErrorBody`] that `ApiError` sends.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa_swagger_ui::SwaggerUi;

use super::error::ErrorBody;
use super::{api, api_write};

/// The document: every path, the schemas they use (collected from the paths), and the tags.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "paperboy API",
        description = "Read paperboy's daily papers. `/api/daily_papers` and `/api/papers/{id}` \
                       answer exactly as Hugging Face's endpoints of the same name, so \
                       `huggingface_hub` works against paperboy with `HF_ENDPOINT`. Errors are \
                       JSON `{\"error\": \"…\"}`. RSS, Atom and JSON feeds of every list are \
                       announced in each page's head (`<link rel=\"alternate\">`)."
    ),
    paths(
        api::daily_papers,
        api::paper_info,
        api::paper_markdown,
        super::search::search_api,
        api_write::upvote,
        api_write::unvote,
        api_write::submit,
        api_write::comment,
        openapi_json
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerToken),
    tags(
        (name = "papers", description = "Papers and the daily feed, Hugging Face-compatible."),
        (name = "members", description = "Writes by members, with a personal API token from /settings (`Authorization: Bearer pb_…`)."),
        (name = "meta", description = "This document.")
    )
)]
pub struct ApiDoc;

/// Declares the `token` security scheme: a personal API token as a bearer token.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This OpenAPI document.
///
/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object))
)]
pub async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => super::error::ApiError::Internal(
            anyhow::Error::new(e).context("serialising the OpenAPI document"),
        )
        .into_response(),
    }
}

/// The schema of `/api/daily_papers`'s `sort`: one of two words.
pub fn daily_sort_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["publishedAt", "trending"]))
        .description(Some(
            "`publishedAt` (the default): a period in upvote order, or without a period the \
             newest day first; with a period, `publishedAt` orders by arXiv publication instead. \
             `trending` without a period: the hot ranking of the last seven days.",
        ))
}

/// The one inline `<style>` Swagger UI 5.32.6 writes: the colours of its logo, inside the SVG
/// (`.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}`).
const SWAGGER_LOGO_STYLE_HASH: &str = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/// Swagger UI at `/api/docs`, from the files vendored in `utoipa-swagger-ui` (no CDN), reading
/// `/api/openapi.json`.
///
/// Its scripts are files (`swagger-initializer.js` holds the configuration), so `script-src
/// 'self'` stands. The only relaxation of the site's CSP, on these routes alone, is the hash of
/// the logo's inline `<style>`: allowing exactly that text keeps every other inline style
/// blocked. The online validator badge, the one thing that would reach another origin, is off.
pub fn swagger_ui<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = utoipa_swagger_ui::Config::from("/api/openapi.json")
        .validator_url("none")
        .try_it_out_enabled(true);
    let csp = super::CSP.replace(
        "style-src 'self'",
        &format!("style-src 'self' {SWAGGER_LOGO_STYLE_HASH}"),
    );
    Router::from(SwaggerUi::new("/api/docs").config(config)).layer(
        SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).expect("the CSP is a valid header value"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/api` paths that are routed but deliberately not operations of the document.
    const UNDOCUMENTED: [&str; 1] = [
        // The JSON 404 for unknown `/api` paths.
        "/api/{*rest}",
    ];

    #[test]
    fn every_api_route_in_the_router_is_documented() {
        let doc = ApiDoc::openapi();
        let routes: Vec<&str> = include_str!("mod.rs")
            .split(".route(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|path| path.starts_with("/api/"))
            .collect();
        assert!(routes.contains(&"/api/daily_papers"), "{routes:?}");
        for route in routes {
            if UNDOCUMENTED.contains(&route) {
                continue;
            }
            // axum's `{*id}` catch-all is OpenAPI's `{id}`.
            let path = route.replace("{*", "{");
            assert!(
                doc.paths.paths.contains_key(&path),
                "{route} is routed but missing from the OpenAPI document"
            );
        }
    }

    #[test]
    fn the_docs_csp_differs_from_the_site_csp_only_by_the_logo_hash() {
        assert!(super::super::CSP.contains("style-src 'self';"));
        let relaxed = super::super::CSP.replace(
            "style-src 'self'",
            &format!("style-src 'self' {SWAGGER_LOGO_STYLE_HASH}"),
        );
        assert_ne!(relaxed, super::super::CSP);
        assert!(relaxed.contains("script-src 'self';"));
    }

    #[test]
    fn the_document_is_openapi_3_1_with_json_errors() {
        let doc: serde_json::Value =
            serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let content = response["content"].as_object().unwrap();
                        assert!(
                            !content.is_empty(),
                            "{method} {path} {status} has no content"
                        );
                    }
                }
            }
        }
        let daily = &doc["paths"]["/api/daily_papers"]["get"];
        assert!(daily["responses"]["400"].is_object(), "{daily}");
    }
}
