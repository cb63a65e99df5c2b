//! `shepherd-commands`: what users say, turned into what to do.
//!
//! Pure planning: a command reads (through the narrow traits in
//! [`Context`]) and returns an [`Outcome`] — a reply, a [`PlanDraft`], or a
//! control request on an existing plan. It never writes to the world; only
//! the bot's executor applies plans.

use async_trait::async_trait;
use thiserror::Error;

// One folder per feature; the grammar and plan types they share.
pub mod announce;
pub mod deliveries;
#[doc(hidden)]
pub mod fuzzing;
pub mod grammar;
pub mod launchpad;
pub mod links;
pub mod plan;
pub mod plans;
pub mod polls;
pub mod proposed_migration;
pub mod release;
#[cfg(test)]
mod test_data;
#[cfg(test)]
pub(crate) mod testing;
pub mod watch;

// Short paths for what every feature uses.
pub use grammar::{help, parse, registry};
pub use plan::format;

pub use parse::{parse, Invocation, Parsed};
pub use plan::{
    Action, AuditEntry, PlanDetail, PlanDraft, PlanState, PlanSummary, StepDraft, StepState,
    StepView,
};
pub use registry::{CommandSpec, FlagKind, FlagSpec, Registry};

/// A command: its declaration and its planner.
#[async_trait]
pub trait Command: Send + Sync {
    fn spec(&self) -> &CommandSpec;
    /// Whether this invocation only reads (e.g. `!bugs list`): then anyone
    /// may use it, whatever role the command's writes need. A read that
    /// plans anyway is refused.
    fn reads(&self, _inv: &Invocation) -> bool {
        false
    }
    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError>;
}

/// What a command decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer in the thread; nothing else happens.
    Reply(String),
    /// Store and (after dry-run and confirmation rules) execute this plan.
    Plan(PlanDraft),
    /// Release a parked plan.
    Confirm(i64),
    /// Stop a plan that has not finished.
    Cancel(i64),
    /// Subscribe this channel to proposed-migration changes.
    Watch {
        kind: watch::WatchKind,
        name: String,
    },
    Unwatch {
        kind: watch::WatchKind,
        name: String,
    },
    /// Run a poller now, as a cron slot of its job would: `job` as
    /// [`polls::Poller::job`] names it, `arg` its argument (e.g. a series).
    /// Only the sandbox's `!poll` asks for this.
    Poll { job: String, arg: Option<String> },
}

/// A channel's `!watch`: a package, a maintainer or a team. Announcements
/// of every kind (polls, webhook deliveries) reach the channels whose
/// subscriptions cover them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub channel: String,
    /// `package`, `maintainer` or `team`.
    pub kind: String,
    pub target: String,
    pub created_by: String,
}

/// A mistake the user can fix; becomes one short reply.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct UserError(pub String);

/// Failure to read the bot's own records.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("could not read the plan records: {0}")]
pub struct LedgerError(pub String);

/// Read access to stored plans and the audit log (`!jobs`, `!show`, `!audit`).
#[async_trait]
pub trait Ledger: Send + Sync {
    async fn recent_plans(&self, limit: u32) -> Result<Vec<PlanSummary>, LedgerError>;
    async fn plan_detail(&self, id: i64) -> Result<Option<PlanDetail>, LedgerError>;
    async fn audit_entries(&self, limit: u32) -> Result<Vec<AuditEntry>, LedgerError>;
    /// (kind, target) of each subscription of `channel`.
    async fn subscriptions(&self, channel: &str) -> Result<Vec<(String, String)>, LedgerError>;
}

/// The deployment's permission view, for help texts.
pub trait Policy: Send + Sync {
    /// The role this deployment requires for `spec`, after config overrides.
    fn required_role(&self, spec: &CommandSpec) -> Option<String>;
}

/// Everything a command may read while planning.
pub struct Context<'a> {
    pub actor: &'a str,
    /// Unique per request (chat message, delivery, schedule slot): commands
    /// whose effect may legitimately repeat put it in their step keys.
    pub request_id: &'a str,
    pub channel: &'a str,
    pub now_ms: i64,
    pub registry: &'a Registry,
    pub ledger: &'a dyn Ledger,
    pub policy: &'a dyn Policy,
    pub migration: &'a dyn proposed_migration::MigrationView,
    pub launchpad: &'a dyn launchpad::LaunchpadView,
    pub release: &'a dyn release::view::ReleaseView,
    /// Where a person's links point (the configured services' web pages).
    pub links: &'a links::Links,
}

/// The commands every Shepherd has, whatever adapters are configured.
pub fn builtins() -> Vec<Box<dyn Command>> {
    vec![
        Box::new(help::Help),
        Box::new(plans::jobs::Jobs),
        Box::new(plans::jobs::Show),
        Box::new(plans::jobs::Audit),
        Box::new(plans::confirm::Confirm),
        Box::new(plans::confirm::Cancel),
        Box::new(announce::Announce),
        Box::new(proposed_migration::why::Why),
        Box::new(proposed_migration::retry::Retry),
        Box::new(watch::Watch),
        Box::new(watch::Unwatch),
        Box::new(watch::Watching),
        Box::new(launchpad::copy::Copy),
        Box::new(launchpad::rebuild::Rebuild),
        Box::new(launchpad::rebuild::Builds),
        Box::new(launchpad::webhook::Webhook),
        Box::new(release::status::ReleaseStatus),
        Box::new(release::promote::Promote),
        Box::new(release::milestone::Milestone),
        Box::new(release::bugs::Bugs),
    ]
}

/// Reads a plan number as users write it: `41` or `#41`.
pub fn plan_id(arg: &str) -> Result<i64, UserError> {
    arg.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| UserError(format!("`{arg}` is not a plan number (try `!jobs`)")))
}
