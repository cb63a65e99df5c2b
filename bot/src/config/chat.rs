//! `[chat]`: which platform Shepherd talks on, and `[chat.discord]`.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// `console` (stdin/stdout) or `discord`.
    #[serde(default)]
    pub adapter: ChatAdapter,
    /// Console: who a line without `name>` comes from.
    #[serde(default = "default_user")]
    pub default_user: String,
    /// Console: the channel of a line without `#channel`.
    #[serde(default = "default_channel")]
    pub default_channel: String,
    /// Commands one person may give in a minute (an invalid one counts
    /// twice); past it they get one "slow down" and silence. 0 = no limit.
    /// Default: 10 on Discord, none on the console (scripts pipe many).
    pub commands_per_minute: Option<u32>,
    pub discord: Option<DiscordConfig>,
}

fn default_user() -> String {
    "operator".into()
}

fn default_channel() -> String {
    "console".into()
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            adapter: ChatAdapter::Console,
            default_user: default_user(),
            default_channel: default_channel(),
            commands_per_minute: None,
            discord: None,
        }
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ChatAdapter {
    #[default]
    Console,
    Discord,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token; better from `SHEPHERD_DISCORD_TOKEN` than the file.
    pub token: Option<SecretString>,
    /// Guild (server) ids Shepherd serves: slash commands are registered
    /// there, and messages from any other guild are ignored.
    #[serde(default)]
    pub guilds: Vec<u64>,
    /// Channel names as config and commands write them (`#name`) → ids.
    #[serde(default)]
    pub channels: BTreeMap<String, u64>,
    /// Least milliseconds between two posts in one channel; announcements
    /// arriving meanwhile are sent as one message.
    #[serde(default = "default_pace_ms")]
    pub pace_ms: u64,
    /// Discord's API elsewhere (a proxy; the tests' fake Discord).
    pub api_url: Option<url::Url>,
}

fn default_pace_ms() -> u64 {
    1000
}

impl ChatConfig {
    /// The flood limit in force (`None`: unlimited).
    pub fn flood_limit(&self) -> Option<u32> {
        let default = match self.adapter {
            ChatAdapter::Console => 0,
            ChatAdapter::Discord => 10,
        };
        Some(self.commands_per_minute.unwrap_or(default)).filter(|n| *n > 0)
    }

    /// Why a channel as config names it cannot be reached, if it cannot.
    /// (Any name can, on the console.) Names are matched exactly, as the
    /// permission check does: `#ubuntu-release`, not `ubuntu-release`.
    pub fn unknown_channel(&self, channel: &str) -> Option<String> {
        let (ChatAdapter::Discord, Some(d)) = (self.adapter, &self.discord) else {
            return None;
        };
        if d.channels.contains_key(channel) {
            return None;
        }
        match channel.parse::<u64>() {
            Ok(id) => d.channels.iter().find(|(_, v)| **v == id).map(|(name, _)| {
                format!("channel {channel} is {name} in [chat.discord.channels]: write {name}")
            }),
            Err(_) => Some(format!(
                "channel {channel} is not in [chat.discord.channels] (\"#name\" = channel id)"
            )),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        match (self.adapter, &self.discord) {
            (ChatAdapter::Discord, None) => {
                bad("[chat] adapter = \"discord\" needs a [chat.discord] section (guilds, channels; the token from SHEPHERD_DISCORD_TOKEN)")
            }
            (ChatAdapter::Discord, Some(d)) => {
                let token = d.token.as_ref().map(|t| t.expose_secret().trim().to_string());
                if token.as_deref().is_none_or(str::is_empty) {
                    return bad("[chat.discord] has no token: set SHEPHERD_DISCORD_TOKEN (the bot token from the developer portal)");
                }
                if token.as_deref().is_some_and(|t| t.chars().any(char::is_whitespace)) {
                    return bad("[chat.discord] token has spaces in it: give the bot token alone, without `Bot `");
                }
                if d.pace_ms == 0 {
                    return bad("[chat.discord] pace_ms must be at least 1");
                }
                d.validate_ids()?;
                d.validate_api_url()
            }
            // A token alone may come from the environment of a console run.
            (ChatAdapter::Console, Some(d))
                if !d.guilds.is_empty() || !d.channels.is_empty() || d.api_url.is_some() =>
            {
                bad("[chat.discord] is set but [chat] adapter is \"console\": set adapter = \"discord\" or remove the section")
            }
            (ChatAdapter::Console, Some(_)) => Ok(()),
            (ChatAdapter::Console, None) => Ok(()),
        }
    }
}

impl DiscordConfig {
    fn validate_ids(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.guilds.is_empty() {
            return bad("[chat.discord] guilds is empty: give the id of each server Shepherd serves (messages from others are ignored)".into());
        }
        if self.guilds.contains(&0) {
            return bad("[chat.discord] guilds: 0 is not a Discord id".into());
        }
        for (name, id) in &self.channels {
            if !name.starts_with('#') || name.len() < 2 {
                return bad(format!("[chat.discord.channels] `{name}`: write the name as commands do, with # (\"#{}\")", name.trim_start_matches('#')));
            }
            if *id == 0 {
                return bad(format!(
                    "[chat.discord.channels] {name}: 0 is not a Discord id"
                ));
            }
        }
        Ok(())
    }

    /// The token goes to `api_url`: only over TLS, except to this machine
    /// (the tests' fake), and never with credentials of its own.
    fn validate_api_url(&self) -> Result<(), ConfigError> {
        let Some(url) = &self.api_url else {
            return Ok(());
        };
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !local {
            return Err(ConfigError::Invalid(
                "[chat.discord] api_url must be https (the bot token travels with every request)"
                    .into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::Invalid(
                "[chat.discord] api_url must not carry credentials".into(),
            ));
        }
        Ok(())
    }
}
