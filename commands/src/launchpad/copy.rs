//! `!copy PKG [VERSION] --from OWNER/PPA --to OWNER/PPA`: copy a source
//! (with its binaries) between PPAs, one copy per series, each followed
//! until Launchpad publishes it. Never rebuild a release: copy it (seed,
//! "MAAS release stages").

use async_trait::async_trait;
use shepherd_adapters::launchpad::archive::ppa_path;

use crate::plan::{Action, PlanDraft, StepDraft};
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Copy;

static SPEC: CommandSpec = CommandSpec {
    name: "copy",
    aliases: &[],
    summary: "copy a package between PPAs (binaries included), following each copy until it is published",
    usage: "!copy PKG [VERSION] --from OWNER/PPA --to OWNER/PPA [--series S]… [--no-binaries] [--dry-run]",
    examples: &[
        "!copy hello --from ppa-owner/next --to ppa-owner/stable --dry-run",
        "!copy maas 1:3.6.0-1 --from maas/3.6-next --to maas/3.6 --series noble --series jammy",
    ],
    role: Some("release-team"),
    writes: true,
    flags: &[
        FlagSpec { name: "from", kind: FlagKind::Value, repeatable: false, help: "the source PPA, OWNER/NAME" },
        FlagSpec { name: "to", kind: FlagKind::Value, repeatable: false, help: "the destination PPA, OWNER/NAME" },
        FlagSpec { name: "series", kind: FlagKind::Value, repeatable: true, help: "only this series (default: every series it is published for)" },
        FlagSpec { name: "no-binaries", kind: FlagKind::Bool, repeatable: false, help: "copy the source only (the destination rebuilds it)" },
    ],
    positionals: (1, 2),
    positional_names: "PKG",
};

fn ppa(inv: &Invocation, flag: &str) -> Result<String, UserError> {
    let value = inv
        .flag(flag)
        .ok_or_else(|| UserError(format!("usage: {} — --{flag} is required", SPEC.usage)))?;
    let value = value.trim_start_matches("ppa:").trim_start_matches('~');
    ppa_path(value)
        .map(|_| value.to_string())
        .ok_or_else(|| UserError(format!("`{value}` is not a PPA: write OWNER/NAME")))
}

#[async_trait]
impl Command for Copy {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let name = &inv.positionals[0];
        let (from, to) = (ppa(inv, "from")?, ppa(inv, "to")?);
        if from == to {
            return Err(UserError("--from and --to are the same PPA".into()));
        }
        let wanted_version = inv.positionals.get(1).map(String::as_str);
        let published: Vec<_> = cx
            .launchpad
            .published(&from, name, wanted_version)
            .await?
            .into_iter()
            .filter(|p| p.status == "Published")
            .collect();
        let Some(newest) = published.first() else {
            let v = wanted_version.map(|v| format!(" {v}")).unwrap_or_default();
            return Err(UserError(format!(
                "{name}{v} is not published in ppa:{from}"
            )));
        };
        let version = newest.source_package_version.clone();
        let available: Vec<String> = published
            .iter()
            .filter(|p| p.source_package_version == version)
            .filter_map(|p| p.series().map(str::to_string))
            .collect();
        let series = match inv.flag_values("series") {
            [] => available.clone(),
            asked => {
                if let Some(missing) = asked.iter().find(|s| !available.contains(s)) {
                    return Err(UserError(format!(
                        "{name} {version} is not published in ppa:{from} for {missing} (it is for {})",
                        available.join(", ")
                    )));
                }
                // Each once, however often asked for.
                let mut once: Vec<String> = Vec::new();
                for s in asked {
                    if !once.contains(s) {
                        once.push(s.clone());
                    }
                }
                once
            }
        };
        // A destination that does not exist fails for real: say so now.
        if cx.launchpad.ppa_processors(&to).await?.is_none() {
            return Err(UserError(format!(
                "ppa:{to} does not exist — create it on Launchpad first"
            )));
        }
        let binaries = !inv.has("no-binaries");
        let steps = series
            .iter()
            .map(|s| StepDraft {
                key: format!("copy/{to}/{name}/{version}/{s}"),
                action: Action::CopyPackage {
                    name: name.clone(),
                    version: version.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    series: s.clone(),
                    include_binaries: binaries,
                },
            })
            .collect();
        Ok(Outcome::Plan(PlanDraft {
            summary: format!(
                "copy {name} {version} from ppa:{from} to ppa:{to} for {}{}",
                series.join(", "),
                if binaries {
                    " with binaries"
                } else {
                    ", source only"
                }
            ),
            steps,
            confirm_reason: None,
            notes: Vec::new(),
            parallel: false,
        }))
    }
}
