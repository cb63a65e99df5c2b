//! Stopping on SIGTERM and ctrl-c.

use tokio_util::sync::CancellationToken;

/// SIGTERM and ctrl-c, watched from the moment `register` returns: a
/// signal that arrives while the bot is still starting is kept, not lost to
/// the default action (which would kill the process mid-start).
pub(super) struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub(super) fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let watch = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(error = %e, signal = name, "cannot watch the signal");
                    None
                }
            };
            Self {
                term: watch(SignalKind::terminate(), "SIGTERM"),
                interrupt: watch(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for either signal, then cancels `token` (the shutdown every
    /// task watches).
    pub(super) async fn cancel_on_signal(self, token: CancellationToken) {
        #[cfg(unix)]
        {
            let recv = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = recv(self.term) => {}
                _ = recv(self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        token.cancel();
    }
}
