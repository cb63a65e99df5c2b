//! `!release-status VERSION [--product P]`: where one release stands, as
//! MAAS's release-status script checks it (shared reference snapstore-maas,
//! §2.4) but through the APIs — one line per check, ✓ or ✗ with what is
//! wrong, in the order the work is done, and then the single next action:
//! the topmost failure, as something to paste (seed: "start with the top
//! most error and resolve that").

use async_trait::async_trait;

use super::checks::{Check, Checker};
use super::version::Version;
use crate::registry::{CommandSpec, FlagKind, FlagSpec};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct ReleaseStatus;

static SPEC: CommandSpec = CommandSpec {
    name: "release-status",
    aliases: &["rs"],
    summary: "where a release stands: PPAs, builds, snap channels, milestone, bugs, tag — and what to do next",
    usage: "!release-status VERSION [--product P]",
    examples: &["!release-status 3.6.0b1", "!release-status 3.6.0 --product maas"],
    role: None,
    writes: false,
    flags: &[FlagSpec {
        name: "product",
        kind: FlagKind::Value,
        repeatable: false,
        help: "which configured product (default: the only one)",
    }],
    positionals: (1, 1),
    positional_names: "VERSION",
};

/// Parses a release version as the release commands take it.
pub(crate) fn version_arg(s: &str) -> Result<Version, UserError> {
    s.parse()
        .map_err(|e: super::version::VersionError| UserError(e.to_string()))
}

#[async_trait]
impl Command for ReleaseStatus {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let v = version_arg(&inv.positionals[0])?;
        let product = cx.release.product(inv.flag("product"))?;
        let Some(target) = product.target(&v) else {
            return Err(UserError(format!(
                "no stage of {} takes a {} release",
                product.name,
                v.python()
            )));
        };
        let checker = Checker::new(cx, product, v).await?;
        let checks = checker.all().await?;
        let path: Vec<&str> = product.path(&v).iter().map(|s| s.name.as_str()).collect();
        let head = format!(
            "{} {} → {} ({}):",
            product.name,
            v.python(),
            target.name,
            path.join(" → ")
        );
        Ok(Outcome::Reply(render(&head, &checks)))
    }
}

/// The checks, one line each, then the next action.
pub fn render(head: &str, checks: &[Check]) -> String {
    let mut out = head.to_string();
    for c in checks {
        match c.problems.as_slice() {
            [] => out.push_str(&format!("\n✓ {}", c.title)),
            problems => out.push_str(&format!("\n✗ {} — {}", c.title, problems.join("; "))),
        }
    }
    match checks.iter().find(|c| !c.problems.is_empty()) {
        Some(first) => out.push_str(&format!(
            "\nnext: {}",
            first
                .next
                .as_deref()
                .unwrap_or("fix the first ✗ above, then ask again")
        )),
        None => out.push_str("\nall checks pass ✓"),
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{context, FakeMigration};
    use crate::{builtins, parse, Outcome, Parsed, Registry};

    async fn status(line: &str) -> String {
        let registry = Registry::new(builtins()).unwrap();
        let migration = FakeMigration::plucky();
        let cx = context(&registry, &migration);
        let Parsed::Command(inv) = parse(line, &registry) else {
            panic!("{line}");
        };
        match registry.command(&inv.name).unwrap().plan(&inv, &cx).await {
            Ok(Outcome::Reply(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    /// Mid-way through a beta: every check on its own line, in the order
    /// the work is done, and the topmost failure as the next action.
    #[tokio::test]
    async fn a_beta_mid_release() {
        let got = status("!release-status 3.6.0-beta1").await;
        let want = "\
maas 3.6.0b1 → beta (release-prep → beta):
✗ PPAs ppa:alice/maas-3.6-next, ppa:maas/3.6-next build amd64 arm64 ppc64el s390x — ppa:maas/3.6-next does not build s390x
✓ maas 3.6.0~beta1 built and published in ppa:alice/maas-3.6-next (1:3.6.0~beta1-17580-g.1a2b3c4d5-0ubuntu1)
✓ maas 3.6.0b1 built: r101 (amd64) r102 (arm64) r103 (ppc64el) r104 (s390x)
✓ release-prep: ppa:alice/maas-3.6-next and 3.6/beta/release-prep
✓ dependencies from ppa:maas-committers/latest-deps copied to ppa:alice/maas-3.6-next
✗ beta: ppa:maas/3.6-next and 3.6/beta — ppa:maas/3.6-next lacks maas 3.6.0~beta1; maas: nothing in 3.6/beta for amd64, arm64, ppc64el, s390x
✓ milestone maas 3.6.0-beta1 exists
✗ no open bugs on milestone 3.6.0-beta1 — 1 still open: LP: #2080001 (In Progress)
✗ release tagged 3.6.0-beta1 — no tag 3.6.0-beta1 in ~maas-committers/maas/+git/maas
next: enable s390x for ppa:maas/3.6-next: https://launchpad.net/~maas/+archive/ubuntu/3.6-next/+edit";
        assert_eq!(got, want);
    }

    /// A final release of the beta's build: release-prep holds another build.
    #[tokio::test]
    async fn a_final_names_what_the_channels_hold_instead() {
        let got = status("!release-status 3.6.0").await;
        assert!(
            got.starts_with("maas 3.6.0 → stable (release-prep → beta → stable):"),
            "{got}"
        );
        assert!(
            got.contains("maas: 3.6/beta/release-prep holds 3.6.0~beta1-17580-g.1a2b3c4d5 (r101 r102 r103 r104)"),
            "{got}"
        );
        assert!(got.contains("maas-test-db: nothing in 3.6/stable"), "{got}");
        assert!(
            got.contains("✗ default track 3.6 — maas's is 3.5; maas-test-db's is 3.5"),
            "{got}"
        );
        assert!(
            got.contains("✗ maas 3.6.0 built for every architecture — no revision built from 3.6.0 for amd64, arm64, ppc64el, s390x"),
            "{got}"
        );
    }
}
