//! Plans: what Shepherd intends to do to the world, step by step.
//!
//! Commands, webhooks and schedules only *produce* a [`PlanDraft`]; the bot
//! stores it and its executor applies each [`Action`]. Every step carries an
//! idempotency key: a step whose key is already done is never applied again.

use serde::{Deserialize, Serialize};

mod action;
mod danger;
mod describe;
pub mod format;

pub use action::Action;
pub use danger::DangerRules;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDraft {
    /// Idempotency key: the same effect always gets the same key.
    pub key: String,
    pub action: Action,
}

/// A plan before it is stored and numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    /// One line: what the plan does, for replies and `!jobs`.
    pub summary: String,
    pub steps: Vec<StepDraft>,
    /// Set by the command when the plan as a whole needs a `!confirm`.
    pub confirm_reason: Option<String>,
    /// Extra lines for the reply (e.g. what was skipped and why).
    pub notes: Vec<String>,
    /// Independent steps (one bug task each): several run at once, up to
    /// `[executor] bulk_concurrency`. Otherwise steps run one after another.
    pub parallel: bool,
}

macro_rules! state_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

state_enum!(
    /// Where a plan is in its life. Stored as the text on the right.
    PlanState {
        DryRun => "dry-run",
        AwaitingConfirmation => "awaiting-confirmation",
        Pending => "pending",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
        Expired => "expired",
    }
);

impl PlanState {
    /// Plans in these states will never run a step again.
    pub fn is_final(self) -> bool {
        match self {
            PlanState::DryRun
            | PlanState::Done
            | PlanState::Failed
            | PlanState::Cancelled
            | PlanState::Expired => true,
            PlanState::AwaitingConfirmation | PlanState::Pending | PlanState::Running => false,
        }
    }
}

state_enum!(
    /// Where a step is. `Waiting` = sent, and followed until the world
    /// answers (looked at again later, holding no worker). `Skipped` =
    /// never applied because its plan ended.
    StepState {
        Pending => "pending",
        Running => "running",
        Waiting => "waiting",
        Done => "done",
        Failed => "failed",
        Skipped => "skipped",
    }
);

/// A stored plan as `!jobs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: i64,
    pub command: String,
    pub requested_by: String,
    pub summary: String,
    pub state: PlanState,
    pub steps_total: u32,
    pub steps_done: u32,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub seq: u32,
    pub key: String,
    pub action: Action,
    pub state: StepState,
    pub attempts: u32,
    pub result: Option<String>,
    pub error: Option<String>,
}

/// A stored plan with its steps, for `!show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDetail {
    pub plan: PlanSummary,
    pub steps: Vec<StepView>,
    pub confirmed_by: Option<String>,
    pub expires_at_ms: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub channel: String,
    pub action: String,
    pub plan_id: Option<i64>,
    pub outcome: String,
    pub detail: String,
}
