//! `!promote VERSION STAGE`: one plan that moves a release's *same*
//! binaries into a stage — the source copied with its binaries from the
//! previous stage's PPA (per series), each snap's exact revisions released
//! from the previous stage's channel (per architecture), the stage's
//! closes, and its companion snaps. Nothing is rebuilt. It refuses,
//! planning nothing, when any architecture or binary is missing or a
//! branch has expired (seed: MAAS release stages; shared reference
//! snapstore-maas, §4).

use async_trait::async_trait;

use super::builds::{prep_commit, release_revisions};
use super::product::{Product, Stage};
use super::status::version_arg;
use super::version::Version;
use super::view::SnapChannels;
use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Promote;

static SPEC: CommandSpec = CommandSpec {
    name: "promote",
    aliases: &[],
    summary: "move a release's binaries into a stage: PPA copies with binaries, exact snap revisions, closes — never a rebuild",
    usage: "!promote VERSION STAGE [--product P] [--dry-run]",
    examples: &[
        "!promote 3.6.0b1 release-prep --dry-run",
        "!promote 3.6.0b1 beta --product maas --dry-run",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[FlagSpec {
        name: "product",
        kind: FlagKind::Value,
        repeatable: false,
        help: "which configured product (default: the only one)",
    }],
    positionals: (2, 2),
    positional_names: "VERSION STAGE",
};

/// What the plan is made of, before it becomes steps.
struct Promotion<'a> {
    cx: &'a Context<'a>,
    p: &'a Product,
    v: Version,
    from: Option<&'a Stage>,
    to: &'a Stage,
    steps: Vec<StepDraft>,
    notes: Vec<String>,
    /// Each snap's channels, read once per request.
    read: Vec<(String, SnapChannels)>,
    /// The commit of the release's build set (release-prep's deb).
    commit: Option<String>,
}

#[async_trait]
impl Command for Promote {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let v = version_arg(&inv.positionals[0])?;
        let p = cx.release.product(inv.flag("product"))?;
        let stage = &inv.positionals[1];
        let Some((from, to)) = p.step_to(&v, stage) else {
            let path: Vec<&str> = p.path(&v).iter().map(|s| s.name.as_str()).collect();
            return Err(UserError(format!(
                "{} does not go through `{stage}` — its stages: {}",
                v.python(),
                path.join(" → ")
            )));
        };
        let mut plan = Promotion {
            cx,
            p,
            v,
            from,
            to,
            steps: Vec::new(),
            notes: Vec::new(),
            read: Vec::new(),
            commit: prep_commit(cx, p, &v).await?,
        };
        plan.copies().await?;
        plan.releases().await?;
        plan.closes().await?;
        Ok(Outcome::Plan(plan.draft()))
    }
}

impl Promotion<'_> {
    async fn channels(&mut self, snap: &str) -> Result<SnapChannels, UserError> {
        if let Some((_, c)) = self.read.iter().find(|(s, _)| s == snap) {
            return Ok(c.clone());
        }
        let c = self.cx.release.snap_channels(snap).await?;
        self.read.push((snap.to_string(), c.clone()));
        Ok(c)
    }

    fn draft(self) -> PlanDraft {
        let channel = self.p.channel(self.to, &self.v);
        let summary = match self.p.ppa(self.to, &self.v) {
            Some(ppa) => format!(
                "{} {} to {} (ppa:{ppa}, {channel})",
                self.p.name,
                self.v.python(),
                self.to.name
            ),
            None => format!(
                "{} {} to {} ({channel})",
                self.p.name,
                self.v.python(),
                self.to.name
            ),
        };
        let summary = if self.steps.is_empty() {
            format!(
                "{} {} is in {} already",
                self.p.name,
                self.v.python(),
                self.to.name
            )
        } else {
            summary
        };
        PlanDraft {
            summary,
            confirm_reason: self.to.confirm.then(|| format!("{} release", self.to.name)),
            steps: self.steps,
            notes: self.notes,
            parallel: false,
        }
    }

    /// The source, with its binaries, from the previous stage's PPA.
    async fn copies(&mut self) -> Result<(), UserError> {
        let (Some(from), Some(series)) = (self.from, self.p.ubuntu_series.clone()) else {
            return Ok(());
        };
        let (Some(src_ppa), Some(dst_ppa)) =
            (self.p.ppa(from, &self.v), self.p.ppa(self.to, &self.v))
        else {
            return Ok(());
        };
        if src_ppa == dst_ppa {
            return Ok(());
        }
        let lp = self.cx.launchpad;
        let name = self.p.source();
        let find = |pubs: Vec<shepherd_adapters::launchpad::archive::SourcePublication>| {
            pubs.into_iter().find(|s| {
                s.status == "Published"
                    && s.series() == Some(series.as_str())
                    && self.v.built_as(&s.source_package_version)
            })
        };
        let Some(source) = find(lp.published(&src_ppa, name, None).await?) else {
            return Err(UserError(format!(
                "ppa:{src_ppa} has no {series} build of {name} {} — `!promote {} {}` first",
                self.v.python(),
                self.v.python(),
                from.name
            )));
        };
        let version = source.source_package_version;
        let built = lp.binary_arches(&src_ppa, name, &version).await?;
        let missing: Vec<&String> = self
            .p
            .architectures
            .iter()
            .filter(|a| !built.contains(a))
            .collect();
        if !missing.is_empty() {
            return Err(UserError(format!(
                "refusing: ppa:{src_ppa} has no {} binaries of {name} {version} — nothing planned",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if find(lp.published(&dst_ppa, name, Some(&version)).await?).is_some() {
            self.notes
                .push(format!("(ppa:{dst_ppa} has {name} {version} already)"));
            return Ok(());
        }
        self.steps.push(StepDraft {
            key: format!("copy/{dst_ppa}/{name}/{version}/{series}"),
            action: Action::CopyPackage {
                name: name.to_string(),
                version,
                from: src_ppa,
                to: dst_ppa,
                series,
                include_binaries: true,
            },
        });
        Ok(())
    }

    /// Each snap's revisions for the stage channel, per architecture.
    async fn releases(&mut self) -> Result<(), UserError> {
        let target = self.p.channel(self.to, &self.v);
        for snap in &self.p.snaps {
            let channels = self.channels(snap).await?;
            let revisions = self.sources(snap, &channels)?;
            self.release_all(snap, &channels, &target, revisions);
        }
        if self.to.companions {
            for snap in &self.p.companion_snaps {
                let channels = self.channels(snap).await?;
                let revisions = companion_sources(snap, &channels, &target, &self.p.architectures)?;
                self.release_all(snap, &channels, &target, revisions);
            }
        }
        Ok(())
    }

    fn release_all(
        &mut self,
        snap: &str,
        channels: &SnapChannels,
        target: &str,
        revisions: Vec<(String, u64)>,
    ) {
        for (arch, revision) in revisions {
            if channels
                .holds(target, &arch)
                .is_some_and(|e| e.revision == revision)
            {
                continue;
            }
            // Keyed by the request: releasing is idempotent in the store and
            // the step looks first, while a later request (say, after the
            // branch expired) must be able to release the same revision again.
            self.steps.push(StepDraft {
                key: format!(
                    "snap-release/{snap}/{revision}/{target}/{}",
                    self.cx.request_id
                ),
                action: Action::ReleaseSnap {
                    snap: snap.to_string(),
                    revision,
                    channel: target.to_string(),
                    arch,
                },
            });
        }
    }

    /// The revision each architecture moves: from the previous stage's
    /// channel, or (first stage) the newest built from this release.
    fn sources(
        &self,
        snap: &str,
        channels: &SnapChannels,
    ) -> Result<Vec<(String, u64)>, UserError> {
        let mut out = Vec::new();
        // Problem → the arches that have it, so one line names them all.
        let mut problems: Vec<(String, Vec<&str>)> = Vec::new();
        for arch in &self.p.architectures {
            match self.source(snap, channels, arch) {
                Ok(rev) => out.push((arch.clone(), rev)),
                Err(what) => match problems.iter_mut().find(|(w, _)| *w == what) {
                    Some((_, arches)) => arches.push(arch),
                    None => problems.push((what, vec![arch])),
                },
            }
        }
        if problems.is_empty() {
            return Ok(out);
        }
        let lines: Vec<String> = problems
            .iter()
            .map(|(what, arches)| format!("{what} {}", arches.join(", ")))
            .collect();
        Err(UserError(format!(
            "refusing, nothing planned: {}",
            lines.join("; ")
        )))
    }

    /// One architecture's revision, or what is wrong (ending in "for",
    /// the arches follow).
    fn source(&self, snap: &str, channels: &SnapChannels, arch: &str) -> Result<u64, String> {
        let v = &self.v;
        let Some(from) = self.from else {
            let (commit, revs) =
                release_revisions(channels, v, &self.p.architectures, self.commit.as_deref());
            let rev = revs.iter().find(|(a, _)| a == arch).and_then(|(_, r)| *r);
            return rev.ok_or_else(|| match commit {
                Some(c) => format!(
                    "no {snap} revision built from {} (commit {c}) for",
                    v.python()
                ),
                None => format!("no {snap} revision built from {} for", v.python()),
            });
        };
        let ch = self.p.channel(from, v);
        match channels.holds(&ch, arch) {
            Some(e) => {
                let version = channels.version_of(e.revision).unwrap_or("?");
                if v.built_as(version) {
                    Ok(e.revision)
                } else {
                    Err(format!(
                        "{ch} holds {version}, not a {} build, for",
                        v.python()
                    ))
                }
            }
            None if channels.expired.iter().any(|(c, a)| *c == ch && a == arch) => Err(format!(
                "branch {ch} expired (`!promote {} {}` releases it there again) for",
                v.python(),
                from.name
            )),
            None => Err(format!("{snap} has nothing in {ch} for")),
        }
    }

    /// The stage's closes, for each snap whose channel map still has them.
    async fn closes(&mut self) -> Result<(), UserError> {
        let closes: Vec<String> = self
            .to
            .close
            .iter()
            .map(|c| self.p.fill(c, &self.v))
            .collect();
        if closes.is_empty() {
            return Ok(());
        }
        let companions = self.p.companion_snaps.iter().filter(|_| self.to.companions);
        for snap in self.p.snaps.iter().chain(companions) {
            let channels = self.channels(snap).await?;
            let open: Vec<String> = closes
                .iter()
                .filter(|c| channels.entries.iter().any(|e| &e.channel == *c))
                .cloned()
                .collect();
            if open.is_empty() {
                continue;
            }
            self.steps.push(StepDraft {
                key: format!(
                    "snap-close/{snap}/{}/{}",
                    open.join("+"),
                    self.cx.request_id
                ),
                action: Action::CloseChannels {
                    snap: snap.clone(),
                    channels: open,
                },
            });
        }
        Ok(())
    }
}

/// A companion snap (e.g. `maas-test-db`) moves what the next less stable
/// risk of the target's track holds (candidate for stable), per
/// architecture — its builds are its own, not the release's. Never further
/// down (an untested edge build must not reach stable): nothing there and
/// nothing in the target is a refusal.
fn companion_sources(
    snap: &str,
    channels: &SnapChannels,
    target: &str,
    arches: &[String],
) -> Result<Vec<(String, u64)>, UserError> {
    let (track, risk) = target.split_once('/').unwrap_or((target, ""));
    let below = match risk {
        "stable" => "candidate",
        "candidate" => "beta",
        "beta" => "edge",
        _ => {
            return Err(UserError(format!(
                "refusing, nothing planned: companion snaps go to a risk channel, not {target}"
            )))
        }
    };
    let source = format!("{track}/{below}");
    let mut out = Vec::new();
    for arch in arches {
        match (channels.holds(&source, arch), channels.holds(target, arch)) {
            (Some(e), _) => out.push((arch.clone(), e.revision)),
            (None, Some(_)) => {}
            (None, None) => {
                return Err(UserError(format!(
                    "refusing, nothing planned: {snap} has nothing in {source} (or {target}) for {arch}"
                )))
            }
        }
    }
    Ok(out)
}
