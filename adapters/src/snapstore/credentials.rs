//! Snap Store credentials as `snapcraft export-login` writes them, and the
//! `Authorization` header made from them (shared reference snapstore-maas
//! §1.5, Addendum). Three encodings are read:
//!
//! 1. base64 of `{"t": "u1-macaroon", "v": {"r": ROOT, "d": DISCHARGE}}`
//!    (current snapcraft);
//! 2. base64 of `{"r": ROOT, "d": DISCHARGE}` (older snapcraft);
//! 3. the legacy INI (`snapcraft login --with`, MAAS's `release.macaroon`),
//!    raw or base64: `[login.ubuntu.com]` with `macaroon` (the root) and
//!    `unbound_discharge`.
//!
//! Candid credentials (`{"t": "macaroon", …}`) are for Charmhub and
//! staging, not dashboard.snapcraft.io: refused with that said. Nothing
//! here ever prints a macaroon; errors name what was wrong, not what was read.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use thiserror::Error;

use super::macaroon::{b64_decode, bind_discharge, Macaroon, MacaroonError};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialsError {
    #[error(
        "Snap Store credentials not recognised: expected what `snapcraft export-login` writes \
         (base64 JSON with \"r\" and \"d\", or the [login.ubuntu.com] INI file)"
    )]
    Unrecognized,
    #[error(
        "Snap Store credentials are {0}, which dashboard.snapcraft.io does not take: \
         export Ubuntu One credentials with `snapcraft export-login`"
    )]
    Unsupported(String),
    #[error("Snap Store credentials lack {0}")]
    Missing(&'static str),
    #[error("Snap Store credentials hold a {which} that is {error}")]
    BadMacaroon {
        which: &'static str,
        error: MacaroonError,
    },
}

/// A root macaroon and its (unbound) discharge. `Debug` shows neither.
#[derive(Clone)]
pub struct Credentials {
    root: SecretString,
    discharge: SecretString,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials { root: [redacted], discharge: [redacted] }")
    }
}

impl Credentials {
    /// Checks both are macaroons (so a bad paste fails at start, not at
    /// the first release).
    pub fn new(root: SecretString, discharge: SecretString) -> Result<Self, CredentialsError> {
        check("root", root.expose_secret())?;
        check("discharge", discharge.expose_secret())?;
        Ok(Self { root, discharge })
    }

    /// Any of the three encodings, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let text = text.trim();
        if let Some(found) = from_ini(text) {
            return found;
        }
        let decoded = b64_decode(text)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(CredentialsError::Unrecognized)?;
        // The base64 may wrap either the JSON or the INI.
        if let Some(found) = from_ini(decoded.trim()) {
            return found;
        }
        let json: Value =
            serde_json::from_str(&decoded).map_err(|_| CredentialsError::Unrecognized)?;
        from_json(&json)
    }

    pub fn root(&self) -> &SecretString {
        &self.root
    }

    pub fn discharge(&self) -> &SecretString {
        &self.discharge
    }

    /// The same root with another discharge (after a refresh).
    pub fn with_discharge(&self, discharge: SecretString) -> Result<Self, CredentialsError> {
        Self::new(self.root.clone(), discharge)
    }

    /// Encoded as current snapcraft exports them (form 1), for storing.
    pub fn export(&self) -> SecretString {
        let json = serde_json::json!({
            "t": "u1-macaroon",
            "v": {"r": self.root.expose_secret(), "d": self.discharge.expose_secret()},
        });
        SecretString::from(super::macaroon::b64_standard(json.to_string().as_bytes()))
    }

    /// `Macaroon root=…, discharge=…` with the discharge bound to the root.
    pub fn authorization(&self) -> Result<SecretString, CredentialsError> {
        header_value(self.root.expose_secret(), self.discharge.expose_secret())
            .map(SecretString::from)
            .map_err(|error| CredentialsError::BadMacaroon {
                which: "pair",
                error,
            })
    }
}

fn check(which: &'static str, text: &str) -> Result<(), CredentialsError> {
    if text.trim().is_empty() {
        return Err(CredentialsError::Missing(which));
    }
    Macaroon::deserialize(text)
        .map(|_| ())
        .map_err(|error| CredentialsError::BadMacaroon { which, error })
}

/// The `Authorization` header's value (pymacaroons-compatible binding).
pub(crate) fn header_value(root: &str, discharge: &str) -> Result<String, MacaroonError> {
    let bound = bind_discharge(root, discharge)?;
    Ok(format!("Macaroon root={}, discharge={bound}", root.trim()))
}

fn from_json(json: &Value) -> Result<Credentials, CredentialsError> {
    let pair = match (json.get("t").and_then(Value::as_str), json.get("v")) {
        (Some("u1-macaroon"), Some(v)) => v,
        (Some("macaroon"), _) => {
            return Err(CredentialsError::Unsupported("Candid macaroons".into()))
        }
        (Some(other), _) => {
            // Named without its value: an unknown type tag is not a secret,
            // but keep it short in case it is garbage.
            let tag: String = other.chars().take(24).collect();
            return Err(CredentialsError::Unsupported(format!("of type `{tag}`")));
        }
        (None, _) if json.get("r").is_some() || json.get("d").is_some() => json,
        (None, _) => return Err(CredentialsError::Unrecognized),
    };
    let get = |k: &str, what: &'static str| {
        pair.get(k)
            .and_then(Value::as_str)
            .map(|s| SecretString::from(s.trim().to_string()))
            .ok_or(CredentialsError::Missing(what))
    };
    Credentials::new(
        get("r", "the root macaroon (\"r\")")?,
        get("d", "the discharge (\"d\")")?,
    )
}

/// `Some` when `text` is an INI with a `[login.ubuntu.com]` section.
fn from_ini(text: &str) -> Option<Result<Credentials, CredentialsError>> {
    let mut in_section = false;
    let mut seen = false;
    let (mut root, mut discharge) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            in_section = line[1..line.len() - 1].trim() == "login.ubuntu.com";
            seen |= in_section;
            continue;
        }
        if !in_section || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        // configparser takes `=` or `:` as the separator.
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let value = SecretString::from(value.trim().to_string());
        match key.trim() {
            "macaroon" => root = Some(value),
            "unbound_discharge" => discharge = Some(value),
            _ => {}
        }
    }
    if !seen {
        return None;
    }
    Some(match (root, discharge) {
        (Some(r), Some(d)) => Credentials::new(r, d),
        (None, _) => Err(CredentialsError::Missing(
            "`macaroon` in [login.ubuntu.com]",
        )),
        (_, None) => Err(CredentialsError::Missing(
            "`unbound_discharge` in [login.ubuntu.com]",
        )),
    })
}

#[cfg(test)]
mod tests;
