//! The checks `!release-status` runs, each reading what it needs and
//! saying what is wrong and what to do about it. A release's binaries are
//! built once (release-prep) and then only copied and released onwards, so
//! each later stage is checked for *the same* build: a version built from
//! the release (`3.6.0~beta1-NNNN-g.SHA`), not merely a similar one.

mod housekeeping;
mod snaps;

use super::product::{Product, Stage};
use super::version::BuildVersion;
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
    /// The release's build in the release-prep PPA (version, arches
    /// without binaries), read once for the commit and its own check.
    prep_build: Result<Option<(String, Vec<String>)>, UserError>,
}

/// `a, b and c` — for arches and names.
pub(super) fn list(items: &[String]) -> String {
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
        let mut checker = Checker {
            cx,
            p,
            path: p.path(&v),
            v,
            channels,
            commit: None,
            prep_build: Ok(None),
        };
        if let Some(prep) = checker.prep_ppa() {
            checker.prep_build = checker.build_in(&prep).await;
        }
        // Any error reading it is the source check's to report.
        checker.commit = match &checker.prep_build {
            Ok(Some((version, _))) => version.parse::<BuildVersion>().ok().map(|b| b.sha),
            _ => None,
        };
        Ok(checker)
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
        let milestone = self
            .cx
            .launchpad
            .milestone(self.p.project(), &self.v.tag())
            .await?;
        out.push(self.milestone(milestone.as_ref()));
        out.push(self.bugs(milestone.as_ref()).await?);
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
                        "create ppa:{ppa} on Launchpad: {}",
                        self.cx.links.launchpad(&format!("~{owner}/+activate-ppa"))
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
                            "enable {} for ppa:{ppa}: {}",
                            list(&missing),
                            self.cx
                                .links
                                .launchpad(&format!("~{o}/+archive/ubuntu/{n}/+edit"))
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

    /// The release-prep stage's PPA, when the product has PPAs.
    fn prep_ppa(&self) -> Option<String> {
        self.path.first().and_then(|s| self.p.ppa(s, &self.v))
    }

    async fn source_built(&self) -> Result<Check, UserError> {
        let Some(prep) = self.prep_ppa() else {
            return Ok(Check::new("no release-prep PPA".into(), Vec::new(), None));
        };
        let (src, series) = (
            self.p.source(),
            self.p.ubuntu_series.as_deref().unwrap_or_default(),
        );
        let title = format!("{src} {} built and published in ppa:{prep}", self.v.deb());
        Ok(match self.prep_build.clone()? {
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
                    "wait for (or retry) the failed builds: {}",
                    self.cx.links.ppa_packages(&prep)
                ),
            ),
        })
    }
}
