//! `!milestone create|release|list`: a project's milestones, kept in step
//! with its releases (seed: "create a new, active milestone for the next
//! release"; `release-manage release-milestone`). Releasing makes the
//! product release and deactivates the milestone, which Launchpad's
//! `createProductRelease` alone does not (shared reference launchpad-api, §5).

use async_trait::async_trait;

use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Milestone;

static SPEC: CommandSpec = CommandSpec {
    name: "milestone",
    aliases: &[],
    summary: "create, release (and deactivate) or list a project's milestones",
    usage: "!milestone create PROJECT SERIES NAME [--date YYYY-MM-DD] | release PROJECT NAME [--date YYYY-MM-DD] | list PROJECT",
    examples: &[
        "!milestone create maas 3.6 3.6.1 --date 2026-12-15 --dry-run",
        "!milestone release maas 3.6.0 --dry-run",
        "!milestone list maas",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[FlagSpec {
        name: "date",
        kind: FlagKind::Value,
        repeatable: false,
        help: "target date (create) or release date (release), YYYY-MM-DD; default: none / today",
    }],
    positionals: (2, 4),
    positional_names: "create|release|list PROJECT …",
};

/// Launchpad's rule for names (milestones, projects): lower case, ≥ 2 chars.
pub(crate) fn lp_name(kind: &str, s: &str) -> Result<(), UserError> {
    let ok = s.len() >= 2
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(UserError(format!(
            "`{s}` is not a Launchpad {kind} name (lower-case letters, digits, + . -)"
        )))
    }
}

fn date(inv: &Invocation) -> Result<Option<String>, UserError> {
    let Some(d) = inv.flag("date") else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(|_| Some(d.to_string()))
        .map_err(|_| UserError(format!("--date `{d}` is not YYYY-MM-DD")))
}

fn usage() -> UserError {
    UserError(format!("usage: {}", SPEC.usage))
}

fn plan(summary: String, key: String, action: Action) -> Outcome {
    Outcome::Plan(PlanDraft {
        summary,
        steps: vec![StepDraft { key, action }],
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    })
}

#[async_trait]
impl Command for Milestone {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    fn reads(&self, inv: &Invocation) -> bool {
        super::is_list(inv)
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let args: Vec<&str> = inv.positionals.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["create", project, series, name] => {
                lp_name("project", project)?;
                lp_name("milestone", name)?;
                if let Some(m) = cx.launchpad.milestone(project, name).await? {
                    return Ok(Outcome::Reply(format!(
                        "{project} already has milestone {name}{} — nothing to do",
                        if m.is_active {
                            " (active)"
                        } else {
                            " (inactive)"
                        }
                    )));
                }
                Ok(plan(
                    format!("milestone {project} {name} on series {series}"),
                    format!("milestone/{project}/{name}/create"),
                    Action::CreateMilestone {
                        project: project.to_string(),
                        series: series.to_string(),
                        name: name.to_string(),
                        date_targeted: date(inv)?,
                    },
                ))
            }
            ["release", project, name] => {
                let Some(m) = cx.launchpad.milestone(project, name).await? else {
                    return Err(UserError(format!(
                        "{project} has no milestone {name} — `!milestone list {project}` shows them"
                    )));
                };
                if m.release_link.is_some() && !m.is_active {
                    return Ok(Outcome::Reply(format!(
                        "{project} {name} is released and inactive already — nothing to do"
                    )));
                }
                let day = match date(inv)? {
                    Some(d) => d,
                    None => chrono::DateTime::from_timestamp_millis(cx.now_ms)
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                };
                Ok(plan(
                    format!("release milestone {project} {name} ({day}) and deactivate it"),
                    format!("milestone/{project}/{name}/release"),
                    Action::ReleaseMilestone {
                        project: project.to_string(),
                        name: name.to_string(),
                        date_released: format!("{day}T00:00:00Z"),
                    },
                ))
            }
            ["list", project] => list(cx, project).await,
            _ => Err(usage()),
        }
    }
}

async fn list(cx: &Context<'_>, project: &str) -> Result<Outcome, UserError> {
    let all = cx.launchpad.milestones(project).await?;
    if all.is_empty() {
        return Ok(Outcome::Reply(format!("{project} has no milestones")));
    }
    let lines: Vec<String> = all
        .iter()
        .map(|m| {
            let state = match (m.is_active, m.release_link.is_some()) {
                (_, true) => "released",
                (true, false) => "active",
                (false, false) => "inactive",
            };
            let date = m
                .date_targeted
                .as_deref()
                .map(|d| format!(", targeted {d}"))
                .unwrap_or_default();
            format!("  {} — {state}{date}", m.name)
        })
        .collect();
    Ok(Outcome::Reply(format!(
        "{project} milestones:\n{}",
        lines.join("\n")
    )))
}
