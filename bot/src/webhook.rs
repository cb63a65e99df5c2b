//! The HTTP server: health, metrics, and Launchpad's webhook deliveries.
//!
//! `POST /hooks/launchpad` verifies `X-Hub-Signature` (HMAC-SHA1 of the raw
//! body, constant-time, against every configured secret) and refuses
//! anything unsigned or forged with 401, storing nothing; bodies over 1 MB
//! get 413. A verified delivery is committed to the store *before* the 2xx,
//! and deduplicated by `X-Launchpad-Delivery`, so Launchpad's retries (same
//! id, for up to a day) have one effect. Processing happens afterwards; a
//! delivery stored but not processed (crash) is replayed at the next start.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use shepherd_adapters::launchpad::signature::verify;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::deliveries::DeliveryWriter;
use crate::metrics::Metrics;
use crate::store::{now_ms, Delivery, Store};

/// Launchpad payloads are small JSON documents; anything bigger is refused.
pub const MAX_BODY: usize = 1 << 20;

/// Every secret a Launchpad delivery may be signed with: the configured
/// ones and those of webhooks the bot registered (added as they are made).
pub struct SecretRing {
    configured: Vec<SecretString>,
    registered: std::sync::RwLock<Vec<SecretString>>,
}

impl SecretRing {
    pub fn new(configured: Vec<SecretString>, registered: Vec<SecretString>) -> Self {
        Self {
            configured,
            registered: std::sync::RwLock::new(registered),
        }
    }

    pub fn add(&self, secret: SecretString) {
        let mut r = self.registered.write().unwrap_or_else(|p| p.into_inner());
        if !r
            .iter()
            .any(|s| s.expose_secret() == secret.expose_secret())
        {
            r.push(secret);
        }
    }

    /// Is `signature` valid for `body` under any secret? Each comparison is constant-time.
    pub fn verify(&self, body: &[u8], signature: &str) -> bool {
        let r = self.registered.read().unwrap_or_else(|p| p.into_inner());
        self.configured
            .iter()
            .chain(r.iter())
            .any(|k| verify(k.expose_secret().as_bytes(), body, signature))
    }
}

#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub secrets: Arc<SecretRing>,
    pub writer: DeliveryWriter,
    /// Wakes the processor, which reads new deliveries from the store.
    pub processor: Arc<Notify>,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/hooks/launchpad",
            post(launchpad).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
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

fn text_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn launchpad(
    State(s): State<WebState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    Metrics::bump(&s.metrics.http_requests_total);
    let reject = |status, why| {
        Metrics::bump(&s.metrics.webhook_rejected_total);
        (status, why)
    };
    let Some(signature) = text_header(&headers, "x-hub-signature") else {
        return reject(StatusCode::UNAUTHORIZED, "missing X-Hub-Signature\n");
    };
    // Every secret is tried (each comparison is constant-time); none configured = nothing verifies.
    if !s.secrets.verify(&body, signature) {
        return reject(StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    let (Some(event), Some(id)) = (
        text_header(&headers, "x-launchpad-event-type"),
        text_header(&headers, "x-launchpad-delivery"),
    ) else {
        return reject(
            StatusCode::BAD_REQUEST,
            "missing X-Launchpad-Event-Type or X-Launchpad-Delivery\n",
        );
    };
    if id.len() > 128 {
        return reject(
            StatusCode::BAD_REQUEST,
            "X-Launchpad-Delivery is too long\n",
        );
    }
    let delivery = Delivery {
        delivery_id: id.to_string(),
        source: "launchpad".into(),
        event_type: event.to_string(),
        received_at: now_ms(),
        body: body.to_vec(),
    };
    match s.writer.record(delivery).await {
        Ok(true) => {
            Metrics::bump(&s.metrics.webhook_accepted_total);
            s.processor.notify_one();
            (StatusCode::ACCEPTED, "accepted\n")
        }
        Ok(false) => {
            Metrics::bump(&s.metrics.webhook_duplicates_total);
            (StatusCode::OK, "duplicate delivery: already recorded\n")
        }
        Err(e) => {
            tracing::error!(error = %e, delivery = id, "delivery not stored; Launchpad will retry");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the delivery; retry later\n",
            )
        }
    }
}
