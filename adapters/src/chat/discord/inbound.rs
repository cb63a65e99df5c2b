//! What Discord says to us, as Shepherd's chat events: pure conversions
//! from serenity's models, so every rule here is table-tested with real
//! payloads and no network.
//!
//! Only new human messages count: bots (ourselves included) and webhooks
//! are ignored, system messages (joins, pins, thread starts) too, and edits
//! never reach here — a command runs once, when it is said.

use serenity::model::application::{CommandData, CommandDataOptionValue};
use serenity::model::channel::{ChannelType, Message, MessageType};
use serenity::model::guild::{Member, PartialMember};
use serenity::model::user::User;

use super::names::ChannelNames;
use crate::chat::slash::{SlashInvocation, SlashValue};
use crate::chat::Incoming;

/// Where a message was said, which decides where replies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A guild text channel: replies go in a thread started from the request.
    Channel,
    /// A thread: replies stay in it; permissions look at its parent channel.
    Thread { parent: u64 },
    /// A direct message: no threads there; replies go in the conversation.
    Direct,
}

impl Place {
    /// A channel's place from its type (and parent, for threads).
    pub fn of(kind: ChannelType, parent: Option<u64>) -> Place {
        match (kind, parent) {
            (ChannelType::Private, _) => Place::Direct,
            (
                ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread,
                Some(parent),
            ) => Place::Thread { parent },
            _ => Place::Channel,
        }
    }
}

/// Who said what, where: the part of a message or an interaction that
/// becomes a chat event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Unique per request: a message id, or `slash-<interaction id>`.
    pub id: String,
    pub author: u64,
    pub display_name: String,
    pub roles: Vec<u64>,
    pub guild: Option<u64>,
    pub channel: u64,
    /// The message a reply thread starts from.
    pub anchor: u64,
    pub text: String,
}

/// A new message worth reading, or `None` (a bot's, a webhook's, a system
/// message, or empty — no message-content intent, a sticker, an embed).
pub fn said_in_message(m: &Message, bot: u64) -> Option<Said> {
    if m.author.bot || m.author.id.get() == bot || m.webhook_id.is_some() {
        return None;
    }
    if !matches!(m.kind, MessageType::Regular | MessageType::InlineReply) {
        return None;
    }
    if m.content.trim().is_empty() {
        return None;
    }
    Some(Said {
        id: m.id.get().to_string(),
        author: m.author.id.get(),
        display_name: display_name(&m.author, m.member.as_deref().and_then(partial_nick)),
        roles: m
            .member
            .as_deref()
            .map(|p: &PartialMember| p.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default(),
        guild: m.guild_id.map(|g| g.get()),
        channel: m.channel_id.get(),
        anchor: m.id.get(),
        text: m.content.clone(),
    })
}

fn partial_nick(p: &PartialMember) -> Option<&str> {
    p.nick.as_deref()
}

/// A slash command as the `!` text `render` gives for it, said where the
/// interaction's reply (`anchor`) was posted.
pub fn said_in_slash(
    id: u64,
    user: &User,
    member: Option<&Member>,
    guild: Option<u64>,
    channel: u64,
    anchor: u64,
    text: String,
) -> Said {
    Said {
        id: format!("slash-{id}"),
        author: user.id.get(),
        display_name: display_name(user, member.and_then(|m| m.nick.as_deref())),
        roles: member
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default(),
        guild,
        channel,
        anchor,
        text,
    }
}

/// A guild nickname, else the global display name, else the username.
fn display_name(user: &User, nick: Option<&str>) -> String {
    nick.or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_string()
}

/// The platform-neutral invocation of a slash command's data.
pub fn slash_invocation(data: &CommandData) -> SlashInvocation {
    let options = data
        .options
        .iter()
        .filter_map(|o| {
            let value = match &o.value {
                CommandDataOptionValue::Boolean(b) => SlashValue::Switch(*b),
                CommandDataOptionValue::String(s) => SlashValue::Text(s.clone()),
                CommandDataOptionValue::Integer(i) => SlashValue::Text(i.to_string()),
                CommandDataOptionValue::Number(n) => SlashValue::Text(n.to_string()),
                // We declare only text and boolean options.
                _ => return None,
            };
            Some((o.name.clone(), value))
        })
        .collect();
    SlashInvocation {
        name: data.name.clone(),
        options,
    }
}

/// The chat event: identities qualified by platform, the channel by its
/// configured name when it has one, the thread replies go to.
pub fn incoming(said: Said, place: Place, names: &ChannelNames) -> Incoming {
    let (channel, thread, conversation) = match place {
        Place::Channel => (said.channel, said.anchor, said.channel),
        Place::Thread { parent } => (parent, said.channel, said.channel),
        Place::Direct => (said.channel, said.channel, said.channel),
    };
    Incoming {
        actor: format!("discord:{}", said.author),
        display_name: said.display_name,
        channel: names.name_of(channel),
        thread: thread.to_string(),
        message_id: said.id,
        text: said.text,
        // One person's requests in a place are answered in order; other
        // people's beside them (each request has its own thread anyway).
        conversation: format!("discord:{conversation}:{}", said.author),
        groups: said
            .roles
            .iter()
            .map(|r| format!("discord-role:{r}"))
            .collect(),
        direct: place == Place::Direct,
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
