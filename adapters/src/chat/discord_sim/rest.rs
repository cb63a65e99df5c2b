//! The REST API under `/api/v10`: reading a request and choosing who
//! answers. In order: the log (every request, with the status answered),
//! the rate-limit fault, the token, the JSON body, then the endpoint
//! (`channels.rs`, `interactions.rs`, or the few answered here).

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::state::{lock, Inner, Shared};
use super::{channels, interactions, payloads, FakeRequest};

/// An answer before it becomes an HTTP response, so the log can hold its status.
pub(super) struct Answer {
    pub status: u16,
    /// `None`: 204 No Content.
    pub body: Option<Value>,
    pub rate_limited: bool,
}

pub(super) fn ok(body: Value) -> Answer {
    status(200, body)
}

pub(super) fn status(status: u16, body: Value) -> Answer {
    Answer {
        status,
        body: Some(body),
        rate_limited: false,
    }
}

pub(super) fn no_content() -> Answer {
    Answer {
        status: 204,
        body: None,
        rate_limited: false,
    }
}

/// Discord's error body: match on `code`, never on the text (Addendum).
pub(super) fn error(status: u16, code: u64, message: &str) -> Answer {
    self::status(status, json!({"message": message, "code": code}))
}

pub(super) fn unknown_channel() -> Answer {
    error(404, 10003, "Unknown Channel")
}

pub(super) fn unknown_message() -> Answer {
    error(404, 10008, "Unknown Message")
}

/// 50035 with Discord's nested `errors` for one field.
pub(super) fn invalid_form(field: &str, code: &str, message: &str) -> Answer {
    status(
        400,
        json!({"message": "Invalid Form Body", "code": 50035,
               "errors": {field: {"_errors": [{"code": code, "message": message}]}}}),
    )
}

/// A snowflake from the path; anything else is Discord's 50035.
pub(super) fn snowflake(s: &str) -> Result<u64, Answer> {
    s.parse::<u64>().map_err(|_| {
        invalid_form(
            "snowflake",
            "NUMBER_TYPE_COERCE",
            &format!("Value \"{s}\" is not snowflake."),
        )
    })
}

fn rate_limited() -> Answer {
    Answer {
        status: 429,
        body: Some(
            json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false}),
        ),
        rate_limited: true,
    }
}

fn into_response(a: Answer) -> Response {
    let code = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match a.body {
        Some(b) => (
            code,
            [(header::CONTENT_TYPE, "application/json")],
            b.to_string(),
        )
            .into_response(),
        None => code.into_response(),
    };
    if a.rate_limited {
        // Discord's headers on a 429: Retry-After in whole seconds, the
        // bucket's state with a fractional reset.
        let reset = chrono::Utc::now().timestamp_millis() as f64 / 1000.0 + 0.05;
        let h = r.headers_mut();
        for (name, value) in [
            ("retry-after", "1".to_string()),
            ("x-ratelimit-limit", "5".to_string()),
            ("x-ratelimit-remaining", "0".to_string()),
            ("x-ratelimit-reset", format!("{reset:.3}")),
            ("x-ratelimit-reset-after", "0.050".to_string()),
            (
                "x-ratelimit-bucket",
                "fakebucket0000000000000000000000".to_string(),
            ),
            ("x-ratelimit-scope", "user".to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
    }
    r
}

pub(super) async fn handle(
    State(s): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = lock(&s);
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    let path = uri.path().to_string();
    let answer = answer(&mut st, &method, &path, &headers, &body, json_body.as_ref());
    st.log.push(FakeRequest {
        method: method.to_string(),
        path,
        query: uri.query().unwrap_or("").to_string(),
        body: json_body,
        status: answer.status,
    });
    into_response(answer)
}

fn answer(
    st: &mut Inner,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    raw: &Bytes,
    body: Option<&Value>,
) -> Answer {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return error(404, 0, "404: Not Found");
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    if st.rate_limit_pending > 0 {
        st.rate_limit_pending -= 1;
        st.rate_limited += 1;
        return rate_limited();
    }
    // Get Gateway needs no token on Discord; serenity fetches it before
    // anything else and falls back to the real gateway if it fails.
    let public = *method == Method::GET && segments == ["gateway"];
    let expected = format!("Bot {}", st.token);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !public && auth != Some(expected.as_str()) {
        return error(401, 0, "401: Unauthorized");
    }
    if !raw.is_empty() && body.is_none() {
        // Attachments come as multipart, which the fake does not take.
        return error(400, 50109, "The request body contains invalid JSON.");
    }
    let body = body.unwrap_or(&Value::Null);
    match (method.clone(), segments.as_slice()) {
        (Method::GET, ["gateway"]) => ok(json!({"url": st.ws_url()})),
        (Method::GET, ["gateway", "bot"]) => ok(json!({
            "url": st.ws_url(), "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000u64,
                                    "max_concurrency": 1},
        })),
        (Method::GET, ["users", "@me"]) => ok(payloads::current_user(st)),
        (Method::GET, ["oauth2", "applications", "@me"]) => ok(payloads::application(st)),
        (Method::GET, ["channels", c]) => with_id(c, |c| channels::get_channel(st, c)),
        (Method::POST, ["channels", c, "messages"]) => {
            with_id(c, |c| channels::create_message(st, c, body))
        }
        (Method::GET, ["channels", c, "messages", m]) => {
            with_ids(c, m, |c, m| channels::get_message(st, c, m))
        }
        (Method::PATCH, ["channels", c, "messages", m]) => {
            with_ids(c, m, |c, m| channels::edit_message(st, c, m, body))
        }
        (Method::POST, ["channels", c, "messages", m, "threads"]) => {
            with_ids(c, m, |c, m| channels::create_thread(st, c, m, body))
        }
        (Method::PUT, ["applications", a, "guilds", g, "commands"]) => with_ids(a, g, |a, g| {
            interactions::overwrite_commands(st, a, g, body)
        }),
        (Method::GET, ["applications", a, "guilds", g, "commands"]) => {
            with_ids(a, g, |a, g| interactions::get_commands(st, a, g))
        }
        (Method::POST, ["interactions", i, token, "callback"]) => {
            with_id(i, |i| interactions::callback(st, i, token, body))
        }
        (Method::PATCH, ["webhooks", a, token, "messages", "@original"]) => {
            with_id(a, |a| interactions::edit_original(st, a, token, body))
        }
        (Method::POST, ["webhooks", a, token]) => {
            with_id(a, |a| interactions::followup(st, a, token, body))
        }
        _ => error(404, 0, "404: Not Found"),
    }
}

fn with_id(a: &str, f: impl FnOnce(u64) -> Answer) -> Answer {
    match snowflake(a) {
        Ok(a) => f(a),
        Err(e) => e,
    }
}

fn with_ids(a: &str, b: &str, f: impl FnOnce(u64, u64) -> Answer) -> Answer {
    match (snowflake(a), snowflake(b)) {
        (Ok(a), Ok(b)) => f(a, b),
        (Err(e), _) | (_, Err(e)) => e,
    }
}

/// The checks Discord makes on a message body the fake cares about:
/// something to show, and content within 2000 characters.
pub(super) fn check_content(body: &Value) -> Result<String, Answer> {
    if !body.is_object() {
        return Err(error(400, 50109, "The request body contains invalid JSON."));
    }
    let content = match body.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(invalid_form(
                "content",
                "STRING_TYPE_CONVERT",
                "Could not interpret value as string.",
            ))
        }
    };
    if content.chars().count() > super::state::MAX_CONTENT {
        return Err(invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        ));
    }
    let has_embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty());
    if content.is_empty() && !has_embeds {
        return Err(error(400, 50006, "Cannot send an empty message"));
    }
    Ok(content)
}
