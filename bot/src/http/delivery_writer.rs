//! The delivery writer: webhook deliveries are stored durably before the
//! sender gets its 2xx, and deduplicated by delivery id. Concurrent
//! requests are committed together (group commit): one transaction (on
//! SQLite, when they fit one INSERT, that statement alone) and one fsync
//! for every delivery that arrived while the previous one was being
//! written, so durability does not cap throughput at the disk's fsync
//! rate.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::{Delivery, Store, StoreError};
use crate::supervise::catch_panic;

/// Most deliveries committed in one transaction.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<bool, String>>;

/// A handle for the webhook route; cheap to clone.
#[derive(Clone)]
pub struct DeliveryWriter {
    tx: mpsc::Sender<(Delivery, Reply)>,
}

impl DeliveryWriter {
    /// Starts the writer task on `store`.
    pub fn start(store: Store, metrics: Arc<Metrics>) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, metrics, rx));
        Self { tx }
    }

    /// Stores `d`; `Ok(true)` if new, `Ok(false)` if this id was seen before.
    pub async fn record(&self, d: Delivery) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((d, reply))
            .await
            .map_err(|_| StoreError::Corrupt("delivery writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("delivery writer stopped".into()))?
            .map_err(StoreError::Corrupt)
    }
}

async fn run(store: Store, metrics: Arc<Metrics>, mut rx: mpsc::Receiver<(Delivery, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (deliveries, replies): (Vec<Delivery>, Vec<Reply>) = batch.drain(..).unzip();
        // A panic fails this batch (503: Launchpad sends again), not every later one.
        let context = format!("{} deliveries", deliveries.len());
        let recorded = catch_panic(
            &metrics,
            "delivery_writer",
            &context,
            store.record_deliveries(&deliveries),
        )
        .await
        .unwrap_or_else(|panic| Err(StoreError::Corrupt(format!("internal error: {panic}"))));
        match recorded {
            Ok(new) => {
                for (reply, is_new) in replies.into_iter().zip(new) {
                    let _ = reply.send(Ok(is_new));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, count = deliveries.len(), "could not store webhook deliveries");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
