//! Events: the three ways work reaches Shepherd. Each is turned into at
//! most one plan, keyed by its request key so a redelivery is harmless.
//! Request keys, and the step keys of plans no person asked for, are
//! formatted here and nowhere else.

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
            Event::Webhook(d) => delivery_key(d),
            Event::Tick { job, slot_ms } => format!("schedule:{}:{slot_ms}", job.name),
        }
    }
}

/// The request key of a stored delivery.
pub fn delivery_key(d: &Delivery) -> String {
    format!("webhook:{}:{}", d.source, d.delivery_id)
}

/// The key of a delivery's `i`-th announcement: the same on every replay.
pub fn delivery_step_key(d: &Delivery, i: usize) -> String {
    format!("webhook/{}/{}/{i}", d.source, d.delivery_id)
}

/// The key of a cron slot's step; `part` tells apart the steps of one
/// slot (e.g. the channels a poll announces to).
pub fn schedule_step_key(job: &str, slot_ms: i64, part: Option<&str>) -> String {
    match part {
        None => format!("schedule/{job}/{slot_ms}"),
        Some(p) => format!("schedule/{job}/{slot_ms}/{p}"),
    }
}

/// The key of the announcement to `channel` of a poll asked for in chat
/// (the sandbox's `!poll`), whose request key is the message's.
pub fn poll_step_key(request_key: &str, channel: &str) -> String {
    format!("poll/{request_key}/{channel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored plans are found again by these keys after an upgrade: they
    /// must not change shape.
    #[test]
    fn keys_keep_their_shape() {
        let d = Delivery {
            delivery_id: "d-1".into(),
            source: "launchpad".into(),
            event_type: "ping".into(),
            received_at: 0,
            body: Vec::new(),
            hook_target: None,
        };
        assert_eq!(delivery_key(&d), "webhook:launchpad:d-1");
        assert_eq!(delivery_step_key(&d, 2), "webhook/launchpad/d-1/2");
        assert_eq!(schedule_step_key("nightly", 5, None), "schedule/nightly/5");
        assert_eq!(
            schedule_step_key("poll", 5, Some("#x")),
            "schedule/poll/5/#x"
        );
        assert_eq!(
            poll_step_key("chat:console:s-2", "#x"),
            "poll/chat:console:s-2/#x"
        );
    }
}
