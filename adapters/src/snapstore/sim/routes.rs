//! Reading a request and choosing who answers: the log and faults first,
//! then SSO's refresh (which needs no store credentials), then the
//! macaroon check, the permission check and the endpoint itself.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::auth::Refused;
use super::store::SnapDef;
use super::{lock, render, Inner, ReleaseCall, Shared, SimRequest};
use crate::snapstore::channel::Channel;
use crate::wire::form::parse_query;

/// `/api/v2` answers `error-list`, `/dev/api` `error_list` (Addendum).
#[derive(Clone, Copy)]
enum Envelope {
    V2,
    Dev,
}

fn reply(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    reply(200, &body)
}

fn error(env: Envelope, status: u16, code: &str, message: &str, extra: Option<Value>) -> Response {
    let mut item = json!({"code": code, "message": message});
    if let Some(e) = extra {
        item["extra"] = e;
    }
    let key = match env {
        Envelope::V2 => "error-list",
        Envelope::Dev => "error_list",
    };
    reply(status, &json!({ key: [item] }))
}

fn unauthorized(env: Envelope, why: Refused) -> Response {
    match why {
        Refused::NeedsRefresh => {
            let mut r = error(
                env,
                401,
                "macaroon-needs-refresh",
                "Expired macaroon (age: 86401 seconds)",
                Some(json!({"age": 86401})),
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Macaroon needs_refresh=1"),
            );
            r
        }
        // The reference has no code for a macaroon refused outright; the
        // client goes by the status, so this one is only for people.
        Refused::Invalid(why) => error(
            env,
            401,
            "macaroon-authorization-required",
            &format!("Authorization Required ({why})"),
            None,
        ),
    }
}

fn permission_denied(env: Envelope, permission: &str, channels: &[String]) -> Response {
    let message = format!("Permission is required: {permission}");
    let mut body = json!({"error_list": [{"code": "macaroon-permission-required", "message": message,
        "extra": {"permission": permission}}], "permission": permission, "channels": channels});
    if let Envelope::V2 = env {
        body = json!({"error-list": body["error_list"].clone()});
    }
    reply(403, &body)
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
    st.log.push(SimRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        body: json_body.clone(),
        authorized: headers.contains_key(header::AUTHORIZATION),
    });
    let path = uri.path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Faults are the store's: SSO answers normally, so a test can fail the
    // request after a refresh.
    if method == Method::POST && segments == ["sso", "api", "v2", "tokens", "refresh"] {
        return refresh(&mut st, json_body.as_ref());
    }
    if let Some((status, text)) = st.faults.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, [(header::CONTENT_TYPE, "application/json")], text).into_response();
    }
    st.store.expire();
    let env = if path.starts_with("/dev/") {
        Envelope::Dev
    } else {
        Envelope::V2
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(why) = st.auth.check(auth) {
        return unauthorized(env, why);
    }
    let query = parse_query(uri.query().unwrap_or(""));
    match (method, segments.as_slice()) {
        (Method::GET, ["api", "v2", "snaps", name, "channel-map"]) => channel_map(&st, name),
        (Method::GET, ["api", "v2", "snaps", name, "releases"]) => releases(&st, name, &query),
        (Method::POST, ["dev", "api", "snap-release"]) => release(&mut st, json_body.as_ref()),
        (Method::POST, ["dev", "api", "snaps", id, "close"]) => {
            close(&mut st, id, json_body.as_ref())
        }
        (Method::GET, ["dev", "api", "account"]) => ok(render::account(&st.store)),
        _ => error(env, 404, "resource-not-found", "Not found", None),
    }
}

fn refresh(st: &mut Inner, body: Option<&Value>) -> Response {
    let old = body
        .and_then(|b| b.get("discharge_macaroon"))
        .and_then(Value::as_str);
    let Some(old) = old else {
        return reply(
            400,
            &json!({"code": "INVALID_DATA", "message": "discharge_macaroon is required"}),
        );
    };
    match st.auth.refresh(old) {
        Ok(fresh) => ok(json!({ "discharge_macaroon": fresh })),
        Err(why) => reply(
            401,
            &json!({"code": "INVALID_CREDENTIALS", "message": why, "extra": {}}),
        ),
    }
}

fn not_found(env: Envelope) -> Response {
    error(env, 404, "resource-not-found", "Snap not found", None)
}

fn channel_map(st: &Inner, name: &str) -> Response {
    let Some(snap) = st.store.snap(name) else {
        return not_found(Envelope::V2);
    };
    if st
        .denied
        .contains(&(name.to_string(), "package_access".into()))
    {
        return permission_denied(Envelope::V2, "package_access", &[]);
    }
    ok(render::channel_map(&st.store, snap, st.quirks))
}

fn releases(st: &Inner, name: &str, query: &[(String, String)]) -> Response {
    if st.store.snap(name).is_none() {
        return not_found(Envelope::V2);
    }
    if st
        .denied
        .contains(&(name.to_string(), "package_access".into()))
    {
        return permission_denied(Envelope::V2, "package_access", &[]);
    }
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let page = get("page").unwrap_or(1).max(1);
    let size = get("size").unwrap_or(500).clamp(1, 500);
    ok(render::releases(&st.store, name, page, size))
}

/// The revision as snapcraft sends it (`"10"`) or as a number.
fn revision_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn channels_of(body: &Value) -> Option<Vec<String>> {
    let list = body.get("channels")?.as_array()?;
    let names: Option<Vec<String>> = list
        .iter()
        .map(|c| c.as_str().map(str::to_string))
        .collect();
    names.filter(|n| !n.is_empty())
}

fn release(st: &mut Inner, body: Option<&Value>) -> Response {
    let env = Envelope::Dev;
    let body = body.cloned().unwrap_or(Value::Null);
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(snap) = st.store.snap(&name).cloned() else {
        return not_found(env);
    };
    let raw_revision = body.get("revision").cloned().unwrap_or(Value::Null);
    let Some(revision) = revision_of(&raw_revision) else {
        return error(
            env,
            400,
            "invalid-field",
            "The 'revision' field must be an integer",
            None,
        );
    };
    let (names, channels) = match requested_channels(st, &snap, Some(&body), env) {
        Ok(c) => c,
        Err(resp) => return *resp,
    };
    if let Some(resp) = check_release_permission(st, &name, &channels) {
        return resp;
    }
    let percentage = body
        .pointer("/progressive/percentage")
        .and_then(Value::as_u64)
        .and_then(|p| u8::try_from(p).ok())
        .filter(|p| *p < 100);
    if let Err((status, code, why)) = st.store.release(&name, revision, &channels, percentage) {
        return error(env, status, code, &why, None);
    }
    let arch = st
        .store
        .rev(&name, revision)
        .map(|r| r.arch.clone())
        .unwrap_or_default();
    st.releases.push(ReleaseCall {
        name: name.clone(),
        revision: raw_revision,
        channels: names.clone(),
        architecture: arch.clone(),
    });
    let track = channels
        .first()
        .map(|c| c.track().to_string())
        .unwrap_or_default();
    ok(json!({"success": true, "opened_channels": names,
              "channel_map": render::tree(&st.store, &name, &track, &arch)}))
}

fn check_release_permission(st: &Inner, name: &str, channels: &[Channel]) -> Option<Response> {
    if st
        .denied
        .contains(&(name.to_string(), "package_release".into()))
    {
        return Some(permission_denied(Envelope::Dev, "package_release", &[]));
    }
    let refused: Vec<String> = channels
        .iter()
        .map(Channel::to_string)
        .filter(|c| st.denied_channels.contains(&(name.to_string(), c.clone())))
        .collect();
    (!refused.is_empty()).then(|| permission_denied(Envelope::Dev, "package_release", &refused))
}

fn close(st: &mut Inner, snap_id: &str, body: Option<&Value>) -> Response {
    let env = Envelope::Dev;
    let Some(snap) = st.store.snap_by_id(snap_id).cloned() else {
        return not_found(env);
    };
    let (names, channels) = match requested_channels(st, &snap, body, env) {
        Ok(c) => c,
        Err(resp) => return *resp,
    };
    if let Some(resp) = check_release_permission(st, &snap.name, &channels) {
        return resp;
    }
    st.store.close(&snap.name, &channels);
    let track = channels
        .first()
        .map(|c| c.track().to_string())
        .unwrap_or_default();
    let mut maps = serde_json::Map::new();
    for arch in st.store.arches(&snap.name) {
        maps.insert(
            arch.clone(),
            json!(render::tree(&st.store, &snap.name, &track, &arch)),
        );
    }
    ok(json!({"closed_channels": names, "channel_maps": maps}))
}

/// The body's `channels` as sent, and each checked against the snap's tracks.
fn requested_channels(
    st: &Inner,
    snap: &SnapDef,
    body: Option<&Value>,
    env: Envelope,
) -> Result<(Vec<String>, Vec<Channel>), Box<Response>> {
    let Some(names) = body.and_then(channels_of) else {
        return Err(Box::new(error(
            env,
            400,
            "invalid-field",
            "The 'channels' field must be a list of channels",
            None,
        )));
    };
    let channels = names
        .iter()
        .map(|n| st.store.channel(snap, n))
        .collect::<Result<Vec<Channel>, _>>()
        .map_err(|(status, code, why)| Box::new(error(env, status, code, &why, None)))?;
    Ok((names, channels))
}
