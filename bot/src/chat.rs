//! The chat platform from `[chat]`: the console, or Discord with the slash
//! commands the registry declares.

use std::sync::Arc;

use shepherd_adapters::chat::console::ConsoleChat;
use shepherd_adapters::chat::{Chat, ChatError};

use tokio_util::sync::CancellationToken;

use crate::config::{ChatAdapter, Config};
use crate::store::Store;
#[cfg(feature = "discord")]
use crate::store::{Backend, Leadership, Role};

/// A connected chat, and what `run` needs to know of it besides `Chat`.
pub enum Connected {
    Console(Arc<ConsoleChat>),
    #[cfg(feature = "discord")]
    Discord(Arc<shepherd_adapters::chat::discord::DiscordChat>),
}

impl Connected {
    pub fn chat(&self) -> Arc<dyn Chat> {
        match self {
            Connected::Console(c) => c.clone(),
            #[cfg(feature = "discord")]
            Connected::Discord(d) => d.clone(),
        }
    }

    /// A platform that can fail for good while the bot runs (Discord's
    /// gateway) ends `run` when it closes; the console waits for a signal.
    pub fn stops_the_bot(&self) -> bool {
        !matches!(self, Connected::Console(_))
    }

    /// Why the platform went away, if it did so by failing.
    pub fn failure(&self) -> Option<String> {
        match self {
            Connected::Console(_) => None,
            #[cfg(feature = "discord")]
            Connected::Discord(d) => d.failure(),
        }
    }

    pub async fn close(&self) {
        #[cfg(feature = "discord")]
        if let Connected::Discord(d) = self {
            d.close().await;
        }
    }

    /// Replicas sharing PostgreSQL hold one Discord gateway between them:
    /// this replica's runs while it leads ([`Role::ChatGateway`]) and is
    /// handed over when another takes the lead; every replica posts. The
    /// returned task asks every [`LEAD_CHECK`] until `shutdown`. The
    /// console (one per process) and SQLite (one process) need none.
    pub fn follow_leadership(
        &self,
        store: &Store,
        shutdown: CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>> {
        #[cfg(feature = "discord")]
        if let (Connected::Discord(d), Backend::Postgres) = (self, store.backend()) {
            let (d, lead) = (d.clone(), Leadership::new(store, Role::ChatGateway));
            return Some(tokio::spawn(async move {
                while !shutdown.is_cancelled() {
                    let leading = lead.check().await;
                    let running = d.gateway_running().await;
                    if leading && !running {
                        tracing::info!("this replica leads: connecting the Discord gateway");
                        if let Err(e) = d.start_gateway().await {
                            tracing::error!(error = %e, "cannot connect the Discord gateway");
                        }
                    } else if !leading && running {
                        tracing::warn!("lead lost: handing the Discord gateway over");
                        d.stop_gateway().await;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(LEAD_CHECK) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                lead.release().await;
            }));
        }
        let _ = (store, shutdown);
        None
    }
}

/// How often a replica asks whether it leads the chat gateway: a dead
/// leader's gateway is taken over within this.
pub const LEAD_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Connects the configured platform; a refused token is an error here.
pub async fn connect(config: &Config) -> Result<Connected, ChatError> {
    match config.chat.adapter {
        ChatAdapter::Console => Ok(Connected::Console(Arc::new(ConsoleChat::stdio(
            &config.chat.default_user,
            &config.chat.default_channel,
        )))),
        ChatAdapter::Discord => discord(config).await,
    }
}

#[cfg(feature = "discord")]
async fn discord(config: &Config) -> Result<Connected, ChatError> {
    use shepherd_adapters::chat::discord::{ChannelNames, DiscordChat, DiscordSettings, Pacing};
    use shepherd_commands::grammar::slash;

    let Some(d) = &config.chat.discord else {
        return Err(ChatError::Refused("[chat.discord] is missing".into()));
    };
    let Some(token) = d.token.clone() else {
        return Err(ChatError::Unauthorized(
            "no Discord token: set SHEPHERD_DISCORD_TOKEN".into(),
        ));
    };
    let registry =
        Arc::new(crate::runtime::registry().map_err(|e| ChatError::Refused(e.to_string()))?);
    let settings = DiscordSettings {
        token,
        guilds: d.guilds.clone(),
        channels: ChannelNames::new(d.channels.iter().map(|(n, id)| (n.clone(), *id))),
        api_url: d.api_url.as_ref().map(|u| u.to_string()),
        pacing: Pacing {
            gap: std::time::Duration::from_millis(d.pace_ms),
            ..Pacing::default()
        },
    };
    let declared = slash::declarations(&registry);
    let render = Arc::new(move |inv: &_| slash::to_text(&registry, inv));
    // Replicas sharing a database connect the gateway only once they
    // lead (see `follow_leadership`).
    let chat = if config.store.url.is_some() {
        DiscordChat::connect_standby(settings, &declared, render).await?
    } else {
        DiscordChat::connect(settings, &declared, render).await?
    };
    Ok(Connected::Discord(Arc::new(chat)))
}

#[cfg(not(feature = "discord"))]
async fn discord(_: &Config) -> Result<Connected, ChatError> {
    Err(ChatError::Refused(
        "this shepherd was built without Discord (cargo feature `discord`)".into(),
    ))
}
