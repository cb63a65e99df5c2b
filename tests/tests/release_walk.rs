//! Release management end to end: MAAS 3.6.0 walked from release-prep to
//! stable through the bot, against the Launchpad and Snap Store
//! simulators. `!release-status` names the right next step at each point;
//! `!promote` moves exactly the binaries and revisions built for the
//! release (counted in the simulators); the last status is all ✓. And the
//! refusals: a missing architecture, an expired branch, bad credentials,
//! an unknown version — each clear, each changing nothing.

use shepherd::sandbox::launchpad_world;
use shepherd::sandbox::release::{
    maas_release_world, publish_built, with_snapstore, ARCHES, GIT_REPOSITORY, MAAS_PRODUCT,
};
use shepherd_adapters::launchpad::sim::LaunchpadSim;
use shepherd_adapters::snapstore::sim::SnapStoreSim;
use shepherd_tests::{config_text, load_config, temp_store, with_launchpad, Harness};

const FINAL_DEB: &str = "1:3.6.0-17650-g.abcdef012-0ubuntu1";
const FINAL_SNAP: &str = "3.6.0-17650-g.abcdef012";
/// The 3.6.0 build set: r41800 (amd64) … r41803 (s390x).
const FIRST_REV: u64 = 41800;

struct World {
    lp: LaunchpadSim,
    store: SnapStoreSim,
}

/// MAAS with 3.6.0 built: the deb in release-prep, snap revisions for
/// `arches` in 3.6/edge; maas-test-db's build in 3.6/candidate.
async fn world(arches: &[&str]) -> World {
    world_of(arches, FINAL_DEB, FINAL_SNAP, FIRST_REV).await
}

/// The same for any build: its deb, its snap version, its first revision.
async fn world_of(arches: &[&str], deb: &str, snap: &str, first: u64) -> World {
    let mut w = launchpad_world();
    maas_release_world(&mut w, "shepherd-sandbox");
    publish_built(&mut w, "alice/maas-3.6-next", "maas", deb);
    let lp = LaunchpadSim::start(w).await.unwrap();
    let store = SnapStoreSim::start_maas().await.unwrap();
    for (i, arch) in ARCHES.iter().enumerate() {
        if arches.contains(arch) {
            // Launchpad's builds land in edge, as MAAS's recipes release them.
            store.add_revision("maas", first + i as u64, snap, arch);
            store
                .release_now("maas", first + i as u64, "3.6/edge")
                .unwrap();
        }
        store
            .release_now("maas-test-db", 950 + i as u64, "3.6/candidate")
            .unwrap();
    }
    World { lp, store }
}

async fn bot(w: &World) -> (tempfile::TempDir, Harness) {
    let (dir, path) = temp_store();
    let config = load_config(&(config_text(&path) + MAAS_PRODUCT));
    let mut config = with_launchpad(config, &w.lp.service_root(), "sandbox-token", 10);
    with_snapstore(&mut config, &w.store, 10).unwrap();
    (dir, Harness::start(&config, None).await)
}

/// Asks for the status and returns its last line: `next: …` or `all checks pass ✓`.
async fn next(h: &mut Harness) -> String {
    next_for(h, "3.6.0").await
}

async fn next_for(h: &mut Harness, version: &str) -> String {
    let t = h.say(&format!("!release-status {version}")).await;
    let deadline = tokio::time::Instant::now() + shepherd_tests::PATIENCE;
    loop {
        let text = h.text(&t);
        if let Some(last) = text
            .lines()
            .find(|l| l.starts_with("next: ") || l.starts_with("all checks"))
        {
            return last.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no status: {}",
            h.transcript()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Plans a promotion, confirms it, waits until it is done.
async fn promote(h: &mut Harness, stage: &str, reason: &str) -> String {
    promote_version(h, "3.6.0", stage, reason).await
}

async fn promote_version(h: &mut Harness, version: &str, stage: &str, reason: &str) -> String {
    let t = h.say(&format!("!promote {version} {stage}")).await;
    let asked = h.expect(&t, "needs confirmation").await;
    assert!(asked.contains(reason), "{asked}");
    let id: String = asked
        .split("plan #")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    h.ask(&format!("!confirm {id}"), "confirmed").await;
    h.expect(&t, "— done ✓").await
}

fn revisions(w: &World, channel: &str) -> Vec<Option<u64>> {
    ARCHES
        .iter()
        .map(|a| w.store.revision_in("maas", channel, a))
        .collect()
}

#[tokio::test]
async fn a_release_walks_from_release_prep_to_stable() {
    let w = world(&ARCHES).await;
    let (_d, mut h) = bot(&w).await;
    let built: Vec<Option<u64>> = (0..4).map(|i| Some(FIRST_REV + i)).collect();

    assert_eq!(next(&mut h).await, "next: `!promote 3.6.0 release-prep`");
    promote(&mut h, "release-prep", "4 steps, more than 2").await;
    assert_eq!(revisions(&w, "3.6/beta/release-prep"), built);

    assert_eq!(next(&mut h).await, "next: `!promote 3.6.0 beta`");
    promote(&mut h, "beta", "5 steps, more than 2").await;
    assert_eq!(revisions(&w, "3.6/beta"), built);

    assert_eq!(next(&mut h).await, "next: `!promote 3.6.0 stable`");
    let done = promote(&mut h, "stable", "stable release").await;
    assert!(done.contains("— done ✓"), "{done}");
    assert_eq!(revisions(&w, "3.6/stable"), built);
    for (i, arch) in ARCHES.iter().enumerate() {
        assert_eq!(
            w.store.revision_in("maas-test-db", "3.6/stable", arch),
            Some(950 + i as u64)
        );
    }

    // Exactly the release's binaries, once each: 4 revisions to each of
    // three channels for maas, 4 for maas-test-db; one copy per stage PPA.
    let calls = w.store.release_calls();
    assert_eq!(calls.len(), 16, "{calls:?}");
    for c in calls.iter().filter(|c| c.name == "maas") {
        let rev: u64 = c.revision.as_str().unwrap().parse().unwrap();
        assert!((FIRST_REV..FIRST_REV + 4).contains(&rev), "{c:?}");
    }
    let copies = w.lp.writes().copies;
    assert_eq!(
        copies,
        vec![
            (
                "maas/3.6-next".into(),
                "maas".into(),
                FINAL_DEB.into(),
                "noble".into()
            ),
            (
                "maas/3.6".into(),
                "maas".into(),
                FINAL_DEB.into(),
                "noble".into()
            ),
        ]
    );
    assert!(
        w.store
            .revision_in("maas-test-db", "3.6/candidate", "amd64")
            .is_none(),
        "candidate closed"
    );

    assert_eq!(
        next(&mut h).await,
        "next: `!milestone create maas 3.6 3.6.0`"
    );
    let t = h.say("!milestone create maas 3.6 3.6.0").await;
    h.expect(&t, "— done ✓").await;

    let tag = next(&mut h).await;
    assert!(
        tag.starts_with("next: tag the released commit: `git tag -a 3.6.0"),
        "{tag}"
    );
    w.lp.add_tag(GIT_REPOSITORY, "3.6.0");
    assert_eq!(next(&mut h).await, "all checks pass ✓");
    h.finish().await;
}

#[tokio::test]
async fn refusals_are_clear_and_change_nothing() {
    let w = world(&ARCHES[..3]).await;
    // s390x has a 3.6.0 build, but of another commit: not the same binaries.
    w.store
        .add_revision("maas", FIRST_REV + 3, "3.6.0-17651-g.999999999", "s390x");
    w.store
        .release_now("maas", FIRST_REV + 3, "3.6/edge")
        .unwrap();
    let (_d, mut h) = bot(&w).await;
    let missing = h.ask("!promote 3.6.0 release-prep", "refusing").await;
    assert!(
        missing.contains("refusing, nothing planned: no maas revision built from 3.6.0 (commit abcdef012) for s390x"),
        "{missing}"
    );
    let unknown = h.ask("!promote 3.7.0 release-prep", "refusing").await;
    assert!(
        unknown.contains("no maas revision built from 3.7.0 for amd64, arm64, ppc64el, s390x"),
        "{unknown}"
    );
    let garbled = h
        .ask("!promote 3.seven beta", "not a release version")
        .await;
    assert!(
        garbled.contains("`3.seven` is not a release version"),
        "{garbled}"
    );
    let off_path = h
        .ask("!promote 3.6.0b1 stable", "does not go through")
        .await;
    assert!(
        off_path.contains("its stages: release-prep → beta"),
        "{off_path}"
    );

    // The beta build set sits in release-prep; 31 days on, the branch has expired.
    w.store.advance_days(31);
    let expired = h.ask("!promote 3.6.0b1 beta", "refusing").await;
    assert!(
        expired.contains("branch 3.6/beta/release-prep expired"),
        "{expired}"
    );
    let status = h.ask("!release-status 3.6.0b1", "next: ").await;
    assert!(
        status
            .contains("maas: branch 3.6/beta/release-prep expired (amd64, arm64, ppc64el, s390x)"),
        "{status}"
    );

    assert!(w.store.release_calls().is_empty());
    assert!(w.lp.writes().copies.is_empty());
    h.finish().await;
}

#[tokio::test]
async fn bad_credentials_are_refused_at_start() {
    let (_d, path) = temp_store();
    let text = config_text(&path)
        + MAAS_PRODUCT
        + "\n[snapstore]\ncredentials = \"bm90IGNyZWRlbnRpYWxz\"\n";
    let registry = shepherd::runtime::registry().unwrap();
    let err = shepherd::config::Config::from_toml(&text, &path, &[], &registry).unwrap_err();
    let msg = err.to_string();
    // Placed at the section's header in the file.
    let line = text.lines().position(|l| l == "[snapstore]").unwrap() + 1;
    let at = format!("{}:{line}:1: [snapstore] credentials: ", path.display());
    assert!(msg.starts_with(&at), "{msg}");
    assert!(
        msg.contains("export them again with `snapcraft export-login`"),
        "{msg}"
    );
}

/// `poll_channels`: the first read is the baseline; then a release to a
/// channel and an expired branch are each announced once to `!watch snap`.
#[tokio::test]
async fn channel_changes_reach_the_snaps_watchers() {
    use shepherd::config::{PollChannelsJob, ScheduleConfig};
    use shepherd::events::Event;
    let w = world(&ARCHES).await;
    let (_d, mut h) = bot(&w).await;
    let job = ScheduleConfig {
        name: "maas-channels".into(),
        cron: "*/5 * * * *".into(),
        announce: None,
        poll_excuses: None,
        poll_channels: Some(PollChannelsJob {
            snap: "maas".into(),
        }),
    };
    let dispatcher = h.bot.dispatcher.clone();
    let tick = |slot: i64| {
        let key = Event::Tick {
            job: job.clone(),
            slot_ms: slot,
        }
        .request_key("");
        let (d, j) = (dispatcher.clone(), job.clone());
        async move { d.handle_tick(&j, slot, &key).await.unwrap() }
    };
    assert_eq!(tick(1).await, None, "the first read is the baseline");
    h.ask(
        "#maas-builds alice> !watch snap maas",
        "will hear about snap maas when its channels change",
    )
    .await;
    assert_eq!(tick(2).await, None, "nothing changed");
    w.store
        .release_now("maas", FIRST_REV, "3.6/candidate")
        .unwrap();
    assert!(tick(3).await.is_some());
    h.expect(
        "#maas-builds",
        "maas 3.6/candidate amd64 → r41800 (3.6.0-17650-g.abcdef012)",
    )
    .await;
    w.store.advance_days(31);
    assert!(tick(4).await.is_some());
    let said = h
        .expect(
            "#maas-builds",
            "maas 3.6/beta/release-prep expired (amd64, arm64, ppc64el, s390x)",
        )
        .await;
    assert_eq!(said.matches("[maas channels]").count(), 2, "{said}");
    h.finish().await;
}

/// `!bugs move-done` as a bulk plan: tasks move several at a time, the bot
/// is stopped half-way and started again, and each task is PATCHed once;
/// then `!bugs release` marks them Fix Released.
#[tokio::test]
async fn bug_housekeeping_moves_each_task_once_across_a_restart() {
    use shepherd_adapters::launchpad::sim::{BugDef, TaskDef};
    let mut lp_world = launchpad_world();
    maas_release_world(&mut lp_world, "shepherd-sandbox");
    lp_world
        .milestones
        .push(("maas".into(), "3.6".into(), "3.6.0".into(), true));
    for id in 0..40 {
        lp_world.bugs.push(BugDef {
            id: 2_090_000 + id,
            title: format!("fixed {id}"),
            tags: Vec::new(),
            tasks: vec![TaskDef {
                project: "maas".into(),
                status: "Fix Committed".into(),
                importance: "Low".into(),
                milestone: Some("3.6.0-beta1".into()),
            }],
        });
    }
    let lp = LaunchpadSim::start(lp_world).await.unwrap();
    lp.set_latency(std::time::Duration::from_millis(20));
    let w = World {
        lp,
        store: SnapStoreSim::start_maas().await.unwrap(),
    };
    let (d, path) = temp_store();
    let config = load_config(&(config_text(&path) + MAAS_PRODUCT));
    let mut config = with_launchpad(config, &w.lp.service_root(), "sandbox-token", 10);
    with_snapstore(&mut config, &w.store, 10).unwrap();
    let moved = |lp: &LaunchpadSim, to: &str| {
        lp.tasks("maas")
            .iter()
            .filter(|(_, _, m)| m.as_deref() == Some(to))
            .count()
    };

    let mut h = Harness::start(&config, None).await;
    // Reading needs no role; changing does.
    let listed = h
        .ask(
            "bob> !bugs list maas 3.6.0-beta1",
            "bugs on maas 3.6.0-beta1",
        )
        .await;
    assert!(listed.contains("42 bugs on maas 3.6.0-beta1:"), "{listed}");
    let refused = h
        .ask("bob> !bugs move-done maas 3.6.0-beta1 3.6.0", "role")
        .await;
    assert!(
        refused.contains("you need the release-team role for !bugs"),
        "{refused}"
    );
    let t = h.say("!bugs move-done maas 3.6.0-beta1 3.6.0").await;
    let asked = h.expect(&t, "needs confirmation").await;
    assert!(
        asked.contains("(41 steps, more than 2)")
            && asked.contains("· LP: #2090000 → milestone 3.6.0"),
        "{asked}"
    );
    h.ask("!confirm 1", "confirmed").await;
    let deadline = tokio::time::Instant::now() + shepherd_tests::PATIENCE;
    while moved(&w.lp, "3.6.0") < 15 {
        assert!(tokio::time::Instant::now() < deadline, "{}", h.transcript());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    h.bot.stop().await;
    drop(h);
    assert!(moved(&w.lp, "3.6.0") < 41, "stopped half-way");

    let mut h = Harness::start(&config, None).await;
    assert!(h.bot.drain(shepherd_tests::PATIENCE).await);
    assert_eq!(moved(&w.lp, "3.6.0"), 41);
    assert_eq!(w.lp.writes().patches, 41, "each task PATCHed once");
    // (Thread ids restart with the harness: read the plan from the store.)
    let plan = h.bot.store.plan_control(1).await.unwrap().unwrap();
    assert_eq!(plan.state, shepherd_commands::PlanState::Done);

    let t = h.say("!bugs release maas 3.6.0").await;
    h.expect(&t, "needs confirmation").await;
    h.ask("!confirm 2", "confirmed").await;
    h.expect(&t, "— done ✓").await;
    let released =
        w.lp.tasks("maas")
            .iter()
            .filter(|(_, s, m)| s == "Fix Released" && m.as_deref() == Some("3.6.0"))
            .count();
    assert_eq!(released, 41);
    h.finish().await;
    drop(d);
}

/// A stale discharge is refreshed once and the renewed credentials kept
/// (the next start uses them); a revoked login says how to export new ones.
#[tokio::test]
async fn stale_credentials_are_refreshed_and_kept_and_revoked_ones_explained() {
    use secrecy::ExposeSecret;
    let w = world(&ARCHES).await;
    let (_d, path) = temp_store();
    let config = load_config(&(config_text(&path) + MAAS_PRODUCT));
    let mut config = with_launchpad(config, &w.lp.service_root(), "sandbox-token", 10);
    with_snapstore(&mut config, &w.store, 10).unwrap();
    let mut h = Harness::start(&config, None).await;
    w.store.expire_discharge();
    h.ask("!release-status 3.6.0b1", "next: ").await;
    assert_eq!(w.store.refreshes(), 1);
    let kept = h
        .bot
        .store
        .kept_credentials("snapstore")
        .await
        .unwrap()
        .unwrap();
    let root = w.store.credentials().root().expose_secret().to_string();
    assert!(
        !kept.expose_secret().contains(&root),
        "the root is not copied into the store"
    );
    h.bot.stop().await;
    drop(h);

    // The next start uses the renewed discharge: no second refresh.
    let mut h = Harness::start(&config, None).await;
    h.ask("!release-status 3.6.0b1", "next: ").await;
    assert_eq!(w.store.refreshes(), 1);

    // A revoked login: status and promotion both refuse, saying what to run.
    w.store.revoke();
    w.store.expire_discharge();
    let said = h.ask("!release-status 3.6.0b1", "export-login").await;
    let advice =
        "snapcraft export-login --snaps maas,maas-test-db --acls package_access,package_release";
    assert!(said.contains(advice), "{said}");
    let refused = h.ask("!promote 3.6.0 release-prep", "export-login").await;
    assert!(refused.contains(advice), "{refused}");
    assert!(w.store.release_calls().is_empty(), "nothing released");
    assert!(!h.transcript().contains(&root));
    h.finish().await;
}

/// A release candidate: the rc stage closes 3.6/beta, and the status still
/// passes beta ("moved on to rc") rather than asking to promote it again.
#[tokio::test]
async fn a_release_candidate_walks_to_candidate_and_closes_beta() {
    let w = world_of(
        &ARCHES,
        "1:3.6.0~rc1-17640-g.fedcba987-0ubuntu1",
        "3.6.0~rc1-17640-g.fedcba987",
        41900,
    )
    .await;
    let (_d, mut h) = bot(&w).await;
    let v = "3.6.0rc1";
    assert_eq!(
        next_for(&mut h, v).await,
        "next: `!promote 3.6.0rc1 release-prep`"
    );
    promote_version(&mut h, v, "release-prep", "4 steps, more than 2").await;
    promote_version(&mut h, v, "beta", "5 steps, more than 2").await;
    assert_eq!(next_for(&mut h, v).await, "next: `!promote 3.6.0rc1 rc`");
    promote_version(&mut h, v, "rc", "rc release").await;
    let rc: Vec<Option<u64>> = (0..4).map(|i| Some(41900 + i)).collect();
    assert_eq!(revisions(&w, "3.6/candidate"), rc);
    assert_eq!(
        revisions(&w, "3.6/beta"),
        vec![None; 4],
        "the rc closed beta"
    );
    let t = h.say("!release-status 3.6.0rc1").await;
    let status = h.expect(&t, "next: ").await;
    assert!(
        status.contains("✓ beta: ppa:maas/3.6-next and 3.6/beta (moved on to rc)"),
        "{status}"
    );
    assert!(
        status.contains("next: `!milestone create maas 3.6 3.6.0-rc1`"),
        "{status}"
    );
    assert_eq!(
        w.lp.writes().copies.len(),
        1,
        "beta and rc share a PPA: one copy"
    );
    h.finish().await;
}
