//! What can go wrong talking to the Snap Store. Every error of an exchange
//! names the request (`POST https://dashboard.snapcraft.io/dev/api/snap-release/`,
//! never a credential), keeps the store's own codes and words, and says
//! whether trying later may help (shared reference snapstore-maas §1.6,
//! Addendum: `error_list` on `/dev/api`, `error-list` on `/api/v2`, Django
//! `errors` on some dev endpoints, plain text or `{}` elsewhere).

use std::fmt;

use serde_json::Value;
use thiserror::Error;

/// One `{code, message, extra}` of the store's error list.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreErrorItem {
    /// Empty when the store gave words without a code.
    pub code: String,
    pub message: String,
    pub extra: Option<Value>,
}

/// The store's error items, shown `message (code); …`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoreErrors(pub Vec<StoreErrorItem>);

impl fmt::Display for StoreErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (true, _) => e.message.clone(),
                (false, true) => e.code.clone(),
                (false, false) => format!("{} ({})", e.message, e.code),
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// Longest store text kept from a non-JSON body (an HTML error page).
const MAX_TEXT: usize = 300;

fn item(code: &str, message: impl Into<String>, extra: Option<&Value>) -> StoreErrorItem {
    StoreErrorItem {
        code: code.to_string(),
        message: message.into(),
        extra: extra.filter(|e| !e.is_null()).cloned(),
    }
}

fn from_list(list: &[Value]) -> Vec<StoreErrorItem> {
    list.iter()
        .map(|e| match e {
            Value::String(s) => item("", s.clone(), None),
            _ => item(
                e.get("code").and_then(Value::as_str).unwrap_or(""),
                e.get("message").and_then(Value::as_str).unwrap_or(""),
                e.get("extra"),
            ),
        })
        .collect()
}

/// Django-style `errors`: a string, a list, or `{field: [messages]}`.
fn from_errors(errors: &Value) -> Vec<StoreErrorItem> {
    match errors {
        Value::String(s) => vec![item("", s.clone(), None)],
        Value::Array(list) => from_list(list),
        Value::Object(fields) => fields
            .iter()
            .map(|(field, v)| {
                let words = match v {
                    Value::Array(msgs) => msgs
                        .iter()
                        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                item("", format!("{field}: {words}"), None)
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl StoreErrors {
    /// Whatever shape the body has; `[status] reason` when it says nothing.
    pub fn parse(status: u16, body: &str) -> Self {
        let items = match serde_json::from_str::<Value>(body) {
            Ok(json) => Self::from_json(&json),
            Err(_) => {
                let text: String = body.trim().chars().take(MAX_TEXT).collect();
                if text.is_empty() {
                    Vec::new()
                } else {
                    vec![item("", text, None)]
                }
            }
        };
        if items.is_empty() {
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            return StoreErrors(vec![item(
                "",
                format!("[{status}] {reason}").trim_end(),
                None,
            )]);
        }
        StoreErrors(items)
    }

    fn from_json(json: &Value) -> Vec<StoreErrorItem> {
        for key in ["error_list", "error-list"] {
            if let Some(list) = json.get(key).and_then(Value::as_array) {
                return from_list(list);
            }
        }
        if let Some(errors) = json.get("errors") {
            return from_errors(errors);
        }
        // Ubuntu One SSO: `{"code": …, "message": …, "extra": …}` at the top.
        match (json.get("code"), json.get("message")) {
            (None, None) => Vec::new(),
            (code, message) => vec![item(
                code.and_then(Value::as_str).unwrap_or(""),
                message.and_then(Value::as_str).unwrap_or(""),
                json.get("extra"),
            )],
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.0.iter().any(|e| e.code == code)
    }

    pub fn codes(&self) -> Vec<&str> {
        self.0
            .iter()
            .map(|e| e.code.as_str())
            .filter(|c| !c.is_empty())
            .collect()
    }

    /// `extra.<key>` of the first item that has it.
    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.0.iter().find_map(|e| e.extra.as_ref()?.get(key))
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum StoreError {
    /// A bad argument caught before anything was sent.
    #[error("not sent to the Snap Store: {0}")]
    Invalid(String),
    #[error("cannot set up the Snap Store client: {0}")]
    Setup(String),
    /// The credentials cannot be used any more: refused outright, refused
    /// again after a refresh, or the refresh itself was refused.
    #[error("{request}: the Snap Store credentials need a new login: {reason}. {advice}")]
    NeedsLogin {
        request: String,
        reason: String,
        advice: String,
    },
    /// `macaroon-permission-required`: the credentials lack an ACL or a channel.
    #[error(
        "{request}: the Snap Store credentials lack {} (403): {errors}",
        what_lacks(permission, channels)
    )]
    PermissionRequired {
        request: String,
        permission: Option<String>,
        channels: Vec<String>,
        errors: StoreErrors,
    },
    #[error("{request}: the Snap Store forbids this (403): {errors}")]
    Forbidden {
        request: String,
        errors: StoreErrors,
    },
    /// No such snap — or the credentials may not see it; the store says the same.
    #[error("{request}: not found on the Snap Store, or not visible to these credentials (404): {errors}")]
    NotFound {
        request: String,
        errors: StoreErrors,
    },
    /// Other 4xx: a bad field, a conflict.
    #[error("{request}: the Snap Store rejected it ({status}): {errors}")]
    Rejected {
        request: String,
        status: u16,
        errors: StoreErrors,
    },
    /// 5xx and 429.
    #[error("{request}: the Snap Store answered {status}: {errors}")]
    Server {
        request: String,
        status: u16,
        errors: StoreErrors,
    },
    #[error("{request}: cannot reach the Snap Store: {message}")]
    Network { request: String, message: String },
    #[error("unexpected answer from the Snap Store: {0}")]
    Decode(String),
}

fn what_lacks(permission: &Option<String>, channels: &[String]) -> String {
    let permission = permission
        .as_deref()
        .map_or_else(|| "a permission".to_string(), |p| format!("`{p}`"));
    if channels.is_empty() {
        permission
    } else {
        format!("{permission} on {}", channels.join(", "))
    }
}

impl StoreError {
    /// Overload, maintenance, rate limits, timeouts: worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Network { .. } => true,
            StoreError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The store's error items, for errors that carry them.
    pub fn errors(&self) -> Option<&StoreErrors> {
        match self {
            StoreError::PermissionRequired { errors, .. }
            | StoreError::Forbidden { errors, .. }
            | StoreError::NotFound { errors, .. }
            | StoreError::Rejected { errors, .. }
            | StoreError::Server { errors, .. } => Some(errors),
            _ => None,
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.errors().is_some_and(|e| e.has_code(code))
    }

    /// A non-2xx answer other than 401 (which the client handles itself).
    pub(crate) fn from_status(request: String, status: u16, body: &str) -> Self {
        let errors = StoreErrors::parse(status, body);
        match status {
            403 if errors.has_code("macaroon-permission-required") => {
                let top: Option<Value> = serde_json::from_str(body).ok();
                let permission = errors
                    .extra("permission")
                    .or_else(|| top.as_ref()?.get("permission"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let channels = errors
                    .extra("channels")
                    .or_else(|| top.as_ref()?.get("channels"))
                    .and_then(Value::as_array)
                    .map(|c| {
                        c.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                StoreError::PermissionRequired {
                    request,
                    permission,
                    channels,
                    errors,
                }
            }
            403 => StoreError::Forbidden { request, errors },
            404 => StoreError::NotFound { request, errors },
            429 | 500..=599 => StoreError::Server {
                request,
                status,
                errors,
            },
            _ => StoreError::Rejected {
                request,
                status,
                errors,
            },
        }
    }
}

/// What the operator must do when the credentials are past refreshing.
pub(crate) fn login_advice(snaps: &[String]) -> String {
    let snaps = if snaps.is_empty() {
        "SNAP[,SNAP…]".to_string()
    } else {
        snaps.join(",")
    };
    format!(
        "Run `snapcraft export-login --snaps {snaps} --acls package_access,package_release FILE` \
         and update Shepherd's Snap Store credentials with FILE's contents"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> String {
        "POST https://dashboard.snapcraft.io/dev/api/snap-release/".into()
    }

    #[test]
    fn every_envelope_is_read() {
        let dev =
            r#"{"error_list": [{"code": "invalid-field", "message": "Invalid branch name"}]}"#;
        let v2 = r#"{"error-list": [{"code": "resource-not-found", "message": "Snap not found"}]}"#;
        let django =
            r#"{"success": false, "errors": {"channels": ["Not a valid channel: alpha"]}}"#;
        let bare = r#"{"errors": "Not a valid channel: alpha", "other": 1}"#;
        let sso = r#"{"code": "INVALID_DATA", "message": "Invalid request data", "extra": {}}"#;
        assert_eq!(
            StoreErrors::parse(400, dev).to_string(),
            "Invalid branch name (invalid-field)"
        );
        assert_eq!(StoreErrors::parse(404, v2).codes(), ["resource-not-found"]);
        assert_eq!(
            StoreErrors::parse(400, django).to_string(),
            "channels: Not a valid channel: alpha"
        );
        assert_eq!(
            StoreErrors::parse(400, bare).to_string(),
            "Not a valid channel: alpha"
        );
        assert_eq!(StoreErrors::parse(401, sso).codes(), ["INVALID_DATA"]);
        assert_eq!(
            StoreErrors::parse(500, "{}").to_string(),
            "[500] Internal Server Error"
        );
        assert_eq!(StoreErrors::parse(404, "").to_string(), "[404] Not Found");
        assert_eq!(
            StoreErrors::parse(502, "<html>Bad gateway</html>").to_string(),
            "<html>Bad gateway</html>"
        );
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let perm = r#"{"error_list": [{"code": "macaroon-permission-required", "message": "Permission is required: package_release", "extra": {"permission": "package_release"}}], "channels": ["3.6/stable"]}"#;
        match StoreError::from_status(req(), 403, perm) {
            StoreError::PermissionRequired {
                permission,
                channels,
                ..
            } => {
                assert_eq!(permission.as_deref(), Some("package_release"));
                assert_eq!(channels, ["3.6/stable"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            StoreError::from_status(req(), 403, "{}"),
            StoreError::Forbidden { .. }
        ));
        assert!(matches!(
            StoreError::from_status(req(), 404, ""),
            StoreError::NotFound { .. }
        ));
        for transient in [500, 502, 503, 504, 429] {
            assert!(
                StoreError::from_status(req(), transient, "{}").is_transient(),
                "{transient}"
            );
        }
        for permanent in [400, 403, 404, 409] {
            assert!(
                !StoreError::from_status(req(), permanent, "{}").is_transient(),
                "{permanent}"
            );
        }
        let e = StoreError::from_status(
            req(),
            400,
            r#"{"error_list": [{"code": "invalid-field", "message": "x"}]}"#,
        );
        assert!(e.has_code("invalid-field"));
        assert!(
            e.to_string()
                .starts_with("POST https://dashboard.snapcraft.io/dev/api/snap-release/: "),
            "{e}"
        );
    }

    #[test]
    fn login_advice_names_the_command() {
        let a = login_advice(&["maas".into(), "maas-test-db".into()]);
        assert!(a.contains("snapcraft export-login --snaps maas,maas-test-db --acls package_access,package_release"), "{a}");
    }
}
