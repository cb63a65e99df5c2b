//! What the simulated store holds, and how releasing and closing change it:
//! snaps and their tracks, per-architecture revisions, the channel map per
//! (snap, channel, architecture), and the release history. Time is a
//! simulated clock, so a test can let a branch expire.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::snapstore::channel::{Channel, Risk};

/// Branches close this long after their last release (§1.3).
pub(super) const BRANCH_LIFE_DAYS: i64 = 30;

#[derive(Debug, Clone)]
pub(super) struct SnapDef {
    pub name: String,
    pub snap_id: String,
    pub default_track: String,
    pub tracks: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Rev {
    pub snap: String,
    pub revision: u64,
    pub version: String,
    pub arch: String,
    pub created: DateTime<Utc>,
}

/// A revision in a channel.
#[derive(Debug, Clone)]
pub(super) struct Placed {
    pub revision: u64,
    pub when: DateTime<Utc>,
    /// Set while this is the progressive part of a release.
    pub percentage: Option<u8>,
    /// Branches only.
    pub expires: Option<DateTime<Utc>>,
}

/// One (snap, channel, arch): what most devices get, and what a
/// progressive release gives some of them.
#[derive(Debug, Clone, Default)]
pub(super) struct Slot {
    pub current: Option<Placed>,
    pub progressive: Option<Placed>,
}

impl Slot {
    pub fn placed(&self) -> impl Iterator<Item = &Placed> {
        self.current.iter().chain(self.progressive.iter())
    }
}

/// One change of the channel map; `revision: None` is a close.
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub snap: String,
    pub channel: Channel,
    pub arch: String,
    pub revision: Option<u64>,
    pub when: DateTime<Utc>,
    pub percentage: Option<u8>,
    pub expires: Option<DateTime<Utc>>,
}

/// A refusal: HTTP status and the store's error code and message.
pub(super) type Refusal = (u16, &'static str, String);

pub(super) type Key = (String, Channel, String);

pub(super) struct Store {
    pub snaps: Vec<SnapDef>,
    pub revs: Vec<Rev>,
    pub map: BTreeMap<Key, Slot>,
    pub history: Vec<Event>,
    epoch: DateTime<Utc>,
    days: i64,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            snaps: Vec::new(),
            revs: Vec::new(),
            map: BTreeMap::new(),
            history: Vec::new(),
            epoch: DateTime::from_timestamp(1_793_872_800, 0).unwrap_or_default(), // 2026-11-05T10:00Z
            days: 0,
        }
    }
}

fn invalid(message: String) -> Refusal {
    (400, "invalid-field", message)
}

impl Store {
    pub fn now(&self) -> DateTime<Utc> {
        self.epoch + Duration::days(self.days)
    }

    pub fn advance_days(&mut self, days: i64) {
        self.days += days;
        self.expire();
    }

    pub fn snap(&self, name: &str) -> Option<&SnapDef> {
        self.snaps.iter().find(|s| s.name == name)
    }

    pub fn snap_by_id(&self, id: &str) -> Option<&SnapDef> {
        self.snaps.iter().find(|s| s.snap_id == id)
    }

    pub fn rev(&self, snap: &str, revision: u64) -> Option<&Rev> {
        self.revs
            .iter()
            .find(|r| r.snap == snap && r.revision == revision)
    }

    /// Closes every branch whose 30 days are up, as of now.
    pub fn expire(&mut self) {
        let now = self.now();
        let due: Vec<(Key, DateTime<Utc>)> = self
            .map
            .iter()
            .filter_map(|(k, slot)| {
                let at = slot.placed().filter_map(|p| p.expires).max()?;
                (at <= now).then(|| (k.clone(), at))
            })
            .collect();
        for ((snap, channel, arch), at) in due {
            self.map
                .remove(&(snap.clone(), channel.clone(), arch.clone()));
            self.push(snap, channel, arch, None, at, None, None);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        snap: String,
        channel: Channel,
        arch: String,
        revision: Option<u64>,
        when: DateTime<Utc>,
        percentage: Option<u8>,
        expires: Option<DateTime<Utc>>,
    ) {
        self.history.push(Event {
            snap,
            channel,
            arch,
            revision,
            when,
            percentage,
            expires,
        });
    }

    /// A channel as a request names it, checked against the snap's tracks.
    /// A bare risk is read in the default track, as devices read it.
    pub fn channel(&self, snap: &SnapDef, name: &str) -> Result<Channel, Refusal> {
        let c = Channel::resolve(name, &snap.default_track)
            .map_err(|e| invalid(format!("Invalid channel: {e}")))?;
        if !snap.tracks.iter().any(|t| t == c.track()) {
            return Err(invalid(format!(
                "Track '{}' does not exist for {}",
                c.track(),
                snap.name
            )));
        }
        Ok(c)
    }

    /// Releases `revision` of `snap` to `channels`; the channels' names back.
    pub fn release(
        &mut self,
        snap: &str,
        revision: u64,
        channels: &[Channel],
        percentage: Option<u8>,
    ) -> Result<(), Refusal> {
        let arch = match self.rev(snap, revision) {
            Some(r) => r.arch.clone(),
            None => return Err(invalid(format!("Invalid revision {revision} for {snap}"))),
        };
        let now = self.now();
        for channel in channels {
            let expires = channel
                .branch()
                .map(|_| now + Duration::days(BRANCH_LIFE_DAYS));
            let placed = Placed {
                revision,
                when: now,
                percentage,
                expires,
            };
            let slot = self
                .map
                .entry((snap.to_string(), channel.clone(), arch.clone()))
                .or_default();
            if percentage.is_some() {
                slot.progressive = Some(placed);
            } else {
                // A plain release finishes any progressive one.
                slot.current = Some(placed);
                slot.progressive = None;
            }
            // Releasing into a branch restarts the life of the whole slot.
            for p in [&mut slot.current, &mut slot.progressive]
                .into_iter()
                .flatten()
            {
                p.expires = expires;
            }
            self.push(
                snap.into(),
                channel.clone(),
                arch.clone(),
                Some(revision),
                now,
                percentage,
                expires,
            );
        }
        Ok(())
    }

    /// Closes `channels` for every architecture; the closed ones back.
    pub fn close(&mut self, snap: &str, channels: &[Channel]) {
        let now = self.now();
        for channel in channels {
            let keys: Vec<Key> = self
                .map
                .keys()
                .filter(|(s, c, _)| s == snap && c == channel)
                .cloned()
                .collect();
            for key in keys {
                self.map.remove(&key);
                let (s, c, a) = key;
                self.push(s, c, a, None, now, None, None);
            }
        }
    }

    pub fn slot(&self, snap: &str, channel: &Channel, arch: &str) -> Option<&Slot> {
        self.map
            .get(&(snap.to_string(), channel.clone(), arch.to_string()))
    }

    /// Architectures of the snap's revisions, sorted.
    pub fn arches(&self, snap: &str) -> Vec<String> {
        let mut a: Vec<String> = self
            .revs
            .iter()
            .filter(|r| r.snap == snap)
            .map(|r| r.arch.clone())
            .collect();
        a.sort();
        a.dedup();
        a
    }

    /// Branches holding a release now, of `snap` in `track`.
    pub fn branches(&self, snap: &str, track: &str) -> Vec<Channel> {
        let mut b: Vec<Channel> = self
            .map
            .keys()
            .filter(|(s, c, _)| s == snap && c.track() == track && c.branch().is_some())
            .map(|(_, c, _)| c.clone())
            .collect();
        b.dedup();
        b
    }

    /// Every risk channel of a track, most stable first.
    pub fn risks(track: &str) -> Vec<Channel> {
        Risk::ALL
            .iter()
            .filter_map(|r| Channel::new(track, *r, None).ok())
            .collect()
    }
}
