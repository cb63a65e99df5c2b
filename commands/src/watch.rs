//! `!watch`, `!unwatch`, `!watching`: which changes this channel hears
//! about — proposed-migration (a package, a maintainer, a team) and snap
//! channels (a snap). Subscriptions are Shepherd's own records, so the
//! commands ask the bot to store them rather than planning world actions.

use async_trait::async_trait;

use crate::registry::CommandSpec;
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Watch;
pub struct Unwatch;
pub struct Watching;

/// What a channel can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// A source package.
    Package,
    /// A Maintainer field, exactly as excuses show it.
    Maintainer,
    /// A team's packages, as `[proposed_migration.teams]` lists them.
    Team,
    /// A snap's channel map (`poll_channels` jobs).
    Snap,
}

impl WatchKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "pkg" | "package" | "source" => Some(WatchKind::Package),
            "maintainer" => Some(WatchKind::Maintainer),
            "team" => Some(WatchKind::Team),
            "snap" => Some(WatchKind::Snap),
            _ => None,
        }
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchKind::Package => "package",
            WatchKind::Maintainer => "maintainer",
            WatchKind::Team => "team",
            WatchKind::Snap => "snap",
        }
    }
}

static WATCH: CommandSpec = CommandSpec {
    name: "watch",
    aliases: &[],
    summary: "announce here proposed-migration changes of a package, maintainer or team, or a snap's channel changes",
    usage: "!watch pkg NAME | !watch maintainer \"Name\" | !watch team NAME | !watch snap NAME",
    examples: &[
        "!watch pkg glibc",
        "!watch maintainer \"Ubuntu Developers\"",
        "!watch team foundations",
        "!watch snap maas",
    ],
    role: None,
    writes: false,
    flags: &[],
    positionals: (2, 2),
    positional_names: "KIND NAME",
};

static UNWATCH: CommandSpec = CommandSpec {
    name: "unwatch",
    aliases: &[],
    summary: "stop announcing a package, maintainer, team or snap here",
    usage:
        "!unwatch pkg NAME | !unwatch maintainer \"Name\" | !unwatch team NAME | !unwatch snap NAME",
    examples: &["!unwatch pkg glibc"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (2, 2),
    positional_names: "KIND NAME",
};

static WATCHING: CommandSpec = CommandSpec {
    name: "watching",
    aliases: &["watches"],
    summary: "what this channel hears about",
    usage: "!watching",
    examples: &["!watching"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (0, 0),
    positional_names: "",
};

fn target(inv: &Invocation, cx: &Context<'_>) -> Result<(WatchKind, String), UserError> {
    let kind = WatchKind::parse(&inv.positionals[0]).ok_or_else(|| {
        UserError(format!(
            "`{}` is not something to watch: use pkg, maintainer, team or snap",
            inv.positionals[0]
        ))
    })?;
    let name = inv.positionals[1].trim().to_string();
    if name.is_empty() {
        return Err(UserError("name what to watch".into()));
    }
    if kind == WatchKind::Team {
        let teams = cx.migration.teams();
        if !teams.contains(&name) {
            let known = if teams.is_empty() {
                "none are configured".to_string()
            } else {
                teams.join(", ")
            };
            return Err(UserError(format!(
                "no team `{name}` — known teams: {known}"
            )));
        }
    }
    Ok((kind, name))
}

#[async_trait]
impl Command for Watch {
    fn spec(&self) -> &CommandSpec {
        &WATCH
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let (kind, name) = target(inv, cx)?;
        Ok(Outcome::Watch { kind, name })
    }
}

#[async_trait]
impl Command for Unwatch {
    fn spec(&self) -> &CommandSpec {
        &UNWATCH
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let (kind, name) = target(inv, cx)?;
        Ok(Outcome::Unwatch { kind, name })
    }
}

#[async_trait]
impl Command for Watching {
    fn spec(&self) -> &CommandSpec {
        &WATCHING
    }

    async fn plan(&self, _inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let subs = cx
            .ledger
            .subscriptions(cx.channel)
            .await
            .map_err(|e| UserError(format!("{e}; try again in a moment")))?;
        if subs.is_empty() {
            return Ok(Outcome::Reply(format!(
                "{} watches nothing yet — `!watch pkg NAME` to hear when a package migrates or regresses",
                cx.channel
            )));
        }
        let list: Vec<String> = subs.iter().map(|(k, t)| format!("{k} {t}")).collect();
        Ok(Outcome::Reply(format!(
            "{} watches: {}",
            cx.channel,
            list.join(" · ")
        )))
    }
}

/// The reply to `!watch` (`on`) or `!unwatch`, and its audit outcome;
/// `changed` = the subscription was added or removed.
pub fn watch_reply(
    channel: &str,
    kind: WatchKind,
    name: &str,
    on: bool,
    changed: bool,
) -> (&'static str, String) {
    match (on, changed) {
        (true, true) => (
            "watching",
            match kind {
                WatchKind::Snap => {
                    format!("{channel} will hear about snap {name} when its channels change")
                }
                _ => format!(
                    "{channel} will hear about {} {name} when proposed-migration changes",
                    kind.as_str()
                ),
            },
        ),
        (true, false) => (
            "ok",
            format!("{channel} already watches {} {name}", kind.as_str()),
        ),
        (false, true) => (
            "unwatched",
            format!("{channel} no longer watches {} {name}", kind.as_str()),
        ),
        (false, false) => (
            "ok",
            format!(
                "{channel} was not watching {} {name} — `!watching` lists what it does",
                kind.as_str()
            ),
        ),
    }
}
