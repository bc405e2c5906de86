//! vaxloop's web layer: server-rendered staff and resident pages (askama + htmx), the JSON API
//! under `/api/v1` with its OpenAPI document, logins and sessions, CSRF protection, security
//! headers, zh-CN/en translations, `/healthz` and `/metrics`.
//!
//! Nothing below this crate knows about HTTP, and this crate knows nothing below the application:
//! every page and API call parses its request, calls one `vaxloop_app` use case with the caller,
//! and renders the outcome or the refusal (see ARCHITECTURE.md). Personal data reaches it masked
//! and stays masked here.

rust_i18n::i18n!("locales", fallback = "zh-CN");

pub mod api;
mod assets;
pub mod auth;
mod bearer;
pub mod config;
mod csrf;
pub mod error;
mod error_page;
pub mod furniture;
pub mod i18n;
pub mod limits;
mod messages;
mod nul;
mod ops;
pub mod pages;
pub mod qr;
mod session_store;
mod state;
mod upload;
mod who;

#[cfg(feature = "fixtures")]
pub use session_store::fixtures;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum_login::AuthManagerLayerBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::WebConfig;
pub use state::{AppState, Shared};

/// The content security policy: everything from this origin, nothing inline, no framing.
/// The QR scanner decodes in a worker it makes from a blob, and the camera plays as media.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   object-src 'none'; worker-src 'self' blob:; media-src 'self' blob: mediastream:";

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes behind the same layers (sessions, login, CSRF, security
/// headers, metrics, tracing) — for load tests that compare a handler with a trivial one served
/// exactly the same way.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    ops::install_metrics();
    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(
        state.app.clone(),
        state.seen_users.clone(),
    ))
    .with_name("vaxloop_session")
    .with_secure(state.config.secure_cookies)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
        state.config.session_minutes,
    )));
    let auth = AuthManagerLayerBuilder::new(auth::Backend::new(state.clone()), sessions).build();

    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };

    Router::new()
        .merge(extra)
        .merge(pages::routes())
        .merge(api::routes())
        .merge(assets::routes())
        .layer(axum::middleware::from_fn(nul::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::visitor,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bearer::bearer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error_page::render,
        ))
        .layer(auth)
        .merge(ops::routes(state.config.metrics_addr.is_none()))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(ops::trace_layer())
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(), geolocation=()",
        ))
        .layer(set(header::CACHE_CONTROL, "no-store"))
        // Behind TLS (secure cookies), browsers are told to come back over TLS only.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts(state.config.secure_cookies),
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            state.config.body_limit(),
        ))
        .with_state(state)
}

/// `Strict-Transport-Security` for a server behind TLS (a year, subdomains too); none on plain
/// http (the demo on 127.0.0.1), where it would mean nothing.
fn hsts(secure: bool) -> Option<HeaderValue> {
    secure.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"))
}

/// Serves the application on a bound listener until ctrl-c or SIGTERM. Every ten minutes
/// meanwhile (and once at start): expired sessions and claims, idempotency keys older than a
/// day, messages delivered more than a week ago and quiet rate-limit keys are swept, and the
/// booking window's slots are opened at every site, so a day enters the window on time.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let sweep = state.app.clone();
    let limiters = Arc::clone(&state.limiters);
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            limiters.sweep();
            match vaxloop_app::sessions::delete_expired(&sweep, vaxloop_app::now_ms()).await {
                Ok(n) if n > 0 => tracing::debug!(sessions = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
            }
            match vaxloop_app::idempotency::sweep(&sweep, vaxloop_app::now_ms()).await {
                Ok(n) if n > 0 => tracing::debug!(keys = n, "old idempotency keys removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove old idempotency keys"),
            }
            if let Err(e) = vaxloop_app::claims::sweep(&sweep, vaxloop_app::now_ms()).await {
                tracing::warn!(error = %e, "could not remove expired claims");
            }
            if let Err(e) = vaxloop_app::outbox::purge(&sweep, vaxloop_app::now_ms()).await {
                tracing::warn!(error = %e, "could not purge delivered messages");
            }
            match vaxloop_app::slots::open_windows(&sweep).await {
                Ok(n) if n > 0 => tracing::info!(slots = n, "booking window opened"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not open the booking window"),
            }
        }
    });
    let metrics = match &state.config.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "serving /metrics on its own address");
            Some(tokio::spawn(async move {
                axum::serve(listener, ops::metrics_only()).await
            }))
        }
        None => None,
    };
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    sweeper.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
