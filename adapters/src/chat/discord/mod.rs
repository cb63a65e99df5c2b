//! Discord, through serenity 0.12: the gateway brings messages and slash
//! commands in (`gateway.rs`, converted by the pure functions of
//! `inbound.rs`); replies, announcements and progress edits go out through
//! one paced queue per channel (`outbox.rs`), split at 2,000 characters
//! (`split.rs`), never pinging anyone.
//!
//! A request said in a channel is answered in a thread started from it; in
//! a thread, in that thread; in a DM, in the DM. serenity parses nothing of
//! ours: commands mean the same on Discord, the console and in tests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serenity::all::{
    AutoArchiveDuration, ClientBuilder, CreateAllowedMentions, CreateThread, GatewayIntents,
    GuildId, HttpBuilder,
};
use serenity::gateway::{GatewayError, ShardManager};
use serenity::http::Http;
use serenity::model::id::{ChannelId, MessageId};
use tokio::sync::{mpsc, watch};

use super::slash::{SlashCommand, SlashRenderer};
use super::{Chat, ChatError, Incoming, SentMessage, ThreadRef};
use errors::{code, from_serenity, status_and_code, with_retries};
use gateway::{Handler, Places};
use inbound::Place;

mod commands;
mod errors;
mod gateway;
pub mod inbound;
pub mod names;
pub mod outbox;
pub mod split;

pub use names::ChannelNames;
pub use outbox::Pacing;

/// Everything needed to connect.
pub struct DiscordSettings {
    pub token: SecretString,
    /// Guilds the slash commands are registered in.
    pub guilds: Vec<u64>,
    pub channels: ChannelNames,
    /// Another base URL for Discord's API (a proxy, or the tests' fake).
    /// serenity's own rate limiter cannot follow a proxy, so it is off
    /// then, and the outbox's pacing and retries are all there is.
    pub api_url: Option<String>,
    pub pacing: Pacing,
}

/// Messages read but not yet taken by the bot; past this the event
/// handlers wait. (serenity runs each event's handler on its own task, so
/// two messages a person sends within milliseconds may be taken in either
/// order; a human's pace keeps them in order.)
const BACKLOG: usize = 256;

pub struct DiscordChat {
    http: Arc<Http>,
    outbox: Arc<outbox::Outbox>,
    names: ChannelNames,
    places: Arc<Places>,
    incoming: tokio::sync::Mutex<mpsc::Receiver<Incoming>>,
    /// Turns true when the gateway has stopped for good: serenity keeps
    /// the event handler (and so the sender of `incoming`) alive, so the
    /// channel alone would never say so.
    stopped: watch::Receiver<bool>,
    /// What starting the gateway (again) takes.
    gateway: GatewayParts,
    /// The running gateway's shards, if it runs here.
    shards: tokio::sync::Mutex<Option<Running>>,
    /// Held while a post's thread is found or started and the post queued.
    threading: tokio::sync::Mutex<()>,
    failure: Arc<Mutex<Option<String>>>,
    bot: u64,
}

struct GatewayParts {
    token: SecretString,
    api_url: Option<String>,
    handler: Handler,
    stop: Arc<watch::Sender<bool>>,
}

/// A gateway connection this process runs.
struct Running {
    shards: Arc<ShardManager>,
    /// Set before a deliberate stop, so it is not taken for a failure.
    deliberate: Arc<std::sync::atomic::AtomicBool>,
}

/// serenity's HTTP client for `token`, through `api_url` if set.
fn http_client(token: &SecretString, api_url: Option<&str>) -> Http {
    let mut builder = HttpBuilder::new(token.expose_secret())
        .default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(url) = api_url {
        builder = builder
            .proxy(url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    builder.build()
}

impl DiscordChat {
    /// Checks the token, registers the slash commands in each guild, then
    /// connects the gateway. A refused token or registration is an error
    /// here, before anything runs — not a retry loop.
    pub async fn connect(
        settings: DiscordSettings,
        commands: &[SlashCommand],
        render: SlashRenderer,
    ) -> Result<Self, ChatError> {
        let chat = Self::connect_standby(settings, commands, render).await?;
        chat.start_gateway().await?;
        Ok(chat)
    }

    /// [`DiscordChat::connect`] without the gateway: this replica posts
    /// (REST) but hears nothing until [`DiscordChat::start_gateway`] —
    /// replicas sharing a database run one gateway, on their leader.
    pub async fn connect_standby(
        settings: DiscordSettings,
        commands: &[SlashCommand],
        render: SlashRenderer,
    ) -> Result<Self, ChatError> {
        let http = Arc::new(http_client(&settings.token, settings.api_url.as_deref()));
        // These calls are counted with every later one once the bot hooks
        // its metrics (Heard keeps them until then).
        let places = Arc::new(Places::default());
        let heard = &places.heard;
        let me = http.get_current_user().await;
        heard.report(&me);
        let me = me.map_err(|e| match from_serenity(e) {
            ChatError::Unauthorized(why) => ChatError::Unauthorized(format!(
                "Discord refused the bot token ({why}) — check SHEPHERD_DISCORD_TOKEN"
            )),
            other => other,
        })?;
        let app = http.get_current_application_info().await;
        heard.report(&app);
        let app = app.map_err(from_serenity)?;
        http.set_application_id(app.id);
        let declared = commands::create_commands(commands);
        for guild in &settings.guilds {
            let set = GuildId::new(*guild)
                .set_commands(&http, declared.clone())
                .await;
            heard.report(&set);
            set.map_err(|e| {
                    let why = match from_serenity(e) {
                        ChatError::Refused(m) | ChatError::Unavailable(m) | ChatError::Unauthorized(m) => m,
                        other => other.to_string(),
                    };
                    ChatError::Refused(format!(
                        "cannot register slash commands in guild {guild} ({why}) — is the bot invited there with the applications.commands scope?"
                    ))
                })?;
        }
        tracing::info!(bot = %me.name, guilds = settings.guilds.len(), commands = commands.len(), "Discord token accepted; slash commands registered");

        let (tx, rx) = mpsc::channel(BACKLOG);
        let handler = Handler {
            guilds: settings.guilds.iter().copied().collect(),
            tx,
            bot: me.id.get(),
            names: settings.channels.clone(),
            places: places.clone(),
            render,
        };
        let (stop, stopped) = watch::channel(false);
        Ok(Self {
            outbox: outbox::Outbox::new(http.clone(), places.heard.clone(), settings.pacing),
            http,
            names: settings.channels,
            places,
            incoming: tokio::sync::Mutex::new(rx),
            stopped,
            gateway: GatewayParts {
                token: settings.token,
                api_url: settings.api_url,
                handler,
                stop: Arc::new(stop),
            },
            shards: tokio::sync::Mutex::new(None),
            threading: tokio::sync::Mutex::new(()),
            failure: Arc::new(Mutex::new(None)),
            bot: me.id.get(),
        })
    }

    /// Connects the gateway (if it is not running here already).
    pub async fn start_gateway(&self) -> Result<(), ChatError> {
        let mut running = self.shards.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let g = &self.gateway;
        let intents = GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::DIRECT_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT;
        let http = http_client(&g.token, g.api_url.as_deref());
        if let Some(app) = self.http.application_id() {
            http.set_application_id(app);
        }
        let mut client = ClientBuilder::new_with_http(http, intents)
            .event_handler(g.handler.clone())
            .await
            .map_err(from_serenity)?;
        let shards = client.shard_manager.clone();
        let deliberate = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (failed, stop, asked) = (self.failure.clone(), g.stop.clone(), deliberate.clone());
        tokio::spawn(async move {
            // serenity reconnects and resumes by itself; it returns only on
            // what retrying cannot fix (or a shutdown).
            let result = client.start().await;
            if asked.load(std::sync::atomic::Ordering::SeqCst) {
                tracing::info!("Discord gateway handed over");
                return;
            }
            if let Err(e) = result {
                let why = gateway_failure(&e);
                tracing::error!(error = %why, "Discord gateway stopped");
                if let Ok(mut f) = failed.lock() {
                    *f = Some(why);
                }
            }
            let _ = stop.send(true);
        });
        *running = Some(Running { shards, deliberate });
        Ok(())
    }

    /// Closes the gateway without ending the chat: another replica took
    /// the lead. Posting goes on.
    pub async fn stop_gateway(&self) {
        if let Some(r) = self.shards.lock().await.take() {
            r.deliberate
                .store(true, std::sync::atomic::Ordering::SeqCst);
            r.shards.shutdown_all().await;
        }
    }

    /// Whether the gateway runs in this process.
    pub async fn gateway_running(&self) -> bool {
        self.shards.lock().await.is_some()
    }

    /// Why the gateway stopped for good, once it has.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok()?.clone()
    }

    /// The bot's own user id.
    pub fn bot_user(&self) -> u64 {
        self.bot
    }

    /// Closes the gateway (the bot is stopping).
    pub async fn close(&self) {
        if let Some(r) = self.shards.lock().await.take() {
            r.shards.shutdown_all().await;
        }
    }

    /// Where a post for `thread` of `channel` goes: a thread (started from
    /// the request message if need be), or the channel itself with a reply
    /// reference when no thread can be started there.
    async fn target(&self, channel: u64, thread: &str) -> Result<(u64, Option<u64>), ChatError> {
        let anchor: u64 = thread.parse().map_err(|_| {
            ChatError::Refused(format!("`{thread}` is not a Discord message or thread"))
        })?;
        if anchor == channel {
            return Ok((anchor, None));
        }
        match self.places.get(anchor) {
            Some(Place::Thread { .. } | Place::Direct) => return Ok((anchor, None)),
            Some(Place::Channel) => return Ok((channel, Some(anchor))),
            None => {}
        }
        // Not seen since start (a restart, a slash command said in a
        // thread): ask whether it is a thread before treating it as a
        // message to start one from. Requests read since start are known
        // to be messages.
        if !self.places.is_request(anchor) {
            match self.places.read(&self.http, anchor).await {
                // A channel of its own (a thread, most likely): post in it.
                Ok(_) => return Ok((anchor, None)),
                Err(e) if status_and_code(&e).is_some_and(|(s, _)| s == 404) => {}
                Err(e) => return Err(from_serenity(e)),
            }
        }
        let name = self.places.thread_name(anchor);
        let started = with_retries(|| async {
            let create = CreateThread::new(name.clone())
                .auto_archive_duration(AutoArchiveDuration::OneDay);
            let created = ChannelId::new(channel)
                .create_thread_from_message(&*self.http, MessageId::new(anchor), create)
                .await;
            self.places.heard.report(&created);
            match created {
                Ok(t) => Ok(Some(t.id.get())),
                // Started already (by us before a restart, or by someone).
                Err(e) if status_and_code(&e).is_some_and(|(_, c)| c == code::THREAD_EXISTS) => {
                    Ok(Some(anchor))
                }
                Err(e) => match from_serenity(e) {
                    e if e.is_transient() => Err(e),
                    e => {
                        tracing::warn!(error = %e, channel, anchor, "cannot start a thread; answering in the channel");
                        Ok(None)
                    }
                },
            }
        })
        .await?;
        Ok(match started {
            Some(t) => {
                self.places.remember(t, Place::Thread { parent: channel });
                (t, None)
            }
            None => {
                self.places.remember(anchor, Place::Channel);
                (channel, Some(anchor))
            }
        })
    }

    async fn post(
        &self,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        nonce: Option<&str>,
        merge: bool,
    ) -> Result<SentMessage, ChatError> {
        if text.trim().is_empty() {
            return Err(ChatError::Refused(
                "an empty message cannot be posted".into(),
            ));
        }
        let channel_id = self.names.resolve(channel)?;
        // Finding (or starting) the thread and queueing the post happen
        // under one lock, so two posts for a new thread start it once and
        // keep the order they were made in.
        let nonce = nonce.map(str::to_string);
        let (target, sent) = match thread {
            // Posts to a channel need no thread: they never wait on one.
            None => (
                channel_id,
                self.outbox.post(channel_id, text, nonce, merge, None),
            ),
            Some(t) => {
                let _one_at_a_time = self.threading.lock().await;
                let (target, reference) = self.target(channel_id, t).await?;
                (
                    target,
                    self.outbox.post(target, text, nonce, merge, reference),
                )
            }
        };
        let id = sent.await?;
        Ok(SentMessage {
            channel: channel.to_string(),
            thread: (target != channel_id).then(|| target.to_string()),
            id: id.to_string(),
        })
    }
}

/// What an operator should do about a gateway that gave up.
fn gateway_failure(e: &serenity::Error) -> String {
    match e {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord refused the bot token — check SHEPHERD_DISCORD_TOKEN".into()
        }
        serenity::Error::Gateway(
            GatewayError::DisallowedGatewayIntents | GatewayError::InvalidGatewayIntents,
        ) => "Discord refused the intents — enable MESSAGE CONTENT INTENT under Bot → Privileged Gateway Intents in the developer portal".into(),
        other => format!("Discord gateway failed: {other}"),
    }
}

#[async_trait]
impl Chat for DiscordChat {
    fn platform(&self) -> &str {
        "discord"
    }

    fn observe_calls(&self, calls: crate::wire::Calls) {
        self.places.heard.set(calls);
    }

    async fn next_message(&self) -> Option<Incoming> {
        let mut stopped = self.stopped.clone();
        let mut incoming = self.incoming.lock().await;
        tokio::select! {
            m = incoming.recv() => m,
            _ = stopped.wait_for(|s| *s) => None,
        }
    }

    async fn reply(&self, to: &ThreadRef, text: &str) -> Result<SentMessage, ChatError> {
        self.post(&to.channel, Some(&to.thread), text, None, false)
            .await
    }

    async fn edit(&self, message: &SentMessage, text: &str) -> Result<(), ChatError> {
        let channel = match &message.thread {
            Some(t) => t
                .parse()
                .map_err(|_| ChatError::Refused(format!("`{t}` is not a Discord channel")))?,
            None => self.names.resolve(&message.channel)?,
        };
        let id: u64 = message.id.parse().map_err(|_| {
            ChatError::Refused(format!("`{}` is not a Discord message", message.id))
        })?;
        self.outbox.edit(channel, id, text).await
    }

    async fn send(&self, channel: &str, text: &str) -> Result<SentMessage, ChatError> {
        self.post(channel, None, text, None, true).await
    }

    async fn post_once(
        &self,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        nonce: &str,
    ) -> Result<SentMessage, ChatError> {
        self.post(channel, thread, text, Some(nonce), true).await
    }
}
