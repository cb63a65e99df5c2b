//! `!poll`, a command only the sandbox has: the excuses poll, now. A
//! deployment polls on its `[[schedule]] poll_excuses` cron slots; the
//! sandbox has no cron, because a piped script would then depend on the
//! clock. `!poll` asks the dispatcher to run the same poller a slot runs —
//! conditional GET, diff, one announcement per watching channel.

use async_trait::async_trait;
use shepherd_commands::{Command, CommandSpec, Context, Invocation, Outcome, UserError};

pub struct Poll;

static SPEC: CommandSpec = CommandSpec {
    name: "poll",
    aliases: &[],
    summary: "poll the excuses now, as a `poll_excuses` cron slot would, and announce what changed (sandbox only)",
    usage: "!poll",
    examples: &["!poll"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (0, 0),
    positional_names: "",
};

#[async_trait]
impl Command for Poll {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, _inv: &Invocation, _cx: &Context<'_>) -> Result<Outcome, UserError> {
        // The configured series, as a `poll_excuses = {}` job polls it.
        Ok(Outcome::Poll {
            job: "poll_excuses".into(),
            arg: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime;

    #[test]
    fn only_the_sandbox_has_poll() {
        let everywhere = runtime::registry().expect("the built-in registry");
        assert!(everywhere.command("poll").is_none());
        let sandbox = runtime::registry_with(vec![Box::new(Poll)]).expect("no name collides");
        assert_eq!(sandbox.command("poll").map(|c| c.spec().name), Some("poll"));
    }
}
