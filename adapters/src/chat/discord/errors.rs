//! Discord's errors as chat errors, the retry of the transient ones, and
//! how each request ended, for the bot's metrics (`Heard`).
//!
//! Matched on status and Discord's numeric `code`, never on message text.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::http::HttpError;

use crate::chat::ChatError;
use crate::wire::Calls;

/// How [`Calls`] name Discord.
const SERVICE: &str = "discord";

/// Where Discord's exchanges are reported (serenity makes them with its
/// own client, so each call is reported where it is made); clones share it.
///
/// The token check and the slash-command registration happen while
/// connecting, before the bot's runtime exists to give its hook: those
/// few statuses wait here and are reported when it does.
#[derive(Clone, Default)]
pub(super) struct Heard(Arc<Mutex<Hook>>);

enum Hook {
    /// Statuses heard before the hook, oldest first.
    Waiting(Vec<String>),
    Set(Calls),
}

impl Default for Hook {
    fn default() -> Self {
        Hook::Waiting(Vec::new())
    }
}

/// Start-up makes two calls and one per guild; past this many, statuses
/// heard before the hook are dropped rather than kept without bound (a
/// chat no runtime ever hooks, such as a check of the token alone).
const WAITING_AT_MOST: usize = 64;

impl Heard {
    pub(super) fn set(&self, calls: Calls) {
        let Ok(mut hook) = self.0.lock() else { return };
        if let Hook::Waiting(statuses) = &*hook {
            for status in statuses {
                calls.observe(SERVICE, status);
            }
        }
        *hook = Hook::Set(calls);
    }

    /// Reports how a request ended: its status, `timeout` or `error`.
    pub(super) fn report<T>(&self, r: &Result<T, serenity::Error>) {
        let status = match r {
            // serenity keeps a success's status to itself.
            Ok(_) => "2xx".to_string(),
            Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(e))) => {
                e.status_code.as_u16().to_string()
            }
            Err(serenity::Error::Http(HttpError::Request(e))) if e.is_timeout() => {
                "timeout".to_string()
            }
            Err(_) => "error".to_string(),
        };
        let Ok(mut hook) = self.0.lock() else { return };
        match &mut *hook {
            Hook::Set(calls) => calls.observe(SERVICE, &status),
            Hook::Waiting(statuses) if statuses.len() >= WAITING_AT_MOST => {}
            Hook::Waiting(statuses) => statuses.push(status),
        }
    }
}

/// Discord's JSON error codes we act on.
pub mod code {
    /// "A thread has already been created for this message".
    pub const THREAD_EXISTS: isize = 160_004;
}

/// The status and Discord code of a refused request, if it was one.
pub fn status_and_code(e: &serenity::Error) -> Option<(u16, isize)> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            Some((r.status_code.as_u16(), r.error.code))
        }
        _ => None,
    }
}

pub fn from_serenity(e: serenity::Error) -> ChatError {
    match &e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let what = format!("{status} (code {}): {}", r.error.code, r.error.message);
            match status {
                401 => ChatError::Unauthorized(what),
                429 | 500..=599 => ChatError::Unavailable(what),
                _ => ChatError::Refused(what),
            }
        }
        serenity::Error::Http(HttpError::Request(_)) | serenity::Error::Io(_) => {
            ChatError::Unavailable(e.to_string())
        }
        _ => ChatError::Refused(e.to_string()),
    }
}

/// Attempts of one request before its error is handed up (the executor
/// then retries the step later, or reports it).
const ATTEMPTS: u32 = 6;

/// Runs `request` until it succeeds, fails for good, or runs out of
/// attempts; waits 250 ms, 500 ms, 1 s, 2 s, 4 s between transient failures.
/// (Discord's `retry_after` does not survive serenity's error type when its
/// limiter is off; doubling waits stays clear of a ban either way.)
pub async fn with_retries<T, F, Fut>(mut request: F) -> Result<T, ChatError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChatError>>,
{
    let mut wait = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        match request().await {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "Discord request will be retried");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}
