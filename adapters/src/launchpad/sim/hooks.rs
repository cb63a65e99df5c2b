//! The simulated webhooks of a snap: `newWebhook` (http(s) delivery URLs
//! and `snap:build:0.1` events only), listing them (secrets never shown),
//! and `setSecret`. Tests read what was registered through
//! `LaunchpadSim::webhooks`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::responses::{created, ok_json, page, text};
use super::routes::Req;
use super::state::{Inner, SimHook};

pub(super) fn new_webhook(
    st: &mut Inner,
    who: Option<String>,
    target: &str,
    param: &dyn Fn(&str) -> Option<String>,
    base: &str,
) -> Response {
    if who.is_none() {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Snap object>, 'newWebhook', 'launchpad.Edit')",
        );
    }
    let Some(url) =
        param("delivery_url").filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "delivery_url: Only http and https URIs may be used.",
        );
    };
    let events: Vec<String> = param("event_types")
        .and_then(|e| serde_json::from_str(&e).ok())
        .unwrap_or_default();
    if let Some(bad) = events.iter().find(|e| e.as_str() != "snap:build:0.1") {
        return text(
            StatusCode::BAD_REQUEST,
            format!("event_types: Invalid value '{bad}'"),
        );
    }
    let id = st.new_id();
    st.hooks.push(SimHook {
        target: target.to_string(),
        id,
        delivery_url: url,
        event_types: events,
        secret: param("secret")
            .unwrap_or_default()
            .trim_matches('"')
            .to_string(),
    });
    created(format!("{base}/+webhook/{id}"))
}

/// `…/webhooks`: the target's hooks, without their secrets.
pub(super) fn list(st: &Inner, req: &Req<'_>) -> Response {
    let target = req.path.trim_end_matches("/webhooks").to_string();
    let entries = st
        .hooks
        .iter()
        .filter(|h| h.target == target)
        .map(|h| {
            json!({
                "self_link": format!("{}{target}/+webhook/{}", st.root, h.id),
                "delivery_url": h.delivery_url, "event_types": h.event_types, "active": true,
            })
        })
        .collect();
    ok_json(page(entries, req.query, req.base))
}

/// `…/+webhook/ID?ws.op=setSecret`.
pub(super) fn set_secret(st: &mut Inner, req: &Req<'_>, id: &str) -> Response {
    let target = req
        .path
        .split("/+webhook/")
        .next()
        .unwrap_or("")
        .to_string();
    match (
        &req.who,
        st.hooks
            .iter_mut()
            .find(|h| h.target == target && h.id.to_string() == id),
    ) {
        (None, _) => text(
            StatusCode::UNAUTHORIZED,
            "(<Webhook object>, 'setSecret', 'launchpad.Edit')",
        ),
        (_, None) => text(
            StatusCode::NOT_FOUND,
            format!("Object: webhook, name: '{id}'"),
        ),
        (Some(_), Some(h)) => {
            h.secret = (req.param)("secret")
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
            ok_json(Value::Null)
        }
    }
}
