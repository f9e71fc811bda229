//! Prometheus metrics: requests by route and status, latency histograms, and store sizes.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::app::App;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PaperLabels {
    state: &'static str,
}

/// The process's metrics. Each `App` owns one registry, so tests never share counters.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    papers: Family<PaperLabels, Gauge>,
    feed_days: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("paperboy");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let papers = Family::<PaperLabels, Gauge>::default();
        registry.register(
            "papers",
            "Papers in the store (all, and on the daily feed)",
            papers.clone(),
        );
        let feed_days = Gauge::default();
        registry.register(
            "feed_days",
            "Daily dates that have papers",
            feed_days.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            papers,
            feed_days,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

/// Middleware that counts and times every request under its route pattern and method (never
/// the raw path, nor a method outside the standard ones, which would let clients create
/// unbounded label values).
pub async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = if STANDARD_METHODS.contains(req.method()) {
        req.method().as_str().to_owned()
    } else {
        "other".to_owned()
    };
    let start = Instant::now();
    let response = next.run(req).await;
    app.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// HTTP's nine standard methods: any other is counted as "other".
const STANDARD_METHODS: [axum::http::Method; 9] = {
    use axum::http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ]
};

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(State(app): State<App>) -> Response {
    match app.store.counts().await {
        Ok(counts) => {
            app.metrics
                .papers
                .get_or_create(&PaperLabels { state: "all" })
                .set(counts.papers);
            app.metrics
                .papers
                .get_or_create(&PaperLabels { state: "on_feed" })
                .set(counts.papers_on_feed);
            app.metrics.feed_days.set(counts.feed_days);
        }
        Err(e) => tracing::warn!(error = ?e, "metrics: counting papers failed"),
    }
    let mut body = String::new();
    if let Err(e) = encode(&mut body, &app.metrics.registry) {
        tracing::error!(error = ?e, "metrics: encoding failed");
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /healthz`: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(app): State<App>) -> Response {
    match app.store.counts().await {
        Ok(c) => {
            axum::Json(serde_json::json!({"status": "ok", "papers": c.papers})).into_response()
        }
        Err(e) => {
            tracing::error!(error = ?e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}
