//! serenity's event handler: new messages and slash commands become chat
//! events on a channel the bot reads; nothing else is done here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serenity::all::{
    Context, CreateAllowedMentions, EditInteractionResponse, EventHandler, Interaction, Message,
    Ready,
};
use serenity::async_trait;
use serenity::http::Http;
use serenity::model::channel::Channel;
use serenity::model::event::ResumedEvent;
use serenity::model::id::ChannelId;
use tokio::sync::mpsc;

use super::errors::Heard;
use super::inbound::{incoming, said_in_message, said_in_slash, slash_invocation, Place};
use super::names::ChannelNames;
use crate::chat::slash::SlashRenderer;
use crate::chat::Incoming;

/// What we know of channels: threads (ours and others'), text channels, DMs.
#[derive(Default)]
pub(super) struct Places {
    known: Mutex<HashMap<u64, Place>>,
    /// Names for threads not yet started: the request's text.
    thread_names: Mutex<HashMap<u64, String>>,
    /// Where every Discord exchange is reported (shared with the outbox).
    pub(super) heard: Heard,
}

/// Threads, places and names are small; a bot that runs for months still
/// must not grow without bound.
const REMEMBERED: usize = 10_000;

impl Places {
    pub(super) fn get(&self, channel: u64) -> Option<Place> {
        self.known.lock().ok()?.get(&channel).copied()
    }

    pub(super) fn remember(&self, channel: u64, place: Place) {
        if let Ok(mut k) = self.known.lock() {
            if k.len() >= REMEMBERED {
                k.clear();
            }
            k.insert(channel, place);
        }
    }

    pub(super) fn name_thread(&self, anchor: u64, text: &str) {
        if let Ok(mut n) = self.thread_names.lock() {
            if n.len() >= REMEMBERED {
                n.clear();
            }
            n.insert(anchor, text.to_string());
        }
    }

    /// Was `anchor` a request read since start (a message, not a thread)?
    pub(super) fn is_request(&self, anchor: u64) -> bool {
        self.thread_names
            .lock()
            .is_ok_and(|n| n.contains_key(&anchor))
    }

    pub(super) fn thread_name(&self, anchor: u64) -> String {
        let name = self
            .thread_names
            .lock()
            .ok()
            .and_then(|n| n.get(&anchor).cloned())
            .unwrap_or_else(|| "Shepherd".to_string());
        // Discord: 1–100 characters.
        let line = name.lines().next().unwrap_or("Shepherd").trim();
        let clipped: String = line.chars().take(90).collect();
        if clipped.is_empty() {
            "Shepherd".into()
        } else {
            clipped
        }
    }

    /// A guild channel's place, asking Discord once per channel.
    async fn place(&self, http: &Http, channel: u64) -> Place {
        if let Some(p) = self.get(channel) {
            return p;
        }
        self.read(http, channel).await.unwrap_or_else(|e| {
            // Replies then start a thread from the message, which works
            // in a text channel; in a thread the fallback answers in it.
            tracing::warn!(error = %e, channel, "cannot read a Discord channel; treating it as a text channel");
            Place::Channel
        })
    }

    /// Asks Discord what `channel` is, and remembers it.
    pub(super) async fn read(&self, http: &Http, channel: u64) -> Result<Place, serenity::Error> {
        let read = ChannelId::new(channel).to_channel(http).await;
        self.heard.report(&read);
        let place = match read? {
            Channel::Guild(c) => Place::of(c.kind, c.parent_id.map(|p| p.get())),
            Channel::Private(_) => Place::Direct,
            _ => Place::Channel,
        };
        self.remember(channel, place);
        Ok(place)
    }
}

#[derive(Clone)]
pub(super) struct Handler {
    /// Guilds we serve; messages from any other are ignored (a bot someone
    /// else invited elsewhere must not take commands there).
    pub(super) guilds: std::collections::HashSet<u64>,
    pub(super) tx: mpsc::Sender<Incoming>,
    pub(super) bot: u64,
    pub(super) names: ChannelNames,
    pub(super) places: Arc<Places>,
    pub(super) render: SlashRenderer,
}

impl Handler {
    fn serves(&self, guild: Option<u64>) -> bool {
        guild.is_none_or(|g| self.guilds.contains(&g))
    }

    async fn deliver(&self, said: super::inbound::Said, place: Place) {
        if place == Place::Channel {
            self.places.name_thread(said.anchor, &said.text);
        }
        let event = incoming(said, place, &self.names);
        if self.tx.send(event).await.is_err() {
            tracing::debug!("chat closed; a Discord message was not read");
        }
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn message(&self, ctx: Context, m: Message) {
        let Some(said) = said_in_message(&m, self.bot) else {
            return;
        };
        if !self.serves(said.guild) {
            return;
        }
        let place = match said.guild {
            None => Place::Direct,
            Some(_) => self.places.place(&ctx.http, said.channel).await,
        };
        self.deliver(said, place).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Interaction::Command(cmd) = interaction else {
            return;
        };
        if !self.serves(cmd.guild_id.map(|g| g.get())) {
            return;
        }
        // Discord wants an answer within 3 s; planning may take longer.
        let deferred = cmd.defer(&ctx.http).await;
        self.places.heard.report(&deferred);
        if let Err(e) = deferred {
            // Its URL holds the interaction's token: log what Discord said only.
            tracing::warn!(error = %quiet(&e), "cannot acknowledge a slash command");
            return;
        }
        let text = (self.render)(&slash_invocation(&cmd.data));
        let shown = match &text {
            Some(t) if t.chars().count() > 1900 => {
                format!("`{}…`", t.chars().take(1900).collect::<String>())
            }
            Some(t) => format!("`{t}`"),
            None => format!(
                "/{} is not a command here any more — `!help` lists what I can do",
                cmd.data.name
            ),
        };
        let edit = EditInteractionResponse::new()
            .content(shown)
            .allowed_mentions(CreateAllowedMentions::new());
        let answered = cmd.edit_response(&ctx.http, edit).await;
        self.places.heard.report(&answered);
        let anchor = match answered {
            Ok(m) => m.id.get(),
            Err(e) => {
                tracing::warn!(error = %quiet(&e), "cannot answer a slash command");
                return;
            }
        };
        let Some(text) = text else {
            return;
        };
        let guild = cmd.guild_id.map(|g| g.get());
        let place = match (&cmd.channel, guild) {
            (_, None) => Place::Direct,
            (Some(c), _) => {
                let place = Place::of(c.kind, c.parent_id.map(|p| p.get()));
                self.places.remember(c.id.get(), place);
                place
            }
            (None, _) => self.places.place(&ctx.http, cmd.channel_id.get()).await,
        };
        let said = said_in_slash(
            cmd.id.get(),
            &cmd.user,
            cmd.member.as_deref(),
            guild,
            cmd.channel_id.get(),
            anchor,
            text,
        );
        self.deliver(said, place).await;
    }

    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
    }

    async fn resume(&self, _ctx: Context, _: ResumedEvent) {
        tracing::info!("Discord session resumed");
    }
}

/// A serenity error without the request URL (an interaction's URL holds
/// its token): the status and Discord's code and message, or the kind.
fn quiet(e: &serenity::Error) -> String {
    match super::errors::status_and_code(e) {
        Some((status, code)) => format!("{status} (code {code})"),
        None => match e {
            serenity::Error::Http(serenity::http::HttpError::Request(r)) if r.is_timeout() => {
                "timed out".into()
            }
            serenity::Error::Http(serenity::http::HttpError::Request(_)) => {
                "could not reach Discord".into()
            }
            other => other.to_string(),
        },
    }
}
