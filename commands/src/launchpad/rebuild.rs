//! `!rebuild SNAP [ARCH…]` and `!builds SNAP`: snap builds on Launchpad.
//! Without arches, `!rebuild` retries the arches whose latest build failed,
//! with the snap's own auto-build archive, pocket and channels — the
//! seed's lp-shell recipe, without the shell.

use async_trait::async_trait;

use shepherd_adapters::launchpad::snaps::{Snap, SnapBuild};

use super::view::{latest_per_arch, snap_owner};
use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Rebuild;
pub struct Builds;

const OWNER: FlagSpec = FlagSpec {
    name: "owner",
    kind: FlagKind::Value,
    repeatable: false,
    help: "the snap recipe's Launchpad owner (default: configured)",
};

const SERIES: FlagSpec = FlagSpec {
    name: "series",
    kind: FlagKind::Value,
    repeatable: false,
    help:
        "the Ubuntu series to build for, when the snap names none and the arch has no earlier build",
};

static REBUILD: CommandSpec = CommandSpec {
    name: "rebuild",
    aliases: &[],
    summary: "rebuild a snap: the arches whose latest build failed, or the ones named",
    usage: "!rebuild SNAP [ARCH…] [--owner O] [--series S] [--dry-run]",
    examples: &[
        "!rebuild maas",
        "!rebuild maas ppc64el --owner maas-committers --dry-run",
        "!rebuild maas-agent amd64 --series noble --dry-run",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[OWNER, SERIES],
    positionals: (1, usize::MAX),
    positional_names: "SNAP",
};

static BUILDS: CommandSpec = CommandSpec {
    name: "builds",
    aliases: &[],
    summary: "a snap's latest build on each arch, with its store upload status",
    usage: "!builds SNAP [--owner O]",
    examples: &["!builds maas", "!builds maas --owner maas-committers"],
    role: None,
    writes: false,
    flags: &[OWNER],
    positionals: (1, 1),
    positional_names: "SNAP",
};

/// The arches asked for, lower case, each once, and each one the snap
/// builds for (its processors, when Launchpad says) — so a dry run that
/// passes does not meet Launchpad's 400 for real.
fn named_arches(
    name: &str,
    asked: &[String],
    processors: Option<&[String]>,
) -> Result<Vec<String>, UserError> {
    let mut out: Vec<String> = Vec::new();
    for a in asked {
        let a = a.to_ascii_lowercase();
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if let Some(enabled) = processors {
        let unknown: Vec<&str> = out
            .iter()
            .map(String::as_str)
            .filter(|a| !enabled.iter().any(|e| e == a))
            .collect();
        if !unknown.is_empty() {
            return Err(UserError(format!(
                "{name} does not build on {} — it builds on {}",
                unknown.join(", "),
                enabled.join(", ")
            )));
        }
    }
    Ok(out)
}

/// The snap's owner, the snap, and the latest build of each arch.
async fn latest(
    inv: &Invocation,
    cx: &Context<'_>,
) -> Result<(String, Snap, Vec<SnapBuild>), UserError> {
    let owner = snap_owner(inv.flag("owner"), cx.launchpad)?;
    let snap = cx.launchpad.snap(&owner, &inv.positionals[0]).await?;
    let builds = cx.launchpad.snap_builds(&snap, 100).await?;
    let latest = latest_per_arch(&builds).into_iter().cloned().collect();
    Ok((owner, snap, latest))
}

#[async_trait]
impl Command for Rebuild {
    fn spec(&self) -> &CommandSpec {
        &REBUILD
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let name = &inv.positionals[0];
        let (owner, snap, latest) = latest(inv, cx).await?;
        // Each failure gets one rebuild; a later failure of the same arch gets its own.
        let (arches, reason): (Vec<(String, String)>, &str) = if inv.positionals.len() > 1 {
            let processors = cx.launchpad.snap_processors(&snap).await?;
            let named = named_arches(name, &inv.positionals[1..], processors.as_deref())?
                .iter()
                .map(|a| {
                    let last = latest
                        .iter()
                        .find(|b| b.arch() == a)
                        .map_or("none".to_string(), |b| b.id().to_string());
                    (a.clone(), last)
                })
                .collect();
            (named, "as asked")
        } else {
            let failed: Vec<(String, String)> = latest
                .iter()
                .filter(|b| b.is_final() && !b.succeeded())
                .map(|b| (b.arch().to_string(), b.id().to_string()))
                .collect();
            if failed.is_empty() {
                let states: Vec<String> = latest
                    .iter()
                    .map(|b| format!("{} {}", b.arch(), b.buildstate))
                    .collect();
                return Ok(Outcome::Reply(format!(
                    "nothing to rebuild: no latest build of {name} failed ({}) — name arches to rebuild anyway",
                    if states.is_empty() { "no builds yet".to_string() } else { states.join(", ") }
                )));
            }
            (failed, "failed last time")
        };
        let series = series_for(&snap, &latest, &arches, inv.flag("series"))?;
        let steps = arches
            .iter()
            .map(|(arch, last)| StepDraft {
                key: format!("rebuild/{owner}/{name}/{arch}/after-{last}"),
                action: Action::RequestSnapBuild {
                    owner: owner.clone(),
                    snap: name.clone(),
                    arch: arch.clone(),
                    // "none": no earlier build, so every build of the arch is new.
                    after_build: Some(last.parse().unwrap_or(0)),
                    series: series.clone(),
                },
            })
            .collect();
        let list: Vec<&str> = arches.iter().map(|(a, _)| a.as_str()).collect();
        Ok(Outcome::Plan(PlanDraft {
            summary: format!(
                "rebuild ~{owner}/{name} on {} ({reason}) from {} {}",
                list.join(" "),
                snap.auto_build_archive_link
                    .as_deref()
                    .and_then(|l| l.split("/devel/").nth(1))
                    .unwrap_or("its archive"),
                snap.auto_build_pocket.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_string(),
            steps,
            confirm_reason: None,
            notes: Vec::new(),
            parallel: false,
        }))
    }
}

/// The series to send, if one must be: production snaps commonly have no
/// `distro_series_link`, and Launchpad then builds them for a given
/// `distro_arch_series` — the one of the arch's last build, or `--series`.
/// Refused while planning when neither exists, so a dry run that passes
/// does not fail for real.
fn series_for(
    snap: &Snap,
    latest: &[SnapBuild],
    arches: &[(String, String)],
    flag: Option<&str>,
) -> Result<Option<String>, UserError> {
    if snap.distro_series_link.is_some() {
        return Ok(flag.map(str::to_string));
    }
    if flag.is_some() {
        return Ok(flag.map(str::to_string));
    }
    let unknown: Vec<&str> = arches
        .iter()
        .filter(|(arch, _)| {
            !latest
                .iter()
                .any(|b| b.arch() == arch && b.distro_arch_series_link.is_some())
        })
        .map(|(arch, _)| arch.as_str())
        .collect();
    if unknown.is_empty() {
        Ok(None)
    } else {
        Err(UserError(format!(
            "{} names no Ubuntu series and has no earlier build on {} to take one from — add `--series SERIES` (e.g. `--series noble`)",
            snap.name,
            unknown.join(" ")
        )))
    }
}

#[async_trait]
impl Command for Builds {
    fn spec(&self) -> &CommandSpec {
        &BUILDS
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let name = &inv.positionals[0];
        let (owner, _, latest) = latest(inv, cx).await?;
        if latest.is_empty() {
            return Ok(Outcome::Reply(format!("~{owner}/{name} has no builds yet")));
        }
        let mut out = format!("~{owner}/{name} latest builds:");
        let mut failed = Vec::new();
        for b in &latest {
            let mark = match (b.is_final(), b.succeeded()) {
                (true, true) => "✓",
                (true, false) => "✗",
                (false, _) => "⏳",
            };
            if b.is_final() && !b.succeeded() {
                failed.push(b.arch());
            }
            let store = b
                .store_upload_status
                .as_deref()
                .map(|s| format!(" · store {s}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "\n  {mark} {} {}{store} · {}",
                b.arch(),
                b.buildstate,
                cx.links.snap_build(&owner, name, b.id())
            ));
        }
        if !failed.is_empty() {
            out.push_str(&format!("\nnext: `!rebuild {name} {}`", failed.join(" ")));
        }
        Ok(Outcome::Reply(out))
    }
}
