//! Whose turn it is to write. SQLite has one writer at a time; left to
//! itself, a blocked writer polls with sleeps of up to 100 ms, which is
//! what made webhook acknowledgements slow while deliveries were being
//! processed. Writers here queue in the process instead and are handed the
//! lock the moment the previous commit ends.
//!
//! Two lanes: *urgent* writers (a webhook sender waiting for its 2xx) go
//! before *background* ones (planning, the executor) — except that once a
//! background writer has waited [`BACKGROUND_PATIENCE`], it goes after the
//! current urgent one. An acknowledgement therefore waits for at most one
//! background write, and rarely any; background work slows during a flood
//! but never stops.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long a background writer yields to urgent ones before it goes first.
const BACKGROUND_PATIENCE: Duration = Duration::from_millis(20);

#[derive(Default)]
pub(crate) struct Turns {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    held: bool,
    /// The turn in progress (or the last one) went to an urgent writer.
    last_urgent: bool,
    urgent: VecDeque<oneshot::Sender<()>>,
    /// With when each started waiting.
    background: VecDeque<(Instant, oneshot::Sender<()>)>,
}

/// The right to write; the next writer goes when this is dropped.
pub(crate) struct Turn {
    turns: Arc<Turns>,
}

impl Turns {
    pub(crate) async fn take(self: &Arc<Self>, urgent: bool) -> Turn {
        let waiting = {
            let mut s = self.lock();
            if !s.held {
                s.held = true;
                s.last_urgent = urgent;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                if urgent {
                    s.urgent.push_back(tx);
                } else {
                    s.background.push_back((Instant::now(), tx));
                }
                Some(rx)
            }
        };
        if let Some(rx) = waiting {
            let mut w = Waiter {
                rx: Some(rx),
                turns: self.clone(),
            };
            if let Some(rx) = w.rx.as_mut() {
                // Only ever answered by handing us the turn.
                let _ = rx.await;
            }
            w.rx = None;
        }
        Turn {
            turns: self.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands the turn on (see the module doc). A waiter that gave up is
    /// skipped.
    fn pass(&self) {
        let mut s = self.lock();
        loop {
            let overdue = s
                .background
                .front()
                .is_some_and(|(since, _)| since.elapsed() >= BACKGROUND_PATIENCE);
            // Never two background turns in a row while an urgent writer waits.
            let background_next = s.urgent.is_empty() || (overdue && s.last_urgent);
            let next = if background_next {
                s.background.pop_front().map(|(_, w)| (w, false))
            } else {
                s.urgent.pop_front().map(|w| (w, true))
            };
            let Some((waiter, urgent)) = next else {
                s.held = false;
                return;
            };
            if waiter.send(()).is_ok() {
                s.last_urgent = urgent;
                return;
            }
        }
    }
}

/// A writer still in the queue. If it is cancelled (its future dropped)
/// just as the turn reaches it, the turn is passed on, not lost.
struct Waiter {
    rx: Option<oneshot::Receiver<()>>,
    turns: Arc<Turns>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                self.turns.pass();
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.turns.pass();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waiters queue in the given order (1 ms apart), then the first
    /// writer lets go after `hold`; returns the order they wrote in.
    async fn order_of(waiters: &[(&'static str, bool)], hold: Duration) -> Vec<&'static str> {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = turns.take(true).await;
        let mut tasks = Vec::new();
        for (name, urgent) in waiters.iter().copied() {
            let (turns, order) = (turns.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _t = turns.take(urgent).await;
                order.lock().unwrap().push(name);
            }));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(hold).await;
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        let v = order.lock().unwrap().clone();
        v
    }

    #[tokio::test]
    async fn urgent_writers_go_first_until_a_background_one_has_waited_too_long() {
        let waiters = [("b1", false), ("u1", true), ("b2", false), ("u2", true)];
        // Freshly queued: urgent first.
        assert_eq!(
            order_of(&waiters, Duration::ZERO).await,
            ["u1", "u2", "b1", "b2"]
        );
        // Waited past their patience: background writers go between
        // urgent ones, never two in a row while an urgent one waits.
        assert_eq!(
            order_of(&waiters, BACKGROUND_PATIENCE * 2).await,
            ["b1", "u1", "b2", "u2"]
        );
    }

    #[tokio::test]
    async fn a_writer_cancelled_as_its_turn_comes_passes_it_on() {
        let turns = Arc::new(Turns::default());
        let first = turns.take(true).await;
        let mut waiting = Box::pin(turns.take(false));
        // Queue it, then hand it the turn without letting it run.
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        drop(first);
        drop(waiting);
        let _next = tokio::time::timeout(Duration::from_millis(100), turns.take(true))
            .await
            .expect("the turn was passed on, not lost");
    }

    #[tokio::test]
    async fn a_writer_that_gave_up_is_skipped() {
        let turns = Arc::new(Turns::default());
        let first = turns.take(true).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), turns.take(false)).await;
        assert!(gave_up.is_err());
        drop(first);
        // The turn is free again, not handed to the one that left.
        let _again = tokio::time::timeout(Duration::from_millis(100), turns.take(false))
            .await
            .expect("turn free");
    }
}
