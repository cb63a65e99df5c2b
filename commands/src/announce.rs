//! `!announce CHANNEL TEXT…`: post a message to a channel through a plan.
//!
//! The smallest writing command, and the one the foundation tests drive the
//! whole write path with: permission, dry run, confirmation, executor, audit.

use async_trait::async_trait;

use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Announce;

static SPEC: CommandSpec = CommandSpec {
    name: "announce",
    aliases: &["say"],
    summary: "post a message to one or more channels",
    usage: "!announce CHANNEL TEXT… [--also CHANNEL]… [--dry-run]",
    examples: &[
        "!announce #ubuntu-release 'plucky freeze starts at 18:00 UTC'",
        "!announce #maas-release builds are green --also #maas --dry-run",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[FlagSpec {
        name: "also",
        kind: FlagKind::Value,
        repeatable: true,
        help: "another channel to post the same text to",
    }],
    positionals: (2, usize::MAX),
    positional_names: "CHANNEL TEXT",
};

#[async_trait]
impl Command for Announce {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let text = inv.positionals[1..].join(" ");
        let mut channels = vec![inv.positionals[0].clone()];
        for c in inv.flag_values("also") {
            if !channels.contains(c) {
                channels.push(c.clone());
            }
        }
        if let Some(bad) = channels.iter().find(|c| c.trim().is_empty()) {
            return Err(UserError(format!("`{bad}` is not a channel")));
        }
        // An announcement may legitimately be repeated by a later request, so
        // the key is scoped to this request: a redelivery of it posts once.
        let steps = channels
            .iter()
            .map(|channel| StepDraft {
                key: format!("announce/{}/{channel}", cx.request_id),
                action: Action::Announce {
                    channel: channel.clone(),
                    text: text.clone(),
                    thread: None,
                },
            })
            .collect();
        Ok(Outcome::Plan(PlanDraft {
            summary: format!("announce to {}", channels.join(", ")),
            steps,
            confirm_reason: None,
            notes: Vec::new(),
            parallel: false,
        }))
    }
}
