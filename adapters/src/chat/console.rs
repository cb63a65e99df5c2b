//! Console chat: lines on stdin are messages, replies are lines on stdout.
//!
//! Used by `shepherd sandbox` and the end-to-end tests. Every output line is
//! prefixed with the thread it belongs to (`[t3]`) or the channel for
//! announcements (`[#ubuntu-release]`), so a transcript reads like a chat log.
//!
//! Input line syntax, so one terminal can play several people:
//! `[#channel] [name>] text` — e.g. `#maas bob> !jobs`. Without a name the
//! message comes from the default user; without a channel, the default one.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

use super::{Chat, ChatError, Incoming, SentMessage, ThreadRef};

pub struct ConsoleChat {
    input: Mutex<Box<dyn AsyncBufRead + Send + Unpin>>,
    output: Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    default_user: String,
    default_channel: String,
    lines_read: AtomicU64,
    sent: AtomicU64,
    /// Distinguishes this session's line numbers from an earlier run's, so
    /// message ids stay unique across restarts on the same store.
    session: String,
}

impl ConsoleChat {
    pub fn new(
        input: impl AsyncBufRead + Send + Unpin + 'static,
        output: impl AsyncWrite + Send + Unpin + 'static,
        default_user: &str,
        default_channel: &str,
    ) -> Self {
        Self {
            input: Mutex::new(Box::new(input)),
            output: Mutex::new(Box::new(output)),
            default_user: default_user.to_string(),
            default_channel: default_channel.to_string(),
            lines_read: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            session: format!(
                "{:x}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ),
        }
    }

    /// Console chat on the process's own stdin and stdout.
    pub fn stdio(default_user: &str, default_channel: &str) -> Self {
        Self::new(
            tokio::io::BufReader::new(tokio::io::stdin()),
            tokio::io::stdout(),
            default_user,
            default_channel,
        )
    }

    async fn write(&self, prefix: &str, text: &str) -> Result<(), ChatError> {
        let mut out = String::new();
        for line in text.lines() {
            out.push_str(&format!("[{prefix}] {line}\n"));
        }
        let mut w = self.output.lock().await;
        w.write_all(out.as_bytes()).await?;
        w.flush().await?;
        Ok(())
    }

    fn next_id(&self) -> String {
        format!("m{}", self.sent.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// The longest input line read; longer ones are answered, not read.
pub const MAX_LINE: usize = 16 * 1024;

/// Reads one line (without its newline), keeping at most `max` bytes and
/// skipping the rest; returns those bytes and the line's full length, or
/// `None` at end of input. Memory stays bounded whatever arrives.
async fn read_capped_line<R: AsyncBufRead + Unpin + ?Sized>(
    input: &mut R,
    max: usize,
) -> std::io::Result<Option<(Vec<u8>, usize)>> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return Ok((total > 0).then_some((kept, total)));
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = max.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len();
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            if kept.last() == Some(&b'\r') {
                kept.pop();
            }
            return Ok(Some((kept, total)));
        }
    }
}

/// Splits `[#channel] [name>] text` into its parts.
pub fn split_speaker(line: &str) -> (Option<&str>, Option<&str>, &str) {
    let mut rest = line.trim();
    let mut channel = None;
    if rest.starts_with('#') {
        if let Some((c, r)) = rest.split_once(char::is_whitespace) {
            channel = Some(c);
            rest = r.trim_start();
        }
    }
    let mut name = None;
    if let Some((n, r)) = rest.split_once("> ") {
        let valid = !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if valid {
            name = Some(n);
            rest = r;
        }
    }
    (channel, name, rest)
}

#[async_trait]
impl Chat for ConsoleChat {
    fn platform(&self) -> &str {
        "console"
    }

    async fn next_message(&self) -> Option<Incoming> {
        let mut input = self.input.lock().await;
        loop {
            let (bytes, total) = match read_capped_line(&mut *input, MAX_LINE).await {
                Ok(Some(l)) => l,
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "console input failed; closing chat");
                    return None;
                }
            };
            let n = self.lines_read.fetch_add(1, Ordering::Relaxed) + 1;
            // A bad line is answered and skipped; it never ends the input.
            if total > MAX_LINE {
                let why = format!(
                    "that line is {} KB; I read lines up to {} KB — not read",
                    total.div_ceil(1024),
                    MAX_LINE / 1024
                );
                let _ = self.write(&format!("t{n}"), &why).await;
                continue;
            }
            let Ok(line) = String::from_utf8(bytes) else {
                let _ = self
                    .write(&format!("t{n}"), "that line is not valid UTF-8 — not read")
                    .await;
                continue;
            };
            if line.trim().is_empty() {
                continue;
            }
            let (channel, name, text) = split_speaker(&line);
            let name = name.unwrap_or(&self.default_user);
            return Some(Incoming {
                actor: format!("console:{name}"),
                display_name: name.to_string(),
                channel: channel.unwrap_or(&self.default_channel).to_string(),
                conversation: channel.unwrap_or(&self.default_channel).to_string(),
                thread: format!("t{n}"),
                message_id: format!("{}-{n}", self.session),
                text: text.to_string(),
                groups: Vec::new(),
                direct: false,
            });
        }
    }

    async fn reply(&self, to: &ThreadRef, text: &str) -> Result<SentMessage, ChatError> {
        self.write(&to.thread, text).await?;
        Ok(SentMessage {
            channel: to.channel.clone(),
            thread: Some(to.thread.clone()),
            id: self.next_id(),
        })
    }

    async fn edit(&self, message: &SentMessage, text: &str) -> Result<(), ChatError> {
        // A terminal cannot rewrite an earlier line in a log, so an edit is
        // printed as a new line marked as the update of that message.
        let prefix = message.thread.as_deref().unwrap_or(&message.channel);
        self.write(prefix, &format!("↻ {text}")).await
    }

    async fn send(&self, channel: &str, text: &str) -> Result<SentMessage, ChatError> {
        self.write(channel, text).await?;
        Ok(SentMessage {
            channel: channel.to_string(),
            thread: None,
            id: self.next_id(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_syntax_is_optional() {
        assert_eq!(split_speaker("!jobs"), (None, None, "!jobs"));
        assert_eq!(split_speaker("bob> !jobs"), (None, Some("bob"), "!jobs"));
        assert_eq!(
            split_speaker("#maas bob> !jobs 3"),
            (Some("#maas"), Some("bob"), "!jobs 3")
        );
        // A `>` inside the text is not a speaker.
        assert_eq!(split_speaker("a b> c"), (None, None, "a b> c"));
    }

    #[tokio::test]
    async fn lines_become_messages_and_replies_are_prefixed() {
        let input = &b"!help\n\n#rel carol> !jobs\n"[..];
        let (w, mut r) = tokio::io::duplex(4096);
        let chat = ConsoleChat::new(input, w, "alice", "console");
        let m1 = chat.next_message().await.unwrap();
        assert_eq!(
            (m1.actor.as_str(), m1.thread.as_str()),
            ("console:alice", "t1")
        );
        let m2 = chat.next_message().await.unwrap();
        assert_eq!(
            (m2.actor.as_str(), m2.channel.as_str(), m2.thread.as_str()),
            ("console:carol", "#rel", "t3")
        );
        assert!(chat.next_message().await.is_none());
        let to = ThreadRef {
            channel: "console".into(),
            thread: "t1".into(),
        };
        let sent = chat.reply(&to, "one\ntwo").await.unwrap();
        chat.edit(&sent, "three").await.unwrap();
        drop(chat);
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut r, &mut out)
            .await
            .unwrap();
        assert_eq!(out, "[t1] one\n[t1] two\n[t1] ↻ three\n");
    }

    /// Hostile input is answered and skipped; the next line is still read.
    #[tokio::test]
    async fn invalid_utf8_and_overlong_lines_are_skipped_with_a_reply() {
        let mut input = b"!why a\xff\xfe\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 100_000));
        input.extend_from_slice(b"\n!jobs\n");
        let (w, mut r) = tokio::io::duplex(1 << 16);
        let chat = ConsoleChat::new(std::io::Cursor::new(input), w, "alice", "console");
        let m = chat.next_message().await.expect("input goes on");
        assert_eq!((m.text.as_str(), m.thread.as_str()), ("!jobs", "t3"));
        assert!(chat.next_message().await.is_none());
        drop(chat);
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut r, &mut out)
            .await
            .unwrap();
        assert_eq!(
            out,
            "[t1] that line is not valid UTF-8 — not read\n[t2] that line is 98 KB; I read lines up to 16 KB — not read\n"
        );
    }
}
