//! The `Chat` trait: how Shepherd hears and speaks, whatever the platform.
//!
//! Platforms differ in what a thread is; Shepherd only needs to reply where a
//! request came from, edit one progress message, and post to a channel.

use async_trait::async_trait;
use thiserror::Error;

pub mod console;
#[cfg(feature = "discord")]
pub mod discord;
#[cfg(all(feature = "sim", feature = "discord"))]
pub mod discord_sim;
pub mod slash;

/// A message someone sent, as the bot sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Platform-qualified identity, e.g. `console:alice`, `discord:1234`.
    pub actor: String,
    pub display_name: String,
    pub channel: String,
    /// Where replies go: the request's thread (or the message itself).
    pub thread: String,
    /// Unique per message on this platform: the key that makes a redelivered
    /// message create one plan, not two.
    pub message_id: String,
    pub text: String,
    /// Messages of one conversation are answered in order; different
    /// conversations at the same time, so one slow command never silences
    /// the bot. A chat thread on platforms that have them; a console
    /// channel (lines typed or piped into one terminal are one script).
    pub conversation: String,
    /// Groups the platform says the actor belongs to, qualified like
    /// actors (`discord-role:5678`): config may grant a role to one.
    pub groups: Vec<String>,
    /// A direct (private) message, not said in a channel.
    pub direct: bool,
}

/// Where a reply goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadRef {
    pub channel: String,
    pub thread: String,
}

/// A message the bot sent, so it can be edited later (progress lines).
/// Serializable so the id survives a restart in the plan's record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SentMessage {
    pub channel: String,
    pub thread: Option<String>,
    pub id: String,
}

// Causes are part of the message, not also `source()`: a chain printed
// whole would say them twice.
#[derive(Debug, Error)]
pub enum ChatError {
    #[error("chat connection closed")]
    Closed,
    #[error("chat I/O failed: {0}")]
    Io(std::io::Error),
    #[error("chat platform refused: {0}")]
    Refused(String),
    /// The platform is briefly unreachable or asked us to slow down.
    #[error("chat platform unavailable: {0}")]
    Unavailable(String),
    /// The platform refused our credentials: nothing will work until an
    /// operator fixes them.
    #[error("chat platform refused the bot's credentials: {0}")]
    Unauthorized(String),
}

impl From<std::io::Error> for ChatError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl Clone for ChatError {
    fn clone(&self) -> Self {
        match self {
            ChatError::Closed => ChatError::Closed,
            ChatError::Io(e) => ChatError::Io(std::io::Error::new(e.kind(), e.to_string())),
            ChatError::Refused(m) => ChatError::Refused(m.clone()),
            ChatError::Unavailable(m) => ChatError::Unavailable(m.clone()),
            ChatError::Unauthorized(m) => ChatError::Unauthorized(m.clone()),
        }
    }
}

impl ChatError {
    /// Worth retrying (the executor backs off on these).
    pub fn is_transient(&self) -> bool {
        match self {
            ChatError::Io(_) | ChatError::Unavailable(_) => true,
            ChatError::Closed | ChatError::Refused(_) | ChatError::Unauthorized(_) => false,
        }
    }
}

#[async_trait]
pub trait Chat: Send + Sync {
    /// The platform's name, the prefix of actor identities (`console`, `discord`).
    fn platform(&self) -> &str;
    /// Where this chat's own HTTP exchanges are reported from now on (the
    /// bot's `external_requests`); a platform without any ignores it.
    fn observe_calls(&self, calls: crate::wire::Calls) {
        let _ = calls;
    }
    /// The next message, or `None` when the platform has closed for good.
    async fn next_message(&self) -> Option<Incoming>;
    /// Reply in the thread of a request.
    async fn reply(&self, to: &ThreadRef, text: &str) -> Result<SentMessage, ChatError>;
    /// Replace the text of a message the bot sent.
    async fn edit(&self, message: &SentMessage, text: &str) -> Result<(), ChatError>;
    /// Post to a channel outside any thread (announcements).
    async fn send(&self, channel: &str, text: &str) -> Result<SentMessage, ChatError>;

    /// Post an announcement (in `thread` when given) that must appear once
    /// even if it is sent again after a crash: `nonce` is the same for
    /// every attempt of one plan step. Platforms that deduplicate by nonce
    /// (Discord's `nonce` with `enforce_nonce`) override this; elsewhere a
    /// post interrupted between sending and being recorded is sent again
    /// (at least once).
    async fn post_once(
        &self,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        nonce: &str,
    ) -> Result<SentMessage, ChatError> {
        let _ = nonce;
        match thread {
            Some(t) => {
                let to = ThreadRef {
                    channel: channel.to_string(),
                    thread: t.to_string(),
                };
                self.reply(&to, text).await
            }
            None => self.send(channel, text).await,
        }
    }
}

/// A short nonce for a step key (Discord allows 25 characters): 64-bit
/// FNV-1a, hex. Stable across processes and versions, unlike std's hasher.
pub fn nonce_for(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod nonce_tests {
    #[test]
    fn nonces_are_stable_short_and_distinct() {
        let a = super::nonce_for("webhook/launchpad/123/0");
        assert_eq!(a, super::nonce_for("webhook/launchpad/123/0"));
        assert_ne!(a, super::nonce_for("webhook/launchpad/123/1"));
        assert_eq!(a.len(), 16);
        // Pinned: a change would re-post every announcement in flight at an upgrade.
        assert_eq!(super::nonce_for(""), "cbf29ce484222325");
    }
}
