//! `!retry PKG`: re-run a package's autopkgtest regressions with the right
//! triggers, one request per (test package, arch), skipping what
//! autopkgtest-cloud is already running or has queued.

use async_trait::async_trait;
use shepherd_adapters::autopkgtest::queues::find;
use shepherd_adapters::autopkgtest::request::check_trigger;

use super::explain::not_found;
use super::retry_select::{select_item, Planned, Selection};
use super::view::snapshot_for;
use super::why::SERIES;
use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};
use shepherd_adapters::britney::Status;

pub struct Retry;

const fn flag(
    name: &'static str,
    kind: FlagKind,
    repeatable: bool,
    help: &'static str,
) -> FlagSpec {
    FlagSpec {
        name,
        kind,
        repeatable,
        help,
    }
}

static SPEC: CommandSpec = CommandSpec {
    name: "retry",
    aliases: &["rerun"],
    summary: "re-run a package's autopkgtest regressions with the right triggers",
    usage: "!retry PKG [--arch A]… [--state S] [--trigger SRC/VER]… [--all-proposed] [--ppa OWNER/NAME]… [--reference] [--series S] [--dry-run]",
    examples: &[
        "!retry libsepol",
        "!retry libsepol --trigger libselinux/3.8-1 --dry-run",
        "!retry systemd --arch s390x --all-proposed",
        "!retry systemd --reference",
        "!retry libsepol --ppa someone/myppa --state ALWAYSFAIL",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[
        flag("arch", FlagKind::Value, true, "only this architecture"),
        flag("state", FlagKind::Value, false, "retry results in this state (default REGRESSION)"),
        flag("trigger", FlagKind::Value, true, "an extra trigger SRC/VER for every request"),
        flag("all-proposed", FlagKind::Bool, false, "install everything from -proposed (all-proposed=1)"),
        flag("ppa", FlagKind::Value, true, "run against this PPA (OWNER/NAME)"),
        flag("reference", FlagKind::Bool, false, "a baseline run: trigger migration-reference/0 only"),
        SERIES,
    ],
    positionals: (1, 1),
    positional_names: "PKG",
};

/// The states britney gives test results (`--state`).
pub const STATES: &[&str] = &[
    "REGRESSION",
    "ALWAYSFAIL",
    "NEUTRAL",
    "PASS",
    "OLD_PASS",
    "OLD_NEUTRAL",
    "IGNORE-FAIL",
    "RUNNING",
    "RUNNING-ALWAYSFAIL",
    "RUNNING-REFERENCE",
];

/// `--state` must name a state britney gives results (chat and CLI alike).
pub fn check_state(state: &str) -> Result<(), String> {
    match Status::parse(state) {
        Status::Other(_) => Err(format!(
            "--state {state} is not a test state: use one of {}",
            STATES.join(", ")
        )),
        _ => Ok(()),
    }
}

fn selection(inv: &Invocation) -> Result<Selection, UserError> {
    let sel = Selection {
        state: inv.flag("state").map(str::to_ascii_uppercase),
        arches: inv.flag_values("arch").to_vec(),
        extra_triggers: inv.flag_values("trigger").to_vec(),
        all_proposed: inv.has("all-proposed"),
        ppas: inv.flag_values("ppa").to_vec(),
        reference: inv.has("reference"),
        ..Default::default()
    };
    if let Some(state) = &sel.state {
        check_state(state).map_err(UserError)?;
    }
    if sel.reference {
        // request.cgi refuses these combinations; say so before asking it.
        if !sel.extra_triggers.is_empty() {
            return Err(UserError("--reference runs migration-reference/0 alone: request.cgi refuses extra triggers with it".into()));
        }
        if sel.all_proposed {
            return Err(UserError("--reference and --all-proposed are not compatible (migration-reference/0 tests the release alone)".into()));
        }
        if !sel.ppas.is_empty() {
            return Err(UserError("--reference cannot run against a PPA".into()));
        }
    }
    for t in &sel.extra_triggers {
        check_trigger(t).map_err(|e| UserError(e.to_string()))?;
    }
    check_ppas(&sel.ppas).map_err(UserError)?;
    Ok(sel)
}

/// Each `--ppa` must be OWNER/NAME (chat and CLI alike).
pub fn check_ppas(ppas: &[String]) -> Result<(), String> {
    match ppas
        .iter()
        .find(|p| p.split('/').filter(|s| !s.is_empty()).count() != 2)
    {
        Some(p) => Err(format!("PPA `{p}` must be OWNER/NAME")),
        None => Ok(()),
    }
}

/// "refpolicy on amd64 arm64 · trigger libsepol/3.8-1" for a group of requests.
fn describe(planned: &[Planned]) -> String {
    let mut groups: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for p in planned {
        let r = &p.request;
        match groups
            .iter_mut()
            .find(|(pkg, _, t)| *pkg == r.package && *t == r.triggers)
        {
            Some((_, arches, _)) => arches.extend(r.arches.iter().cloned()),
            None => groups.push((r.package.clone(), r.arches.clone(), r.triggers.clone())),
        }
    }
    groups
        .iter()
        .map(|(pkg, arches, triggers)| {
            format!(
                "{pkg} on {} · trigger {}",
                arches.join(" "),
                triggers.join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[async_trait]
impl Command for Retry {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let pkg = &inv.positionals[0];
        let sel = selection(inv)?;
        let snap = snapshot_for(cx.migration, inv.flag("series")).await?;
        let Some(item) = snap.excuses.for_source(pkg) else {
            return Err(UserError(not_found(pkg, &snap.excuses)));
        };
        let planned = select_item(&snap.series, item, &sel);
        let state = sel.state.as_deref().unwrap_or("REGRESSION");
        if planned.is_empty() {
            let arches = if sel.arches.is_empty() {
                String::new()
            } else {
                format!(" on {}", sel.arches.join(" "))
            };
            return Err(UserError(format!(
                "nothing to retry: {pkg} {} has no {state} results{arches} — `!why {pkg}` shows what it waits for",
                item.new_version
            )));
        }
        let in_flight = cx.migration.in_flight().await?;
        let (busy, todo): (Vec<Planned>, Vec<Planned>) = planned.into_iter().partition(|p| {
            let r = &p.request;
            find(
                &in_flight,
                &r.release,
                &r.arches[0],
                &r.package,
                &r.sorted_triggers(),
                r.all_proposed,
            )
            .is_some()
        });
        let skipped = match busy.len() {
            0 => "0 skipped: none already running or queued".to_string(),
            n => format!(
                "{n} skipped, already running or queued: {}",
                describe(&busy)
            ),
        };
        if todo.is_empty() {
            return Ok(Outcome::Reply(format!("nothing sent — {skipped}")));
        }
        let host = cx.migration.request_url();
        let host = host
            .split('/')
            .nth(2)
            .unwrap_or("autopkgtest-cloud")
            .to_string();
        let summary = format!(
            "{} request{} to {host}, release {}: {}",
            todo.len(),
            if todo.len() == 1 { "" } else { "s" },
            snap.series,
            describe(&todo)
        );
        let steps = todo
            .iter()
            .map(|p| StepDraft {
                key: p.key(),
                action: Action::RequestAutopkgtest {
                    release: p.request.release.clone(),
                    arch: p.request.arches[0].clone(),
                    package: p.request.package.clone(),
                    triggers: p.request.triggers.clone(),
                    all_proposed: p.request.all_proposed,
                    ppas: p.request.ppas.clone(),
                },
            })
            .collect();
        Ok(Outcome::Plan(PlanDraft {
            summary,
            steps,
            confirm_reason: None,
            notes: vec![format!("({skipped})")],
            parallel: false,
        }))
    }
}
