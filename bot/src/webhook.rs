//! The HTTP server: health, metrics, and the webhook routes.
//!
//! Launchpad deliveries arrive at `/hooks/launchpad`; verifying, storing and
//! deduplicating them is the Launchpad integration's job, so until that
//! lands the route answers 501 and stores nothing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/hooks/launchpad", post(launchpad))
        .with_state(state)
}

/// Serves until `shutdown`, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Healthy = the store answers.
async fn healthz(State(s): State<WebState>) -> impl IntoResponse {
    Metrics::bump(&s.metrics.http_requests_total);
    match s.store.open_step_count().await {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}

async fn metrics(State(s): State<WebState>) -> impl IntoResponse {
    Metrics::bump(&s.metrics.http_requests_total);
    let open = s.store.open_step_count().await.unwrap_or(-1);
    let body = s.metrics.render(&[(
        "open_steps",
        "Steps waiting to run or running (-1: store unavailable).",
        open,
    )]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

async fn launchpad(State(s): State<WebState>) -> impl IntoResponse {
    Metrics::bump(&s.metrics.http_requests_total);
    (
        StatusCode::NOT_IMPLEMENTED,
        "Launchpad webhooks are not handled by this build yet\n",
    )
}
