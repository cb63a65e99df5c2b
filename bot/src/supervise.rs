//! Supervision for long-lived tasks: a panic while handling one chat
//! message, delivery, cron slot or step is caught, logged with what was
//! being done, counted in `/metrics`, and the task goes on with the next
//! one — one bad input must never silently stop the scheduler or the
//! executor for good.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::metrics::Metrics;

/// Runs `fut`; a panic inside it becomes `Err(message)`, counted under
/// `task` (one of `metrics::TASKS`).
pub async fn catch_panic<F: Future>(
    metrics: &Metrics,
    task: &'static str,
    context: &str,
    fut: F,
) -> Result<F::Output, String> {
    // AssertUnwindSafe: after a panic the caller only records the failure;
    // the state it shares lives in the store, whose transactions roll back.
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => Ok(v),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            metrics.task_panic(task);
            tracing::error!(task, context, panic = %message, "caught a panic; going on with the next one");
            Err(message)
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_caught_counted_and_described() {
        let m = Metrics::default();
        let ok = catch_panic(&m, "test", "ok", async { 7 }).await;
        assert_eq!(ok, Ok(7));
        let bad = catch_panic(&m, "test", "slice", async {
            let s = String::from("é");
            let n = s.len() - 1;
            s[..n].len()
        })
        .await;
        assert!(bad
            .unwrap_err()
            .contains("byte index 1 is not a char boundary"));
        let bad = catch_panic(&m, "test", "fmt", async { panic!("step {} broke", 3) }).await;
        assert_eq!(bad, Err::<(), _>("step 3 broke".to_string()));
        let text = m.render();
        assert!(
            text.lines()
                .any(|l| l == "shepherd_task_panics_total{task=\"test\"} 2"),
            "{text}"
        );
    }
}
