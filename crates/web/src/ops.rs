//! Operations endpoints, outside the session layer so probes create no sessions: `/healthz`
//! (200 while the database answers, 503 when it does not) and `/metrics` (Prometheus text), plus
//! the middleware that counts requests by route and status.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::AppState;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide metrics recorder once (tests build many apps in one process).
pub fn install_metrics() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full("http_request_duration_seconds".into()),
                &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            );
            match builder.and_then(|b| b.install_recorder()) {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// `/healthz`, and `/metrics` unless the metrics are served on an internal address of their own
/// (`WebConfig::metrics_addr`, see [`metrics_only`]).
pub fn routes(with_metrics: bool) -> Router<AppState> {
    let router = Router::new().route("/healthz", get(healthz));
    if with_metrics {
        router.route("/metrics", get(metrics))
    } else {
        router
    }
}

/// `/metrics` alone, for the internal address.
pub fn metrics_only() -> Router {
    install_metrics();
    Router::new().route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.health().await {
        Ok(backend) => {
            Json(serde_json::json!({ "status": "ok", "database": backend })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}

async fn metrics() -> Response {
    match install_metrics() {
        Some(handle) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Counts every request and its duration, labelled by route template (never by raw path, which
/// could hold codes or tokens) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Request logs: method, route template, status and latency — never the raw path or query,
/// which may carry codes or tokens, and never bodies.
pub fn trace_layer() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&axum::http::Request<axum::body::Body>) -> tracing::Span + Clone,
> {
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), route = %route)
        })
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO))
}
