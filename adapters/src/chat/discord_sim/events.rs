//! What tests make happen on the gateway: people's messages and edits,
//! slash-command invocations, and the echo of the bot's own messages that
//! Discord sends (a bot receives MESSAGE_CREATE for what it posts).

use serde_json::{json, Value};

use super::payloads::{self, InteractionParts, Via};
use super::state::{
    now, parse_mentions, ChannelDef, Inner, InteractionRec, MemberDef, StoredMessage, UserDef,
};

/// A message someone sends, for [`FakeDiscord::send_message`](super::FakeDiscord::send_message).
/// Fill only what the test cares about; the rest is a person named
/// `alice` writing nothing.
#[derive(Debug, Clone)]
pub struct FakeUserMessage {
    pub author_id: u64,
    pub username: String,
    /// The profile's display name (`global_name`), if set.
    pub global_name: Option<String>,
    /// The server nickname (`member.nick`), in a guild.
    pub nick: Option<String>,
    /// Another bot (or a webhook-like author) rather than a person.
    pub bot: bool,
    /// `None` for a DM. An undeclared channel is declared on the fly: a
    /// text channel of this guild, or a DM with the author.
    pub guild_id: Option<u64>,
    /// Required (snowflakes are never 0).
    pub channel_id: u64,
    /// The author's roles in the guild (`member.roles`).
    pub role_ids: Vec<u64>,
    pub content: String,
    /// Leave `member` out of a guild message, as Discord does for webhooks
    /// and some forum starter messages (Addendum).
    pub omit_member: bool,
    /// Make it a reply (type 19, `message_reference`) to this message.
    pub reply_to: Option<u64>,
}

impl Default for FakeUserMessage {
    fn default() -> Self {
        FakeUserMessage {
            author_id: 4242,
            username: "alice".into(),
            global_name: None,
            nick: None,
            bot: false,
            guild_id: None,
            channel_id: 0,
            role_ids: Vec::new(),
            content: String::new(),
            omit_member: false,
            reply_to: None,
        }
    }
}

/// A slash-command invocation, for
/// [`FakeDiscord::send_interaction`](super::FakeDiscord::send_interaction).
#[derive(Debug, Clone)]
pub struct FakeCommandInteraction {
    pub user_id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub nick: Option<String>,
    /// `None` for a DM (the interaction then has `user`, not `member`).
    pub guild_id: Option<u64>,
    /// Required; declared on the fly like [`FakeUserMessage::channel_id`].
    pub channel_id: u64,
    pub role_ids: Vec<u64>,
    /// The command's name; its id is the registered command's of that name
    /// in the guild, or a fresh one.
    pub name: String,
    /// (name, value) of top-level options. The option type follows the
    /// value: string 3, integer 4, boolean 5, other number 10.
    pub options: Vec<(String, Value)>,
}

impl Default for FakeCommandInteraction {
    fn default() -> Self {
        FakeCommandInteraction {
            user_id: 4242,
            username: "alice".into(),
            global_name: None,
            nick: None,
            guild_id: None,
            channel_id: 0,
            role_ids: Vec::new(),
            name: String::new(),
            options: Vec::new(),
        }
    }
}

fn option(name: &str, value: &Value) -> Value {
    let kind = match value {
        Value::String(_) => 3,
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        _ => 10,
    };
    json!({"name": name, "type": kind, "value": value})
}

impl Inner {
    /// Declares `channel` (and `guild`) if the test has not.
    fn declare_on_the_fly(&mut self, guild: Option<u64>, channel: u64, user: u64) {
        assert_ne!(
            channel, 0,
            "a fake message or interaction needs a channel_id"
        );
        if let Some(g) = guild {
            self.guilds.insert(g);
        }
        self.channels.entry(channel).or_insert_with(|| match guild {
            Some(guild) => ChannelDef::Text {
                guild,
                name: format!("channel-{channel}"),
            },
            None => ChannelDef::Dm { user },
        });
    }

    pub fn inject_message(&mut self, m: FakeUserMessage) -> u64 {
        self.declare_on_the_fly(m.guild_id, m.channel_id, m.author_id);
        let author = UserDef {
            id: m.author_id,
            username: m.username,
            global_name: m.global_name,
            bot: m.bot,
        };
        self.users.insert(author.id, author.clone());
        let in_guild = self.channels.get(&m.channel_id).and_then(ChannelDef::guild);
        let member = (in_guild.is_some() && !m.omit_member).then_some(MemberDef {
            nick: m.nick,
            roles: m.role_ids,
        });
        let (mentions, mention_roles) = parse_mentions(&m.content);
        let message_reference = m.reply_to.map(|r| {
            json!({"type": 0, "message_id": payloads::id(r), "channel_id": payloads::id(m.channel_id),
                   "guild_id": in_guild.map(payloads::id), "fail_if_not_exists": false})
        });
        let stored = StoredMessage {
            id: self.snowflake(),
            channel_id: m.channel_id,
            author,
            member,
            content: m.content,
            kind: if m.reply_to.is_some() { 19 } else { 0 },
            flags: 0,
            nonce: None,
            allowed_mentions: None,
            message_reference,
            mentions,
            mention_roles,
            webhook_id: None,
            timestamp: now(),
            edited_timestamp: None,
            edits: Vec::new(),
            thread: None,
        };
        let d = payloads::message(self, &stored, Via::Gateway);
        let id = self.store(stored);
        self.dispatch("MESSAGE_CREATE", d);
        id
    }

    /// Panics if the message is unknown: that is a mistake in the test.
    pub fn inject_edit(&mut self, channel: u64, id: u64, content: &str) {
        let m = self
            .message_mut(channel, id)
            .unwrap_or_else(|| panic!("no message {id} in channel {channel} to edit"));
        m.content = content.to_string();
        m.edits.push(content.to_string());
        m.edited_timestamp = Some(now());
        let (mentions, roles) = parse_mentions(content);
        m.mentions = mentions;
        m.mention_roles = roles;
        self.echo_update(channel, id, true);
    }

    pub fn inject_interaction(&mut self, i: FakeCommandInteraction) -> u64 {
        self.declare_on_the_fly(i.guild_id, i.channel_id, i.user_id);
        let user = UserDef {
            id: i.user_id,
            username: i.username,
            global_name: i.global_name,
            bot: false,
        };
        self.users.insert(user.id, user.clone());
        let guild = self.channels.get(&i.channel_id).and_then(ChannelDef::guild);
        let registered = guild
            .and_then(|g| self.commands.get(&g))
            .and_then(|cs| cs.iter().find(|c| c["name"] == i.name.as_str()))
            .and_then(|c| c["id"].as_str()?.parse::<u64>().ok());
        let command_id = match registered {
            Some(c) => c,
            None => self.snowflake(),
        };
        let id = self.snowflake();
        let token = format!("fake-interaction-token-{id}");
        let member = MemberDef {
            nick: i.nick,
            roles: i.role_ids,
        };
        let parts = InteractionParts {
            id,
            token: &token,
            command_id,
            name: &i.name,
            options: i.options.iter().map(|(n, v)| option(n, v)).collect(),
            user: &user,
            member: &member,
            channel_id: i.channel_id,
        };
        let d = payloads::command_interaction(self, &parts);
        self.interactions.insert(
            id,
            InteractionRec {
                token,
                channel_id: i.channel_id,
                callbacks: Vec::new(),
                original: None,
                followups: Vec::new(),
            },
        );
        self.dispatch("INTERACTION_CREATE", d);
        id
    }

    /// MESSAGE_CREATE for a message the bot just posted, as Discord sends
    /// it (ephemeral messages are never dispatched).
    pub fn echo_create(&mut self, channel: u64, id: u64) {
        let Some(m) = self.message(channel, id) else {
            return;
        };
        if self.echo_own && m.flags & super::state::FLAG_EPHEMERAL == 0 {
            let d = payloads::message(self, m, Via::Gateway);
            self.dispatch("MESSAGE_CREATE", d);
        }
    }

    /// MESSAGE_UPDATE with the whole message (Discord sends full objects
    /// now). `always`: a person's edit, sent whatever the echo setting.
    pub fn echo_update(&mut self, channel: u64, id: u64, always: bool) {
        let Some(m) = self.message(channel, id) else {
            return;
        };
        if (always || self.echo_own) && m.flags & super::state::FLAG_EPHEMERAL == 0 {
            let d = payloads::message(self, m, Via::Gateway);
            self.dispatch("MESSAGE_UPDATE", d);
        }
    }
}
