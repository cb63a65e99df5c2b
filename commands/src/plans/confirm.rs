//! `!confirm PLAN` and `!cancel PLAN`. The commands only name the plan; the
//! bot decides whether this person may confirm or cancel it, because that
//! depends on the stored plan (its command's role, its requester, its expiry).

use async_trait::async_trait;

use crate::registry::CommandSpec;
use crate::{plan_id, Command, Context, Invocation, Outcome, UserError};

pub struct Confirm;
pub struct Cancel;

static CONFIRM: CommandSpec = CommandSpec {
    name: "confirm",
    aliases: &["yes"],
    summary: "release a plan that waits for confirmation (needs the role of the plan's command)",
    usage: "!confirm PLAN",
    examples: &["!confirm 57", "!confirm #57"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (1, 1),
    positional_names: "PLAN",
};

static CANCEL: CommandSpec = CommandSpec {
    name: "cancel",
    aliases: &["stop"],
    summary: "stop a plan: steps not yet applied are skipped (requester or the command's role)",
    usage: "!cancel PLAN",
    examples: &["!cancel 57"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (1, 1),
    positional_names: "PLAN",
};

#[async_trait]
impl Command for Confirm {
    fn spec(&self) -> &CommandSpec {
        &CONFIRM
    }

    async fn plan(&self, inv: &Invocation, _cx: &Context<'_>) -> Result<Outcome, UserError> {
        Ok(Outcome::Confirm(plan_id(&inv.positionals[0])?))
    }
}

#[async_trait]
impl Command for Cancel {
    fn spec(&self) -> &CommandSpec {
        &CANCEL
    }

    async fn plan(&self, inv: &Invocation, _cx: &Context<'_>) -> Result<Outcome, UserError> {
        Ok(Outcome::Cancel(plan_id(&inv.positionals[0])?))
    }
}
