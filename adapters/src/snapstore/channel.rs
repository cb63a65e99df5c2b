//! Snap channels, `track/risk[/branch]` (shared reference snapstore-maas
//! §1.3). Shepherd only ever sends fully qualified names: MAAS's default
//! track is `3.6`, not the `latest` snapcraft assumes for a bare `beta`, so a
//! channel without its track would land somewhere else. Unqualified input is
//! accepted only where the track is known ([`Channel::resolve`],
//! [`Channel::in_track`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A risk level, most stable first (the order fallback follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    Stable,
    Candidate,
    Beta,
    Edge,
}

impl Risk {
    pub const ALL: [Risk; 4] = [Risk::Stable, Risk::Candidate, Risk::Beta, Risk::Edge];

    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Stable => "stable",
            Risk::Candidate => "candidate",
            Risk::Beta => "beta",
            Risk::Edge => "edge",
        }
    }

    pub fn parse(s: &str) -> Option<Risk> {
        Risk::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The next more stable risk, which users of a closed risk follow.
    pub fn more_stable(self) -> Option<Risk> {
        match self {
            Risk::Stable => None,
            Risk::Candidate => Some(Risk::Stable),
            Risk::Beta => Some(Risk::Candidate),
            Risk::Edge => Some(Risk::Beta),
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChannelError {
    #[error("`{0}` names no track: write it as TRACK/{0} (e.g. 3.6/{0})")]
    Unqualified(String),
    #[error("`{channel}` is not a channel: {reason}")]
    Invalid { channel: String, reason: String },
}

/// A fully qualified channel. Fields are private so that every value went
/// through the grammar's checks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel {
    track: String,
    risk: Risk,
    branch: Option<String>,
}

/// Track names as the store shows them (`latest`, `3.6`, `2.0-ha`):
/// letters, digits, `-`, `.`, `_`, starting and ending alphanumeric. A risk's
/// name is refused: `beta/x` must stay readable as risk/branch.
fn check_track(track: &str) -> Result<(), String> {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if track.is_empty() {
        return Err("the track is empty".into());
    }
    if !track
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(format!(
            "track `{track}` may hold only letters, digits, `-`, `.` and `_`"
        ));
    }
    if !ends_ok(track.chars().next()) || !ends_ok(track.chars().last()) {
        return Err(format!(
            "track `{track}` must start and end with a letter or digit"
        ));
    }
    if Risk::parse(track).is_some() {
        return Err(format!("`{track}` is a risk, not a track"));
    }
    Ok(())
}

/// The store's branch rule: letters, digits, `-` and `.`, at least two
/// characters, starting and ending alphanumeric (no `_`, no `/`).
fn check_branch(branch: &str) -> Result<(), String> {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if branch.len() < 2 {
        return Err(format!("branch `{branch}` is shorter than two characters"));
    }
    if !branch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(format!(
            "branch `{branch}` may hold only letters, digits, `-` and `.`"
        ));
    }
    if !ends_ok(branch.chars().next()) || !ends_ok(branch.chars().last()) {
        return Err(format!(
            "branch `{branch}` must start and end with a letter or digit"
        ));
    }
    Ok(())
}

impl Channel {
    pub fn new(track: &str, risk: Risk, branch: Option<&str>) -> Result<Self, ChannelError> {
        let invalid = |reason| ChannelError::Invalid {
            channel: render(track, risk, branch),
            reason,
        };
        check_track(track).map_err(invalid)?;
        if let Some(b) = branch {
            check_branch(b).map_err(invalid)?;
        }
        Ok(Self {
            track: track.to_string(),
            risk,
            branch: branch.map(str::to_string),
        })
    }

    /// A fully qualified name: `track/risk` or `track/risk/branch`.
    pub fn parse(s: &str) -> Result<Self, ChannelError> {
        match split(s)? {
            (Some(track), risk, branch) => Self::new(track, risk, branch),
            (None, ..) => Err(ChannelError::Unqualified(s.to_string())),
        }
    }

    /// Any form of §1.3 (`risk`, `risk/branch`, `track/risk[/branch]`), a
    /// missing track taken as `default_track` (the snap's, from its channel map).
    pub fn resolve(s: &str, default_track: &str) -> Result<Self, ChannelError> {
        let (track, risk, branch) = split(s)?;
        Self::new(track.unwrap_or(default_track), risk, branch)
    }

    /// A name inside a track's tree (`edge`, `beta/hotfix`), as the release
    /// and close responses spell them: it must not name a track itself.
    pub fn in_track(s: &str, track: &str) -> Result<Self, ChannelError> {
        match split(s)? {
            (None, risk, branch) => Self::new(track, risk, branch),
            (Some(_), ..) => Err(ChannelError::Invalid {
                channel: s.to_string(),
                reason: format!("expected a channel inside track `{track}`"),
            }),
        }
    }

    pub fn track(&self) -> &str {
        &self.track
    }

    pub fn risk(&self) -> Risk {
        self.risk
    }

    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
    }

    /// The same track and risk, without the branch.
    pub fn without_branch(&self) -> Channel {
        Channel {
            branch: None,
            ..self.clone()
        }
    }

    /// Where users of this channel go when it holds nothing: a branch falls
    /// to its risk, a risk to the next more stable one in the same track.
    pub fn fallback(&self) -> Option<Channel> {
        if self.branch.is_some() {
            return Some(self.without_branch());
        }
        let risk = self.risk.more_stable()?;
        Some(Channel {
            track: self.track.clone(),
            risk,
            branch: None,
        })
    }
}

fn render(track: &str, risk: Risk, branch: Option<&str>) -> String {
    match branch {
        Some(b) => format!("{track}/{risk}/{b}"),
        None => format!("{track}/{risk}"),
    }
}

/// `(track, risk, branch)` by §1.3: one part is a risk; of two, the one that
/// is a risk decides whether the other is the track or the branch.
fn split(s: &str) -> Result<(Option<&str>, Risk, Option<&str>), ChannelError> {
    let invalid = |reason: &str| ChannelError::Invalid {
        channel: s.to_string(),
        reason: reason.to_string(),
    };
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        [risk] => Risk::parse(risk)
            .map(|r| (None, r, None))
            .ok_or_else(|| invalid("a channel needs a risk (stable, candidate, beta, edge)")),
        [a, b] => match (Risk::parse(a), Risk::parse(b)) {
            (_, Some(r)) => Ok((Some(*a), r, None)),
            (Some(r), None) => Ok((None, r, Some(*b))),
            (None, None) => Err(invalid("neither part is a risk")),
        },
        [track, risk, branch] => Risk::parse(risk)
            .map(|r| (Some(*track), r, Some(*branch)))
            .ok_or_else(|| invalid("the second part must be a risk")),
        _ => Err(invalid("more than three parts")),
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.track, self.risk, self.branch.as_deref()))
    }
}

impl FromStr for Channel {
    type Err = ChannelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::parse(s)
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Channel::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_grammar_of_section_1_3() {
        let c = Channel::parse("3.6/beta/release-prep").unwrap();
        assert_eq!(
            (c.track(), c.risk(), c.branch()),
            ("3.6", Risk::Beta, Some("release-prep"))
        );
        assert_eq!(c.fallback().unwrap().to_string(), "3.6/beta");
        assert_eq!(
            Channel::parse("3.6/beta")
                .unwrap()
                .fallback()
                .unwrap()
                .to_string(),
            "3.6/candidate"
        );
        assert_eq!(Channel::parse("latest/stable").unwrap().fallback(), None);
        assert_eq!(
            Channel::parse("beta"),
            Err(ChannelError::Unqualified("beta".into()))
        );
        assert!(matches!(
            Channel::parse("beta/hotfix"),
            Err(ChannelError::Unqualified(_))
        ));
        assert_eq!(
            Channel::resolve("beta/hotfix", "3.6").unwrap().to_string(),
            "3.6/beta/hotfix"
        );
        assert_eq!(
            Channel::resolve("edge", "3.6").unwrap().to_string(),
            "3.6/edge"
        );
        assert_eq!(
            Channel::in_track("edge", "2.9").unwrap().to_string(),
            "2.9/edge"
        );
        assert!(Channel::in_track("2.9/edge", "2.9").is_err());
        for bad in [
            "",
            "3.6/alpha",
            "3.6/beta/x",
            "3.6/beta/_x",
            "3.6/beta/a_b",
            "3.6/beta/-ab",
            "3.6/beta/ab-",
            "a/b/c/d",
            "3.6/beta/",
            "/beta",
            "stable/beta/xx",
            "3.6/beta/a b",
        ] {
            assert!(Channel::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Channel::parse("3.6/beta/v1.2-rc").is_ok());
    }

    #[test]
    fn unqualified_is_explained() {
        let e = Channel::parse("candidate").unwrap_err().to_string();
        assert!(e.contains("TRACK/candidate"), "{e}");
    }

    fn name(first: &'static str, middle: &'static str) -> impl Strategy<Value = String> {
        (
            proptest::string::string_regex(first).unwrap(),
            proptest::string::string_regex(middle).unwrap(),
            proptest::string::string_regex(first).unwrap(),
        )
            .prop_map(|(a, m, b)| format!("{a}{m}{b}"))
    }

    fn channel() -> impl Strategy<Value = Channel> {
        let track = name("[a-z0-9]", "[a-z0-9._-]{0,8}")
            .prop_filter("a risk", |t| Risk::parse(t).is_none());
        let branch = proptest::option::of(name("[A-Za-z0-9]", "[A-Za-z0-9.-]{0,10}"));
        (track, proptest::sample::select(Risk::ALL.to_vec()), branch)
            .prop_map(|(t, r, b)| Channel::new(&t, r, b.as_deref()).unwrap())
    }

    proptest! {
        #[test]
        fn rendering_then_parsing_gives_the_channel_back(c in channel()) {
            let text = c.to_string();
            prop_assert_eq!(Channel::parse(&text), Ok(c.clone()));
            let json = serde_json::to_string(&c).unwrap();
            prop_assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        }

        #[test]
        fn whatever_parses_renders_as_it_was_written(s in "[a-z0-9./_-]{0,24}") {
            if let Ok(c) = Channel::parse(&s) {
                prop_assert_eq!(c.to_string(), s);
            }
        }

        #[test]
        fn fallback_chains_end_at_stable(c in channel()) {
            let mut steps = 0;
            let mut at = c.clone();
            while let Some(next) = at.fallback() {
                prop_assert_eq!(next.track(), c.track());
                at = next;
                steps += 1;
            }
            prop_assert_eq!(at.risk(), Risk::Stable);
            prop_assert!(steps <= 4);
        }
    }
}
