//! `!jobs`, `!show PLAN` and `!audit [N]`: reading the plan table and the
//! audit log, which together are Shepherd's record of what it did and why.

use async_trait::async_trait;

use crate::plan::format::{ago, plan_detail, plan_line};
use crate::registry::CommandSpec;
use crate::{plan_id, Command, Context, Invocation, LedgerError, Outcome, UserError};

const MAX_LIST: u32 = 50;

pub struct Jobs;
pub struct Show;
pub struct Audit;

static JOBS: CommandSpec = CommandSpec {
    name: "jobs",
    aliases: &["plans"],
    summary: "recent plans and their state",
    usage: "!jobs [N]",
    examples: &["!jobs", "!jobs 20"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (0, 1),
    positional_names: "N",
};

static SHOW: CommandSpec = CommandSpec {
    name: "show",
    aliases: &["plan"],
    summary: "one plan's steps, attempts and results",
    usage: "!show PLAN",
    examples: &["!show 41", "!show #41"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (1, 1),
    positional_names: "PLAN",
};

static AUDIT: CommandSpec = CommandSpec {
    name: "audit",
    aliases: &[],
    summary: "who asked for what, what ran and what was refused (latest first)",
    usage: "!audit [N]",
    examples: &["!audit", "!audit 30"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (0, 1),
    positional_names: "N",
};

/// Reads the optional `N` of `!jobs N` / `!audit N`.
fn count(inv: &Invocation, default: u32) -> Result<u32, UserError> {
    match inv.positionals.first() {
        None => Ok(default),
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIST).contains(n))
            .ok_or_else(|| {
                UserError(format!(
                    "N must be a number from 1 to {MAX_LIST}, not `{n}`"
                ))
            }),
    }
}

fn ledger_down(e: LedgerError) -> UserError {
    UserError(format!("{e}; try again in a moment"))
}

#[async_trait]
impl Command for Jobs {
    fn spec(&self) -> &CommandSpec {
        &JOBS
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let plans = cx
            .ledger
            .recent_plans(count(inv, 10)?)
            .await
            .map_err(ledger_down)?;
        if plans.is_empty() {
            return Ok(Outcome::Reply(
                "no plans yet — writing commands create them (see `!help`); `--dry-run` previews one"
                    .to_string(),
            ));
        }
        let mut out = format!("{} most recent plans:", plans.len());
        for p in &plans {
            out.push_str("\n  ");
            out.push_str(&plan_line(p, cx.now_ms));
        }
        out.push_str("\n`!show PLAN` for steps and results");
        Ok(Outcome::Reply(out))
    }
}

#[async_trait]
impl Command for Show {
    fn spec(&self) -> &CommandSpec {
        &SHOW
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let id = plan_id(&inv.positionals[0])?;
        match cx.ledger.plan_detail(id).await.map_err(ledger_down)? {
            Some(d) => Ok(Outcome::Reply(plan_detail(&d, cx.now_ms))),
            None => Err(UserError(format!(
                "there is no plan #{id} — `!jobs` lists recent ones"
            ))),
        }
    }
}

#[async_trait]
impl Command for Audit {
    fn spec(&self) -> &CommandSpec {
        &AUDIT
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let entries = cx
            .ledger
            .audit_entries(count(inv, 10)?)
            .await
            .map_err(ledger_down)?;
        if entries.is_empty() {
            return Ok(Outcome::Reply("the audit log is empty".to_string()));
        }
        let mut out = format!("audit, latest {} (newest first):", entries.len());
        for e in &entries {
            let plan = e.plan_id.map(|p| format!(" plan #{p}")).unwrap_or_default();
            out.push_str(&format!(
                "\n  {} · {} in {} · {}{} → {}",
                ago(cx.now_ms, e.at_ms),
                e.actor,
                e.channel,
                e.action,
                plan,
                e.outcome
            ));
            if !e.detail.is_empty() {
                out.push_str(&format!(" ({})", e.detail));
            }
        }
        Ok(Outcome::Reply(out))
    }
}
