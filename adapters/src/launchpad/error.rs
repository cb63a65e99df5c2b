//! What can go wrong talking to Launchpad. Every error of an HTTP exchange
//! names the request (`POST https://…/+snap/maas`), keeps Launchpad's own
//! words (HTML entities decoded), and says whether trying later may help.

use thiserror::Error;

use crate::wire::resend::Failure;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum LpError {
    /// A bad argument caught before anything was sent.
    #[error("not sent to Launchpad: {0}")]
    Invalid(String),
    #[error("cannot set up the Launchpad client: {0}")]
    Setup(String),
    /// Bad, expired or unknown token — or no permission; Launchpad uses 401 for both.
    #[error("{request}: Launchpad refused the credentials (401): {body}")]
    Unauthorized { request: String, body: String },
    #[error("{request}: Launchpad forbids this (403): {body}")]
    Forbidden { request: String, body: String },
    #[error("{request}: Launchpad rejected the request (400): {body}")]
    BadRequest { request: String, body: String },
    #[error("{request}: not found on Launchpad (404): {body}")]
    NotFound { request: String, body: String },
    #[error("{request}: conflict on Launchpad (409): {body}")]
    Conflict { request: String, body: String },
    #[error("{request}: changed on Launchpad since it was read (412)")]
    PreconditionFailed { request: String },
    #[error("{request}: Launchpad answered {status}: {body}")]
    Server {
        request: String,
        status: u16,
        body: String,
    },
    /// A redirect the client must not follow (a write would be sent again,
    /// or too many hops).
    #[error("{request}: Launchpad redirected it ({status}) to {location}, not followed: {reason}")]
    Redirected {
        request: String,
        status: u16,
        location: String,
        reason: String,
    },
    #[error("{request}: cannot reach Launchpad: {message}")]
    Network { request: String, message: String },
    #[error("unexpected answer from Launchpad: {0}")]
    Decode(String),
}

impl LpError {
    /// Overload, maintenance, timeouts: worth trying again later. Says
    /// nothing about whether the client itself tried again (writes never are).
    pub fn is_transient(&self) -> bool {
        self.failure().is_some_and(Failure::is_transient)
    }

    /// How the exchange failed, for deciding whether to send it again;
    /// `None` for errors found before sending or in reading an answer.
    pub(crate) fn failure(&self) -> Option<Failure> {
        let status = match self {
            LpError::Network { .. } => return Some(Failure::Network),
            LpError::BadRequest { .. } => 400,
            LpError::Unauthorized { .. } => 401,
            LpError::Forbidden { .. } => 403,
            LpError::NotFound { .. } => 404,
            LpError::Conflict { .. } => 409,
            LpError::PreconditionFailed { .. } => 412,
            LpError::Server { status, .. } => *status,
            LpError::Invalid(_)
            | LpError::Setup(_)
            | LpError::Redirected { .. }
            | LpError::Decode(_) => return None,
        };
        Some(Failure::Status(status))
    }

    /// Launchpad's own words, for errors that carry them.
    pub fn body(&self) -> Option<&str> {
        match self {
            LpError::Unauthorized { body, .. }
            | LpError::Forbidden { body, .. }
            | LpError::BadRequest { body, .. }
            | LpError::NotFound { body, .. }
            | LpError::Conflict { body, .. }
            | LpError::Server { body, .. } => Some(body),
            _ => None,
        }
    }

    /// An error answer: `request` is `METHOD URL`, `body` Launchpad's text
    /// (plain text with HTML entities, e.g. `&#x27;`).
    pub(super) fn from_status(request: String, status: u16, body: &str) -> Self {
        let body = crate::wire::html::decode_entities(body.trim());
        match status {
            400 => LpError::BadRequest { request, body },
            401 => LpError::Unauthorized { request, body },
            403 => LpError::Forbidden { request, body },
            404 => LpError::NotFound { request, body },
            409 => LpError::Conflict { request, body },
            412 => LpError::PreconditionFailed { request },
            status => LpError::Server {
                request,
                status,
                body,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> String {
        "GET https://api.launchpad.net/devel/~x".into()
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        assert_eq!(
            LpError::from_status(req(), 401, " Expired token (x).\n"),
            LpError::Unauthorized {
                request: req(),
                body: "Expired token (x).".into()
            }
        );
        assert!(LpError::from_status(req(), 503, "").is_transient());
        assert!(!LpError::from_status(req(), 400, "x").is_transient());
        assert!(!LpError::from_status(req(), 500, "x").is_transient());
        assert_eq!(
            LpError::from_status(req(), 412, ""),
            LpError::PreconditionFailed { request: req() }
        );
        assert_eq!(
            LpError::from_status(req(), 404, "a &amp; b").body(),
            Some("a & b")
        );
    }

    #[test]
    fn an_answer_fails_with_its_own_status() {
        for status in [400, 401, 403, 404, 409, 412, 500, 502, 503, 504] {
            assert_eq!(
                LpError::from_status(req(), status, "").failure(),
                Some(Failure::Status(status))
            );
        }
    }

    #[test]
    fn local_checks_do_not_read_as_launchpads_answer() {
        let e = LpError::Invalid("`x` is not OWNER/NAME".into());
        assert_eq!(
            e.to_string(),
            "not sent to Launchpad: `x` is not OWNER/NAME"
        );
        assert!(!e.is_transient() && e.body().is_none() && e.failure().is_none());
    }
}
