//! The REST half of `payload_tests.rs`: every object the fake answers a
//! request with (messages, channels, threads, the bot's user and
//! application, commands, interaction responses, errors) reads as the
//! serenity 0.12.5 type `Http` decodes it into.

use serde_json::json;
use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{Command, CommandOptionType, CurrentApplicationInfo};
use serenity::model::channel::{Channel, ChannelType, GuildChannel, Message};
use serenity::model::user::CurrentUser;

use super::payload_tests::{parse, session, ALICE, CHANNEL, DM, GUILD, TOKEN};
use super::payloads::{self, Via};
use super::state::Inner;
use super::FakeCommandInteraction;

#[test]
fn rest_messages_are_messages_without_guild_or_member() {
    let (mut st, _rx) = session();
    let mut m = st.bot_message(CHANNEL, "done");
    m.nonce = Some(json!("abc"));
    let v = payloads::message(&st, &m, Via::Rest);
    let parsed: Message = parse(v);
    assert!(parsed.guild_id.is_none() && parsed.member.is_none());
    assert!(parsed.author.bot);
    assert_eq!(parsed.author.id.get(), st.bot.id);
    m.nonce = Some(json!(12));
    let _: Message = parse(payloads::message(&st, &m, Via::Rest));
}

#[test]
fn channels_are_channels_of_the_right_kind() {
    let (mut st, _rx) = session();
    let Channel::Guild(text) = parse::<Channel>(payloads::channel(&st, CHANNEL).expect("declared"))
    else {
        panic!("a text channel is a guild channel")
    };
    assert_eq!((text.kind, text.guild_id.get()), (ChannelType::Text, GUILD));
    let Channel::Private(dm) = parse::<Channel>(payloads::channel(&st, DM).expect("declared"))
    else {
        panic!("a DM is a private channel")
    };
    assert_eq!(dm.recipient.id.get(), ALICE);
    let starter = st.bot_message(CHANNEL, "starter");
    let id = st.store(starter);
    let answer = super::channels::create_thread(&mut st, CHANNEL, id, &json!({"name": "plan 7"}));
    let thread: GuildChannel = parse(answer.body.expect("a channel"));
    assert_eq!(
        thread.id.get(),
        id,
        "a thread's id is its starter message's"
    );
    assert_eq!(thread.kind, ChannelType::PublicThread);
    assert_eq!(thread.parent_id.map(|p| p.get()), Some(CHANNEL));
    assert!(thread.thread_metadata.is_some());
}

#[test]
fn the_current_user_and_application_read() {
    let st = Inner::new(TOKEN);
    let me: CurrentUser = parse(payloads::current_user(&st));
    assert!(me.bot && me.verified == Some(true));
    let app: CurrentApplicationInfo = parse(payloads::application(&st));
    assert_eq!(app.id.get(), st.app_id);
    assert!(!app.integration_types_config.is_empty());
}

#[test]
fn slash_commands_come_back_as_commands() {
    let mut st = Inner::new(TOKEN);
    st.guilds.insert(GUILD);
    // What serenity's builder sends for `GuildId::set_commands`.
    let sent = serde_json::to_value(vec![
        CreateCommand::new("status")
            .description("Plan status")
            .add_option(
                CreateCommandOption::new(CommandOptionType::Integer, "plan", "Plan id")
                    .required(true),
            ),
        CreateCommand::new("help").description("Help"),
    ])
    .expect("builders serialize");
    let app = st.app_id;
    let answer = super::interactions::overwrite_commands(&mut st, app, GUILD, &sent);
    let commands: Vec<Command> = parse(answer.body.expect("the commands"));
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].name, "status");
    assert_eq!(commands[0].options[0].kind, CommandOptionType::Integer);
    assert_eq!(commands[0].guild_id.map(|g| g.get()), Some(GUILD));
    assert_eq!(commands[0].application_id.get(), app);
}

#[test]
fn interaction_responses_are_messages() {
    let (mut st, _rx) = session();
    st.echo_own = false;
    let id = st.inject_interaction(FakeCommandInteraction {
        guild_id: Some(GUILD),
        channel_id: CHANNEL,
        name: "status".into(),
        ..FakeCommandInteraction::default()
    });
    let token = st.interactions[&id].token.clone();
    let app = st.app_id;
    let ack = super::interactions::callback(&mut st, id, &token, &json!({"type": 5}));
    assert_eq!(ack.status, 204);
    let edited =
        super::interactions::edit_original(&mut st, app, &token, &json!({"content": "ok"}));
    let m: Message = parse(edited.body.expect("the message"));
    assert_eq!(m.content, "ok");
    assert_eq!(m.webhook_id.map(|w| w.get()), Some(app));
    let f = super::interactions::followup(&mut st, app, &token, &json!({"content": "more"}));
    let _: Message = parse(f.body.expect("the follow-up"));
}

#[test]
fn error_bodies_read_as_discord_errors() {
    let body = super::rest::error(
        400,
        160004,
        "A thread has already been created for this message",
    )
    .body
    .expect("a body");
    let e: serenity::http::DiscordJsonError = parse(body);
    assert_eq!(e.code, 160004);
    let form = super::rest::invalid_form(
        "content",
        "BASE_TYPE_MAX_LENGTH",
        "Must be 2000 or fewer in length.",
    );
    let e: serenity::http::DiscordJsonError = parse(form.body.expect("a body"));
    assert_eq!(e.errors[0].path, "content");
}
