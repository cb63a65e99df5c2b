//! What a stored webhook delivery leads to, for every service that posts
//! them: the service's reactions (pure) read the delivery and what the bot
//! knows around it — the webhooks and where they announce, the channels'
//! watches, the threads of recent plans — and draft the announcements.

use crate::{Action, PlanDraft, Subscription};

/// A webhook the bot knows: configured, or registered by the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub target: String,
    /// Where its deliveries are announced; `None` = recorded only.
    pub channel: Option<String>,
}

/// A recent plan's thread and one of its steps: deliveries about what the
/// step asked for follow up in the thread the request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanThread {
    pub channel: String,
    pub thread: String,
    pub action: Action,
}

/// What the bot knows around a batch of deliveries.
#[derive(Debug, Clone, Default)]
pub struct Surroundings {
    pub hooks: Vec<Hook>,
    pub subscriptions: Vec<Subscription>,
    /// Recent plans of the commands the reactions follow up on
    /// ([`DeliveryReactions::follows_up`]), oldest thread first.
    pub recent: Vec<PlanThread>,
}

/// A stored, verified delivery.
#[derive(Debug, Clone, Copy)]
pub struct StoredDelivery<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub body: &'a [u8],
    /// The webhook whose secret verified it; `None` = a catch-all secret.
    pub hook_target: Option<&'a str>,
}

/// The announcements a delivery makes, as a plan the executor sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcements {
    /// The channel the plan is filed under (its first announcement's).
    pub channel: String,
    pub draft: PlanDraft,
}

/// One service's reactions to its webhook deliveries.
pub trait DeliveryReactions: Send + Sync {
    /// The deliveries' `source`, as their receiver stores them.
    fn source(&self) -> &'static str;

    /// Commands whose recent plans' threads hear follow-ups.
    fn follows_up(&self) -> &'static [&'static str] {
        &[]
    }

    /// The announcements `d` makes, or `None` when it is only recorded.
    /// `step_key(i)` keys the i-th announcement (stable across replays).
    fn react(
        &self,
        d: &StoredDelivery<'_>,
        around: &Surroundings,
        step_key: &dyn Fn(usize) -> String,
    ) -> Option<Announcements>;
}
