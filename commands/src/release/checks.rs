//! The checks `!release-status` runs, each reading what it needs and
//! saying what is wrong and what to do about it. A release's binaries are
//! built once (release-prep) and then only copied and released onwards, so
//! each later stage is checked for *the same* build: a version built from
//! the release (`3.6.0~beta1-NNNN-g.SHA`), not merely a similar one.

use std::collections::BTreeSet;

use super::builds::{prep_commit, release_revisions};
use super::product::{Product, Stage};
use super::version::Version;
use super::view::SnapChannels;
use crate::{Context, UserError};

/// One line of the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub title: String,
    /// Empty: ✓.
    pub problems: Vec<String>,
    /// What to paste when this is the topmost failure.
    pub next: Option<String>,
}

impl Check {
    fn new(title: String, problems: Vec<String>, next: impl Into<Option<String>>) -> Self {
        let next = if problems.is_empty() {
            None
        } else {
            next.into()
        };
        Check {
            title,
            problems,
            next,
        }
    }
}

/// Unresolved statuses a released milestone must not keep.
pub const OPEN: &[&str] = &[
    "New",
    "Incomplete",
    "Confirmed",
    "Triaged",
    "In Progress",
    "Deferred",
];

pub(crate) struct Checker<'a> {
    cx: &'a Context<'a>,
    p: &'a Product,
    v: Version,
    path: Vec<&'a Stage>,
    /// Each snap's (and companion's) channels, read once.
    channels: Vec<(String, SnapChannels)>,
    /// The commit the release-prep deb was built from (the build set's).
    commit: Option<String>,
}

/// `a, b and c` — for arches and names.
fn list(items: &[String]) -> String {
    items.join(", ")
}

impl<'a> Checker<'a> {
    pub(crate) async fn new(
        cx: &'a Context<'a>,
        p: &'a Product,
        v: Version,
    ) -> Result<Checker<'a>, UserError> {
        let mut channels = Vec::new();
        let companions = p.path(&v).iter().any(|s| s.companions);
        let snaps = p
            .snaps
            .iter()
            .chain(p.companion_snaps.iter().filter(|_| companions));
        for snap in snaps {
            channels.push((snap.clone(), cx.release.snap_channels(snap).await?));
        }
        let commit = prep_commit(cx, p, &v).await?;
        Ok(Checker {
            cx,
            p,
            path: p.path(&v),
            v,
            channels,
            commit,
        })
    }

    fn snap(&self, name: &str) -> Option<&SnapChannels> {
        self.channels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    /// Every check, in the order the work is done.
    pub(crate) async fn all(&self) -> Result<Vec<Check>, UserError> {
        let mut out = Vec::new();
        let ppas = self.p.ubuntu_series.is_some();
        if ppas {
            out.push(self.ppas().await?);
            out.push(self.source_built().await?);
        }
        for snap in &self.p.snaps {
            out.push(self.snap_built(snap));
        }
        let mut stages = Vec::new();
        for (i, stage) in self.path.iter().enumerate() {
            stages.push(self.stage(i, stage).await?);
        }
        // A stage the release has moved on from may be closed (rc closes
        // beta) or expired (release-prep): a later stage holding it is
        // what counts.
        for i in 0..stages.len() {
            let later = (i + 1..stages.len())
                .rev()
                .find(|j| stages[*j].problems.is_empty());
            if let (false, Some(j)) = (stages[i].problems.is_empty(), later) {
                let moved = format!("{} (moved on to {})", stages[i].title, self.path[j].name);
                stages[i] = Check::new(moved, Vec::new(), None);
            }
        }
        for (i, check) in stages.into_iter().enumerate() {
            out.push(check);
            if i == 0 && ppas && self.p.deps_ppa.is_some() {
                out.push(self.deps().await?);
            }
        }
        if self.path.iter().any(|s| s.companions) {
            out.push(self.default_track());
        }
        out.push(self.milestone().await?);
        out.push(self.bugs().await?);
        if let Some(repo) = &self.p.git_repository {
            out.push(self.tag(repo).await?);
        }
        Ok(out)
    }

    /// The stages' PPAs, each once, in path order.
    fn stage_ppas(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for s in &self.path {
            if let Some(ppa) = self.p.ppa(s, &self.v) {
                if !seen.contains(&ppa) {
                    seen.push(ppa);
                }
            }
        }
        seen
    }

    async fn ppas(&self) -> Result<Check, UserError> {
        let ppas = self.stage_ppas();
        let mut problems = Vec::new();
        let mut next = None;
        for ppa in &ppas {
            let owner = ppa.split('/').next().unwrap_or_default();
            match self.cx.launchpad.ppa_processors(ppa).await? {
                None => {
                    problems.push(format!("ppa:{ppa} does not exist"));
                    next.get_or_insert(format!(
                        "create ppa:{ppa} on Launchpad: https://launchpad.net/~{owner}/+activate-ppa"
                    ));
                }
                Some(builds) => {
                    let missing: Vec<String> = self
                        .p
                        .architectures
                        .iter()
                        .filter(|a| !builds.contains(a))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        problems.push(format!("ppa:{ppa} does not build {}", list(&missing)));
                        let (o, n) = ppa.split_once('/').unwrap_or((ppa, ""));
                        next.get_or_insert(format!(
                            "enable {} for ppa:{ppa}: https://launchpad.net/~{o}/+archive/ubuntu/{n}/+edit",
                            list(&missing)
                        ));
                    }
                }
            }
        }
        let title = format!(
            "PPAs {} build {}",
            ppas.iter()
                .map(|p| format!("ppa:{p}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.p.architectures.join(" ")
        );
        Ok(Check::new(title, problems, next))
    }

    /// The release's build of the source in `ppa`: its version, and the
    /// arches whose binaries are missing. `None`: no such source.
    async fn build_in(&self, ppa: &str) -> Result<Option<(String, Vec<String>)>, UserError> {
        let series = self.p.ubuntu_series.as_deref().unwrap_or_default();
        let published = self
            .cx
            .launchpad
            .published(ppa, self.p.source(), None)
            .await?;
        let Some(source) = published.iter().find(|s| {
            s.status == "Published"
                && s.series() == Some(series)
                && self.v.built_as(&s.source_package_version)
        }) else {
            return Ok(None);
        };
        let version = source.source_package_version.clone();
        let built = self
            .cx
            .launchpad
            .binary_arches(ppa, self.p.source(), &version)
            .await?;
        let missing = self
            .p
            .architectures
            .iter()
            .filter(|a| !built.contains(a))
            .cloned()
            .collect();
        Ok(Some((version, missing)))
    }

    async fn source_built(&self) -> Result<Check, UserError> {
        let Some(prep) = self.path.first().and_then(|s| self.p.ppa(s, &self.v)) else {
            return Ok(Check::new("no release-prep PPA".into(), Vec::new(), None));
        };
        let (src, series) = (
            self.p.source(),
            self.p.ubuntu_series.as_deref().unwrap_or_default(),
        );
        let title = format!("{src} {} built and published in ppa:{prep}", self.v.deb());
        Ok(match self.build_in(&prep).await? {
            None => Check::new(
                title,
                vec![format!(
                    "no {series} build of {} is published there",
                    self.v.python()
                )],
                format!(
                    "build {src} {} from the release commit and upload it to ppa:{prep}",
                    self.v.deb()
                ),
            ),
            Some((version, missing)) => Check::new(
                format!("{title} ({version})"),
                missing
                    .iter()
                    .map(|a| format!("no {a} binary published"))
                    .collect(),
                format!(
                    "wait for (or retry) the failed builds: https://launchpad.net/~{}/+packages",
                    prep.replace('/', "/+archive/ubuntu/")
                ),
            ),
        })
    }

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

    fn snap_built(&self, snap: &str) -> Check {
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

    async fn stage(&self, i: usize, stage: &Stage) -> Result<Check, UserError> {
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
    fn default_track(&self) -> Check {
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

    async fn deps(&self) -> Result<Check, UserError> {
        let (Some(deps), Some(prep)) = (
            self.p.deps_ppa.as_deref(),
            self.path.first().and_then(|s| self.p.ppa(s, &self.v)),
        ) else {
            return Ok(Check::new("no dependencies PPA".into(), Vec::new(), None));
        };
        let series = self.p.ubuntu_series.as_deref().unwrap_or_default();
        let have: BTreeSet<(String, String)> = self
            .cx
            .launchpad
            .ppa_sources(&prep, series)
            .await?
            .into_iter()
            .map(|s| (s.source_package_name, s.source_package_version))
            .collect();
        let missing: Vec<(String, String)> = self
            .cx
            .launchpad
            .ppa_sources(deps, series)
            .await?
            .into_iter()
            .map(|s| (s.source_package_name, s.source_package_version))
            .filter(|k| !have.contains(k))
            .collect();
        let next = missing
            .first()
            .map(|(n, v)| format!("`!copy {n} {v} --from {deps} --to {prep} --series {series}`"));
        let problems = if missing.is_empty() {
            Vec::new()
        } else {
            let names: Vec<String> = missing.iter().map(|(n, v)| format!("{n} {v}")).collect();
            vec![format!("not copied yet: {}", list(&names))]
        };
        Ok(Check::new(
            format!("dependencies from ppa:{deps} copied to ppa:{prep}"),
            problems,
            next,
        ))
    }

    async fn milestone(&self) -> Result<Check, UserError> {
        let (project, name) = (self.p.project(), self.v.tag());
        let title = format!("milestone {project} {name} exists");
        Ok(match self.cx.launchpad.milestone(project, &name).await? {
            None => Check::new(
                title,
                vec!["no such milestone".into()],
                format!("`!milestone create {project} {} {name}`", self.v.series()),
            ),
            Some(m) if !m.is_active && m.release_link.is_none() => Check::new(
                title,
                vec!["it is inactive and was never released".into()],
                format!("`!milestone release {project} {name}` once the release is out"),
            ),
            Some(_) => Check::new(title, Vec::new(), None),
        })
    }

    async fn bugs(&self) -> Result<Check, UserError> {
        let (project, name) = (self.p.project(), self.v.tag());
        let open = self
            .cx
            .launchpad
            .milestone_tasks(project, &name, OPEN)
            .await?;
        let shown: Vec<String> = open
            .iter()
            .take(5)
            .map(|t| {
                let id = t.bug_link.rsplit('/').next().unwrap_or("?");
                format!("LP: #{id} ({})", t.status)
            })
            .collect();
        let mut problems = Vec::new();
        if !open.is_empty() {
            let more = open.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            problems.push(format!("{} still open: {}{more}", open.len(), list(&shown)));
        }
        Ok(Check::new(
            format!("no open bugs on milestone {name}"),
            problems,
            format!("fix or retarget them: `!bugs list {project} {name}`"),
        ))
    }

    async fn tag(&self, repo: &str) -> Result<Check, UserError> {
        let tag = self.v.tag();
        let problems = if self.cx.launchpad.tag_exists(repo, &tag).await? {
            Vec::new()
        } else {
            vec![format!("no tag {tag} in {repo}")]
        };
        Ok(Check::new(
            format!("release tagged {tag}"),
            problems,
            format!("tag the released commit: `git tag -a {tag} -m \"{tag} release\" && git push origin {tag}`"),
        ))
    }
}
