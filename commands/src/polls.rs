//! Scheduled polls of what has no webhook (excuses, PPA publishing, snap
//! channel maps): a configured job's cron slot asks the service's poller
//! what changed, and the poller drafts the announcements for the channels
//! that watch it. The runtime knows only this trait.

use async_trait::async_trait;

use crate::{PlanDraft, Subscription, UserError};

#[async_trait]
pub trait Poller: Send + Sync {
    /// The schedule job this poller serves, as config names it
    /// (e.g. `poll_excuses`).
    fn job(&self) -> &'static str;

    /// Polls `arg` (e.g. a series; `None` = the configured default) and
    /// drafts one announcement per watching channel, each keyed by
    /// `step_key(channel)`. `Ok(None)` = nothing changed or nobody to tell.
    /// A failed poll never replaces the last good state: the next slot
    /// tries again.
    async fn poll(
        &self,
        arg: Option<&str>,
        slot_ms: i64,
        subscriptions: &[Subscription],
        step_key: &(dyn for<'k> Fn(&'k str) -> String + Sync),
    ) -> Result<Option<PlanDraft>, UserError>;

    /// Called once as the bot starts: fetch what the jobs poll but no poll
    /// has fetched yet, so commands reading it need not wait for the first
    /// slot (hours, for some crons). With nothing to compare against, it
    /// announces nothing.
    async fn fetch_missing(&self) {}
}
