//! Typed answers of the dashboard API: the channel map (`GET
//! /api/v2/snaps/{name}/channel-map`) and the release history (`GET
//! /api/v2/snaps/{name}/releases`), shared reference snapstore-maas §1.2
//! (a), (b) and the Addendum.
//!
//! Lenient like the Launchpad decoders: unknown keys are ignored, missing
//! or `null` optional values are `None`, `snake_case` and `kebab-case` keys
//! are both read (the two endpoints disagree), revisions may come as numbers
//! or strings, and an entry without a revision (a channel that only tracks
//! a more stable one) is kept with `revision: None`. A channel name that
//! does not parse is an error, though: a map read without it could tell the
//! bot a channel is empty when it is not.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::channel::Channel;

/// A number, a numeric string, or nothing.
fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// RFC 3339, or ISO 8601 without a zone (the v1 tree's `expires_at`), read
/// as UTC; anything else is `None` rather than an error.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(Value::as_str)
        .and_then(parse_time))
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `null` as empty.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Progressive {
    pub paused: Option<bool>,
    #[serde(deserialize_with = "opt_f64")]
    pub percentage: Option<f64>,
    #[serde(
        alias = "current_percentage",
        rename = "current-percentage",
        deserialize_with = "opt_f64"
    )]
    pub current_percentage: Option<f64>,
}

impl Progressive {
    /// Part of a progressive release (only some devices get it).
    pub fn is_progressive(&self) -> bool {
        self.percentage.is_some()
    }
}

/// Null progressive objects read as all-null.
fn progressive<'de, D: Deserializer<'de>>(d: D) -> Result<Progressive, D::Error> {
    Ok(Option::<Progressive>::deserialize(d)?.unwrap_or_default())
}

/// One (channel, architecture) row of the channel map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MapEntry {
    pub channel: Channel,
    pub architecture: String,
    /// `None`: the row only tracks a more stable channel.
    #[serde(default, deserialize_with = "opt_u64")]
    pub revision: Option<u64>,
    /// Set for branches: when the branch closes unless released to again.
    #[serde(
        default,
        alias = "expiration_date",
        rename = "expiration-date",
        deserialize_with = "opt_time"
    )]
    pub expiration_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "progressive")]
    pub progressive: Progressive,
    #[serde(default, deserialize_with = "opt_time")]
    pub when: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Revision {
    #[serde(deserialize_with = "required_u64")]
    pub revision: u64,
    #[serde(default, deserialize_with = "opt_string")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub architectures: Vec<String>,
    /// `Published`, `Unpublished`, `ReviewQueued`, … (release history only).
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub grade: Option<String>,
    #[serde(
        default,
        alias = "created_at",
        rename = "created-at",
        deserialize_with = "opt_time"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        alias = "build_url",
        rename = "build-url",
        deserialize_with = "opt_string"
    )]
    pub build_url: Option<String>,
}

fn required_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_u64(d)?.ok_or_else(|| serde::de::Error::custom("a revision without its number"))
}

/// A channel of `snap.channels`, with where its users go when it is empty.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChannelInfo {
    #[serde(rename = "name")]
    pub channel: Channel,
    #[serde(default)]
    pub fallback: Option<Channel>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Track {
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    #[serde(
        default,
        alias = "version_pattern",
        rename = "version-pattern",
        deserialize_with = "opt_string"
    )]
    pub version_pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SnapInfo {
    pub name: String,
    #[serde(default, deserialize_with = "list")]
    pub channels: Vec<ChannelInfo>,
    #[serde(default, deserialize_with = "list")]
    pub tracks: Vec<Track>,
    #[serde(
        default,
        alias = "default_track",
        rename = "default-track",
        deserialize_with = "opt_string"
    )]
    pub default_track: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChannelMap {
    #[serde(
        rename = "channel-map",
        alias = "channel_map",
        deserialize_with = "list"
    )]
    pub entries: Vec<MapEntry>,
    #[serde(default, deserialize_with = "list")]
    pub revisions: Vec<Revision>,
    pub snap: SnapInfo,
}

impl ChannelMap {
    /// The rows of (channel, arch): one, or two during a progressive release.
    pub fn entries_for<'a>(
        &'a self,
        channel: &'a Channel,
        arch: &'a str,
    ) -> impl Iterator<Item = &'a MapEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| &e.channel == channel && e.architecture == arch)
    }

    /// What most devices on (channel, arch) get: the row that is not part
    /// of a progressive release (snapcraft's `get_mapped_channel` choice).
    pub fn current(&self, channel: &Channel, arch: &str) -> Option<&MapEntry> {
        self.entries.iter().find(|e| {
            &e.channel == channel && e.architecture == arch && !e.progressive.is_progressive()
        })
    }

    /// The progressive row of (channel, arch), if a release is under way.
    pub fn progressive(&self, channel: &Channel, arch: &str) -> Option<&MapEntry> {
        self.entries.iter().find(|e| {
            &e.channel == channel && e.architecture == arch && e.progressive.is_progressive()
        })
    }

    /// The revision released to exactly this channel (no fallback).
    pub fn revision(&self, channel: &Channel, arch: &str) -> Option<u64> {
        self.current(channel, arch)?.revision
    }

    /// The channel devices following `channel` really get, and its revision:
    /// a closed or tracking channel falls back to the next more stable one.
    pub fn resolve(&self, channel: &Channel, arch: &str) -> Option<(Channel, u64)> {
        let mut at = Some(channel.clone());
        while let Some(c) = at {
            if let Some(rev) = self.revision(&c, arch) {
                return Some((c, rev));
            }
            at = self.fallback(&c);
        }
        None
    }

    /// The store's fallback for `channel` (from `snap.channels`), else the grammar's.
    pub fn fallback(&self, channel: &Channel) -> Option<Channel> {
        match self.snap.channels.iter().find(|c| &c.channel == channel) {
            Some(info) => info.fallback.clone(),
            None => channel.fallback(),
        }
    }

    pub fn revision_info(&self, revision: u64) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.revision == revision)
    }

    pub fn default_track(&self) -> Option<&str> {
        self.snap.default_track.as_deref()
    }

    /// Every architecture with a row, sorted.
    pub fn architectures(&self) -> Vec<&str> {
        let mut a: Vec<&str> = self
            .entries
            .iter()
            .map(|e| e.architecture.as_str())
            .collect();
        a.sort_unstable();
        a.dedup();
        a
    }
}

/// One change of the channel map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReleaseEvent {
    pub channel: Channel,
    pub architecture: String,
    /// `None`: the channel was closed.
    #[serde(default, deserialize_with = "opt_u64")]
    pub revision: Option<u64>,
    #[serde(default, deserialize_with = "opt_time")]
    pub when: Option<DateTime<Utc>>,
    #[serde(
        default,
        alias = "expiration_date",
        rename = "expiration-date",
        deserialize_with = "opt_time"
    )]
    pub expiration_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "progressive")]
    pub progressive: Progressive,
}

impl ReleaseEvent {
    pub fn is_close(&self) -> bool {
        self.revision.is_none()
    }
}

/// The release history, every page read; newest first, as the store sends it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReleaseHistory {
    #[serde(default, deserialize_with = "list")]
    pub releases: Vec<ReleaseEvent>,
    #[serde(default, deserialize_with = "list")]
    pub revisions: Vec<Revision>,
}

impl ReleaseHistory {
    pub fn revision_info(&self, revision: u64) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.revision == revision)
    }
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    what: &str,
    v: Value,
) -> Result<T, super::StoreError> {
    serde_json::from_value(v).map_err(|e| super::StoreError::Decode(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests;
