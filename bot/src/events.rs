//! Events: the three ways work reaches Shepherd. Each is turned into at
//! most one plan, keyed by its request key so a redelivery is harmless.

use shepherd_adapters::chat::Incoming;

use crate::config::ScheduleConfig;
use crate::store::Delivery;

#[derive(Debug, Clone)]
pub enum Event {
    /// Someone said something in chat.
    Chat(Incoming),
    /// A verified webhook delivery, already stored.
    Webhook(Delivery),
    /// A cron slot of a configured job came due.
    Tick { job: ScheduleConfig, slot_ms: i64 },
}

impl Event {
    /// Unique per request: the same event never makes two plans.
    pub fn request_key(&self, platform: &str) -> String {
        match self {
            Event::Chat(m) => format!("chat:{platform}:{}", m.message_id),
            Event::Webhook(d) => format!("webhook:{}:{}", d.source, d.delivery_id),
            Event::Tick { job, slot_ms } => format!("schedule:{}:{slot_ms}", job.name),
        }
    }
}
