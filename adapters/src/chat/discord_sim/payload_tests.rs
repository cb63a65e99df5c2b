//! Every frame the fake sends on the gateway deserializes into the serenity
//! 0.12.5 type the client reads it as (REST answers: `rest_payload_tests.rs`).
//! serenity turns a dispatch it cannot read into `Event::Unknown` without a
//! word (an INTERACTION_CREATE missing `attachment_size_limit` never reaches
//! the handler), so a field it requires must not go missing silently: these
//! tests say which.

use serde_json::{json, Value};
use serenity::model::application::{CommandDataOptionValue, Interaction};
use serenity::model::channel::Message;
use serenity::model::event::{Event, GatewayEvent};
use serenity::model::gateway::Ready;
use tokio::sync::mpsc;

use super::gateway::{hello, on_frame};
use super::state::{ChannelDef, Inner, Outgoing};
use super::{FakeCommandInteraction, FakeUserMessage};

pub(super) const TOKEN: &str = "fake-token";
pub(super) const GUILD: u64 = 500;
pub(super) const CHANNEL: u64 = 501;
pub(super) const DM: u64 = 502;
pub(super) const ALICE: u64 = 4242;
pub(super) const ROLE: u64 = 777;

/// A fake with a guild, a text channel and a DM, identified on connection
/// 1 whose frames come out of the receiver.
pub(super) fn session() -> (Inner, mpsc::UnboundedReceiver<Outgoing>) {
    let mut st = Inner::new(TOKEN);
    st.guilds.insert(GUILD);
    st.channels.insert(
        CHANNEL,
        ChannelDef::Text {
            guild: GUILD,
            name: "releases".into(),
        },
    );
    st.channels.insert(DM, ChannelDef::Dm { user: ALICE });
    let (tx, rx) = mpsc::unbounded_channel();
    let identify = json!({"op": 2, "d": {"token": format!("Bot {TOKEN}"), "compress": true,
        "shard": [0, 1], "intents": 37376, "large_threshold": 250,
        "properties": {"os": "linux", "browser": "serenity", "device": "serenity"}}});
    on_frame(&mut st, 1, &tx, &identify.to_string());
    (st, rx)
}

pub(super) fn next_text(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> String {
    match rx.try_recv() {
        Ok(Outgoing::Text(t)) => t,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next frame as serenity's gateway reads it.
pub(super) fn next_event(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> GatewayEvent {
    let text = next_text(rx);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The next frame is a dispatch serenity understands (not `Unknown`).
pub(super) fn next_dispatch(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> (u64, Event) {
    match next_event(rx) {
        GatewayEvent::Dispatch(_, Event::Unknown(u)) => {
            panic!(
                "serenity could not read {} (a required field is missing?)",
                u.kind
            )
        }
        GatewayEvent::Dispatch(seq, e) => (seq, e),
        other => panic!("expected a dispatch, got {other:?}"),
    }
}

/// `d` of the next dispatch, read as `T` directly for a precise error.
pub(super) fn next_d<T: serde::de::DeserializeOwned>(
    rx: &mut mpsc::UnboundedReceiver<Outgoing>,
) -> T {
    let frame: Value = serde_json::from_str(&next_text(rx)).expect("JSON frame");
    serde_json::from_value(frame["d"].clone()).unwrap_or_else(|e| panic!("{e}: {}", frame["d"]))
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

#[test]
fn hello_ack_and_invalid_session_are_read_as_such() {
    let h: GatewayEvent = parse(hello(45_000));
    assert!(matches!(h, GatewayEvent::Hello(45_000)));
    let (mut st, mut rx) = session();
    next_text(&mut rx); // READY
    let (tx, mut rx2) = mpsc::unbounded_channel();
    on_frame(&mut st, 2, &tx, r#"{"op": 1, "d": 1}"#);
    assert!(matches!(next_event(&mut rx2), GatewayEvent::HeartbeatAck));
    on_frame(
        &mut st,
        2,
        &tx,
        r#"{"op": 6, "d": {"token": "fake-token", "session_id": "nope", "seq": 1}}"#,
    );
    assert!(matches!(
        next_event(&mut rx2),
        GatewayEvent::InvalidateSession(false)
    ));
}

#[test]
fn ready_is_a_ready() {
    let (st, mut rx) = session();
    let text = next_text(&mut rx);
    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
    let ready: Ready = parse(frame["d"].clone());
    assert_eq!(ready.version, 10);
    assert!(ready.user.bot);
    assert_eq!(ready.guilds.len(), 1);
    assert_eq!(ready.guilds[0].id.get(), GUILD);
    assert!(ready.resume_gateway_url.starts_with("ws://"));
    assert!(ready.shard.is_some(), "the shard IDENTIFY sent comes back");
    let event: GatewayEvent = serde_json::from_str(&text).expect("a gateway event");
    let GatewayEvent::Dispatch(1, Event::Ready(r)) = event else {
        panic!("not READY: {event:?}")
    };
    assert_eq!(r.ready.user.id.get(), st.bot.id);
    assert_eq!(r.ready.application.id.get(), st.app_id);
    assert_ne!(st.bot.id, st.app_id);
}

#[test]
fn a_guild_message_create_is_a_message_with_member_and_guild() {
    let (mut st, mut rx) = session();
    next_text(&mut rx);
    let id = st.inject_message(FakeUserMessage {
        channel_id: CHANNEL,
        guild_id: Some(GUILD),
        global_name: Some("Alice A.".into()),
        nick: Some("al".into()),
        role_ids: vec![ROLE],
        content: format!("<@{}> !status <@&{ROLE}>", st.bot.id),
        ..FakeUserMessage::default()
    });
    let (_, event) = next_dispatch(&mut rx);
    let Event::MessageCreate(e) = event else {
        panic!("not MESSAGE_CREATE: {event:?}")
    };
    let m = e.message;
    assert_eq!(m.id.get(), id);
    assert_eq!(m.guild_id.map(|g| g.get()), Some(GUILD));
    assert_eq!(m.author.id.get(), ALICE);
    assert_eq!(m.author.global_name.as_deref(), Some("Alice A."));
    assert!(!m.author.bot);
    assert_eq!(
        m.author.discriminator, None,
        "\"0\" reads as no discriminator"
    );
    let member = m.member.expect("a guild message carries member");
    assert_eq!(member.nick.as_deref(), Some("al"));
    assert_eq!(
        member.roles.iter().map(|r| r.get()).collect::<Vec<_>>(),
        [ROLE]
    );
    assert_eq!(m.mentions.len(), 1);
    assert!(m.mentions[0].bot, "the bot's mention carries the bot user");
    assert_eq!(m.mention_roles.len(), 1);
}

#[test]
fn a_dm_and_a_member_less_message_have_no_member() {
    let (mut st, mut rx) = session();
    next_text(&mut rx);
    st.inject_message(FakeUserMessage {
        channel_id: DM,
        content: "hi".into(),
        ..FakeUserMessage::default()
    });
    let m: Message = next_d(&mut rx);
    assert!(m.guild_id.is_none() && m.member.is_none());
    st.inject_message(FakeUserMessage {
        channel_id: CHANNEL,
        guild_id: Some(GUILD),
        omit_member: true,
        bot: true,
        ..FakeUserMessage::default()
    });
    let m: Message = next_d(&mut rx);
    assert_eq!(m.guild_id.map(|g| g.get()), Some(GUILD));
    assert!(m.member.is_none() && m.author.bot && m.content.is_empty());
}

#[test]
fn replies_edits_and_thread_starts_read_as_messages_and_updates() {
    let (mut st, mut rx) = session();
    next_text(&mut rx);
    let first = st.inject_message(FakeUserMessage {
        channel_id: CHANNEL,
        guild_id: Some(GUILD),
        content: "one".into(),
        ..FakeUserMessage::default()
    });
    next_text(&mut rx);
    st.inject_message(FakeUserMessage {
        channel_id: CHANNEL,
        reply_to: Some(first),
        content: "two".into(),
        ..FakeUserMessage::default()
    });
    let reply: Message = next_d(&mut rx);
    assert_eq!(
        reply
            .referenced_message
            .expect("the replied-to message")
            .id
            .get(),
        first
    );
    st.inject_edit(CHANNEL, first, "one, edited");
    let (_, event) = next_dispatch(&mut rx);
    let Event::MessageUpdate(u) = event else {
        panic!("not MESSAGE_UPDATE: {event:?}")
    };
    assert_eq!(u.content.as_deref(), Some("one, edited"));
    assert!(u.edited_timestamp.is_some());
    super::channels::create_thread(&mut st, CHANNEL, first, &json!({"name": "t"}));
    let update: Value = serde_json::from_str(&next_text(&mut rx)).expect("JSON");
    assert_eq!(update["t"], "MESSAGE_UPDATE");
    let m: Message = parse(update["d"].clone());
    assert_eq!(m.thread.expect("the new thread").id.get(), first);
}

#[test]
fn interactions_are_command_interactions_in_guilds_and_dms() {
    let (mut st, mut rx) = session();
    next_text(&mut rx);
    let id = st.inject_interaction(FakeCommandInteraction {
        guild_id: Some(GUILD),
        channel_id: CHANNEL,
        role_ids: vec![ROLE],
        name: "status".into(),
        options: vec![
            ("plan".into(), json!(7)),
            ("verbose".into(), json!(true)),
            ("series".into(), json!("noble")),
        ],
        ..FakeCommandInteraction::default()
    });
    let (_, event) = next_dispatch(&mut rx);
    let Event::InteractionCreate(e) = event else {
        panic!("not INTERACTION_CREATE: {event:?}")
    };
    let Interaction::Command(c) = e.interaction else {
        panic!("not a command interaction")
    };
    assert_eq!(c.id.get(), id);
    assert_eq!(c.application_id.get(), st.app_id);
    assert_eq!(c.data.name, "status");
    assert_eq!(c.data.options[0].value, CommandDataOptionValue::Integer(7));
    assert_eq!(
        c.data.options[1].value,
        CommandDataOptionValue::Boolean(true)
    );
    assert_eq!(
        c.data.options[2].value,
        CommandDataOptionValue::String("noble".into())
    );
    assert_eq!(
        c.user.id.get(),
        ALICE,
        "serenity copies member.user into user"
    );
    let member = c.member.expect("a guild interaction has member");
    assert_eq!(
        member.roles.iter().map(|r| r.get()).collect::<Vec<_>>(),
        [ROLE]
    );
    assert_eq!(c.guild_id.map(|g| g.get()), Some(GUILD));

    st.inject_interaction(FakeCommandInteraction {
        channel_id: DM,
        name: "help".into(),
        ..FakeCommandInteraction::default()
    });
    let Interaction::Command(c) = next_d::<Interaction>(&mut rx) else {
        panic!("not a command interaction")
    };
    assert!(c.member.is_none() && c.guild_id.is_none());
    assert_eq!(c.user.id.get(), ALICE);
}

#[test]
fn resumed_is_read_as_resumed() {
    let (mut st, mut rx) = session();
    next_text(&mut rx);
    let session_id = st.gateway.session_id.clone().expect("identified");
    let (tx, mut rx2) = mpsc::unbounded_channel();
    let resume = json!({"op": 6, "d": {"token": format!("Bot {TOKEN}"), "session_id": session_id, "seq": 1}});
    on_frame(&mut st, 2, &tx, &resume.to_string());
    let (seq, event) = next_dispatch(&mut rx2);
    assert!(matches!(event, Event::Resumed(_)), "{event:?}");
    assert_eq!(seq, 2);
}

#[test]
fn a_new_session_gets_what_the_old_one_never_delivered() {
    let (mut st, mut rx) = session();
    next_text(&mut rx); // READY
    st.disconnect();
    assert!(matches!(rx.try_recv(), Ok(Outgoing::Close(4000, _))));
    let id = st.inject_message(FakeUserMessage {
        channel_id: DM,
        content: "while nobody listened".into(),
        ..FakeUserMessage::default()
    });
    // The client gives up on the session and identifies afresh.
    let (tx, mut rx2) = mpsc::unbounded_channel();
    let identify = json!({"op": 2, "d": {"token": TOKEN, "intents": 0}});
    on_frame(&mut st, 2, &tx, &identify.to_string());
    let (seq, ready) = next_dispatch(&mut rx2);
    assert!(matches!(ready, Event::Ready(_)) && seq == 1);
    let (seq, event) = next_dispatch(&mut rx2);
    let Event::MessageCreate(m) = event else {
        panic!("not MESSAGE_CREATE: {event:?}")
    };
    assert_eq!((seq, m.message.id.get()), (2, id));
    assert!(rx2.try_recv().is_err(), "nothing else");
}
