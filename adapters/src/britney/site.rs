//! A loopback stand-in for the proposed-migration web site: serves files
//! by path with `ETag` and `Last-Modified`, and answers conditional GETs
//! with 304, as the real static site does. Counts what it served.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[derive(Default)]
struct Files {
    /// path → (body, etag, last-modified)
    files: HashMap<String, (Vec<u8>, String, String)>,
    version: u64,
    served: u64,
    not_modified: u64,
}

#[derive(Clone)]
pub struct ExcusesSite {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Files>>,
}

fn lock(m: &Mutex<Files>) -> std::sync::MutexGuard<'_, Files> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ExcusesSite {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Files::default()));
        let app = Router::new()
            .route("/{*path}", get(serve))
            .with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        Ok(Self { addr, inner })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Publishes (or replaces) a file; it gets a new ETag and Last-Modified.
    pub fn put(&self, path: &str, body: Vec<u8>) {
        let mut f = lock(&self.inner);
        f.version += 1;
        let etag = format!("\"v{}-{}\"", f.version, body.len());
        let when = chrono::DateTime::from_timestamp(1_700_000_000 + f.version as i64 * 900, 0)
            .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        f.files
            .insert(path.trim_start_matches('/').to_string(), (body, etag, when));
    }

    /// (full responses, 304 responses) so far.
    pub fn counts(&self) -> (u64, u64) {
        let f = lock(&self.inner);
        (f.served, f.not_modified)
    }
}

async fn serve(
    State(s): State<Arc<Mutex<Files>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut f = lock(&s);
    let Some((body, etag, when)) = f.files.get(&path).cloned() else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let matches_etag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let unchanged_since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == when);
    if matches_etag || (unchanged_since && !headers.contains_key(header::IF_NONE_MATCH)) {
        f.not_modified += 1;
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    f.served += 1;
    ([(header::ETAG, etag), (header::LAST_MODIFIED, when)], body).into_response()
}
