//! What the fake Discord holds: declared guilds and channels, every message
//! (the users' and the bot's), threads, slash commands, interactions, the
//! request log and the gateway session. One mutex guards it all, so each
//! request and each injected event is one short critical section and the
//! order tests observe is the order things happened.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::mpsc;

use super::FakeRequest;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds: snowflakes
/// count from it, and a few clients read a message's time out of its id.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The largest message content Discord accepts, in characters.
pub(super) const MAX_CONTENT: usize = 2000;

/// Message flags (Discord's `MessageFlags`) the fake sets itself.
pub(super) const FLAG_HAS_THREAD: u64 = 1 << 5;
pub(super) const FLAG_EPHEMERAL: u64 = 1 << 6;
pub(super) const FLAG_LOADING: u64 = 1 << 7;

/// A user as messages show them.
#[derive(Debug, Clone)]
pub(super) struct UserDef {
    pub id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub bot: bool,
}

/// A guild member's guild-specific part.
#[derive(Debug, Clone, Default)]
pub(super) struct MemberDef {
    pub nick: Option<String>,
    pub roles: Vec<u64>,
}

#[derive(Debug, Clone)]
pub(super) enum ChannelDef {
    /// A guild text channel (type 0).
    Text { guild: u64, name: String },
    /// A public thread (type 11); its id is its starter message's.
    Thread {
        guild: u64,
        parent: u64,
        name: String,
        owner: u64,
        auto_archive: u64,
        created: String,
    },
    /// A DM with one user (type 1).
    Dm { user: u64 },
}

impl ChannelDef {
    pub fn guild(&self) -> Option<u64> {
        match self {
            ChannelDef::Text { guild, .. } | ChannelDef::Thread { guild, .. } => Some(*guild),
            ChannelDef::Dm { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct StoredMessage {
    pub id: u64,
    pub channel_id: u64,
    pub author: UserDef,
    /// The author's member part, for MESSAGE_CREATE in a guild; `None` in
    /// DMs and when a test asks for a member-less guild message.
    pub member: Option<MemberDef>,
    pub content: String,
    /// Discord's message type: 0 default, 19 reply, 20 slash-command response.
    pub kind: u8,
    pub flags: u64,
    pub nonce: Option<Value>,
    pub allowed_mentions: Option<Value>,
    pub message_reference: Option<Value>,
    /// User ids and role ids written as `<@id>` and `<@&id>` in the content.
    pub mentions: Vec<u64>,
    pub mention_roles: Vec<u64>,
    /// Interaction responses carry the application's id as `webhook_id`.
    pub webhook_id: Option<u64>,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
    /// Every content this message was edited to, in order.
    pub edits: Vec<String>,
    /// The thread started from this message (same id).
    pub thread: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct InteractionRec {
    pub token: String,
    pub channel_id: u64,
    /// The callbacks the client posted, as sent.
    pub callbacks: Vec<Value>,
    /// The message the callback created (`@original`).
    pub original: Option<u64>,
    pub followups: Vec<u64>,
}

/// A frame for one gateway connection's writer.
#[derive(Debug)]
pub(super) enum Outgoing {
    Text(String),
    Close(u16, &'static str),
}

/// The connection that receives dispatches (identified or resumed).
pub(super) struct Live {
    pub conn: u64,
    pub tx: mpsc::UnboundedSender<Outgoing>,
}

/// The gateway session. There is one shard, so one session at a time.
#[derive(Default)]
pub(super) struct GatewayState {
    pub heartbeat_ms: u64,
    pub session_id: Option<String>,
    pub seq: u64,
    /// Every dispatch of this session with its sequence, for RESUME to
    /// replay what the client missed.
    pub history: Vec<(u64, String, Value)>,
    /// The highest sequence handed to a live connection.
    pub delivered: u64,
    /// (`t`, `d`) of events injected before any session existed.
    pub pending: Vec<(String, Value)>,
    pub live: Option<Live>,
    pub next_conn: u64,
    /// Every frame the client sent, in order.
    pub received: Vec<Value>,
    pub connections: usize,
}

pub(super) struct Inner {
    pub token: String,
    pub addr: Option<SocketAddr>,
    pub bot: UserDef,
    pub app_id: u64,
    last_id: u64,
    pub guilds: BTreeSet<u64>,
    pub channels: BTreeMap<u64, ChannelDef>,
    /// Users seen as authors, so a DM's recipient has a name.
    pub users: HashMap<u64, UserDef>,
    /// Messages by channel, oldest first.
    pub messages: BTreeMap<u64, Vec<StoredMessage>>,
    /// (parent channel, thread id) in creation order.
    pub threads: Vec<(u64, u64)>,
    /// Guild slash commands as last bulk-overwritten, ids filled in.
    pub commands: BTreeMap<u64, Vec<Value>>,
    pub interactions: BTreeMap<u64, InteractionRec>,
    pub log: Vec<FakeRequest>,
    pub rate_limit_pending: usize,
    pub rate_limited: usize,
    /// Send MESSAGE_CREATE/UPDATE for the bot's own messages, as Discord does.
    pub echo_own: bool,
    pub gateway: GatewayState,
}

pub(super) type Shared = Arc<Mutex<Inner>>;

/// A panic in a test thread must not wedge the fake for the others.
pub(super) fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    pub fn new(token: &str) -> Self {
        let mut inner = Inner {
            token: token.strip_prefix("Bot ").unwrap_or(token).to_string(),
            addr: None,
            bot: UserDef {
                id: 0,
                username: "shepherd".into(),
                global_name: None,
                bot: true,
            },
            app_id: 0,
            last_id: 0,
            guilds: BTreeSet::new(),
            channels: BTreeMap::new(),
            users: HashMap::new(),
            messages: BTreeMap::new(),
            threads: Vec::new(),
            commands: BTreeMap::new(),
            interactions: BTreeMap::new(),
            log: Vec::new(),
            rate_limit_pending: 0,
            rate_limited: 0,
            echo_own: true,
            gateway: GatewayState {
                heartbeat_ms: 41_250,
                ..GatewayState::default()
            },
        };
        // Distinct ids for the bot user and the application, so code that
        // mixes them up fails here (older applications differ on Discord too).
        inner.bot.id = inner.snowflake();
        inner.app_id = inner.snowflake();
        inner
    }

    /// A fresh snowflake: milliseconds since Discord's epoch in the top bits,
    /// strictly increasing however fast ids are asked for.
    pub fn snowflake(&mut self) -> u64 {
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        let from_clock = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = from_clock.max(self.last_id + 1);
        self.last_id
    }

    pub fn ws_url(&self) -> String {
        match self.addr {
            Some(a) => format!("ws://{a}"),
            None => "ws://127.0.0.1:0".into(),
        }
    }

    pub fn user(&self, id: u64) -> UserDef {
        if id == self.bot.id {
            return self.bot.clone();
        }
        self.users.get(&id).cloned().unwrap_or_else(|| UserDef {
            id,
            username: format!("user{id}"),
            global_name: None,
            bot: false,
        })
    }

    pub fn message(&self, channel: u64, id: u64) -> Option<&StoredMessage> {
        self.messages.get(&channel)?.iter().find(|m| m.id == id)
    }

    pub fn message_mut(&mut self, channel: u64, id: u64) -> Option<&mut StoredMessage> {
        self.messages
            .get_mut(&channel)?
            .iter_mut()
            .find(|m| m.id == id)
    }

    /// A new message by the bot in `channel` (not yet stored or echoed).
    pub fn bot_message(&mut self, channel: u64, content: &str) -> StoredMessage {
        let member = self
            .channels
            .get(&channel)
            .and_then(ChannelDef::guild)
            .map(|_| MemberDef::default());
        StoredMessage {
            id: self.snowflake(),
            channel_id: channel,
            author: self.bot.clone(),
            member,
            content: content.into(),
            kind: 0,
            flags: 0,
            nonce: None,
            allowed_mentions: None,
            message_reference: None,
            mentions: Vec::new(),
            mention_roles: Vec::new(),
            webhook_id: None,
            timestamp: now(),
            edited_timestamp: None,
            edits: Vec::new(),
            thread: None,
        }
    }

    /// Stores `m` and returns its id.
    pub fn store(&mut self, m: StoredMessage) -> u64 {
        let id = m.id;
        self.messages.entry(m.channel_id).or_default().push(m);
        id
    }
}

/// Now, as Discord writes timestamps (RFC 3339, microseconds, `+00:00`).
pub(super) fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// `<@id>`/`<@!id>` user mentions and `<@&id>` role mentions in `content`.
pub(super) fn parse_mentions(content: &str) -> (Vec<u64>, Vec<u64>) {
    let (mut users, mut roles) = (Vec::new(), Vec::new());
    for piece in content.split("<@").skip(1) {
        let Some((inner, _)) = piece.split_once('>') else {
            continue;
        };
        let (list, digits) = match inner.strip_prefix('&') {
            Some(d) => (&mut roles, d),
            None => (&mut users, inner.strip_prefix('!').unwrap_or(inner)),
        };
        if let Ok(id) = digits.parse::<u64>() {
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    (users, roles)
}
