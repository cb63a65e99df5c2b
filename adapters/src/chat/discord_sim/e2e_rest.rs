//! The REST half of the end-to-end test in `e2e_tests.rs`, through the
//! running client's own `Http`: the bot's user and application, a message
//! posted twice with one enforced nonce, an edit, a thread from a person's
//! message (and the refusal of a second), channel lookups, slash commands,
//! and a 429.

use std::sync::Arc;

use serenity::all::{
    ChannelId, ChannelType, CreateAllowedMentions, CreateCommand, CreateMessage, CreateThread,
    EditMessage, GuildId, Http, MessageId, Nonce,
};
use tokio::sync::mpsc;

use super::e2e_tests::{alice_says, next, refusal, Seen, CHANNEL, GUILD};
use super::FakeDiscord;

/// The REST half, through the client's own `Http`.
pub(super) async fn rest_calls_land(
    fake: &FakeDiscord,
    http: &Arc<Http>,
    rx: &mut mpsc::UnboundedReceiver<Seen>,
) {
    let me = http.get_current_user().await.expect("GET /users/@me");
    assert_eq!(me.id.get(), fake.bot_user_id());
    let app = http
        .get_current_application_info()
        .await
        .expect("GET /oauth2/applications/@me");
    assert_eq!(app.id.get(), fake.application_id());

    let channel = ChannelId::new(CHANNEL);
    let post = || {
        CreateMessage::new()
            .content("Plan 7 done")
            .nonce(Nonce::String("plan7step1".into()))
            .enforce_nonce(true)
            .allowed_mentions(CreateAllowedMentions::new())
    };
    let first = channel.send_message(http, post()).await.expect("a message");
    let again = channel
        .send_message(http, post())
        .await
        .expect("the same message");
    assert_eq!(first.id, again.id, "the nonce is enforced");
    let own = fake.bot_messages(CHANNEL);
    let posted: Vec<_> = own
        .iter()
        .filter(|m| m.nonce.as_deref() == Some("plan7step1"))
        .collect();
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0].allowed_mentions.is_some(),
        "allowed_mentions recorded"
    );
    // Discord echoes the bot's own message back, as a bot's handler must expect.
    let bot = next(rx, "the echo of the bot's message", |s| match s {
        Seen::Message { id, bot, .. } if id == first.id.get() => Some(bot),
        _ => None,
    })
    .await;
    assert!(bot);

    channel
        .edit_message(
            http,
            first.id,
            EditMessage::new().content("Plan 7 done (3 steps)"),
        )
        .await
        .expect("an edit");
    let edited = fake
        .bot_messages(CHANNEL)
        .into_iter()
        .find(|m| m.id == first.id.get());
    assert_eq!(
        edited.map(|m| m.edits),
        Some(vec!["Plan 7 done (3 steps)".to_string()])
    );

    let starter = fake.send_message(alice_says("!release"));
    let thread = channel
        .create_thread_from_message(http, MessageId::new(starter), CreateThread::new("release"))
        .await
        .expect("a thread");
    assert_eq!(
        (thread.id.get(), thread.kind),
        (starter, ChannelType::PublicThread)
    );
    assert_eq!(fake.threads(), [(CHANNEL, starter)]);
    let twice = channel
        .create_thread_from_message(http, MessageId::new(starter), CreateThread::new("again"))
        .await;
    assert_eq!(refusal(twice), (400, 160_004));
    thread
        .id
        .say(http, "in the thread")
        .await
        .expect("a message in the thread");
    assert_eq!(fake.bot_messages(starter).len(), 1);
    let got = http
        .get_channel(thread.id)
        .await
        .expect("GET /channels/{thread}");
    assert_eq!(got.guild().map(|g| g.parent_id), Some(Some(channel)));
    assert_eq!(
        refusal(http.get_channel(ChannelId::new(9)).await),
        (404, 10_003)
    );

    let commands = vec![CreateCommand::new("status").description("Plan status")];
    let set = GuildId::new(GUILD)
        .set_commands(http, commands)
        .await
        .expect("PUT commands");
    assert_eq!(set.len(), 1);
    assert_eq!(fake.guild_commands(GUILD)[0]["name"], "status");

    fake.rate_limit_next(1);
    let limited = channel.say(http, "too fast").await;
    // No `code` in a 429's body: serenity reports -1 ("could not decode").
    assert_eq!(refusal(limited), (429, -1));
    assert_eq!(fake.rate_limited_count(), 1);
    channel
        .say(http, "slower")
        .await
        .expect("the limit has passed");
    let last = fake.requests().pop().expect("a request");
    assert_eq!((last.method.as_str(), last.status), ("POST", 200));
}
