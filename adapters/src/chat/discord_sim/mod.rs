//! A fake Discord on loopback for end-to-end tests of the Discord chat
//! adapter: the REST API under `/api/v10` and the gateway websocket, close
//! enough to Discord's that the real serenity 0.12.5 client runs against it
//! unchanged (shared reference chatops-anchors §4 and its Addendum).
//!
//! Point serenity at it with
//! `HttpBuilder::new(token).proxy(fake.api_base()).ratelimiter_disabled(true)`
//! and `ClientBuilder::new_with_http`: the proxy rewrites
//! `https://discord.com` to the fake, and the gateway URL comes from its
//! `GET /api/v10/gateway`. serenity's own rate limiter ignores the proxy,
//! hence `ratelimiter_disabled`; a 429 then reaches the caller.
//!
//! Tests declare guilds and channels, make people send messages, edit them
//! and invoke slash commands (gateway dispatches), and read back what the
//! bot did: messages with their nonces, allowed mentions and edits, threads,
//! commands, interaction responses, every REST request and every gateway
//! frame the client sent. Faults: [`FakeDiscord::rate_limit_next`] and
//! [`FakeDiscord::disconnect`] (the client must RESUME).
//!
//! Like Discord, the fake echoes the bot's own messages back as
//! MESSAGE_CREATE (and edits, thread starts as MESSAGE_UPDATE), so an
//! adapter that answers itself loops here too; tests that only count
//! people's events can switch that off ([`FakeDiscord::set_echo_own_messages`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use serde_json::Value;

mod channels;
mod events;
mod gateway;
mod interactions;
mod payloads;
mod rest;
mod state;

pub use events::{FakeCommandInteraction, FakeUserMessage};

use state::{lock, ChannelDef, Inner, Shared, StoredMessage};

/// One REST request as the fake received it (rate-limited and refused ones
/// included).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeRequest {
    pub method: String,
    /// The full path, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// The query string without `?`, empty if none.
    pub query: String,
    /// The JSON body, if it had one.
    pub body: Option<Value>,
    /// The status the fake answered.
    pub status: u16,
}

/// A message as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMessage {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    /// The current content (after any edits).
    pub content: String,
    /// The nonce as sent (a number is shown in decimal).
    pub nonce: Option<String>,
    /// `allowed_mentions` as sent when the message was created.
    pub allowed_mentions: Option<Value>,
    /// `message_reference` as sent (replies).
    pub message_reference: Option<Value>,
    /// Every content the message was edited to, in order.
    pub edits: Vec<String>,
    /// Discord's message flags (64 ephemeral, 128 still loading, 32 has a thread).
    pub flags: u64,
}

impl FakeMessage {
    fn of(m: &StoredMessage) -> Self {
        FakeMessage {
            id: m.id,
            channel_id: m.channel_id,
            author_id: m.author.id,
            content: m.content.clone(),
            nonce: m.nonce.as_ref().map(|n| match n {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            allowed_mentions: m.allowed_mentions.clone(),
            message_reference: m.message_reference.clone(),
            edits: m.edits.clone(),
            flags: m.flags,
        }
    }
}

/// A handle on a running fake; clones share it. It serves until the test's
/// runtime ends.
#[derive(Clone)]
pub struct FakeDiscord {
    addr: SocketAddr,
    inner: Shared,
}

impl FakeDiscord {
    /// Starts a fake whose bot token is `token` (with or without `Bot `).
    pub async fn start(token: &str) -> std::io::Result<FakeDiscord> {
        let inner: Shared = Arc::new(Mutex::new(Inner::new(token)));
        let app = Router::new()
            .route("/", get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(inner.clone());
        let addr = crate::loopback::serve(app).await?;
        // Set before anyone can know the port, so no request sees it unset.
        lock(&inner).addr = Some(addr);
        Ok(FakeDiscord { addr, inner })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// `http://127.0.0.1:PORT`, for serenity's `HttpBuilder::proxy`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`, what `GET /api/v10/gateway` answers.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The bot's user id (READY's `user`, `GET /users/@me`, message authors).
    pub fn bot_user_id(&self) -> u64 {
        self.inner().bot.id
    }

    /// The application's id, distinct from the bot user's.
    pub fn application_id(&self) -> u64 {
        self.inner().app_id
    }

    // --- what exists --------------------------------------------------------

    /// A guild the bot is in (READY lists it as unavailable, as Discord does).
    pub fn add_guild(&self, guild_id: u64) {
        self.inner().guilds.insert(guild_id);
    }

    /// A text channel (type 0) of `guild`, which is added if new.
    pub fn add_text_channel(&self, guild: u64, id: u64, name: &str) {
        let mut st = self.inner();
        st.guilds.insert(guild);
        let name = name.to_string();
        st.channels.insert(id, ChannelDef::Text { guild, name });
    }

    /// A DM channel (type 1) between the bot and `user`.
    pub fn add_dm_channel(&self, id: u64, user: u64) {
        self.inner().channels.insert(id, ChannelDef::Dm { user });
    }

    /// The heartbeat interval HELLO announces (41.25 s unless set); takes
    /// effect for the next connection.
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.inner().gateway.heartbeat_ms = ms.max(1);
    }

    /// Whether the bot's own messages, edits and thread starts come back as
    /// gateway events (on by default, as on Discord).
    pub fn set_echo_own_messages(&self, on: bool) {
        self.inner().echo_own = on;
    }

    // --- what people do (gateway dispatches) ---------------------------------

    /// A person's message: MESSAGE_CREATE. Returns the message id.
    pub fn send_message(&self, m: FakeUserMessage) -> u64 {
        self.inner().inject_message(m)
    }

    /// A person edits their message: MESSAGE_UPDATE. Panics if the fake
    /// has no such message.
    pub fn edit_user_message(&self, channel: u64, id: u64, content: &str) {
        self.inner().inject_edit(channel, id, content);
    }

    /// A slash-command invocation: INTERACTION_CREATE. Returns the
    /// interaction id.
    pub fn send_interaction(&self, i: FakeCommandInteraction) -> u64 {
        self.inner().inject_interaction(i)
    }

    // --- faults ---------------------------------------------------------------

    /// Closes the gateway connection with 4000 (resumable): the client
    /// should reconnect and RESUME. Events sent meanwhile are replayed.
    pub fn disconnect(&self) {
        self.inner().disconnect();
    }

    /// Closes the gateway connection with a close code of Discord's, e.g.
    /// 4014 (disallowed intents: the portal's switch is off), after which
    /// the client must give up rather than reconnect.
    pub fn close_gateway(&self, code: u16, reason: &'static str) {
        self.inner().close_gateway(code, reason);
    }

    /// The next `n` REST requests answer 429 with Discord's body and headers.
    pub fn rate_limit_next(&self, n: usize) {
        self.inner().rate_limit_pending += n;
    }

    /// How many requests were answered 429 so far.
    pub fn rate_limited_count(&self) -> usize {
        self.inner().rate_limited
    }

    // --- what happened ---------------------------------------------------------

    /// Every REST request, in order.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.inner().log.clone()
    }

    /// Requests of `method` whose path, after `/api/v10`, starts with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        let full = format!("/api/v10{prefix}");
        let st = self.inner();
        let hits = st.log.iter().filter(|r| r.method == method);
        hits.filter(|r| r.path.starts_with(&full)).count()
    }

    /// Every message in `channel` (people's and the bot's), oldest first.
    pub fn channel_messages(&self, channel: u64) -> Vec<FakeMessage> {
        let st = self.inner();
        let ms = st.messages.get(&channel).into_iter().flatten();
        ms.map(FakeMessage::of).collect()
    }

    /// The bot's messages in `channel`, oldest first.
    pub fn bot_messages(&self, channel: u64) -> Vec<FakeMessage> {
        let bot = self.bot_user_id();
        let mut ms = self.channel_messages(channel);
        ms.retain(|m| m.author_id == bot);
        ms
    }

    /// (parent channel, thread id) of every thread started, in order.
    pub fn threads(&self) -> Vec<(u64, u64)> {
        self.inner().threads.clone()
    }

    /// The guild's slash commands as last overwritten, with their ids.
    pub fn guild_commands(&self, guild: u64) -> Vec<Value> {
        self.inner()
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    /// The callbacks the bot posted for interaction `id` (`{type, data}`), as sent.
    pub fn interaction_responses(&self, id: u64) -> Vec<Value> {
        let st = self.inner();
        let rec = st.interactions.get(&id);
        rec.map(|i| i.callbacks.clone()).unwrap_or_default()
    }

    /// The interaction's `@original` message, once a callback created it.
    pub fn interaction_original(&self, id: u64) -> Option<FakeMessage> {
        let st = self.inner();
        let i = st.interactions.get(&id)?;
        st.message(i.channel_id, i.original?).map(FakeMessage::of)
    }

    /// The interaction's follow-up messages, in order.
    pub fn interaction_followups(&self, id: u64) -> Vec<FakeMessage> {
        let st = self.inner();
        let Some(i) = st.interactions.get(&id) else {
            return Vec::new();
        };
        let found = i
            .followups
            .iter()
            .filter_map(|m| st.message(i.channel_id, *m));
        found.map(FakeMessage::of).collect()
    }

    /// The opcode of every gateway frame the client sent, in order (1
    /// heartbeat, 2 identify, 6 resume, ...); 255 for a frame without one.
    pub fn gateway_ops(&self) -> Vec<u8> {
        let st = self.inner();
        let ops = st
            .gateway
            .received
            .iter()
            .map(|f| f.get("op").and_then(Value::as_u64));
        ops.map(|op| op.and_then(|o| u8::try_from(o).ok()).unwrap_or(u8::MAX))
            .collect()
    }

    /// Every gateway frame the client sent, as JSON, in order.
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.inner().gateway.received.clone()
    }

    /// How many websocket connections the client opened.
    pub fn gateway_connections(&self) -> usize {
        self.inner().gateway.connections
    }

    /// Polls `f` every 10 ms until it holds or `timeout` passes; whether it held.
    pub async fn wait_until(&self, timeout: Duration, f: impl Fn(&FakeDiscord) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if f(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// [`wait_until`](Self::wait_until), panicking with `what` and what the
    /// fake saw when it times out.
    pub async fn expect_within(
        &self,
        what: &str,
        timeout: Duration,
        f: impl Fn(&FakeDiscord) -> bool,
    ) {
        if !self.wait_until(timeout, f).await {
            let ops = self.gateway_ops();
            let requests: Vec<String> = self
                .requests()
                .iter()
                .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
                .collect();
            panic!("timed out waiting for {what}; gateway ops {ops:?}; requests {requests:#?}");
        }
    }
}

#[cfg(test)]
mod payload_tests;

#[cfg(test)]
mod rest_payload_tests;

#[cfg(test)]
mod e2e_tests;

#[cfg(test)]
mod e2e_rest;
