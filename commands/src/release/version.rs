//! One release, every spelling (shared reference snapstore-maas, §2.2):
//! Python `3.7.0b1`, git tag and Launchpad milestone `3.7.0-beta1`, deb
//! `3.7.0~beta1`, and the built deb/snap `3.7.0~beta1-17580-g.1a2b3c4d5`
//! (`<count>-g.<sha>` names the commit it was built from). A final release
//! is bare in every form (`3.7.0`). Any form parses; each renders.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// How far a release is from final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    Alpha(u32),
    Beta(u32),
    Rc(u32),
    Final,
}

/// `X.Y.Z` plus its grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub grade: Grade,
}

/// A version as a build carries it: the release, then which commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildVersion {
    pub version: Version,
    /// `git rev-list --count` at the commit.
    pub count: u64,
    /// The commit's abbreviated hash (hex).
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not a release version: write X.Y.Z, X.Y.ZbN / X.Y.Z-betaN, X.Y.ZrcN / X.Y.Z-rcN")]
pub struct VersionError(pub String);

/// Grade spellings, longest first so `rc` is not read as a prefix of
/// something else and `-beta` wins over `b`.
const GRADES: &[(&str, fn(u32) -> Grade)] = &[
    ("~alpha", Grade::Alpha),
    ("~beta", Grade::Beta),
    ("~rc", Grade::Rc),
    ("-alpha", Grade::Alpha),
    ("-beta", Grade::Beta),
    ("-rc", Grade::Rc),
    ("alpha", Grade::Alpha),
    ("beta", Grade::Beta),
    ("rc", Grade::Rc),
    ("a", Grade::Alpha),
    ("b", Grade::Beta),
];

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // No leading zeros: `3.07.0` is not a spelling any tool produces.
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl FromStr for Version {
    type Err = VersionError;

    /// Any of the release spellings (not a build's `-count-g.sha` tail:
    /// that is [`BuildVersion`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || VersionError(s.to_string());
        let mut parts = s.splitn(3, '.');
        let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (patch, suffix) = rest.split_at(digits);
        let grade = if suffix.is_empty() {
            Grade::Final
        } else {
            GRADES
                .iter()
                .find_map(|(p, g)| Some(g(number(suffix.strip_prefix(p)?)?)))
                .ok_or_else(bad)?
        };
        Ok(Version {
            major: number(major).ok_or_else(bad)?,
            minor: number(minor).ok_or_else(bad)?,
            patch: number(patch).ok_or_else(bad)?,
            grade,
        })
    }
}

impl Version {
    fn with(&self, alpha: &str, beta: &str, rc: &str) -> String {
        let base = format!("{}.{}.{}", self.major, self.minor, self.patch);
        match self.grade {
            Grade::Alpha(n) => format!("{base}{alpha}{n}"),
            Grade::Beta(n) => format!("{base}{beta}{n}"),
            Grade::Rc(n) => format!("{base}{rc}{n}"),
            Grade::Final => base,
        }
    }

    /// `3.7.0b1`: what the source tree says.
    pub fn python(&self) -> String {
        self.with("a", "b", "rc")
    }

    /// `3.7.0-beta1`: the git tag and the Launchpad milestone.
    pub fn tag(&self) -> String {
        self.with("-alpha", "-beta", "-rc")
    }

    /// `3.7.0~beta1`: the deb version (sorts before the final `3.7.0`).
    pub fn deb(&self) -> String {
        self.with("~alpha", "~beta", "~rc")
    }

    /// `3.7`: the series, the snap track and the PPA suffix.
    pub fn series(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// Is `built` (a deb or snap version) a build of this release?
    pub fn built_as(&self, built: &str) -> bool {
        built
            .parse::<BuildVersion>()
            .is_ok_and(|b| b.version == *self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.python())
    }
}

impl FromStr for BuildVersion {
    type Err = VersionError;

    /// `3.7.0~beta1-17580-g.1a2b3c4d5`; an epoch (`1:`) and a package
    /// revision after the hash (`-0ubuntu1`) are tolerated.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || VersionError(s.to_string());
        let plain = s.split_once(':').map_or(s, |(_, v)| v);
        let (head, sha_tail) = plain.split_once("-g.").ok_or_else(bad)?;
        let (release, count) = head.rsplit_once('-').ok_or_else(bad)?;
        let sha: String = sha_tail
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if sha.len() < 7 {
            return Err(bad());
        }
        Ok(BuildVersion {
            version: release.parse().map_err(|_| bad())?,
            count: count.parse().map_err(|_| bad())?,
            sha,
        })
    }
}

impl fmt::Display for BuildVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-g.{}", self.version.deb(), self.count, self.sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn every_spelling_of_one_release() {
        let cases = [
            ("3.7.0b1", "3.7.0b1", "3.7.0-beta1", "3.7.0~beta1"),
            ("3.7.0-beta1", "3.7.0b1", "3.7.0-beta1", "3.7.0~beta1"),
            ("3.7.0~beta1", "3.7.0b1", "3.7.0-beta1", "3.7.0~beta1"),
            ("3.7.0rc2", "3.7.0rc2", "3.7.0-rc2", "3.7.0~rc2"),
            ("3.7.0-rc2", "3.7.0rc2", "3.7.0-rc2", "3.7.0~rc2"),
            ("3.7.0a1", "3.7.0a1", "3.7.0-alpha1", "3.7.0~alpha1"),
            ("3.6.12", "3.6.12", "3.6.12", "3.6.12"),
        ];
        for (input, python, tag, deb) in cases {
            let x = v(input);
            assert_eq!(
                (x.python(), x.tag(), x.deb()),
                (python.into(), tag.into(), deb.into()),
                "{input}"
            );
            assert_eq!(x.series(), input[..3].to_string());
        }
    }

    #[test]
    fn not_versions() {
        for bad in [
            "",
            "3.7",
            "3.7.x",
            "3.7.0b",
            "3.7.0-gamma1",
            "3.07.0",
            "3.7.0 b1",
            "3.7.0b1x",
            "v3.7.0",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_name_their_release_and_commit() {
        let b: BuildVersion = "3.6.0~beta1-17580-g.1a2b3c4d5".parse().unwrap();
        assert_eq!(b.version, v("3.6.0b1"));
        assert_eq!((b.count, b.sha.as_str()), (17580, "1a2b3c4d5"));
        assert!(v("3.6.0b1").built_as("1:3.6.0~beta1-17580-g.1a2b3c4d5-0ubuntu1"));
        assert!(!v("3.6.0b2").built_as("3.6.0~beta1-17580-g.1a2b3c4d5"));
        assert!(
            !v("3.6.0").built_as("3.6.0~beta1-17580-g.1a2b3c4d5"),
            "a beta is not the final"
        );
        assert!(
            !v("3.6.0b1").built_as("3.6.0~beta1"),
            "no commit: not a build"
        );
    }

    fn grade() -> impl Strategy<Value = Grade> {
        prop_oneof![
            (1u32..50).prop_map(Grade::Alpha),
            (1u32..50).prop_map(Grade::Beta),
            (1u32..50).prop_map(Grade::Rc),
            Just(Grade::Final),
        ]
    }

    fn version() -> impl Strategy<Value = Version> {
        (0u32..20, 0u32..40, 0u32..40, grade()).prop_map(|(major, minor, patch, grade)| Version {
            major,
            minor,
            patch,
            grade,
        })
    }

    proptest! {
        /// Render → parse gives the same release, in every form.
        #[test]
        fn render_parse_round_trips(x in version(), count in 0u64..100_000, sha in "[0-9a-f]{7,12}") {
            for form in [x.python(), x.tag(), x.deb()] {
                prop_assert_eq!(form.parse::<Version>().unwrap(), x);
            }
            let b = BuildVersion { version: x, count, sha };
            prop_assert_eq!(b.to_string().parse::<BuildVersion>().unwrap(), b.clone());
            prop_assert!(x.built_as(&b.to_string()));
        }

        /// Releases sort as the deb versions do: alpha < beta < rc < final.
        #[test]
        fn order_follows_grade(a in version(), b in version()) {
            let same_base = (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch);
            if same_base {
                prop_assert_eq!(a.cmp(&b), a.grade.cmp(&b.grade));
            }
        }

        /// Nothing panics on arbitrary input.
        #[test]
        fn parsing_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Version>();
            let _ = s.parse::<BuildVersion>();
        }
    }
}
