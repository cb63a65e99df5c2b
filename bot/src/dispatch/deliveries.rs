//! What stored webhook deliveries do: each service's reactions (pure, in
//! `shepherd_commands`) draft the announcements; they are planned like
//! everything else, keyed by the delivery id so a replayed or redelivered
//! delivery has one effect.

use std::sync::Arc;

use shepherd_commands::deliveries::{DeliveryReactions, Hook, StoredDelivery, Surroundings};

use crate::dispatch::Dispatcher;
use crate::events::{delivery_key, delivery_step_key};
use crate::metrics::EventSource;
use crate::store::{now_ms, Delivery, Inserted, NewPlan, Origin, StoreError};

/// How far back a delivery looks for the plans it follows up on.
const FOLLOW_UP_WINDOW_MS: i64 = 2 * 24 * 3600 * 1000;

/// A service that posts webhooks: its reactions and its configured hooks.
pub struct WebhookService {
    pub reactions: Arc<dyn DeliveryReactions>,
    /// From config; those the bot registered are read from the store.
    pub hooks: Vec<Hook>,
}

impl Dispatcher {
    /// Turns a stored delivery into its announcements and marks it processed.
    pub async fn handle_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        self.handle_deliveries(std::slice::from_ref(d)).await
    }

    /// Handles a batch, then marks them all processed in one transaction.
    /// What every delivery of the batch consults is read once.
    pub async fn handle_deliveries(&self, batch: &[Delivery]) -> Result<(), StoreError> {
        let registered = self.store.registered_hooks().await?;
        let subscriptions = self.store.subscriptions(None).await?;
        let since = now_ms() - FOLLOW_UP_WINDOW_MS;
        let mut around = Vec::with_capacity(self.webhooks.len());
        for service in &self.webhooks {
            let source = service.reactions.source();
            let mut hooks = service.hooks.clone();
            hooks.extend(
                registered
                    .iter()
                    .filter(|h| h.source == source)
                    .map(|h| Hook {
                        target: h.target.clone(),
                        channel: h.channel.clone(),
                    }),
            );
            let recent = self
                .store
                .recent_plan_threads(service.reactions.follows_up(), since)
                .await?;
            around.push(Surroundings {
                hooks,
                subscriptions: subscriptions.clone(),
                recent,
            });
        }
        let drafts: Vec<Option<(String, Origin, _)>> =
            batch.iter().map(|d| self.react(d, &around)).collect();
        // The plans and the processed marks of the whole batch: one commit.
        let plans: Vec<(String, Option<NewPlan<'_>>)> = batch
            .iter()
            .zip(&drafts)
            .map(|(d, draft)| {
                let plan = draft.as_ref().map(|(key, origin, draft)| {
                    NewPlan::released(key, "webhook", &d.source, origin, draft)
                });
                (d.delivery_id.clone(), plan)
            })
            .collect();
        let inserted = self.store.finish_deliveries(&plans, now_ms()).await?;
        self.metrics
            .events(EventSource::Webhook, batch.len() as u64);
        let new = inserted
            .iter()
            .filter(|i| matches!(i, Some(Inserted::New(_))))
            .count();
        if new > 0 {
            self.metrics.plans_created_total.inc_by(new as u64);
            self.wake.notify_one();
        }
        Ok(())
    }

    /// A delivery's plan: request key, origin and draft, or `None` when it
    /// is only recorded (nothing to say, or no service knows its source).
    fn react(
        &self,
        d: &Delivery,
        around: &[Surroundings],
    ) -> Option<(String, Origin, shepherd_commands::PlanDraft)> {
        let Some((service, around)) = self
            .webhooks
            .iter()
            .zip(around)
            .find(|(s, _)| s.reactions.source() == d.source)
        else {
            tracing::warn!(
                source = d.source,
                delivery = d.delivery_id,
                "no service for this delivery's source; recorded only"
            );
            return None;
        };
        let stored = StoredDelivery {
            id: &d.delivery_id,
            event_type: &d.event_type,
            body: &d.body,
            hook_target: d.hook_target.as_deref(),
        };
        let a = service
            .reactions
            .react(&stored, around, &|i| delivery_step_key(d, i))?;
        let origin = Origin {
            kind: "webhook".into(),
            channel: a.channel,
            thread: None,
        };
        Some((delivery_key(d), origin, a.draft))
    }
}
