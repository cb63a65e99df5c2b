//! The real serenity 0.12.5 client against the fake over loopback: its
//! gateway (READY, messages, edits, interactions, a RESUME after a
//! disconnect), its REST calls (messages with nonces, edits, threads, slash
//! commands, interaction responses), a 429 and a wrong token.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use serenity::all::{
    Context, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, EditInteractionResponse, EventHandler, GatewayError,
    GatewayIntents, Http, HttpBuilder, Interaction, Message, MessageUpdateEvent, Ready,
    ResumedEvent,
};
use serenity::client::ClientBuilder;
use serenity::http::HttpError;
use serenity::prelude::SerenityError;
use tokio::sync::mpsc;

use super::{FakeCommandInteraction, FakeDiscord, FakeUserMessage};

const TOKEN: &str = "fake-bot-token";
pub(super) const GUILD: u64 = 1_100;
pub(super) const CHANNEL: u64 = 1_101;
const ALICE: u64 = 4_242;
const ROLE: u64 = 1_777;
pub(super) const WAIT: Duration = Duration::from_secs(10);

/// What the event handler saw, in order.
#[derive(Debug)]
pub(super) enum Seen {
    Ready {
        user: u64,
    },
    Message {
        id: u64,
        content: String,
        bot: bool,
        roles: Vec<u64>,
    },
    Update {
        id: u64,
        content: Option<String>,
    },
    Interaction {
        id: u64,
        name: String,
    },
    Resumed,
}

/// Records every event; answers a slash command as an adapter would
/// (defer, fill in `@original`, one follow-up) through serenity's own calls.
struct Recorder(mpsc::UnboundedSender<Seen>);

#[serenity::async_trait]
impl EventHandler for Recorder {
    async fn ready(&self, _: Context, r: Ready) {
        let _ = self.0.send(Seen::Ready {
            user: r.user.id.get(),
        });
    }

    async fn message(&self, _: Context, m: Message) {
        let roles = m
            .member
            .map(|mb| mb.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        let (id, content, bot) = (m.id.get(), m.content, m.author.bot);
        let _ = self.0.send(Seen::Message {
            id,
            content,
            bot,
            roles,
        });
    }

    async fn message_update(
        &self,
        _: Context,
        _: Option<Message>,
        _: Option<Message>,
        e: MessageUpdateEvent,
    ) {
        let _ = self.0.send(Seen::Update {
            id: e.id.get(),
            content: e.content,
        });
    }

    async fn interaction_create(&self, ctx: Context, i: Interaction) {
        let Interaction::Command(cmd) = i else { return };
        let _ = self.0.send(Seen::Interaction {
            id: cmd.id.get(),
            name: cmd.data.name.clone(),
        });
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new());
        let answered = async {
            cmd.create_response(&ctx.http, defer).await?;
            cmd.edit_response(&ctx.http, EditInteractionResponse::new().content("done"))
                .await?;
            cmd.create_followup(
                &ctx.http,
                CreateInteractionResponseFollowup::new().content("more"),
            )
            .await
        };
        answered
            .await
            .expect("the fake takes serenity's interaction responses");
    }

    async fn resume(&self, _: Context, _: ResumedEvent) {
        let _ = self.0.send(Seen::Resumed);
    }
}

/// The next event `pick` accepts (skipping others), or a panic naming `what`.
pub(super) async fn next<T>(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    what: &str,
    pick: impl Fn(Seen) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(WAIT, async {
        while let Some(s) = rx.recv().await {
            if let Some(t) = pick(s) {
                return Some(t);
            }
        }
        None
    });
    match found.await {
        Ok(Some(t)) => t,
        _ => panic!("serenity never reported {what}"),
    }
}

pub(super) fn http_for(fake: &FakeDiscord, token: &str) -> Http {
    HttpBuilder::new(token)
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build()
}

fn intents() -> GatewayIntents {
    GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// The Discord error code and HTTP status of a failed serenity call.
pub(super) fn refusal<T: std::fmt::Debug>(r: serenity::Result<T>) -> (u16, isize) {
    match r {
        Err(SerenityError::Http(HttpError::UnsuccessfulRequest(e))) => {
            (e.status_code.as_u16(), e.error.code)
        }
        other => panic!("expected Discord to refuse, got {other:?}"),
    }
}

pub(super) fn alice_says(content: &str) -> FakeUserMessage {
    FakeUserMessage {
        author_id: ALICE,
        guild_id: Some(GUILD),
        channel_id: CHANNEL,
        role_ids: vec![ROLE],
        content: content.into(),
        ..FakeUserMessage::default()
    }
}

#[tokio::test]
async fn serenity_hears_the_gateway_resumes_and_its_calls_land() {
    let fake = FakeDiscord::start(TOKEN).await.expect("the fake starts");
    fake.add_text_channel(GUILD, CHANNEL, "releases");
    fake.set_heartbeat_interval(Duration::from_millis(300));
    // Sent before any client connects: delivered after READY.
    let early = fake.send_message(alice_says("!early"));

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut client = ClientBuilder::new_with_http(http_for(&fake, TOKEN), intents())
        .event_handler(Recorder(tx))
        .await
        .expect("the client builds");
    let http: Arc<Http> = client.http.clone();
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    let user = next(&mut rx, "READY", |s| match s {
        Seen::Ready { user } => Some(user),
        _ => None,
    })
    .await;
    assert_eq!(user, fake.bot_user_id());
    let (id, roles) = next(&mut rx, "the early message", |s| match s {
        Seen::Message { id, roles, .. } => Some((id, roles)),
        _ => None,
    })
    .await;
    assert_eq!((id, roles), (early, vec![ROLE]));

    let asked = fake.send_message(alice_says("!status 7"));
    let content = next(&mut rx, "a message", |s| match s {
        Seen::Message { id, content, .. } if id == asked => Some(content),
        _ => None,
    })
    .await;
    assert_eq!(content, "!status 7");
    fake.edit_user_message(CHANNEL, asked, "!status 8");
    let edited = next(&mut rx, "an edit", |s| match s {
        Seen::Update { id, content } if id == asked => content,
        _ => None,
    })
    .await;
    assert_eq!(edited, "!status 8");

    let interaction = fake.send_interaction(FakeCommandInteraction {
        user_id: ALICE,
        guild_id: Some(GUILD),
        channel_id: CHANNEL,
        role_ids: vec![ROLE],
        name: "status".into(),
        options: vec![("plan".into(), json!(7))],
        ..FakeCommandInteraction::default()
    });
    let name = next(&mut rx, "an interaction", |s| match s {
        Seen::Interaction { id, name } if id == interaction => Some(name),
        _ => None,
    })
    .await;
    assert_eq!(name, "status");
    fake.expect_within("the interaction's answers", WAIT, |f| {
        f.interaction_followups(interaction).len() == 1
    })
    .await;
    assert_eq!(fake.interaction_responses(interaction)[0]["type"], 5);
    let original = fake.interaction_original(interaction).expect("@original");
    assert_eq!((original.content.as_str(), original.flags), ("done", 0));

    // A dropped connection: serenity resumes, and what was sent meanwhile arrives.
    fake.disconnect();
    let meanwhile = fake.send_message(alice_says("!while-away"));
    // Discord replays the missed dispatches, then sends RESUMED.
    let replayed = next(&mut rx, "the message sent while away", |s| match s {
        Seen::Message { id, .. } if id == meanwhile => Some(true),
        Seen::Resumed => Some(false),
        _ => None,
    })
    .await;
    assert!(replayed, "the missed message comes before RESUMED");
    next(&mut rx, "RESUMED", |s| {
        matches!(s, Seen::Resumed).then_some(())
    })
    .await;
    let after = fake.send_message(alice_says("!after"));
    next(&mut rx, "a message after the resume", |s| match s {
        Seen::Message { id, .. } if id == after => Some(()),
        _ => None,
    })
    .await;
    let ops = fake.gateway_ops();
    assert_eq!(
        ops.iter().filter(|o| **o == 2).count(),
        1,
        "one IDENTIFY: {ops:?}"
    );
    let resumed_at = ops.iter().position(|o| *o == 6).expect("a RESUME");
    assert!(
        ops.iter().position(|o| *o == 2) < Some(resumed_at),
        "{ops:?}"
    );
    fake.expect_within("a heartbeat", WAIT, |f| f.gateway_ops().contains(&1))
        .await;
    assert_eq!(fake.gateway_connections(), 2);
    let identify = &fake.gateway_frames()[ops.iter().position(|o| *o == 2).unwrap_or(0)];
    assert_eq!(identify["d"]["intents"], intents().bits());

    super::e2e_rest::rest_calls_land(&fake, &http, &mut rx).await;

    shards.shutdown_all().await;
    running.abort();
}

#[tokio::test]
async fn a_wrong_token_gets_401_and_the_gateway_refuses_identify() {
    let fake = FakeDiscord::start(TOKEN).await.expect("the fake starts");
    fake.add_guild(GUILD);
    let wrong = http_for(&fake, "not-the-token");
    let refused = refusal(wrong.get_current_user().await);
    assert_eq!(refused, (401, 0));

    let mut client = ClientBuilder::new_with_http(http_for(&fake, "not-the-token"), intents())
        .await
        .expect("the client builds");
    let ended = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("the client gives up");
    assert!(
        matches!(
            ended,
            Err(SerenityError::Gateway(GatewayError::InvalidAuthentication))
        ),
        "{ended:?}"
    );
    assert_eq!(fake.gateway_ops(), [2], "one IDENTIFY, refused with 4004");
    let gateway = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v10/gateway");
    assert_eq!(
        gateway.map(|r| r.status),
        Some(200),
        "Get Gateway needs no token"
    );
}
