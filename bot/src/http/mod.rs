//! The HTTP server: health, metrics, and webhook deliveries.
//!
//! `POST /hooks/{source}` hands the delivery to that service's receiver
//! (`shepherd_adapters::webhook::Receiver`), which checks its signature and
//! headers; anything unsigned or forged gets 401 and nothing is stored;
//! bodies over 1 MB get 413. A genuine delivery is committed to the store
//! *before* the 2xx, and deduplicated by the service's delivery id, so the
//! sender's retries have one effect. Processing happens afterwards; a
//! delivery stored but not processed (crash) is replayed at the next start.
//!
//! The server is bounded: at most `max_connections` connections are served
//! at once (the rest wait in the kernel's backlog, costing no descriptor),
//! a client must send its headers within `header_timeout` (also between
//! keep-alive requests) and its body within `body_timeout`.

pub mod delivery_writer;

use std::sync::Arc;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use prometheus_client::encoding::prometheus_text;
use shepherd_adapters::webhook::{Receiver, Refused};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::metrics::{Metrics, WebhookOutcome};
use crate::store::{now_ms, Delivery, Store};
use delivery_writer::DeliveryWriter;

/// Webhook payloads are small JSON documents; anything bigger is refused.
pub const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// One per service that posts webhooks.
    pub receivers: Arc<Vec<Arc<dyn Receiver>>>,
    pub writer: DeliveryWriter,
    /// Wakes the processor, which reads new deliveries from the store.
    pub processor: Arc<Notify>,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
    /// When registered webhook secrets were last read from the store.
    pub secrets_read: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// Least time between two reads of the registered secrets that a bad
/// signature triggers: a flood of forgeries costs four small reads a
/// second. (A genuine delivery refused meanwhile is sent again by
/// Launchpad, which retries failed deliveries.)
const SECRETS_REREAD: Duration = Duration::from_millis(250);

/// How much of the process the HTTP server may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// In-flight requests get this long to finish once shutdown is signalled.
const DRAIN: Duration = Duration::from_secs(5);

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/hooks/{source}", post(hook))
        .with_state(state)
}

/// Serves until `shutdown`, then gives in-flight requests [`DRAIN`] to finish.
pub async fn serve(
    listener: TcpListener,
    state: WebState,
    limits: Limits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let metrics = state.metrics.clone();
    let app = router(state);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        // A permit first: past the limit, connections wait in the backlog.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a reset before accept:
                    // pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        Metrics::bump(&metrics.http_connections_total);
        let service = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        // Finished connections are reaped as new ones come.
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            // Timeouts and resets end here; nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => {
            tracing::warn!("HTTP connections still open after the drain; closing them");
            connections.abort_all();
        }
    }
    Ok(())
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
    // Read from the store at each scrape: what the store says is the truth.
    let open = s.store.open_step_count().await;
    let plans = s.store.plan_counts_by_state().await;
    if let Err(e) = open.as_ref().and(plans.as_ref()) {
        tracing::warn!(error = %e, "metrics: store unavailable");
    }
    s.metrics
        .set_store_gauges(open.ok(), plans.as_ref().ok().map(Vec::as_slice));
    let body = s.metrics.render();
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        body,
    )
}

fn text_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The body, read within `timeout` and at most [`MAX_BODY`] bytes.
async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, (StatusCode, &'static str)> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err(if too_big {
                (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MB\n")
            } else {
                (StatusCode::BAD_REQUEST, "could not read the body\n")
            })
        }
        Err(_) => Err((StatusCode::REQUEST_TIMEOUT, "body not sent in time\n")),
    }
}

/// `POST /hooks/{source}`: the service's receiver checks the delivery;
/// only a genuine one is stored (and acknowledged only once it is).
async fn hook(
    State(s): State<WebState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, &'static str) {
    Metrics::bump(&s.metrics.http_requests_total);
    let reject = |status, why| {
        s.metrics.webhook(WebhookOutcome::Rejected);
        (status, why)
    };
    let Some(receiver) = s.receivers.iter().find(|r| r.source() == source) else {
        return reject(StatusCode::NOT_FOUND, "no such webhook source\n");
    };
    let declared = text_header(&headers, "content-length").and_then(|l| l.parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_BODY) {
        return reject(StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MB\n");
    }
    let body = match read_body(body, s.body_timeout).await {
        Ok(b) => b,
        Err((status, why)) => return reject(status, why),
    };
    let header = |name: &str| text_header(&headers, name).map(str::to_string);
    let mut verdict = receiver.receive(&header, &body);
    // Signed by no secret we know: perhaps by one another replica just
    // registered (`!webhook register` there). The store has it.
    if verdict == Err(Refused::BadSignature) && learn_registered(&s, receiver.as_ref()).await {
        verdict = receiver.receive(&header, &body);
    }
    let received = match verdict {
        Ok(r) => r,
        Err(refused) => {
            let status = StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return reject(status, refused.reason());
        }
    };
    let id = received.delivery_id.clone();
    let delivery = Delivery {
        delivery_id: received.delivery_id,
        source: receiver.source().into(),
        event_type: received.event_type,
        received_at: now_ms(),
        body: body.to_vec(),
        hook_target: received.hook_target,
    };
    match s.writer.record(delivery).await {
        Ok(true) => {
            s.metrics.webhook(WebhookOutcome::Accepted);
            s.processor.notify_one();
            (StatusCode::ACCEPTED, "accepted\n")
        }
        Ok(false) => {
            s.metrics.webhook(WebhookOutcome::Duplicate);
            (StatusCode::OK, "duplicate delivery: already recorded\n")
        }
        Err(e) => {
            s.metrics.webhook(WebhookOutcome::StoreUnavailable);
            tracing::error!(error = %e, source, delivery = id, "delivery not stored; the sender will retry");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the delivery; retry later\n",
            )
        }
    }
}

/// Reads the webhooks registered in the store into `receiver` (at most
/// once a [`SECRETS_REREAD`]); whether it did.
async fn learn_registered(s: &WebState, receiver: &dyn Receiver) -> bool {
    {
        let mut last = s.secrets_read.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < SECRETS_REREAD) {
            return false;
        }
        *last = Some(std::time::Instant::now());
    }
    match s.store.registered_hooks().await {
        Ok(hooks) => {
            for h in hooks.into_iter().filter(|h| h.source == receiver.source()) {
                receiver.learn(&h.target, h.secret);
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read registered webhook secrets");
            false
        }
    }
}
