//! Reading the file: TOML, then `SHEPHERD_*` overrides, then validation.
//! A fault in the file is reported at its `file:line:column`.

use std::path::Path;

use shepherd_commands::Registry;

use super::{Config, ConfigError};

/// Read by the logger, not the configuration (and so not in `ENV_OVERRIDES`).
pub const LOG_VARIABLES: [&str; 2] = ["SHEPHERD_LOG", "SHEPHERD_LOG_FORMAT"];

/// Environment variables that override single keys, and the key each sets.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("SHEPHERD_STORE_PATH", "store.path"),
    ("SHEPHERD_STORE_URL", "store.url"),
    ("SHEPHERD_REPLICA", "store.replica"),
    ("SHEPHERD_WEBHOOK_LISTEN", "webhook.listen"),
    (
        "SHEPHERD_WEBHOOK_LAUNCHPAD_SECRET",
        "webhook.launchpad_secret",
    ),
    ("SHEPHERD_CHAT_DEFAULT_USER", "chat.default_user"),
    ("SHEPHERD_DISCORD_TOKEN", "chat.discord.token"),
    ("SHEPHERD_LAUNCHPAD_OAUTH_TOKEN", "launchpad.oauth_token"),
    (
        "SHEPHERD_LAUNCHPAD_OAUTH_TOKEN_SECRET",
        "launchpad.oauth_token_secret",
    ),
    ("SHEPHERD_AUTOPKGTEST_API_KEY", "autopkgtest.api_key"),
    ("SHEPHERD_SNAPSTORE_CREDENTIALS", "snapstore.credentials"),
    (
        "SHEPHERD_AUTOPKGTEST_SESSION_COOKIE",
        "autopkgtest.session_cookie",
    ),
];

impl Config {
    /// Reads `path`, applies the process environment, validates.
    pub fn load(path: &Path, registry: &Registry) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_toml(&text, path, &env, registry)
    }

    /// Parses TOML text with the given environment; `origin` names it in errors.
    pub fn from_toml(
        text: &str,
        origin: &Path,
        env: &[(String, String)],
        registry: &Registry,
    ) -> Result<Self, ConfigError> {
        let located = |e: &toml::de::Error| syntax(origin, text, e);
        let mut doc: toml::Table = text.parse().map_err(|e| located(&e))?;
        let mut overridden = false;
        for (var, value) in env {
            if let Some((_, key)) = ENV_OVERRIDES.iter().find(|(v, _)| v == var) {
                set_key(&mut doc, key, value);
                overridden = true;
            } else if var.starts_with("SHEPHERD_") && !LOG_VARIABLES.contains(&var.as_str()) {
                return Err(ConfigError::Env {
                    var: var.clone(),
                    message: "not a known setting (see README: configuration)".into(),
                });
            }
        }
        let config: Config = if overridden {
            doc.try_into().map_err(|e: toml::de::Error| {
                // A table built in memory has no positions. When the file
                // alone has the same fault, its reading says where.
                match toml::from_str::<Config>(text) {
                    Err(in_file) if in_file.message() == e.message() => located(&in_file),
                    _ => ConfigError::InFile {
                        path: origin.to_path_buf(),
                        position: None,
                        message: format!("{} (with SHEPHERD_* variables applied)", message(&e)),
                    },
                }
            })?
        } else {
            toml::from_str(text).map_err(|e| located(&e))?
        };
        config.validate(registry).map_err(|e| match e {
            ConfigError::Invalid(message) => ConfigError::InFile {
                path: origin.to_path_buf(),
                position: section_position(text, &message),
                message,
            },
            other => other,
        })?;
        Ok(config)
    }
}

fn syntax(origin: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError::InFile {
        path: origin.to_path_buf(),
        position: e.span().map(|s| line_column(text, s.start)),
        message: message(e),
    }
}

/// toml's message on one line (some span two: what was found, what was expected).
fn message(e: &toml::de::Error) -> String {
    e.message().trim().replace('\n', "; ")
}

/// Where a validation fault's section begins: its messages lead with the
/// section (`[commands.retyr]: no such command`), found here as the file
/// writes its header. An array entry (`[[…]]`) has many; none is guessed.
fn section_position(text: &str, message: &str) -> Option<(usize, usize)> {
    if message.starts_with("[[") {
        return None;
    }
    let header = &message[..=message.strip_prefix('[')?.find(']')? + 1];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if line.trim_start().starts_with(header) {
            return Some(line_column(text, offset + indent));
        }
        offset += line.len();
    }
    None
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Sets `a.b.key` in the document, creating the tables on the way.
fn set_key(doc: &mut toml::Table, dotted: &str, value: &str) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(key) = parts.pop() else {
        return;
    };
    let mut table = doc;
    for section in parts {
        let entry = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(t) = entry else {
            return;
        };
        table = t;
    }
    table.insert(key.to_string(), toml::Value::String(value.to_string()));
}
