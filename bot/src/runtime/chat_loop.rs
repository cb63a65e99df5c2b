//! Answering chat messages: conversations concurrently, each in order,
//! with a bounded number in hand.

use std::collections::HashMap;
use std::sync::Arc;

use shepherd_adapters::chat::{Chat, Incoming, ThreadRef};
use tokio::task::JoinHandle;

use super::Running;
use crate::dispatch::Dispatcher;
use crate::events::Event;
use crate::metrics::Metrics;
use crate::supervise::catch_panic;

/// Messages being answered at once.
const MAX_ANSWERING: usize = 32;
/// Messages in hand at once: being answered or waiting for their
/// conversation's turn.
const MAX_IN_HAND: usize = 256;

/// What answering one message needs, owned, so it can run on its own task.
struct Answering {
    dispatcher: Arc<Dispatcher>,
    chat: Arc<dyn Chat>,
    metrics: Arc<Metrics>,
}

impl Answering {
    /// Answers one message; a panic while doing so is answered, not fatal.
    async fn answer(self, m: Incoming) {
        let to = ThreadRef {
            channel: m.channel.clone(),
            thread: m.thread.clone(),
        };
        let context = format!("message {} from {}", m.message_id, m.actor);
        let handled = self.dispatcher.handle(Event::Chat(m));
        if catch_panic(&self.metrics, "chat", &context, handled)
            .await
            .is_err()
        {
            let sorry =
                "sorry — that hit a bug in Shepherd (logged for the operators); nothing was done";
            if let Err(e) = self.chat.reply(&to, sorry).await {
                tracing::warn!(error = %e, "could not report the failure");
            }
        }
    }
}

impl Running {
    /// Answers chat messages until the chat closes (then returns once the
    /// answers in progress are given if `stop_at_eof`, else waits for
    /// shutdown) or shutdown. Conversations are answered concurrently, each
    /// in order: at most [`MAX_ANSWERING`] messages are being answered at
    /// once, and a message waiting for its conversation's turn takes none of
    /// those places. At most [`MAX_IN_HAND`] messages are in hand in all
    /// (past that, reading waits: backpressure, not an unbounded queue).
    pub async fn serve_chat(&self, stop_at_eof: bool) {
        let in_hand = Arc::new(tokio::sync::Semaphore::new(MAX_IN_HAND));
        let answering = Arc::new(tokio::sync::Semaphore::new(MAX_ANSWERING));
        // Each conversation's latest answer; the next one waits for it.
        let mut last: HashMap<String, JoinHandle<()>> = HashMap::new();
        loop {
            let permit = tokio::select! {
                p = in_hand.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
                _ = self.shutdown.cancelled() => return,
            };
            tokio::select! {
                msg = self.chat.next_message() => match msg {
                    Some(m) => {
                        last.retain(|_, h| !h.is_finished());
                        let before = last.remove(&m.conversation);
                        let conversation = m.conversation.clone();
                        let answer = Answering {
                            dispatcher: self.dispatcher.clone(),
                            chat: self.chat.clone(),
                            metrics: self.metrics.clone(),
                        };
                        let answering = answering.clone();
                        let handle = tokio::spawn(async move {
                            if let Some(before) = before {
                                let _ = before.await;
                            }
                            if let Ok(_place) = answering.acquire_owned().await {
                                answer.answer(m).await;
                            }
                            drop(permit);
                        });
                        last.insert(conversation, handle);
                    }
                    None if stop_at_eof => {
                        for (_, h) in last.drain() {
                            let _ = h.await;
                        }
                        return;
                    }
                    None => {
                        tracing::info!("chat input closed; still serving until shutdown");
                        self.shutdown.cancelled().await;
                        return;
                    }
                },
                _ = self.shutdown.cancelled() => return,
            }
        }
    }
}
