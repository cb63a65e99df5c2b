//! `!webhook register TARGET`: have Launchpad send this bot a target's
//! events. The secret is generated when the step is applied and kept in the
//! bot's store — never shown in chat, in the plan or in the log.

use async_trait::async_trait;

use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Webhook;

static SPEC: CommandSpec = CommandSpec {
    name: "webhook",
    aliases: &[],
    summary: "register a Launchpad webhook that sends a target's events to this bot",
    usage: "!webhook register TARGET [--event E]… [--channel C] [--dry-run]",
    examples: &[
        "!webhook register /~maas-committers/+snap/maas --channel #maas-builds",
        "!webhook register /~maas-committers/+snap/maas --event snap:build:0.1 --dry-run",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[
        FlagSpec {
            name: "event",
            kind: FlagKind::Value,
            repeatable: true,
            help: "an event type (default: the target's usual one)",
        },
        FlagSpec {
            name: "channel",
            kind: FlagKind::Value,
            repeatable: false,
            help: "where this target's events are announced",
        },
    ],
    positionals: (2, 2),
    positional_names: "register TARGET",
};

/// The event a target usually wants (shared reference launchpad-api, §7.1).
fn default_event(target: &str) -> &'static str {
    if target.contains("/+snap/") {
        "snap:build:0.1"
    } else if target.contains("/+git/") {
        "git:push:0.1"
    } else if target.contains("/+livefs/") {
        "livefs:build:0.1"
    } else {
        "bug:0.1"
    }
}

#[async_trait]
impl Command for Webhook {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        if inv.positionals[0] != "register" {
            return Err(UserError(format!("usage: {}", SPEC.usage)));
        }
        let target = format!(
            "/{}",
            inv.positionals[1]
                .trim_start_matches('/')
                .trim_end_matches('/')
        );
        // `/` would be a hook on everything: its secret would speak for any target.
        if target == "/" {
            return Err(UserError(format!(
                "name the webhook's target, e.g. `/~maas-committers/+snap/maas` — usage: {}",
                SPEC.usage
            )));
        }
        let url = cx.launchpad.webhook_url().ok_or_else(|| {
            UserError(
                "this bot has no public webhook address — an operator must set webhook.public_url"
                    .into(),
            )
        })?;
        let events = match inv.flag_values("event") {
            [] => vec![default_event(&target).to_string()],
            e => e.to_vec(),
        };
        let channel = inv.flag("channel").map(str::to_string);
        Ok(Outcome::Plan(PlanDraft {
            summary: format!("Launchpad webhook on {target} → {url}"),
            steps: vec![StepDraft {
                key: format!("webhook/{target}/{url}"),
                action: Action::RegisterWebhook {
                    target,
                    events,
                    channel,
                },
            }],
            confirm_reason: None,
            notes: Vec::new(),
            parallel: false,
        }))
    }
}
