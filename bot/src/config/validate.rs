//! What a configuration must satisfy beyond its shape: known roles and
//! commands, valid schedules, long enough secrets, sane limits.

use secrecy::SecretString;
use shepherd_commands::registry::edit_distance;
use shepherd_commands::Registry;

use super::{parse_cron, Config, ConfigError, MIN_SECRET_BYTES};

impl Config {
    pub(super) fn validate(&self, registry: &Registry) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        self.chat.validate()?;
        self.validate_store()?;
        for (role, rc) in &self.roles {
            if let Some(m) = rc.members.iter().find(|m| !is_identity(m)) {
                return bad(format!(
                    "[roles.{role}] member `{m}` must be `platform:id`, e.g. `console:alice`, `discord:80351110224678912` or `discord-role:41771983423143936`"
                ));
            }
        }
        self.validate_channels()?;
        for (name, policy) in &self.commands {
            match registry.lookup(name) {
                Some(spec) if spec.name == name => {}
                Some(spec) => {
                    return bad(format!(
                        "[commands.{name}]: use the command's name `{}`",
                        spec.name
                    ))
                }
                None => {
                    // The canonical name: config must not use an alias.
                    let close = registry
                        .suggest(name)
                        .and_then(|s| registry.lookup(&s))
                        .map(|spec| format!(" — did you mean [commands.{}]?", spec.name))
                        .unwrap_or_default();
                    return bad(format!("[commands.{name}]: no such command{close}"));
                }
            }
            if let Some(role) = &policy.role {
                if role != "none" && !self.roles.contains_key(role) {
                    let close = self
                        .closest_role(role)
                        .map(|r| format!(" — did you mean `{r}`?"))
                        .unwrap_or_default();
                    return bad(format!(
                        "[commands.{name}] role `{role}` is not defined in [roles]{close}"
                    ));
                }
            }
        }
        self.validate_webhook()?;
        self.release.validate()?;
        if let Some(s) = &self.snapstore {
            s.credentials()?;
        }
        for p in &self.confirm.protected_ppas {
            let bare = p.strip_prefix('!').unwrap_or(p);
            if bare.split('/').count() != 2 || bare.split('/').any(str::is_empty) {
                return bad(format!(
                    "[confirm] protected_ppas: `{p}` must be OWNER/NAME (`*` allowed, e.g. `maas/*`)"
                ));
            }
        }
        if self.confirm.expiry_minutes == 0 {
            return bad("[confirm] expiry_minutes must be at least 1".into());
        }
        if self.executor.max_attempts == 0 {
            return bad("[executor] max_attempts must be at least 1".into());
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.schedules {
            if !names.insert(&s.name) {
                return bad(format!("schedule `{}` is declared twice", s.name));
            }
            parse_cron(&s.cron)
                .map_err(|e| ConfigError::Invalid(format!("schedule `{}`: {e}", s.name)))?;
            match s.jobs() {
                0 => {
                    return bad(format!(
                        "schedule `{}` has no job (`announce = {{ … }}`, `poll_excuses = {{}}` or `poll_channels = {{ snap = \"…\" }}`)",
                        s.name
                    ))
                }
                1 => {}
                _ => return bad(format!("schedule `{}` has two jobs; give it one", s.name)),
            }
            if s.poll_excuses.is_some() && self.proposed_migration.is_none() {
                return bad(format!(
                    "schedule `{}` polls excuses but [proposed_migration] is missing",
                    s.name
                ));
            }
            if s.poll_channels.is_some() && self.snapstore.is_none() {
                return bad(format!(
                    "schedule `{}` polls snap channels but [snapstore] is missing",
                    s.name
                ));
            }
        }
        Ok(())
    }

    fn validate_store(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        let Some(url) = &self.store.url else {
            return Ok(());
        };
        // Never quote the URL: it may hold a password.
        let scheme = url.expose_secret().split("://").next().unwrap_or_default();
        if !matches!(scheme, "postgres" | "postgresql") || !url.expose_secret().contains("://") {
            return Err(ConfigError::Invalid(
                "[store] url (or SHEPHERD_STORE_URL) must be a PostgreSQL URL, `postgres://user:password@host:port/database`; leave it unset for SQLite at store.path".into(),
            ));
        }
        if self.store.lease_secs == 0 {
            return Err(ConfigError::Invalid(
                "[store] lease_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn validate_webhook(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        let short = |s: &SecretString| s.expose_secret().len() < MIN_SECRET_BYTES;
        if self.webhook.launchpad_secret.as_ref().is_some_and(short) {
            return Err(ConfigError::Invalid(format!(
                "[webhook] launchpad_secret (or SHEPHERD_WEBHOOK_LAUNCHPAD_SECRET) must be at least {MIN_SECRET_BYTES} bytes: an empty or short secret lets anyone sign deliveries"
            )));
        }
        for h in &self.webhook.launchpad {
            if short(&h.secret) {
                return Err(ConfigError::Invalid(format!(
                    "[[webhook.launchpad]] {}: secret must be at least {MIN_SECRET_BYTES} bytes",
                    h.target
                )));
            }
            if !h.target.starts_with('/') || h.target.trim_matches('/').is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "[[webhook.launchpad]] target `{}` must be a path as payloads name it, e.g. `/~maas-committers/+snap/maas`",
                    h.target
                )));
            }
        }
        if self.webhook.max_connections == 0
            || self.webhook.header_timeout_ms == 0
            || self.webhook.body_timeout_ms == 0
        {
            return Err(ConfigError::Invalid(
                "[webhook] max_connections, header_timeout_ms and body_timeout_ms must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// The role `typed` most likely meant: a `[roles]` name (or `none`)
    /// within two edits, fewer than half its letters.
    fn closest_role(&self, typed: &str) -> Option<&str> {
        let typed_len = typed.chars().count();
        self.roles
            .keys()
            .map(String::as_str)
            .chain(["none"])
            .map(|r| (edit_distance(&typed.to_ascii_lowercase(), r), r))
            .filter(|(d, _)| *d <= 2 && 2 * d < typed_len)
            .min()
            .map(|(_, r)| r)
    }
}

fn is_identity(m: &str) -> bool {
    match m.split_once(':') {
        // Discord's ids are numbers (snowflakes): `discord:alice` is a typo
        // that would silently grant nothing.
        Some(("discord" | "discord-role", id)) => {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_digit())
        }
        Some((p, id)) => !p.is_empty() && !id.is_empty(),
        None => false,
    }
}

impl Config {
    /// Every channel config names must be one the chat platform can reach.
    fn validate_channels(&self) -> Result<(), ConfigError> {
        let policies = self.commands.iter().flat_map(|(n, p)| {
            p.channels
                .iter()
                .map(move |c| (format!("[commands.{n}] channels"), c))
        });
        let jobs = self.schedules.iter().filter_map(|s| {
            s.announce
                .as_ref()
                .map(|a| (format!("schedule `{}`", s.name), &a.channel))
        });
        let hooks = self.webhook.launchpad.iter().filter_map(|h| {
            h.channel
                .as_ref()
                .map(|c| (format!("[[webhook.launchpad]] {}", h.target), c))
        });
        for (what, channel) in policies.chain(jobs).chain(hooks) {
            if let Some(why) = self.chat.unknown_channel(channel) {
                return Err(ConfigError::Invalid(format!("{what}: {why}")));
            }
        }
        Ok(())
    }
}
