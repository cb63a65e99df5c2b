//! The snap half of the checks: the build set, each stage's PPA and
//! channel, the default track.

use super::{list, Check, Checker};
use crate::release::builds::release_revisions;
use crate::release::product::Stage;
use crate::release::view::SnapChannels;
use crate::UserError;

impl Checker<'_> {
    /// Per arch, the newest revision of `snap` of the release's build set.
    fn built_revisions(&self, snap: &str) -> Vec<(String, Option<u64>)> {
        let empty = SnapChannels::default();
        let channels = self.snap(snap).unwrap_or(&empty);
        release_revisions(
            channels,
            &self.v,
            &self.p.architectures,
            self.commit.as_deref(),
        )
        .1
    }

    pub(super) fn snap_built(&self, snap: &str) -> Check {
        let revs = self.built_revisions(snap);
        let missing: Vec<String> = revs
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(a, _)| a.clone())
            .collect();
        let found: Vec<String> = revs
            .iter()
            .filter_map(|(a, r)| r.map(|r| format!("r{r} ({a})")))
            .collect();
        let title = if found.is_empty() {
            format!("{snap} {} built for every architecture", self.v.python())
        } else {
            format!("{snap} {} built: {}", self.v.python(), found.join(" "))
        };
        let next = self.p.snap_recipe.as_ref().map(|recipe| {
            let recipe = self.p.fill(recipe, &self.v);
            let (owner, name) = recipe
                .trim_start_matches('~')
                .split_once('/')
                .unwrap_or(("", &recipe));
            format!("`!rebuild {name} {} --owner {owner}`", missing.join(" "))
        });
        let problems = if missing.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "no revision built from {} for {}",
                self.v.python(),
                list(&missing)
            )]
        };
        Check::new(title, problems, next)
    }

    /// What `channel` lacks of this release for `snap`, per arch.
    fn channel_problems(&self, snap: &str, channel: &str, exact: bool) -> Vec<String> {
        let Some(c) = self.snap(snap) else {
            return vec![format!("{snap}: channels unknown")];
        };
        let mut empty = Vec::new();
        let mut expired = Vec::new();
        // Builds that are not this release's, by version: r101 r102 (v).
        let mut other: Vec<(String, Vec<String>)> = Vec::new();
        for arch in &self.p.architectures {
            match c.holds(channel, arch) {
                None if c.expired.iter().any(|(ch, a)| ch == channel && a == arch) => {
                    expired.push(arch.clone())
                }
                None => empty.push(arch.clone()),
                Some(e) if exact => {
                    let version = c.version_of(e.revision).unwrap_or("?");
                    if !self.v.built_as(version) {
                        let rev = format!("r{}", e.revision);
                        match other.iter_mut().find(|(v, _)| v == version) {
                            Some((_, revs)) => revs.push(rev),
                            None => other.push((version.to_string(), vec![rev])),
                        }
                    }
                }
                Some(_) => {}
            }
        }
        let mut out = Vec::new();
        if !expired.is_empty() {
            out.push(format!(
                "{snap}: branch {channel} expired ({})",
                list(&expired)
            ));
        }
        if !empty.is_empty() {
            out.push(format!("{snap}: nothing in {channel} for {}", list(&empty)));
        }
        for (version, revs) in other {
            out.push(format!(
                "{snap}: {channel} holds {version} ({})",
                revs.join(" ")
            ));
        }
        out
    }

    pub(super) async fn stage(&self, i: usize, stage: &Stage) -> Result<Check, UserError> {
        let channel = self.p.channel(stage, &self.v);
        let mut problems = Vec::new();
        let mut parts = Vec::new();
        if let Some(ppa) = self.p.ppa(stage, &self.v) {
            parts.push(format!("ppa:{ppa}"));
            if i > 0 {
                match self.build_in(&ppa).await? {
                    None => problems.push(format!(
                        "ppa:{ppa} lacks {} {}",
                        self.p.source(),
                        self.v.deb()
                    )),
                    Some((_, missing)) if !missing.is_empty() => {
                        problems.push(format!("ppa:{ppa} lacks the {} binaries", list(&missing)))
                    }
                    Some(_) => {}
                }
            }
        }
        parts.push(channel.clone());
        for snap in &self.p.snaps {
            problems.extend(self.channel_problems(snap, &channel, true));
        }
        if stage.companions {
            for snap in &self.p.companion_snaps {
                problems.extend(self.channel_problems(snap, &channel, false));
            }
        }
        let next = format!("`!promote {} {}`", self.v.python(), stage.name);
        Ok(Check::new(
            format!("{}: {}", stage.name, parts.join(" and ")),
            problems,
            next,
        ))
    }

    /// A final release makes its track the snaps' default (seed: "switch
    /// default tracks for both maas and maas-test-db"). Done with
    /// snapcraft: the store's metadata call is not one the bot makes.
    pub(super) fn default_track(&self) -> Check {
        let track = self.v.series();
        let behind: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.default_track.as_deref() != Some(track.as_str()))
            .map(|(snap, c)| {
                format!(
                    "{snap}'s is {}",
                    c.default_track.as_deref().unwrap_or("latest")
                )
            })
            .collect();
        let next = self
            .channels
            .iter()
            .find(|(_, c)| c.default_track.as_deref() != Some(track.as_str()))
            .map(|(snap, _)| format!("`snapcraft set-default-track {snap} {track}`"));
        Check::new(format!("default track {track}"), behind, next)
    }
}
