//! `!bugs move-done|release|list`: the bug housekeeping of a release
//! (`release-manage move-done-bugs` and marking Fix Released). One step
//! per task, run several at a time (a bulk plan), each a PATCH with the
//! ETag read while planning: a task someone changed since is read again
//! and changed only if it still needs it, so a restart repeats nothing.

use async_trait::async_trait;
use shepherd_adapters::launchpad::bugs::BugTask;

use super::milestone::lp_name;
use crate::plan::format::plural;
use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Bugs;

static SPEC: CommandSpec = CommandSpec {
    name: "bugs",
    aliases: &[],
    summary: "move a milestone's Fix Committed bugs to the next one, mark them Fix Released, or list them",
    usage: "!bugs move-done PROJECT FROM TO | release PROJECT MILESTONE | list PROJECT MILESTONE [--status S]…",
    examples: &[
        "!bugs list maas 3.6.0-beta1",
        "!bugs move-done maas 3.6.0-beta1 3.6.0-beta2 --dry-run",
        "!bugs release maas 3.6.0 --dry-run",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[FlagSpec {
        name: "status",
        kind: FlagKind::Value,
        repeatable: true,
        help: "list only tasks in this status (default: every unresolved one and Fix Committed)",
    }],
    positionals: (3, 4),
    positional_names: "move-done|release|list PROJECT …",
};

const DONE: &str = "Fix Committed";
const LISTED: usize = 20;

fn bug_id(t: &BugTask) -> u64 {
    t.bug_link
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

fn usage() -> UserError {
    UserError(format!("usage: {}", SPEC.usage))
}

async fn tasks(
    cx: &Context<'_>,
    project: &str,
    milestone: &str,
    statuses: &[&str],
) -> Result<Vec<BugTask>, UserError> {
    lp_name("project", project)?;
    let found = cx
        .launchpad
        .milestone_tasks(project, milestone, statuses)
        .await;
    // Only an empty (or refused) search asks whether the milestone exists:
    // one round trip fewer in the usual case.
    if found.as_ref().is_ok_and(|t| !t.is_empty()) {
        return found;
    }
    if cx.launchpad.milestone(project, milestone).await?.is_none() {
        return Err(UserError(format!(
            "{project} has no milestone {milestone} — `!milestone list {project}` shows them"
        )));
    }
    found
}

/// One step per task: this change, keyed by the task and the change.
fn bulk(
    summary: String,
    tasks: &[BugTask],
    status: Option<&str>,
    milestone: Option<&str>,
) -> Outcome {
    let what = status.or(milestone).unwrap_or_default();
    let steps = tasks
        .iter()
        .map(|t| StepDraft {
            // The task as read: a task changed since (reopened, moved back)
            // is a new step, not one done before.
            key: format!(
                "bug-task/{}/{what}/{}",
                t.self_link.rsplit("/devel/").next().unwrap_or(&t.self_link),
                t.http_etag.as_deref().unwrap_or("")
            ),
            action: Action::UpdateBugTask {
                task: t.self_link.clone(),
                bug: bug_id(t),
                status: status.map(str::to_string),
                milestone: milestone.map(str::to_string),
                etag: t.http_etag.clone(),
                from_status: Some(t.status.clone()),
                from_milestone: t
                    .milestone_link
                    .as_deref()
                    .and_then(|l| l.rsplit('/').next())
                    .map(str::to_string),
            },
        })
        .collect();
    Outcome::Plan(PlanDraft {
        summary,
        steps,
        confirm_reason: None,
        notes: Vec::new(),
        parallel: true,
    })
}

#[async_trait]
impl Command for Bugs {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    fn reads(&self, inv: &Invocation) -> bool {
        super::is_list(inv)
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let args: Vec<&str> = inv.positionals.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["move-done", _, from, to] if from == to => Err(UserError(format!(
                "FROM and TO are the same milestone ({from})"
            ))),
            ["move-done", project, from, to] => {
                if cx.launchpad.milestone(project, to).await?.is_none() {
                    return Err(UserError(format!(
                        "{project} has no milestone {to} — `!milestone create {project} SERIES {to}` first"
                    )));
                }
                let done = tasks(cx, project, from, &[DONE]).await?;
                let n = done.len();
                Ok(bulk(
                    format!(
                        "{n} Fix Committed task{} of {project} {from} moved to {to}",
                        plural(n)
                    ),
                    &done,
                    None,
                    Some(to),
                ))
            }
            ["release", project, milestone] => {
                let done = tasks(cx, project, milestone, &[DONE]).await?;
                let n = done.len();
                Ok(bulk(
                    format!(
                        "{n} Fix Committed task{} of {project} {milestone} → Fix Released",
                        plural(n)
                    ),
                    &done,
                    Some("Fix Released"),
                    None,
                ))
            }
            ["list", project, milestone] => list(cx, inv, project, milestone).await,
            _ => Err(usage()),
        }
    }
}

async fn list(
    cx: &Context<'_>,
    inv: &Invocation,
    project: &str,
    milestone: &str,
) -> Result<Outcome, UserError> {
    let asked: Vec<&str> = inv
        .flag_values("status")
        .iter()
        .map(String::as_str)
        .collect();
    let statuses: &[&str] = if asked.is_empty() {
        &[
            "New",
            "Incomplete",
            "Confirmed",
            "Triaged",
            "In Progress",
            DONE,
        ]
    } else {
        &asked
    };
    let all = tasks(cx, project, milestone, statuses).await?;
    if all.is_empty() {
        return Ok(Outcome::Reply(format!(
            "no {} bugs on {project} {milestone}",
            statuses.join("/")
        )));
    }
    let mut lines: Vec<String> = all
        .iter()
        .take(LISTED)
        .map(|t| {
            format!(
                "  LP: #{} {} — {}",
                bug_id(t),
                t.title.as_deref().unwrap_or(""),
                t.status
            )
        })
        .collect();
    if all.len() > LISTED {
        lines.push(format!("  … and {} more", all.len() - LISTED));
    }
    Ok(Outcome::Reply(format!(
        "{} bug{} on {project} {milestone}:\n{}",
        all.len(),
        plural(all.len()),
        lines.join("\n")
    )))
}
