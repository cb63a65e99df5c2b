//! `!why PKG`: why a package is stuck in -proposed, in plain words.

use async_trait::async_trait;

use super::explain::{explain, not_found};
use super::view::snapshot_for;
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Why;

pub(crate) const SERIES: FlagSpec = FlagSpec {
    name: "series",
    kind: FlagKind::Value,
    repeatable: false,
    help: "the Ubuntu series (default: the configured devel series)",
};

static SPEC: CommandSpec = CommandSpec {
    name: "why",
    aliases: &["excuses"],
    summary: "why a package is stuck in -proposed: regressions, running tests, bugs, builds, dependencies",
    usage: "!why PKG [--series S]",
    examples: &["!why libsepol", "!excuses systemd --series plucky"],
    role: None,
    writes: false,
    flags: &[SERIES],
    positionals: (1, 1),
    positional_names: "PKG",
};

#[async_trait]
impl Command for Why {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let pkg = &inv.positionals[0];
        let snap = snapshot_for(cx.migration, inv.flag("series")).await?;
        // Source package names are lower case: `LibSepol` means libsepol.
        let item = snap
            .excuses
            .for_source(pkg)
            .or_else(|| snap.excuses.for_source(&pkg.to_ascii_lowercase()));
        Ok(Outcome::Reply(match item {
            Some(item) => explain(item, snap.output.as_ref(), cx.links),
            None => not_found(pkg, &snap.excuses),
        }))
    }
}
