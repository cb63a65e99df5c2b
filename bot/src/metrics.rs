//! Counters for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($field:ident => $help:literal),+ $(,)?) => {
        /// Process-wide counters; cheap to bump from any task.
        #[derive(Debug, Default)]
        pub struct Metrics { $(pub $field: AtomicU64),+ }

        impl Metrics {
            /// Renders every counter, plus the gauges passed in.
            pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
                let mut out = String::new();
                $(
                    let name = concat!("shepherd_", stringify!($field));
                    let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter\n{name} {}",
                        $help, self.$field.load(Ordering::Relaxed));
                )+
                for (name, help, value) in gauges {
                    let _ = writeln!(out, "# HELP shepherd_{name} {help}\n# TYPE shepherd_{name} gauge\nshepherd_{name} {value}");
                }
                out
            }
        }
    };
}

counters! {
    messages_total => "Chat messages received.",
    commands_total => "Messages that parsed as commands.",
    refusals_total => "Commands refused for lack of a role or in the wrong channel.",
    plans_created_total => "Plans stored (including dry runs).",
    steps_applied_total => "Steps applied successfully.",
    step_retries_total => "Transient step failures that were retried.",
    step_failures_total => "Steps that failed for good.",
    schedule_fires_total => "Cron slots fired.",
    http_requests_total => "HTTP requests served.",
    webhook_accepted_total => "Webhook deliveries verified and stored.",
    webhook_duplicates_total => "Webhook deliveries already stored (redeliveries), acknowledged without effect.",
    webhook_rejected_total => "Webhook requests refused (bad or missing signature, missing headers).",
    webhook_store_unavailable_total => "Verified webhook deliveries answered 503 because the store could not commit them.",
    http_connections_total => "HTTP connections accepted.",
    task_panics_total => "Panics caught in long-lived tasks (each logged with its context; the task went on).",
}

impl Metrics {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
