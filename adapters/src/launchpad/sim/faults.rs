//! Trouble injected into the simulator, and the log of what it received:
//! the next request of a method (or of any) gets an error status, a
//! redirect, or a delay before its normal answer.

use std::collections::VecDeque;
use std::time::Duration;

use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::responses::text;
use crate::sim_faults::{reason, Drawn};

#[derive(Debug, Clone)]
pub(super) enum Trouble {
    /// Answer with this status and body instead.
    Status(u16, String),
    /// Answer with this redirect status and `Location` instead.
    Redirect(u16, String),
    /// Answer normally, this much later.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub(super) struct Fault {
    /// `None`: the next request of any method.
    pub method: Option<Method>,
    pub trouble: Trouble,
}

/// One request as the simulator received it (faults included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    /// The path after the service root's host, e.g. `/devel/~owner/+snap/name`.
    pub path: String,
    /// Did it carry an `Authorization` header?
    pub authorized: bool,
}

impl Received {
    pub(super) fn new(method: &Method, path: &str, headers: &HeaderMap) -> Self {
        Self {
            method: method.to_string(),
            path: path.to_string(),
            authorized: headers.contains_key(header::AUTHORIZATION),
        }
    }
}

/// The first fault meant for `method`, removed from the queue.
pub(super) fn take(faults: &mut VecDeque<Fault>, method: &Method) -> Option<Trouble> {
    let i = faults
        .iter()
        .position(|f| f.method.as_ref().is_none_or(|m| m == method))?;
    faults.remove(i).map(|f| f.trouble)
}

/// A fault for this request at the configured random rate (see
/// `sim_faults`); a late one is waited out before the work.
pub(super) fn at_random(st: &super::state::Inner) -> Option<Trouble> {
    Some(match st.random.draw()? {
        Drawn::Late(d) => Trouble::Slow(d),
        Drawn::Status(code) => Trouble::Status(code, reason(code).into()),
    })
}

/// The answer that replaces the normal one, if any (`Slow` has none).
pub(super) fn answer(trouble: &Trouble) -> Option<Response> {
    match trouble {
        Trouble::Status(code, body) => Some(text(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            body.clone(),
        )),
        Trouble::Redirect(code, location) => Some(
            (
                StatusCode::from_u16(*code).unwrap_or(StatusCode::FOUND),
                [(header::LOCATION, location.clone())],
                "",
            )
                .into_response(),
        ),
        Trouble::Slow(_) => None,
    }
}
