//! The loops that run beside the chat: the executor's workers, the lease
//! keeper of replicas sharing PostgreSQL, and the webhook delivery
//! processor.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::RuntimeError;
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::executor::Executor;
use crate::store::{now_ms, Store, StoreError};
use crate::supervise::catch_panic;

/// Recovers steps a crash interrupted, then starts the executor's workers.
pub(super) async fn start_workers(
    executor: Arc<Executor>,
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<Vec<JoinHandle<()>>, RuntimeError> {
    executor.resume().await?;
    Ok((0..config.executor.workers.max(1))
        .map(|_| {
            let (executor, token) = (executor.clone(), shutdown.clone());
            tokio::spawn(async move {
                if let Err(e) = executor.run(token).await {
                    tracing::error!(error = %e, "executor worker stopped");
                }
            })
        })
        .collect())
}

/// Renews this replica's claims, and takes over those of replicas that
/// died (their leases ran out), waking the workers to run them. Only
/// replicas sharing PostgreSQL need it: one SQLite process takes its own
/// interrupted claims back when it starts.
pub(super) async fn keep_leases(store: Store, wake: Arc<Notify>, token: CancellationToken) {
    let every = store.lease() / 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = token.cancelled() => return,
        }
        let now = now_ms();
        if let Err(e) = store.renew_leases(now).await {
            tracing::warn!(error = %e, "cannot renew this replica's claims yet");
        }
        match store.requeue_expired(now).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(
                    steps = n,
                    "took over the steps of a replica that stopped renewing its claims"
                );
                wake.notify_waiters();
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for expired claims yet"),
        }
    }
}

/// Deliveries handled at once (one claim, one commit).
const BATCH: usize = 256;

/// After a batch that was not full, how long more deliveries may gather
/// before the next claim. A delivery arriving in a quiet moment is still
/// handled at once; under a flood, claims and commits stay few.
const GATHER: Duration = Duration::from_millis(10);

/// The delivery processor's loop. A batch that panics is handled again
/// one delivery at a time, so only the delivery that panics is set aside
/// (marked failed), and the rest go on.
pub(super) async fn process_deliveries(
    d: Arc<Dispatcher>,
    wake: Arc<Notify>,
    token: CancellationToken,
) {
    while !token.is_cancelled() {
        let batch = match d.store.claim_deliveries(BATCH as i64, now_ms()).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read stored deliveries");
                Vec::new()
            }
        };
        if !batch.is_empty() {
            let context = format!("{} deliveries from {}", batch.len(), batch[0].delivery_id);
            let handled = catch_panic(
                &d.metrics,
                "deliveries",
                &context,
                d.handle_deliveries(&batch),
            )
            .await;
            let failed = match handled {
                Ok(Ok(())) => false,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, count = batch.len(), "webhook deliveries not processed; will retry");
                    true
                }
                Err(_) => handle_one_by_one(&d, &batch).await.is_err(),
            };
            if failed {
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else if batch.len() < BATCH {
                // Deliveries are arriving one by one: let a few gather
                // rather than pay a claim and a commit for each.
                tokio::select! {
                    _ = tokio::time::sleep(GATHER) => {}
                    _ = token.cancelled() => {}
                }
            }
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = token.cancelled() => {}
        }
    }
}

async fn handle_one_by_one(
    d: &Dispatcher,
    batch: &[crate::store::Delivery],
) -> Result<(), StoreError> {
    for delivery in batch {
        let id = &delivery.delivery_id;
        let one = d.handle_delivery(delivery);
        if let Err(panic) = catch_panic(&d.metrics, "deliveries", id, one).await {
            let result = format!("failed: internal error: {panic}");
            d.store
                .mark_deliveries_processed(&[(id.clone(), result)], now_ms())
                .await?;
        }
    }
    Ok(())
}
