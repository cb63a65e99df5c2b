//! Release-engineer sessions over the console, against the whole bot:
//! help, mistakes, refusals, dry runs, confirmation, cancellation, audit.

use shepherd::events::Event;
use shepherd_adapters::chat::Incoming;
use shepherd_tests::{config_text, load_config, temp_store, Harness};

async fn bot() -> (tempfile::TempDir, Harness) {
    let (dir, path) = temp_store();
    let h = Harness::start(&load_config(&config_text(&path)), None).await;
    (dir, h)
}

#[tokio::test]
async fn help_is_generated_and_jobs_starts_empty() {
    let (_d, mut h) = bot().await;
    let help = h.ask("!help", "!announce CHANNEL TEXT").await;
    for usage in [
        "!help [COMMAND]",
        "!jobs [N]",
        "!show PLAN",
        "!confirm PLAN",
        "!cancel PLAN",
        "!audit [N]",
    ] {
        assert!(help.contains(usage), "help lists {usage}:\n{help}");
    }
    assert!(help.contains("[needs release-team, writes]"), "{help}");
    let detail = h.ask("!help announce", "examples:").await;
    assert!(detail.contains("--also V (repeatable)"), "{detail}");
    assert!(
        detail.contains("--dry-run: show the plan and stop"),
        "{detail}"
    );
    h.ask("!jobs", "no plans yet").await;
    h.ask("!help nope", "no command !nope").await;
}

#[tokio::test]
async fn mistakes_get_one_line_and_a_suggestion() {
    let (_d, mut h) = bot().await;
    let t = h.say("!show").await;
    let reply = h.expect(&t, "usage: !show PLAN").await;
    assert_eq!(reply.lines().count(), 1, "{reply}");
    h.ask("!jbos", "no command !jbos — did you mean !jobs?")
        .await;
    h.ask("!announce #x 'oops", "unterminated quote").await;
    h.ask("!show 99", "there is no plan #99").await;
    h.ask("!jobs 0", "N must be a number from 1 to 50").await;
    // Plain chat and quoted commands get no answer at all.
    h.say("morning all, `!announce #x hi` is how you announce")
        .await;
    h.say("> !announce #x hi").await;
    let t = h.say("!jobs").await;
    h.expect(&t, "no plans yet").await;
    assert!(
        h.text("t6").is_empty() && h.text("t7").is_empty(),
        "{}",
        h.transcript()
    );
}

#[tokio::test]
async fn refusal_says_who_to_ask_and_is_audited() {
    let (_d, mut h) = bot().await;
    let reply = h
        .ask(
            "bob> !announce #release hello",
            "you need the release-team role",
        )
        .await;
    assert!(
        reply.contains("ask in #release; release-team: alice, carol"),
        "{reply}"
    );
    let audit = h.ask("!audit", "audit").await;
    assert!(audit.contains("console:bob in #release · !announce #release hello → refused (needs role release-team)"), "{audit}");
    h.ask("!jobs", "no plans yet").await;
}

#[tokio::test]
async fn dry_run_shows_the_plan_and_sends_nothing() {
    let (_d, mut h) = bot().await;
    let t = h.say("!announce #a hello --also #b --dry-run").await;
    let reply = h
        .expect(&t, "plan #1 (dry run, nothing sent) — 2 steps")
        .await;
    assert!(
        reply.contains("· announce in #a: hello") && reply.contains("· announce in #b: hello"),
        "{reply}"
    );
    h.ask("!jobs", "#1 !announce · dry-run 0/2").await;
    let transcript = h.finish().await;
    assert!(
        !transcript.contains("[#a]"),
        "nothing posted:\n{transcript}"
    );
}

#[tokio::test]
async fn a_plan_runs_and_reports_in_its_thread() {
    let (_d, mut h) = bot().await;
    let t = h
        .say("!announce #ubuntu-release 'freeze at 18:00 UTC'")
        .await;
    h.expect(&t, "plan #1 · 1 step queued ✓").await;
    h.expect(&t, "— done ✓").await;
    h.expect("#ubuntu-release", "freeze at 18:00 UTC").await;
    let show = h.ask("!show 1", "1. ✓ announce in #ubuntu-release").await;
    assert!(show.contains("→ posted to #ubuntu-release"), "{show}");
    let audit = h.ask("!audit", "→ done").await;
    assert!(audit.contains("plan #1 → queued"), "{audit}");
}

#[tokio::test]
async fn big_plans_wait_for_a_permitted_confirm() {
    let (_d, mut h) = bot().await;
    let t = h.say("!announce #a hi --also #b --also #c").await;
    let parked = h
        .expect(&t, "`!confirm 1` (release-team) · `!cancel 1`")
        .await;
    assert!(
        parked.contains("plan #1 needs confirmation (3 steps, more than 2) — expires in 10 min"),
        "{parked}"
    );
    h.ask(
        "bob> !confirm 1",
        "you need the release-team role for !confirm",
    )
    .await;
    h.ask("!jobs", "awaiting-confirmation 0/3").await;
    h.ask(
        "carol> !confirm #1",
        "plan #1 confirmed by carol · 3 steps queued ✓",
    )
    .await;
    h.expect(&t, "plan #1 · ▰▰▰ 3/3 — done ✓").await;
    h.ask("!confirm 1", "plan #1 is done; there is nothing to confirm")
        .await;
    for c in ["#a", "#b", "#c"] {
        assert_eq!(h.text(c), "hi");
    }
}

#[tokio::test]
async fn cancel_skips_the_parked_plan_and_only_for_permitted_people() {
    let (_d, mut h) = bot().await;
    h.ask("!announce #a hi --also #b --also #c", "needs confirmation")
        .await;
    h.ask(
        "bob> !cancel 1",
        "you need the release-team role for !cancel",
    )
    .await;
    h.ask("!cancel 1", "plan #1 cancelled").await;
    h.ask("carol> !confirm 1", "plan #1 is cancelled").await;
    let show = h.ask("!show 1", "plan #1").await;
    assert_eq!(
        show.matches("– announce").count(),
        3,
        "all steps skipped:\n{show}"
    );
    let audit = h.ask("!audit 3", "cancelled").await;
    assert!(
        audit.contains("console:bob in #release · !cancel 1 plan #1 → refused"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_redelivered_message_makes_one_plan() {
    let (_d, h) = bot().await;
    let msg = Incoming {
        actor: "console:alice".into(),
        display_name: "alice".into(),
        channel: "#release".into(),
        thread: "t-redelivered".into(),
        message_id: "msg-42".into(),
        text: "!announce #once hello".into(),
        conversation: "#release".into(),
        groups: Vec::new(),
        direct: false,
    };
    h.bot.dispatcher.handle(Event::Chat(msg.clone())).await;
    h.bot.dispatcher.handle(Event::Chat(msg)).await;
    h.expect("t-redelivered", "that request is already plan #1")
        .await;
    let transcript = h.finish().await;
    assert_eq!(
        transcript.matches("[#once] hello").count(),
        1,
        "{transcript}"
    );
}

#[tokio::test]
async fn channel_limits_from_config_are_enforced() {
    let (_d, path) = temp_store();
    let text =
        config_text(&path) + "\n[commands.announce]\nchannels = [\"#release\"]\nconfirm = true\n";
    let mut h = Harness::start(&shepherd_tests::load_config(&text), None).await;
    h.ask(
        "#random !announce #x hi",
        "!announce is only available in #release",
    )
    .await;
    // confirm = true parks even a one-step plan.
    h.ask(
        "!announce #x hi",
        "plan #1 needs confirmation (!announce always asks here)",
    )
    .await;
}
