//! Serving a simulator: every simulator listens on an ephemeral loopback
//! port and serves until the process (or test runtime) ends.

use std::net::SocketAddr;

use axum::Router;

/// Serves `app` on `127.0.0.1:<free port>` in the background; returns the address.
pub async fn serve(app: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
