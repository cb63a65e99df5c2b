//! What `/metrics` serves, in the Prometheus text format (0.0.4), on
//! `prometheus-client`, the official Prometheus client for Rust.
//!
//! Each bot has its own [`Registry`], held by its [`Metrics`]: several bots
//! run in one test process, and each one's `/metrics` must count only its
//! own work (a process-wide recorder would mix them). Label values are
//! bounded: they come from the code (sources, tasks, outcomes, action
//! kinds, plan states), or are the services the adapters name and the
//! status codes those answered.
//!
//! Counters are registered without their `_total`, which the encoder adds
//! (`messages` is served as `shepherd_messages_total`).

use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use shepherd_adapters::wire::CallObserver;
use shepherd_commands::PlanState;

/// Where an event came from (`shepherd_events_total{source}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// A chat message.
    Chat,
    /// A stored webhook delivery, processed.
    Webhook,
    /// A cron slot of a configured job.
    Schedule,
}

impl EventSource {
    const ALL: [EventSource; 3] = [Self::Chat, Self::Webhook, Self::Schedule];

    fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Webhook => "webhook",
            Self::Schedule => "schedule",
        }
    }
}

/// What became of a `POST /hooks/{source}` request
/// (`shepherd_webhook_deliveries_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Verified and stored (202).
    Accepted,
    /// Verified, and stored already: a redelivery (200).
    Duplicate,
    /// Refused: bad or missing signature or headers, unknown source, too big, too slow.
    Rejected,
    /// Verified, but the store could not commit it (503; the sender retries).
    StoreUnavailable,
}

impl WebhookOutcome {
    const ALL: [WebhookOutcome; 4] = [
        Self::Accepted,
        Self::Duplicate,
        Self::Rejected,
        Self::StoreUnavailable,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Rejected => "rejected",
            Self::StoreUnavailable => "store_unavailable",
        }
    }
}

/// The long-lived tasks whose panics are caught (`supervise::catch_panic`).
pub const TASKS: [&str; 5] = [
    "chat",
    "deliveries",
    "delivery_writer",
    "executor",
    "scheduler",
];

/// Upper bounds (seconds) of the step latency buckets: a chat post takes
/// milliseconds, a Launchpad write with its resends up to a minute.
const STEP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabel {
    task: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: &'static str,
    status: String,
}

type StepHistograms = Family<ActionLabel, Histogram, fn() -> Histogram>;

fn step_histogram() -> Histogram {
    Histogram::new(STEP_BUCKETS)
}

/// One bot's metrics and the registry that serves them. Cheap to bump from
/// any task.
pub struct Metrics {
    registry: Registry,
    pub messages_total: Counter,
    pub commands_total: Counter,
    pub refusals_total: Counter,
    pub plans_created_total: Counter,
    pub steps_applied_total: Counter,
    pub step_retries_total: Counter,
    pub step_failures_total: Counter,
    pub schedule_fires_total: Counter,
    pub http_requests_total: Counter,
    pub http_connections_total: Counter,
    // The webhook outcomes as they were served before the labelled
    // family; kept so existing dashboards and alerts go on working.
    webhook_accepted_total: Counter,
    webhook_duplicates_total: Counter,
    webhook_rejected_total: Counter,
    webhook_store_unavailable_total: Counter,
    webhook_deliveries: Family<OutcomeLabel, Counter>,
    events: Family<SourceLabel, Counter>,
    task_panics: Family<TaskLabel, Counter>,
    step_duration: StepHistograms,
    external_requests: Family<CallLabels, Counter>,
    plans: Family<StateLabel, Gauge>,
    open_steps: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("shepherd");
        let mut counter = |name: &str, help: &str| {
            let c = Counter::default();
            r.register(name, help, c.clone());
            c
        };
        let messages_total = counter("messages", "Chat messages received");
        let commands_total = counter("commands", "Messages that parsed as commands");
        let refusals_total = counter(
            "refusals",
            "Commands refused for lack of a role or in the wrong channel",
        );
        let plans_created_total = counter("plans_created", "Plans stored (including dry runs)");
        let steps_applied_total = counter("steps_applied", "Steps applied successfully");
        let step_retries_total =
            counter("step_retries", "Transient step failures that were retried");
        let step_failures_total = counter("step_failures", "Steps that failed for good");
        let schedule_fires_total = counter("schedule_fires", "Cron slots fired");
        let http_requests_total = counter("http_requests", "HTTP requests served");
        let webhook_accepted_total = counter(
            "webhook_accepted",
            "Webhook deliveries verified and stored (also in webhook_deliveries_total)",
        );
        let webhook_duplicates_total = counter(
            "webhook_duplicates",
            "Webhook deliveries already stored (redeliveries), acknowledged without effect (also in webhook_deliveries_total)",
        );
        let webhook_rejected_total = counter(
            "webhook_rejected",
            "Webhook requests refused (bad or missing signature, missing headers; also in webhook_deliveries_total)",
        );
        let webhook_store_unavailable_total = counter(
            "webhook_store_unavailable",
            "Verified webhook deliveries answered 503 because the store could not commit them (also in webhook_deliveries_total)",
        );
        let http_connections_total = counter("http_connections", "HTTP connections accepted");

        let webhook_deliveries = Family::<OutcomeLabel, Counter>::default();
        r.register(
            "webhook_deliveries",
            "Webhook requests by outcome: accepted, duplicate, rejected, store_unavailable",
            webhook_deliveries.clone(),
        );
        let events = Family::<SourceLabel, Counter>::default();
        r.register(
            "events",
            "Events handled, by source: chat messages, webhook deliveries processed, cron slots",
            events.clone(),
        );
        let task_panics = Family::<TaskLabel, Counter>::default();
        r.register(
            "task_panics",
            "Panics caught in long-lived tasks (each logged with its context; the task went on)",
            task_panics.clone(),
        );
        let step_duration: StepHistograms = Family::new_with_constructor(step_histogram);
        r.register_with_unit(
            "step_duration",
            "Time taken to apply a step (one attempt), by action kind",
            Unit::Seconds,
            step_duration.clone(),
        );
        let external_requests = Family::<CallLabels, Counter>::default();
        r.register(
            "external_requests",
            "HTTP requests to external services (each resend too), by service and status code, timeout or error",
            external_requests.clone(),
        );
        let plans = Family::<StateLabel, Gauge>::default();
        r.register(
            "plans",
            "Plans in the store by state, read at scrape time (no series: store unavailable)",
            plans.clone(),
        );
        let open_steps = Gauge::default();
        r.register(
            "open_steps",
            "Steps waiting to run or running (-1: store unavailable)",
            open_steps.clone(),
        );

        // The bounded label sets are served from the start, at 0.
        for o in WebhookOutcome::ALL {
            webhook_deliveries.get_or_create_owned(&OutcomeLabel {
                outcome: o.as_str(),
            });
        }
        for s in EventSource::ALL {
            events.get_or_create_owned(&SourceLabel { source: s.as_str() });
        }
        for task in TASKS {
            task_panics.get_or_create_owned(&TaskLabel { task });
        }

        Self {
            registry: r,
            messages_total,
            commands_total,
            refusals_total,
            plans_created_total,
            steps_applied_total,
            step_retries_total,
            step_failures_total,
            schedule_fires_total,
            http_requests_total,
            http_connections_total,
            webhook_accepted_total,
            webhook_duplicates_total,
            webhook_rejected_total,
            webhook_store_unavailable_total,
            webhook_deliveries,
            events,
            task_panics,
            step_duration,
            external_requests,
            plans,
            open_steps,
        }
    }

    pub fn bump(counter: &Counter) {
        counter.inc();
    }

    /// `n` events came in from `source`.
    pub fn events(&self, source: EventSource, n: u64) {
        self.events
            .get_or_create(&SourceLabel {
                source: source.as_str(),
            })
            .inc_by(n);
    }

    /// A webhook request ended with `outcome`.
    pub fn webhook(&self, outcome: WebhookOutcome) {
        let legacy = match outcome {
            WebhookOutcome::Accepted => &self.webhook_accepted_total,
            WebhookOutcome::Duplicate => &self.webhook_duplicates_total,
            WebhookOutcome::Rejected => &self.webhook_rejected_total,
            WebhookOutcome::StoreUnavailable => &self.webhook_store_unavailable_total,
        };
        legacy.inc();
        self.webhook_deliveries
            .get_or_create(&OutcomeLabel {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// A panic was caught in `task` (one of [`TASKS`]).
    pub fn task_panic(&self, task: &'static str) {
        self.task_panics.get_or_create(&TaskLabel { task }).inc();
    }

    /// Applying one step of this action kind took `took`.
    pub fn step_took(&self, action: &'static str, took: Duration) {
        self.step_duration
            .get_or_create(&ActionLabel { action })
            .observe(took.as_secs_f64());
    }

    /// Sets the scrape-time gauges: steps still to run, and plans by state
    /// (`None`: the store did not answer).
    pub fn set_store_gauges(&self, open_steps: Option<i64>, plans: Option<&[(PlanState, i64)]>) {
        self.open_steps.set(open_steps.unwrap_or(-1));
        match plans {
            Some(counts) => {
                for &state in PlanState::ALL {
                    let n = counts
                        .iter()
                        .filter(|(s, _)| *s == state)
                        .map(|(_, n)| n)
                        .sum();
                    self.plans
                        .get_or_create(&StateLabel {
                            state: state.as_str(),
                        })
                        .set(n);
                }
            }
            None => self.plans.clear(),
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            // Writing to a String cannot fail; a label that cannot be
            // encoded would be a bug here.
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// The adapters' clients report each exchange here.
impl CallObserver for Metrics {
    fn observe(&self, service: &'static str, status: &str) {
        self.external_requests
            .get_or_create(&CallLabels {
                service,
                status: status.to_string(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn series_keep_their_names_and_carry_their_labels() {
        let m = Metrics::new();
        Metrics::bump(&m.messages_total);
        m.events(EventSource::Webhook, 3);
        m.webhook(WebhookOutcome::Duplicate);
        m.task_panic("executor");
        m.step_took("announce", Duration::from_millis(30));
        m.observe("launchpad", "502");
        m.observe("launchpad", "502");
        m.set_store_gauges(Some(4), Some(&[(PlanState::Done, 2)]));
        let text = m.render();
        for expected in [
            "# TYPE shepherd_messages_total counter",
            "shepherd_messages_total 1",
            "shepherd_events_total{source=\"webhook\"} 3",
            "shepherd_events_total{source=\"chat\"} 0",
            "shepherd_webhook_deliveries_total{outcome=\"duplicate\"} 1",
            "shepherd_webhook_deliveries_total{outcome=\"accepted\"} 0",
            "shepherd_webhook_duplicates_total 1",
            "shepherd_task_panics_total{task=\"executor\"} 1",
            "shepherd_task_panics_total{task=\"chat\"} 0",
            "# TYPE shepherd_step_duration_seconds histogram",
            "shepherd_step_duration_seconds_bucket{action=\"announce\",le=\"0.025\"} 0",
            "shepherd_step_duration_seconds_bucket{action=\"announce\",le=\"0.05\"} 1",
            "shepherd_step_duration_seconds_count{action=\"announce\"} 1",
            "shepherd_external_requests_total{service=\"launchpad\",status=\"502\"} 2",
            "shepherd_plans{state=\"done\"} 2",
            "shepherd_plans{state=\"pending\"} 0",
            "shepherd_open_steps 4",
        ] {
            assert!(
                text.lines().any(|l| l == expected),
                "missing {expected:?} in:\n{text}"
            );
        }
        // Help text is said once, with one full stop.
        let help = line(&text, "# HELP shepherd_messages_total").unwrap();
        assert_eq!(
            help,
            "# HELP shepherd_messages_total Chat messages received."
        );

        // The store did not answer: no plan series, open steps -1.
        m.set_store_gauges(None, None);
        let text = m.render();
        assert!(line(&text, "shepherd_plans{").is_none(), "{text}");
        assert!(
            text.lines().any(|l| l == "shepherd_open_steps -1"),
            "{text}"
        );
    }

    /// Two bots in one process count apart.
    #[test]
    fn each_bot_has_its_own_registry() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.webhook(WebhookOutcome::Accepted);
        assert!(a
            .render()
            .lines()
            .any(|l| l == "shepherd_webhook_deliveries_total{outcome=\"accepted\"} 1"));
        assert!(b
            .render()
            .lines()
            .any(|l| l == "shepherd_webhook_deliveries_total{outcome=\"accepted\"} 0"));
    }
}
