//! Fake views for planner tests: a Launchpad with the sandbox's PPAs and
//! snaps, the real plucky excuses, an empty ledger, an open policy.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use shepherd_adapters::autopkgtest::InFlight;
use shepherd_adapters::launchpad::archive::SourcePublication;
use shepherd_adapters::launchpad::snaps::{Snap, SnapBuild};

use crate::grammar::registry::CommandSpec;
use crate::launchpad::LaunchpadView;
use crate::plan::{Action, AuditEntry, PlanDetail, PlanState, PlanSummary, StepState, StepView};
use crate::proposed_migration::{MigrationSnapshot, MigrationView};
use crate::{Context, Ledger, LedgerError, Policy, Registry, UserError};
use shepherd_adapters::launchpad::bugs::BugTask;
use shepherd_adapters::launchpad::milestones::Milestone;

pub mod release;

/// The release fakes every planning context shares.
pub static FAKE_RELEASE: std::sync::LazyLock<release::FakeRelease> =
    std::sync::LazyLock::new(release::FakeRelease::default);

/// Any plan asked for exists: a one-step announcement, done.
pub struct FakeLedger;

fn plan(id: i64) -> PlanSummary {
    PlanSummary {
        id,
        command: "announce".into(),
        requested_by: "console:alice".into(),
        summary: "announce to #release".into(),
        state: PlanState::Done,
        steps_total: 1,
        steps_done: 1,
        created_at_ms: 1_741_996_000_000,
    }
}

#[async_trait]
impl Ledger for FakeLedger {
    async fn recent_plans(&self, _: u32) -> Result<Vec<PlanSummary>, LedgerError> {
        Ok(vec![plan(41)])
    }
    async fn plan_detail(&self, id: i64) -> Result<Option<PlanDetail>, LedgerError> {
        Ok(Some(PlanDetail {
            plan: plan(id),
            steps: vec![StepView {
                seq: 1,
                key: "announce/release".into(),
                action: Action::Announce {
                    channel: "#release".into(),
                    text: "hello".into(),
                    thread: None,
                },
                state: StepState::Done,
                attempts: 1,
                result: Some("posted".into()),
                error: None,
            }],
            confirmed_by: None,
            expires_at_ms: None,
        }))
    }
    async fn audit_entries(&self, _: u32) -> Result<Vec<AuditEntry>, LedgerError> {
        Ok(vec![AuditEntry {
            id: 7,
            at_ms: 1_741_996_000_000,
            actor: "console:alice".into(),
            channel: "#release".into(),
            action: "!announce #release hello".into(),
            plan_id: Some(41),
            outcome: "queued".into(),
            detail: String::new(),
        }])
    }
    async fn subscriptions(&self, _: &str) -> Result<Vec<(String, String)>, LedgerError> {
        Ok(vec![("package".into(), "glibc".into())])
    }
}

pub struct OpenPolicy;

impl Policy for OpenPolicy {
    fn required_role(&self, spec: &CommandSpec) -> Option<String> {
        spec.role.map(str::to_string)
    }
}

/// The real plucky excuses (2025-03-14), nothing in flight.
pub struct FakeMigration(pub Arc<MigrationSnapshot>);

impl FakeMigration {
    pub fn plucky() -> Self {
        Self(Arc::new(MigrationSnapshot {
            series: "plucky".into(),
            excuses: crate::test_data::plucky(),
            output: None,
            fetched_at_ms: 0,
        }))
    }
}

#[async_trait]
impl MigrationView for FakeMigration {
    fn default_series(&self) -> Option<String> {
        Some("plucky".into())
    }
    fn request_url(&self) -> String {
        "https://autopkgtest.ubuntu.com/request.cgi".into()
    }
    async fn snapshot(&self, series: &str) -> Result<Arc<MigrationSnapshot>, UserError> {
        if series == "plucky" {
            Ok(self.0.clone())
        } else {
            Err(UserError(format!("I don't follow {series}")))
        }
    }
    async fn in_flight(&self) -> Result<Vec<InFlight>, UserError> {
        Ok(Vec::new())
    }
    fn teams(&self) -> Vec<String> {
        vec!["foundations".into()]
    }
}

/// PPAs `ppa-owner/next` (hello 2.10-5) and `maas/3.6-next` (maas
/// 1:3.6.0-1), both for noble and jammy; snaps `maas` (ppc64el failed
/// last) and `maas-agent` (no distro series) of maas-committers.
pub struct FakeLaunchpad;

pub(crate) const ROOT: &str = "https://api.launchpad.net/devel";

pub(crate) fn decoded<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("fake data decodes")
}

#[async_trait]
impl LaunchpadView for FakeLaunchpad {
    async fn published(
        &self,
        ppa: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<SourcePublication>, UserError> {
        if let Some(found) = release::release_published(ppa, name) {
            return Ok(found);
        }
        let have = match (ppa, name) {
            ("ppa-owner/next", "hello") => "2.10-5",
            ("maas/3.6-next", "maas") => "1:3.6.0-1",
            _ => return Ok(Vec::new()),
        };
        if version.is_some_and(|v| v != have) {
            return Ok(Vec::new());
        }
        Ok(["noble", "jammy"]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                decoded(json!({
                    "self_link": format!("{ROOT}/~x/+archive/ubuntu/y/+sourcepub/{i}"),
                    "source_package_name": name, "source_package_version": have,
                    "status": "Published", "distro_series_link": format!("{ROOT}/ubuntu/{s}"),
                    "pocket": "Release",
                }))
            })
            .collect())
    }

    async fn snap(&self, owner: &str, name: &str) -> Result<Snap, UserError> {
        let series = match name {
            "maas" => json!(format!("{ROOT}/ubuntu/jammy")),
            "maas-agent" => json!(null),
            _ => return Err(UserError(format!("Launchpad says: no snap {name}"))),
        };
        let base = format!("{ROOT}/~{owner}/+snap/{name}");
        Ok(decoded(json!({
            "self_link": base, "name": name, "distro_series_link": series,
            "auto_build_archive_link": format!("{ROOT}/ubuntu/+archive/primary"),
            "auto_build_pocket": "Updates", "store_channels": ["latest/edge"],
            "builds_collection_link": format!("{base}/builds"),
            "pending_builds_collection_link": format!("{base}/pending_builds"),
        })))
    }

    async fn snap_builds(&self, snap: &Snap, _: usize) -> Result<Vec<SnapBuild>, UserError> {
        if snap.name != "maas" {
            return Ok(Vec::new());
        }
        Ok([
            ("ppc64el", 3, "Failed to build"),
            ("arm64", 2, "Successfully built"),
            ("amd64", 1, "Successfully built"),
        ]
        .iter()
        .map(|(arch, id, state)| {
            decoded(json!({
                "self_link": format!("{}/+build/{id}", snap.self_link), "arch_tag": arch,
                "distro_arch_series_link": format!("{ROOT}/ubuntu/jammy/{arch}"),
                "buildstate": state, "store_upload_status": "Unscheduled",
            }))
        })
        .collect())
    }

    fn default_snap_owner(&self) -> Option<String> {
        Some("maas-committers".into())
    }

    async fn snap_processors(&self, snap: &Snap) -> Result<Option<Vec<String>>, UserError> {
        Ok((snap.name == "maas").then(|| vec!["amd64".into(), "arm64".into(), "ppc64el".into()]))
    }

    fn webhook_url(&self) -> Option<String> {
        Some("https://shepherd.example/hooks/launchpad".into())
    }

    async fn ppa_sources(&self, ppa: &str, _: &str) -> Result<Vec<SourcePublication>, UserError> {
        Ok(release::ppa_sources(ppa))
    }

    async fn ppa_processors(&self, ppa: &str) -> Result<Option<Vec<String>>, UserError> {
        Ok(release::ppa_processors(ppa))
    }

    async fn binary_arches(&self, ppa: &str, _: &str, _: &str) -> Result<Vec<String>, UserError> {
        Ok(release::ppa_processors(ppa).unwrap_or_default())
    }

    async fn milestone(&self, project: &str, name: &str) -> Result<Option<Milestone>, UserError> {
        Ok(release::milestone(project, name))
    }

    async fn milestones(&self, project: &str) -> Result<Vec<Milestone>, UserError> {
        Ok(["3.6.0-beta1", "3.6.0"]
            .iter()
            .filter_map(|m| release::milestone(project, m))
            .collect())
    }

    async fn milestone_tasks(
        &self,
        _: &str,
        milestone: &str,
        statuses: &[&str],
    ) -> Result<Vec<BugTask>, UserError> {
        Ok(release::open_tasks(milestone, statuses))
    }

    async fn tag_exists(&self, _: &str, _: &str) -> Result<bool, UserError> {
        Ok(false)
    }
}

/// A planning context over the fakes, as alice in #release.
pub fn context<'a>(registry: &'a Registry, migration: &'a FakeMigration) -> Context<'a> {
    Context {
        actor: "console:alice",
        request_id: "test-1",
        channel: "#release",
        now_ms: 1_741_996_022_000,
        registry,
        ledger: &FakeLedger,
        policy: &OpenPolicy,
        migration,
        launchpad: &FakeLaunchpad,
        release: &*FAKE_RELEASE,
        links: &LINKS,
    }
}

static LINKS: std::sync::LazyLock<crate::links::Links> =
    std::sync::LazyLock::new(crate::links::Links::default);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtins, parse, Parsed};

    /// Every example `!help` shows is planned against the fakes and gives
    /// an answer — never a usage error or a refusal of the example itself.
    #[tokio::test]
    async fn every_help_example_plans() {
        let registry = Registry::new(builtins()).unwrap();
        let migration = FakeMigration::plucky();
        let cx = context(&registry, &migration);
        let mut planned = 0;
        for spec in registry.specs() {
            for example in spec.examples {
                let Parsed::Command(inv) = parse(example, &registry) else {
                    panic!("{example} does not parse");
                };
                let command = registry.command(&inv.name).expect("registered");
                match command.plan(&inv, &cx).await {
                    Ok(_) => planned += 1,
                    Err(e) => panic!("{example}: {e}"),
                }
            }
        }
        assert!(planned > 30, "{planned}");
    }

    /// What each planner makes of typical requests: the plan's summary and
    /// step count, the reply, the control request, or the refusal.
    #[tokio::test]
    async fn planners_table() {
        use crate::Outcome;
        let registry = Registry::new(builtins()).unwrap();
        let migration = FakeMigration::plucky();
        let cx = context(&registry, &migration);
        let cases: &[(&str, &str)] = &[
            ("!rebuild maas", "plan 1: rebuild ~maas-committers/maas on ppc64el (failed last time)"),
            ("!rebuild maas ppc64el", "plan 1: rebuild ~maas-committers/maas on ppc64el (as asked)"),
            ("!rebuild maas-agent amd64", "error: maas-agent names no Ubuntu series and has no earlier build on amd64"),
            ("!rebuild maas-agent amd64 --series noble", "plan 1: rebuild ~maas-committers/maas-agent on amd64 (as asked)"),
            ("!builds maas", "reply: ~maas-committers/maas latest builds:"),
            ("!copy hello --from ppa-owner/next --to ppa-owner/stable", "plan 2: copy hello 2.10-5 from ppa:ppa-owner/next to ppa:ppa-owner/stable for noble, jammy"),
            ("!copy hello --from ppa-owner/next --to ppa-owner/stable --series noble", "plan 1: copy hello 2.10-5"),
            ("!copy nothing --from ppa-owner/next --to ppa-owner/stable", "error: "),
            ("!why systemd", "reply: systemd 257.3-1ubuntu3 → 257.4-1ubuntu1 · blocked by autopkgtest"),
            ("!why SystemD", "reply: systemd 257.3-1ubuntu3 → 257.4-1ubuntu1 · blocked by autopkgtest"),
            ("!retry systemd", "plan 2: 2 requests to autopkgtest.ubuntu.com, release plucky: dracut on s390x · trigger systemd/257.4-1ubuntu1; mkosi on arm64"),
            ("!retry systemd --state bogus", "error: --state BOGUS is not a test state: use one of REGRESSION, ALWAYSFAIL"),
            ("!rebuild maas MIPS", "error: maas does not build on mips — it builds on amd64, arm64, ppc64el"),
            ("!rebuild maas PPC64EL ppc64el", "plan 1: rebuild ~maas-committers/maas on ppc64el (as asked)"),
            ("!copy hello --from ppa-owner/next --to nobody/nope", "error: ppa:nobody/nope does not exist — create it on Launchpad first"),
            ("!copy hello --from ppa-owner/next --to ppa-owner/stable --series noble --series noble", "plan 1: copy hello 2.10-5"),
            ("!retry systemd --arch s390x", "plan 1: 1 request to autopkgtest.ubuntu.com, release plucky: dracut on s390x"),
            ("!webhook register /~maas-committers/+snap/maas", "plan 1: Launchpad webhook on /~maas-committers/+snap/maas"),
            ("!webhook register /", "error: name the webhook's target"),
            ("!jobs", "reply: 1 most recent plans:\n  #41 !announce · done 1/1 · console:alice · 22s ago — announce to #release"),
            ("!jobs 20", "reply: 1 most recent plans:"),
            ("!jobs many", "error: N must be a number from 1 to 50, not `many`"),
            ("!show 41", "reply: plan #41 · !announce by console:alice · done · ▰ 1/1 · 22s ago\n  announce to #release\n  1. ✓ announce in #release: hello → posted"),
            ("!show #41", "reply: plan #41 ·"),
            ("!show x", "error: `x` is not a plan number (try `!jobs`)"),
            ("!audit", "reply: audit, latest 1 (newest first):\n  22s ago · console:alice in #release · !announce #release hello plan #41 → queued"),
            ("!confirm 57", "Confirm(57)"),
            ("!confirm #57", "Confirm(57)"),
            ("!confirm x", "error: `x` is not a plan number"),
            ("!cancel 57", "Cancel(57)"),
            ("!watch pkg glibc", "Watch { kind: Package, name: \"glibc\" }"),
            ("!watch maintainer \"Ubuntu Developers\"", "Watch { kind: Maintainer, name: \"Ubuntu Developers\" }"),
            ("!watch team foundations", "Watch { kind: Team, name: \"foundations\" }"),
            ("!watch team nosuchteam", "error: no team `nosuchteam` — known teams: foundations"),
            // A package not in -proposed yet may enter it later: watching it is fine.
            ("!watch pkg no-such-package", "Watch { kind: Package"),
            ("!unwatch pkg glibc", "Unwatch { kind: Package, name: \"glibc\" }"),
            ("!watching", "reply: #release watches: package glibc"),
            ("!announce #ubuntu-release 'plucky freeze'", "plan 1: announce to #ubuntu-release"),
            ("!help", "reply: Shepherd commands — `!help COMMAND` for details:"),
            ("!help retry", "reply: !retry — re-run a package's autopkgtest regressions"),
            ("!help nosuch", "error: no command !nosuch"),
            ("!release-status 3.6.0b1", "reply: maas 3.6.0b1 → beta (release-prep → beta):\n✗ PPAs ppa:alice/maas-3.6-next, ppa:maas/3.6-next build amd64 arm64 ppc64el s390x — ppa:maas/3.6-next does not build s390x\n✓ maas 3.6.0~beta1 built and published"),
            ("!release-status 3.6.0b1 --product nope", "error: no product `nope` — configured: maas"),
            ("!release-status 3.six", "error: `3.six` is not a release version"),
            ("!promote 3.6.0b1 beta", "plan 5: maas 3.6.0b1 to beta (ppa:maas/3.6-next, 3.6/beta)\n  copy maas 1:3.6.0~beta1-17580-g.1a2b3c4d5-0ubuntu1 from ppa:alice/maas-3.6-next to ppa:maas/3.6-next (noble) with binaries [copy/maas/3.6-next/maas/1:3.6.0~beta1-17580-g.1a2b3c4d5-0ubuntu1/noble]\n  release maas r101 (amd64) to 3.6/beta [snap-release/maas/101/3.6/beta/test-1]\n  release maas r102 (arm64) to 3.6/beta"),
            ("!promote 3.6.0b1 release-prep", "plan 0: maas 3.6.0b1 is in release-prep already"),
            ("!promote 3.6.0 stable", "error: ppa:maas/3.6-next has no noble build of maas 3.6.0 — `!promote 3.6.0 beta` first"),
            ("!milestone create maas 3.6 3.6.1 --date 2026-12-15", "plan 1: milestone maas 3.6.1 on series 3.6\n  create milestone maas 3.6.1 on series 3.6, targeted 2026-12-15 [milestone/maas/3.6.1/create]"),
            ("!milestone create maas 3.6 3.6.0", "reply: maas already has milestone 3.6.0 (active) — nothing to do"),
            ("!milestone create maas 3.6 Bad_Name", "error: `Bad_Name` is not a Launchpad milestone name"),
            ("!milestone create maas 3.6 3.6.1 --date tomorrow", "error: --date `tomorrow` is not YYYY-MM-DD"),
            ("!milestone release maas 3.6.0", "plan 1: release milestone maas 3.6.0 (2025-03-14) and deactivate it"),
            ("!milestone release maas 9.9.9", "error: maas has no milestone 9.9.9"),
            ("!milestone list maas", "reply: maas milestones:\n  3.6.0-beta1 — active\n  3.6.0 — active"),
            ("!milestone frobnicate maas", "error: usage: !milestone create PROJECT SERIES NAME"),
            ("!bugs list maas 3.6.0-beta1", "reply: 3 bugs on maas 3.6.0-beta1:\n  LP: #2080001 UI hangs — In Progress\n  LP: #2080002 typo — Fix Committed"),
            ("!bugs move-done maas 3.6.0-beta1 3.6.0", "plan 2: 2 Fix Committed tasks of maas 3.6.0-beta1 moved to 3.6.0\n  LP: #2080002 → milestone 3.6.0 [bug-task/maas/+bug/2080002/3.6.0/\"e-2080002\"]"),
            ("!bugs move-done maas 3.6.0-beta1 3.7.0", "error: maas has no milestone 3.7.0 — `!milestone create maas SERIES 3.7.0` first"),
            ("!bugs release maas 3.6.0-beta1", "plan 2: 2 Fix Committed tasks of maas 3.6.0-beta1 → Fix Released\n  LP: #2080002 → status Fix Released [bug-task/maas/+bug/2080002/Fix Released/\"e-2080002\"]"),
            ("!promote 3.6.0b1 rc", "error: 3.6.0b1 does not go through `rc` — its stages: release-prep → beta"),
            ("!promote 3.6.0rc1 rc", "error: refusing, nothing planned: maas has nothing in 3.6/beta for amd64, arm64, ppc64el, s390x"),
        ];
        for (line, want) in cases {
            let Parsed::Command(inv) = parse(line, &registry) else {
                panic!("{line} does not parse");
            };
            let got = match registry.command(&inv.name).unwrap().plan(&inv, &cx).await {
                Ok(Outcome::Plan(d)) => format!(
                    "plan {}: {}{}",
                    d.steps.len(),
                    d.summary,
                    d.steps
                        .iter()
                        .map(|s| format!("\n  {} [{}]", s.action.describe(), s.key))
                        .collect::<String>()
                ),
                Ok(Outcome::Reply(r)) => format!("reply: {r}"),
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("error: {e}"),
            };
            assert!(
                got.starts_with(want),
                "{line}\n  got:  {got}\n  want: {want}…"
            );
        }
    }
}
