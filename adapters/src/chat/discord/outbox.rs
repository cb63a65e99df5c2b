//! Everything Shepherd posts to Discord goes through one queue per channel
//! (a thread is a channel): the channel's messages keep their order, posts
//! are paced (Discord allows a channel about five messages in five
//! seconds, and a bot that bursts gets 429s and, at worst, a ban), and
//! announcements that pile up meanwhile are coalesced into one message —
//! fifty announcements in a second read as one or two messages, not fifty.
//!
//! Replies are never merged: a reply may be edited later (progress), and an
//! edit must change only its own text. Queued edits of one message collapse
//! to the newest. A 429 or a 5xx is retried here with backoff; serenity's
//! own limiter handles 429s in front of us when it runs (not against a
//! proxy, see `connect`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::builder::{CreateAllowedMentions, CreateMessage, EditMessage};
use serenity::http::Http;
use serenity::model::channel::Nonce;
use serenity::model::id::{ChannelId, MessageId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::errors::{from_serenity, with_retries, Heard};
use super::split::{split, MAX_MESSAGE};
use crate::chat::ChatError;

/// How a channel's queue behaves.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Least time between two posts (or edits) in one channel.
    pub gap: Duration,
    /// How long an announcement waits for others to join it.
    pub window: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            gap: Duration::from_millis(1000),
            window: Duration::from_millis(150),
        }
    }
}

pub(super) struct Post {
    pub(super) text: String,
    pub(super) nonce: Option<String>,
    /// An announcement: may share a message with its neighbours.
    pub(super) merge: bool,
    /// Answer to this message (when a thread could not be started).
    pub(super) reference: Option<u64>,
    pub(super) done: oneshot::Sender<Result<u64, ChatError>>,
}

pub(super) enum Job {
    Post(Post),
    Edit {
        message: u64,
        text: String,
        done: oneshot::Sender<Result<(), ChatError>>,
    },
}

pub(super) struct Outbox {
    http: Arc<Http>,
    heard: Heard,
    pacing: Pacing,
    queues: Mutex<HashMap<u64, mpsc::UnboundedSender<Job>>>,
}

/// A channel worker with nothing to do for this long ends (threads come
/// and go; their queues should too).
const IDLE: Duration = Duration::from_secs(60);

impl Outbox {
    pub(super) fn new(http: Arc<Http>, heard: Heard, pacing: Pacing) -> Arc<Self> {
        Arc::new(Self {
            http,
            heard,
            pacing,
            queues: Mutex::new(HashMap::new()),
        })
    }

    /// Queues `text` (split as needed) for `channel` at once, so posts keep
    /// the order of these calls; the answer is the id of its last message.
    pub(super) fn post(
        self: &Arc<Self>,
        channel: u64,
        text: &str,
        nonce: Option<String>,
        merge: bool,
        reference: Option<u64>,
    ) -> impl std::future::Future<Output = Result<u64, ChatError>> {
        let (done, answer) = oneshot::channel();
        let job = Job::Post(Post {
            text: text.to_string(),
            nonce,
            merge,
            reference,
            done,
        });
        self.enqueue(channel, job);
        async move { answer.await.map_err(|_| ChatError::Closed)? }
    }

    pub(super) async fn edit(
        self: &Arc<Self>,
        channel: u64,
        message: u64,
        text: &str,
    ) -> Result<(), ChatError> {
        let (done, answer) = oneshot::channel();
        let job = Job::Edit {
            message,
            text: text.to_string(),
            done,
        };
        self.enqueue(channel, job);
        answer.await.map_err(|_| ChatError::Closed)?
    }

    fn enqueue(self: &Arc<Self>, channel: u64, mut job: Job) {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        // A worker that just ended idle drops its receiver: start another.
        for _ in 0..2 {
            let tx = queues.entry(channel).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(self.clone().work(channel, rx));
                tx
            });
            match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(j)) => {
                    job = j;
                    queues.remove(&channel);
                }
            }
        }
    }

    async fn work(self: Arc<Self>, channel: u64, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut queue: VecDeque<Job> = VecDeque::new();
        let mut next_at = Instant::now();
        loop {
            if queue.is_empty() {
                match tokio::time::timeout(IDLE, rx.recv()).await {
                    Ok(Some(job)) => queue.push_back(job),
                    Ok(None) => return,
                    Err(_) => {
                        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
                        // Anything sent before we took the lock is still ours.
                        match rx.try_recv() {
                            Ok(job) => queue.push_back(job),
                            Err(_) => {
                                queues.remove(&channel);
                                return;
                            }
                        }
                    }
                }
            }
            let merging = matches!(queue.front(), Some(Job::Post(Post { merge: true, .. })));
            let wait_until = if merging {
                next_at.max(Instant::now() + self.pacing.window)
            } else {
                next_at
            };
            tokio::time::sleep_until(wait_until).await;
            while let Ok(job) = rx.try_recv() {
                queue.push_back(job);
            }
            let Some(job) = queue.pop_front() else {
                continue;
            };
            match job {
                Job::Post(post) => {
                    let batch = take_merged(post, &mut queue);
                    self.send_batch(channel, batch).await;
                }
                Job::Edit {
                    message,
                    text,
                    done,
                } => {
                    let (text, waiting) = newest_edit(message, text, done, &mut queue);
                    let result = self.send_edit(channel, message, &text).await;
                    for done in waiting {
                        let _ = done.send(result.clone());
                    }
                }
            }
            next_at = Instant::now() + self.pacing.gap;
        }
    }

    async fn send_batch(&self, channel: u64, batch: Batch) {
        let pieces = split(&batch.text, MAX_MESSAGE);
        let mut result = Ok(0);
        for (i, piece) in pieces.iter().enumerate() {
            // Each piece its own nonce, so a re-send after a crash repeats none.
            let nonce = batch.nonce.as_ref().map(|n| match i {
                0 => n.clone(),
                i => format!("{n}-{i}"),
            });
            let reference = batch.reference.filter(|_| i == 0);
            result = self.send_one(channel, piece, nonce, reference).await;
            if result.is_err() {
                break;
            }
        }
        for done in batch.done {
            let _ = done.send(result.clone());
        }
    }

    async fn send_one(
        &self,
        channel: u64,
        text: &str,
        nonce: Option<String>,
        reference: Option<u64>,
    ) -> Result<u64, ChatError> {
        with_retries(|| async {
            let mut m = CreateMessage::new()
                .content(text)
                .allowed_mentions(CreateAllowedMentions::new());
            if let Some(n) = &nonce {
                m = m.nonce(Nonce::String(n.clone())).enforce_nonce(true);
            }
            if let Some(r) = reference {
                m = m.reference_message((ChannelId::new(channel), MessageId::new(r)));
            }
            let sent = ChannelId::new(channel).send_message(&*self.http, m).await;
            self.heard.report(&sent);
            sent.map(|sent| sent.id.get()).map_err(from_serenity)
        })
        .await
    }

    async fn send_edit(&self, channel: u64, message: u64, text: &str) -> Result<(), ChatError> {
        // An edit cannot become two messages: keep the first piece.
        let text = split(text, MAX_MESSAGE).swap_remove(0);
        with_retries(|| async {
            let edit = EditMessage::new()
                .content(text.clone())
                .allowed_mentions(CreateAllowedMentions::new());
            let edited = ChannelId::new(channel)
                .edit_message(&*self.http, MessageId::new(message), edit)
                .await;
            self.heard.report(&edited);
            edited.map(|_| ()).map_err(from_serenity)
        })
        .await
    }
}

/// Posts sent as one message.
pub(super) struct Batch {
    pub(super) text: String,
    pub(super) nonce: Option<String>,
    pub(super) reference: Option<u64>,
    pub(super) done: Vec<oneshot::Sender<Result<u64, ChatError>>>,
}

/// The first post and, if it is an announcement, the announcements queued
/// right behind it (up to what fits in one message; the rest wait).
///
/// A merged message's nonce stands for all of its members (a hash of
/// theirs): re-sending exactly that set after a crash posts it once, and a
/// member re-sent in other company is posted again rather than lost in a
/// message that never held it (at least once, never zero times).
pub(super) fn take_merged(first: Post, queue: &mut VecDeque<Job>) -> Batch {
    let mut batch = Batch {
        text: first.text,
        nonce: None,
        reference: first.reference,
        done: vec![first.done],
    };
    let mut nonces: Vec<String> = first.nonce.into_iter().collect();
    let joins = |job: Option<&Job>, len: usize| matches!(job, Some(Job::Post(n)) if n.merge && len + 1 + n.text.len() <= MAX_MESSAGE);
    while first.merge && joins(queue.front(), batch.text.len()) {
        let Some(Job::Post(next)) = queue.pop_front() else {
            break;
        };
        batch.text.push('\n');
        batch.text.push_str(&next.text);
        batch.done.push(next.done);
        nonces.extend(next.nonce);
    }
    batch.nonce = match nonces.len() {
        0 => None,
        1 => nonces.pop(),
        _ => Some(crate::chat::nonce_for(&nonces.join(" "))),
    };
    batch
}

/// The newest text queued for `message`; every edit it replaces is
/// answered with its result (it is what they asked for, and more).
#[allow(clippy::type_complexity)]
pub(super) fn newest_edit(
    message: u64,
    mut text: String,
    done: oneshot::Sender<Result<(), ChatError>>,
    queue: &mut VecDeque<Job>,
) -> (String, Vec<oneshot::Sender<Result<(), ChatError>>>) {
    let mut waiting = vec![done];
    let mut i = 0;
    while i < queue.len() {
        match &queue[i] {
            Job::Edit { message: m, .. } if *m == message => {
                if let Some(Job::Edit { text: t, done, .. }) = queue.remove(i) {
                    text = t;
                    waiting.push(done);
                }
            }
            // Posts after an edit stay after it.
            Job::Post(_) => break,
            _ => i += 1,
        }
    }
    (text, waiting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(text: &str, merge: bool) -> (Post, oneshot::Receiver<Result<u64, ChatError>>) {
        let (done, rx) = oneshot::channel();
        let post = Post {
            text: text.into(),
            nonce: Some(format!("n-{text}")),
            merge,
            reference: None,
            done,
        };
        (post, rx)
    }

    fn queued(posts: &[(&str, bool)]) -> VecDeque<Job> {
        posts
            .iter()
            .map(|(t, m)| Job::Post(post(t, *m).0))
            .collect()
    }

    fn edit(message: u64, text: &str) -> Job {
        let (done, _rx) = oneshot::channel();
        Job::Edit {
            message,
            text: text.into(),
            done,
        }
    }

    #[test]
    fn announcements_merge_replies_do_not() {
        let (first, _a) = post("a", true);
        let mut queue = queued(&[("b", true), ("c", true), ("reply", false), ("d", true)]);
        let batch = take_merged(first, &mut queue);
        assert_eq!(batch.text, "a\nb\nc");
        assert_eq!(batch.done.len(), 3);
        // The merged message's nonce is none of its members' alone.
        let nonce = batch.nonce.expect("a nonce");
        assert_eq!(nonce, crate::chat::nonce_for("n-a n-b n-c"));
        assert_eq!(queue.len(), 2, "the reply and what follows it wait");
        let Some(Job::Post(reply)) = queue.pop_front() else {
            panic!("the reply is next");
        };
        let batch = take_merged(reply, &mut queue);
        assert_eq!(batch.text, "reply", "a reply is never merged");
        assert_eq!(
            batch.nonce.as_deref(),
            Some("n-reply"),
            "alone, its own nonce"
        );
    }

    #[test]
    fn merging_stops_at_a_full_message() {
        let long = "x".repeat(1200);
        let (first, _a) = post(&long, true);
        let mut queue = queued(&[(&long, true)]);
        let batch = take_merged(first, &mut queue);
        assert_eq!(batch.text.len(), 1200);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn queued_edits_of_a_message_collapse_to_the_newest() {
        let (done, _rx) = oneshot::channel();
        let mut queue = VecDeque::from([edit(1, "20%"), edit(2, "other"), edit(1, "40%")]);
        let (text, waiting) = newest_edit(1, "10%".into(), done, &mut queue);
        assert_eq!(text, "40%");
        assert_eq!(waiting.len(), 3);
        assert_eq!(queue.len(), 1, "another message's edit stays");
        let (done, _rx) = oneshot::channel();
        let mut queue = VecDeque::from([Job::Post(post("p", false).0), edit(1, "later")]);
        let (text, _) = newest_edit(1, "now".into(), done, &mut queue);
        assert_eq!(text, "now", "an edit never jumps over a post");
    }
}
