//! Webhooks in the sandbox: the HTTP server's port is bound before the bot
//! starts, so `webhook.public_url` can name it — `!webhook register` then
//! gives the Launchpad simulator the sandbox's own `/hooks/launchpad`. The
//! secret a registration makes never leaves the bot, so the embedded
//! config also has a hook whose secret the banner prints: with it, anyone
//! can play Launchpad with `curl` and watch the bot announce.

use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use super::SandboxError;
use crate::config::{Config, ConfigError};

/// Binds the sandbox's HTTP server (`webhook.listen`, a loopback port) and
/// points `webhook.public_url` at its `/hooks/launchpad`.
pub async fn listen(config: &mut Config) -> Result<TcpListener, SandboxError> {
    let addr = config
        .webhook
        .listen
        .ok_or_else(|| ConfigError::Invalid("the sandbox needs webhook.listen".into()))?;
    let listener = TcpListener::bind(addr).await.map_err(SandboxError::Sim)?;
    let bound = listener.local_addr().map_err(SandboxError::Sim)?;
    let url = format!("http://{bound}/hooks/launchpad");
    config.webhook.public_url = Some(
        url.parse()
            .map_err(|e| ConfigError::Invalid(format!("webhook URL {url}: {e}")))?,
    );
    Ok(listener)
}

/// The banner's webhook lines: where to POST, and each configured hook's
/// target, channel and secret.
pub fn banner(config: &Config) -> String {
    let url = config
        .webhook
        .public_url
        .as_ref()
        .map_or_else(String::new, |u| u.to_string());
    let mut out = format!("webhooks: POST {url} — `!webhook register` gives Launchpad this URL");
    for hook in &config.webhook.launchpad {
        let channel = hook.channel.as_deref().unwrap_or("no channel");
        out.push_str(&format!(
            "\nwebhook secret of {} (announced in {channel}): {} — printed because this is a sandbox; a real bot never shows a secret",
            hook.target,
            hook.secret.expose_secret()
        ));
    }
    out
}
