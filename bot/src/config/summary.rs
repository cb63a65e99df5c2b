//! `check-config`'s summary: what the configuration says, secrets redacted.

use secrecy::{ExposeSecret, SecretString};

use super::Config;

/// A URL for printing: credentials in it (`https://user:PASSWORD@host/…`,
/// a token as the user name, `?token=…` and the like) become `[redacted]`.
pub fn redact_url(url: &str) -> String {
    const SECRET_KEYS: [&str; 6] = ["token", "key", "secret", "password", "auth", "session"];
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("[redacted]"));
            } else if !u.username().is_empty() {
                // No password: the user name itself is the credential.
                let _ = u.set_username("[redacted]");
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let secret = SECRET_KEYS
                        .iter()
                        .any(|s| k.to_ascii_lowercase().contains(s));
                    let v = if secret {
                        "[redacted]".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string().replace("%5Bredacted%5D", "[redacted]")
        }
        // Not a URL we can read: show only what precedes any `user:pass@`.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("[redacted]@{host}"),
            None => url.to_string(),
        },
    }
}

impl Config {
    fn chat_summary(&self) -> String {
        let flood = match self.chat.flood_limit() {
            Some(n) => format!("at most {n} commands a minute each"),
            None => "no flood limit".into(),
        };
        match (&self.chat.adapter, &self.chat.discord) {
            (super::ChatAdapter::Discord, Some(d)) => {
                let token = match &d.token {
                    Some(t) if !t.expose_secret().is_empty() => "[redacted]",
                    _ => "(unset)",
                };
                let mut out = format!(
                    "chat: discord (token {token}; slash commands in {} guild(s); a post per channel every {} ms at most; {flood})\n",
                    d.guilds.len(),
                    d.pace_ms
                );
                for (name, id) in &d.channels {
                    out.push_str(&format!(
                        "discord channel #{}: {id}\n",
                        name.trim_start_matches('#')
                    ));
                }
                if let Some(u) = &d.api_url {
                    out.push_str(&format!("discord api: {}\n", redact_url(u.as_str())));
                }
                out
            }
            _ => format!(
                "chat: console (default user {}, channel {}; {flood})\n",
                self.chat.default_user, self.chat.default_channel
            ),
        }
    }

    /// A human summary with every secret redacted, for `check-config`.
    pub fn redacted_summary(&self) -> String {
        let secret = |s: &Option<SecretString>| match s {
            Some(v) if !v.expose_secret().is_empty() => "[redacted]",
            _ => "(unset)",
        };
        let mut out = match &self.store.url {
            Some(url) => format!(
                "store: postgresql {} (replicas may share it; leases {} s)\n",
                redact_url(url.expose_secret()),
                self.store.lease_secs
            ),
            None => format!("store: sqlite {}\n", self.store.path.display()),
        };
        out.push_str(&self.chat_summary());
        match self.webhook.listen {
            Some(a) => out.push_str(&format!(
                "webhook server: http://{a} (at most {} connections, {} ms to send headers)\n",
                self.webhook.max_connections, self.webhook.header_timeout_ms
            )),
            None => out.push_str("webhook server: off\n"),
        }
        if let Some(u) = &self.webhook.public_url {
            out.push_str(&format!("webhook public url: {}\n", redact_url(u.as_str())));
        }
        if self.webhook.launchpad_secret.is_some() {
            out.push_str("launchpad webhooks: any target, secret [redacted]\n");
        }
        for h in &self.webhook.launchpad {
            out.push_str(&format!(
                "launchpad webhook {}: secret [redacted], announce in {}\n",
                h.target,
                h.channel.as_deref().unwrap_or("(nowhere: recorded only)")
            ));
        }
        out.push_str(&format!(
            "executor: {} attempts, backoff {}ms…{}ms, calls time out after {}s\nconfirm: expires after {} min, over {} steps always\n",
            self.executor.max_attempts,
            self.executor.backoff_base_ms,
            self.executor.backoff_cap_ms,
            self.executor.request_timeout().as_secs(),
            self.confirm.expiry_minutes,
            self.confirm.max_unconfirmed_steps
        ));
        if !self.confirm.protected_ppas.is_empty() {
            out.push_str(&format!(
                "confirm: copies into {} always\n",
                self.confirm.protected_ppas.join(", ")
            ));
        }
        for (name, r) in &self.roles {
            let members = if r.members.is_empty() {
                "nobody (no members)".to_string()
            } else {
                r.members.join(", ")
            };
            out.push_str(&format!("role {name}: {members}\n"));
        }
        for (name, p) in &self.commands {
            let channels = if p.channels.is_empty() {
                "anywhere".to_string()
            } else {
                p.channels.join(", ")
            };
            out.push_str(&format!(
                "command !{name}: role {}, channels {channels}, {}\n",
                p.role.as_deref().unwrap_or("(default)"),
                if p.confirm {
                    "always asks first"
                } else {
                    "asks when the plan is big or dangerous"
                }
            ));
        }
        for s in &self.schedules {
            out.push_str(&format!("schedule {}: `{}`\n", s.name, s.cron));
        }
        if let Some(lp) = &self.launchpad {
            out.push_str(&format!(
                "launchpad: {} consumer {} token {} secret {}\n",
                redact_url(lp.service_root.as_str()),
                lp.consumer_key.as_deref().unwrap_or("(anonymous)"),
                secret(&lp.oauth_token),
                secret(&lp.oauth_token_secret)
            ));
        }
        if let Some(m) = &self.proposed_migration {
            out.push_str(&format!(
                "proposed-migration: {} from {}\n",
                m.series,
                redact_url(&m.excuses_url)
            ));
            if let Some(o) = &m.output_url {
                out.push_str(&format!(
                    "proposed-migration: output from {}\n",
                    redact_url(o)
                ));
            }
            for (series, url) in &m.series_urls {
                out.push_str(&format!(
                    "proposed-migration: {series} from {}\n",
                    redact_url(url)
                ));
            }
        }
        if let Some(a) = &self.autopkgtest {
            out.push_str(&format!(
                "autopkgtest: {} api key {} session cookie {}\n",
                redact_url(a.request_url.as_str()),
                secret(&a.api_key),
                secret(&a.session_cookie)
            ));
        }
        if let Some(s) = &self.snapstore {
            out.push_str(&format!(
                "snap store: {} credentials {}\n",
                redact_url(s.dashboard_url.as_str()),
                secret(&s.credentials)
            ));
        }
        for p in &self.release.product {
            let stages: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
            out.push_str(&format!(
                "release {}: snaps [{}] on {}; stages {}\n",
                p.name,
                p.snaps.join(", "),
                p.architectures.join(" "),
                stages.join(" → ")
            ));
        }
        out
    }
}
