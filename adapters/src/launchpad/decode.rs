//! Typed entries from Launchpad's JSON. Lenient about everything but an
//! entry's identity: unknown fields are ignored and missing or `null`
//! optional ones are `None`, but an entry without its `self_link` (or name)
//! is an error — an empty string there would later be written to, or shown
//! as, an object that does not exist.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::LpError;

pub(super) fn decode<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, LpError> {
    serde_json::from_value(v).map_err(|e| LpError::Decode(e.to_string()))
}

/// A string field that must be present and not empty.
pub(super) fn identity<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(serde::de::Error::custom("an identity field is empty"));
    }
    Ok(s)
}

/// The last path segment of a link (`…/ubuntu/noble` → `noble`).
pub(super) fn last_segment(link: &Option<String>) -> Option<&str> {
    link.as_deref()?.trim_end_matches('/').rsplit('/').next()
}
