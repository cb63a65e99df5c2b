//! The bot on Discord: the real serenity client against a fake Discord
//! (REST and gateway on loopback), the real store, dispatcher and executor.
//! A person's message arrives on the gateway; what the bot does is read
//! back from the fake's REST side.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shepherd::chat::{connect, Connected};
use shepherd::runtime::{self, Running};
use shepherd_adapters::chat::discord_sim::{FakeCommandInteraction, FakeDiscord, FakeUserMessage};
use shepherd_adapters::chat::ChatError;
use shepherd_tests::{load_config, temp_store, PATIENCE};

const TOKEN: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.fake-token";
const GUILD: u64 = 1;
const RELEASE: u64 = 10;
const OPS: u64 = 11;
/// The Discord role that holds release-team.
const RELEASERS: u64 = 7;

struct Bot {
    fake: FakeDiscord,
    running: Arc<Running>,
    _dir: tempfile::TempDir,
}

fn config_text(fake: &FakeDiscord, store: &std::path::Path, extra: &str) -> String {
    format!(
        r##"
[store]
path = "{store}"

[chat]
adapter = "discord"

[chat.discord]
token = "{TOKEN}"
guilds = [{GUILD}]
api_url = "{api}"
pace_ms = 50

[chat.discord.channels]
"#release" = {RELEASE}
"#ops" = {OPS}

[executor]
poll_interval_ms = 20
backoff_base_ms = 20
backoff_cap_ms = 100

[roles.release-team]
members = ["discord-role:{RELEASERS}"]
ask = "#release"
{extra}
"##,
        store = store.display(),
        api = fake.api_base(),
    )
}

async fn start(extra: &str) -> Bot {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    fake.add_text_channel(GUILD, RELEASE, "release");
    fake.add_text_channel(GUILD, OPS, "ops");
    let (dir, path) = temp_store();
    let config = load_config(&config_text(&fake, &path, extra));
    let chat = connect(&config).await.expect("connects");
    let running = Arc::new(
        runtime::start_with(
            &config,
            chat.chat(),
            None,
            runtime::Extras {
                store: match shepherd_tests::on_postgres() {
                    true => Some(shepherd_tests::open_store(&path).await),
                    false => None,
                },
                ..Default::default()
            },
        )
        .await
        .expect("bot starts"),
    );
    let serving = running.clone();
    tokio::spawn(async move { serving.serve_chat(true).await });
    // The gateway is up once the client has identified.
    fake.expect_within("IDENTIFY", PATIENCE, |f| f.gateway_ops().contains(&2))
        .await;
    Bot {
        fake,
        running,
        _dir: dir,
    }
}

fn said(content: &str, roles: &[u64]) -> FakeUserMessage {
    FakeUserMessage {
        author_id: 4242,
        username: "alice".into(),
        guild_id: Some(GUILD),
        channel_id: RELEASE,
        role_ids: roles.to_vec(),
        content: content.into(),
        ..FakeUserMessage::default()
    }
}

impl Bot {
    /// The bot's `/metrics` page.
    async fn metrics(&self) -> String {
        let addr = self.running.webhook_addr.expect("HTTP server");
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("a body")
    }

    /// The bot's messages in `channel` (a thread's id is its request's).
    fn said_in(&self, channel: u64) -> Vec<String> {
        self.fake
            .bot_messages(channel)
            .into_iter()
            .map(|m| m.content)
            .collect()
    }

    async fn expect(&self, channel: u64, needle: &str) -> String {
        let found = |f: &FakeDiscord| {
            f.bot_messages(channel)
                .iter()
                .any(|m| m.content.contains(needle) || m.edits.iter().any(|e| e.contains(needle)))
        };
        self.fake
            .expect_within(&format!("`{needle}` in {channel}"), PATIENCE, found)
            .await;
        self.said_in(channel).join("\n")
    }
}

#[tokio::test]
async fn the_calls_made_while_connecting_are_counted_once_the_bot_runs() {
    let bot = start("[webhook]\nlisten = \"127.0.0.1:0\"\n").await;
    let metrics = bot.metrics().await;
    // The token check, the application, the guild's slash commands: made
    // before the runtime existed. serenity's own gateway lookup when the
    // gateway starts is its business (`GET /gateway`), not one of our calls.
    let ours: Vec<String> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| !r.path.ends_with("/gateway"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(ours.len(), 3, "{ours:?}");
    let counted = shepherd_tests::metric(
        &metrics,
        r#"shepherd_external_requests_total{service="discord",status="2xx"}"#,
    );
    assert_eq!(counted, Some(ours.len() as f64), "{ours:?}\n{metrics}");
}

#[tokio::test]
async fn a_message_becomes_a_plan_answered_in_a_thread_started_from_it() {
    let bot = start("[webhook]\nlisten = \"127.0.0.1:0\"\n").await;
    let mid = bot
        .fake
        .send_message(said("!announce #ops the archive is open", &[RELEASERS]));
    let reply = bot.expect(mid, "plan #1").await;
    assert!(
        bot.fake.threads().contains(&(RELEASE, mid)),
        "{:?}",
        bot.fake.threads()
    );
    bot.expect(OPS, "the archive is open").await;
    // Nothing the bot sends can ping anyone.
    for m in bot
        .fake
        .bot_messages(mid)
        .iter()
        .chain(&bot.fake.bot_messages(OPS))
    {
        let none = json!({"parse": [], "roles": [], "users": []});
        assert_eq!(m.allowed_mentions, Some(none), "{reply}");
    }
    // The announcement carried its step's nonce, enforced.
    let posted = &bot.fake.bot_messages(OPS)[0];
    assert!(posted.nonce.is_some());
    let sent = bot.fake.requests();
    let body = sent
        .iter()
        .find(|r| r.path.ends_with(&format!("/channels/{OPS}/messages")))
        .and_then(|r| r.body.clone())
        .expect("announcement request");
    assert_eq!(body["enforce_nonce"], true);
    // Discord's requests (serenity's own client) count in /metrics too:
    // the reply, its thread, the announcement at least.
    let metrics = bot.metrics().await;
    let ok = shepherd_tests::metric(
        &metrics,
        r#"shepherd_external_requests_total{service="discord",status="2xx"}"#,
    );
    assert!(ok.is_some_and(|n| n >= 3.0), "{metrics}");
    // Every command the registry knows was registered as a slash command.
    let names: Vec<String> = bot
        .fake
        .guild_commands(GUILD)
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    for expected in ["retry", "why", "announce", "help", "promote", "bugs"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[tokio::test]
async fn edits_and_bots_never_run_commands() {
    let bot = start("").await;
    let mid = bot.fake.send_message(said("good morning", &[RELEASERS]));
    bot.fake
        .edit_user_message(RELEASE, mid, "!announce #ops edited into a command");
    let mut from_bot = said("!announce #ops from another bot", &[RELEASERS]);
    from_bot.bot = true;
    from_bot.author_id = 5;
    let other = bot.fake.send_message(from_bot);
    // A real command after them is answered, so the ones before were read.
    let last = bot.fake.send_message(said("!jobs", &[]));
    bot.expect(last, "").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        bot.said_in(mid).is_empty(),
        "an edit ran: {:?}",
        bot.said_in(mid)
    );
    assert!(bot.said_in(other).is_empty(), "a bot was answered");
    assert!(bot.said_in(OPS).is_empty(), "something was announced");
    assert_eq!(bot.fake.threads().len(), 1, "{:?}", bot.fake.threads());
}

#[tokio::test]
async fn a_role_gated_command_needs_the_discord_role() {
    let bot = start("").await;
    let without = bot.fake.send_message(said("!announce #ops not yet", &[8]));
    let refusal = bot.expect(without, "you need the release-team role").await;
    assert!(
        refusal.contains("<@&7>"),
        "the refusal names the role: {refusal}"
    );
    let with = bot
        .fake
        .send_message(said("!announce #ops now", &[8, RELEASERS]));
    bot.expect(with, "plan #1").await;
    bot.expect(OPS, "now").await;
    assert!(!bot.said_in(OPS).iter().any(|m| m.contains("not yet")));
}

#[tokio::test]
async fn a_slash_command_and_its_bang_form_make_the_same_plan() {
    let bot = start("").await;
    let bang = bot
        .fake
        .send_message(said("!announce #ops same plan --dry-run", &[RELEASERS]));
    let by_bang = bot.expect(bang, "dry run").await;
    let id = bot.fake.send_interaction(FakeCommandInteraction {
        user_id: 4242,
        username: "alice".into(),
        guild_id: Some(GUILD),
        channel_id: RELEASE,
        role_ids: vec![RELEASERS],
        name: "announce".into(),
        options: vec![
            ("channel".into(), json!("#ops")),
            ("text".into(), json!("same plan")),
            ("dry-run".into(), json!(true)),
        ],
        ..FakeCommandInteraction::default()
    });
    // Deferred, then the original response shows the command; the reply
    // is in a thread started from it.
    let original = {
        let f = bot.fake.clone();
        bot.fake
            .expect_within("the interaction's original response", PATIENCE, |_| {
                f.interaction_original(id)
                    .is_some_and(|m| !m.content.is_empty())
            })
            .await;
        bot.fake.interaction_original(id).expect("original")
    };
    assert_eq!(bot.fake.interaction_responses(id)[0]["type"], 5);
    assert_eq!(original.content, "`!announce #ops same plan --dry-run`");
    let by_slash = bot.expect(original.id, "dry run").await;
    assert!(by_bang.starts_with("plan #1 (dry run"), "{by_bang}");
    assert_eq!(
        by_bang.replace("plan #1", "plan #2"),
        by_slash,
        "the same plan, in the same words"
    );
}

#[tokio::test]
async fn commands_past_the_flood_limit_get_one_answer() {
    let bot = start("").await;
    let ids: Vec<u64> = (0..13)
        .map(|_| bot.fake.send_message(said("!jobs", &[])))
        .collect();
    // serenity hands each event to its own task: messages sent in the same
    // millisecond may be taken in either order, so count, don't index.
    let slow = "slow down, alice — more than 10 commands in a minute";
    let told = |f: &FakeDiscord| {
        ids.iter()
            .filter(|id| {
                f.bot_messages(**id)
                    .iter()
                    .any(|m| m.content.contains(slow))
            })
            .count()
    };
    bot.fake
        .expect_within("the slow-down answer", PATIENCE, |f| told(f) == 1)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered = ids
        .iter()
        .filter(|id| !bot.said_in(**id).is_empty())
        .count();
    assert_eq!(answered, 11, "10 answers and one slow-down, then silence");
    assert_eq!(told(&bot.fake), 1, "told once");
}

#[tokio::test]
async fn the_bot_resumes_after_a_disconnect_and_survives_429s() {
    let bot = start("").await;
    bot.fake.disconnect();
    let mid = bot.fake.send_message(said("!jobs", &[]));
    bot.expect(mid, "").await;
    assert!(
        bot.fake.gateway_ops().contains(&6),
        "RESUME: {:?}",
        bot.fake.gateway_ops()
    );
    bot.fake.rate_limit_next(2);
    let later = bot.fake.send_message(said("!help why", &[]));
    bot.expect(later, "!why").await;
    assert_eq!(bot.fake.rate_limited_count(), 2);
}

#[tokio::test]
async fn a_refused_token_is_a_clear_error_at_connect() {
    let fake = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    let (_dir, path) = temp_store();
    let text = config_text(&fake, &path, "").replace(TOKEN, "not-the-token");
    let config = load_config(&text);
    let err = match connect(&config).await {
        Err(e) => e,
        Ok(Connected::Console(_)) | Ok(_) => panic!("a bad token connected"),
    };
    assert!(matches!(err, ChatError::Unauthorized(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("SHEPHERD_DISCORD_TOKEN"), "{text}");
    assert!(
        !text.contains("not-the-token"),
        "the token is never echoed: {text}"
    );
    assert_eq!(
        fake.gateway_connections(),
        0,
        "no gateway without a valid token"
    );
}

#[tokio::test]
async fn direct_messages_are_answered_in_place_and_follow_the_policy() {
    let bot = start("[commands.announce]\ndm = false\n").await;
    const DM: u64 = 77;
    let dm = |content: &str| FakeUserMessage {
        author_id: 4242,
        username: "alice".into(),
        guild_id: None,
        channel_id: DM,
        content: content.into(),
        ..FakeUserMessage::default()
    };
    bot.fake.send_message(dm("!announce #ops from a DM"));
    bot.expect(
        DM,
        "!announce is not available in direct messages — ask in #release",
    )
    .await;
    bot.fake.send_message(dm("!help why"));
    bot.expect(DM, "!why").await;
    assert!(bot.fake.threads().is_empty(), "no threads in a DM");
    assert!(bot.said_in(OPS).is_empty());
}

#[tokio::test]
async fn other_guilds_are_ignored_and_dms_explain_missing_roles() {
    let bot = start("").await;
    let mut elsewhere = said("!help", &[RELEASERS]);
    elsewhere.guild_id = Some(99);
    elsewhere.channel_id = 990;
    let ignored = bot.fake.send_message(elsewhere);
    // Someone holding release-team through a Discord role, in a DM: Discord
    // sends no roles there, and the refusal says why.
    const DM: u64 = 78;
    bot.fake.send_message(FakeUserMessage {
        author_id: 4242,
        username: "alice".into(),
        guild_id: None,
        channel_id: DM,
        content: "!announce #ops from a DM".into(),
        ..FakeUserMessage::default()
    });
    let reply = bot.expect(DM, "you need the release-team role").await;
    assert!(reply.contains("cannot see your server roles"), "{reply}");
    assert!(bot.said_in(ignored).is_empty() && bot.said_in(990).is_empty());
}

#[tokio::test]
async fn a_plan_kept_out_of_dms_cannot_be_confirmed_from_one() {
    let bot = start("[commands.announce]\ndm = false\nconfirm = true\n").await;
    let asked = bot
        .fake
        .send_message(said("!announce #ops needs a yes", &[RELEASERS]));
    bot.expect(asked, "!confirm 1").await;
    const DM: u64 = 79;
    let mut from_dm = said("!confirm 1", &[RELEASERS]);
    from_dm.guild_id = None;
    from_dm.channel_id = DM;
    bot.fake.send_message(from_dm);
    bot.expect(DM, "!confirm is not available in direct messages")
        .await;
    let confirm = bot.fake.send_message(said("!confirm 1", &[RELEASERS]));
    bot.expect(confirm, "plan #1 confirmed").await;
    bot.expect(OPS, "needs a yes").await;
}

/// One replica of two sharing PostgreSQL: its chat on standby until it
/// leads the gateway.
async fn replica(
    fake: &FakeDiscord,
    path: &std::path::Path,
    db: &str,
    name: &str,
) -> (Arc<Running>, Connected, tokio::task::JoinHandle<()>) {
    let text = config_text(fake, path, "").replace(
        "[store]\n",
        &format!("[store]\nurl = \"{db}\"\nreplica = \"{name}\"\nlease_secs = 1\n"),
    );
    let config = load_config(&text);
    let chat = connect(&config).await.expect("connects");
    let running = Arc::new(
        runtime::start(&config, chat.chat(), None)
            .await
            .expect("bot starts"),
    );
    let leading = chat
        .follow_leadership(&running.store, running.shutdown_token())
        .expect("Discord on PostgreSQL follows the lead");
    let serving = running.clone();
    tokio::spawn(async move { serving.serve_chat(true).await });
    (running, chat, leading)
}

fn identifies(f: &FakeDiscord) -> usize {
    f.gateway_ops().iter().filter(|op| **op == 2).count()
}

#[tokio::test]
async fn replicas_hold_one_gateway_between_them_and_hand_it_over() {
    let Some(db) = shepherd::store::testing::fresh_postgres_database().await else {
        return;
    };
    let fake = FakeDiscord::start(TOKEN).await.expect("fake Discord");
    fake.add_text_channel(GUILD, RELEASE, "release");
    fake.add_text_channel(GUILD, OPS, "ops");
    let (_dir, path) = temp_store();
    let (first, first_chat, first_lead) = replica(&fake, &path, &db, "r1").await;
    fake.expect_within("IDENTIFY", PATIENCE, |f| identifies(f) == 1)
        .await;
    let (_second, _second_chat, _second_lead) = replica(&fake, &path, &db, "r2").await;
    // Past a lead check of the second: still one gateway, one answer.
    tokio::time::sleep(shepherd::chat::LEAD_CHECK + Duration::from_millis(500)).await;
    assert_eq!(identifies(&fake), 1, "one gateway for two replicas");
    let bot = Bot {
        fake,
        running: first.clone(),
        _dir: tempfile::tempdir().unwrap(),
    };
    let mid = bot
        .fake
        .send_message(said("!announce #ops one", &[RELEASERS]));
    bot.expect(mid, "plan #1").await;
    // The leader stops: the other takes the gateway over.
    first.stop().await;
    let _ = first_lead.await;
    first_chat.close().await;
    bot.fake
        .expect_within("the second IDENTIFY", PATIENCE, |f| identifies(f) == 2)
        .await;
    let mid = bot
        .fake
        .send_message(said("!announce #ops two", &[RELEASERS]));
    bot.expect(mid, "plan #2").await;
    bot.expect(OPS, "two").await;
}
