//! Real payload shapes (as the gateway sends them: snowflakes as strings,
//! `member` only in guilds) through serenity's own models.

use serde_json::{json, Value};
use serenity::model::application::CommandInteraction;
use serenity::model::channel::{ChannelType, Message};

use super::*;

const BOT: u64 = 900;

fn message(overrides: Value) -> Message {
    let mut m = json!({
        "id": "1001", "channel_id": "10", "guild_id": "1",
        "author": {"id": "42", "username": "alice", "global_name": "Alice A", "discriminator": "0", "avatar": null},
        "member": {"roles": ["7", "8"], "nick": null, "joined_at": "2026-01-01T00:00:00Z", "deaf": false, "mute": false, "flags": 0},
        "content": "!why hello", "timestamp": "2026-11-29T01:00:00Z", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0,
        "referenced_message": null, "nonce": "123", "_trace": ["ignored"]
    });
    if let (Some(m), Some(o)) = (m.as_object_mut(), overrides.as_object()) {
        for (k, v) in o {
            if v.is_null() {
                m.remove(k);
            } else {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::from_value(m).expect("serenity reads the payload")
}

#[test]
fn which_messages_are_read() {
    let rows: &[(&str, Value, bool)] = &[
        ("a person's message", json!({}), true),
        ("a reply to another message", json!({"type": 19}), true),
        (
            "our own message",
            json!({"author": {"id": BOT.to_string(), "username": "shepherd", "bot": true}}),
            false,
        ),
        (
            "another bot",
            json!({"author": {"id": "5", "username": "ci", "bot": true}}),
            false,
        ),
        ("a webhook's post", json!({"webhook_id": "77"}), false),
        (
            "a thread-created system message",
            json!({"type": 18}),
            false,
        ),
        ("a pin notice", json!({"type": 6}), false),
        (
            "empty content (no intent, a sticker)",
            json!({"content": ""}),
            false,
        ),
    ];
    for (what, overrides, read) in rows {
        let said = said_in_message(&message(overrides.clone()), BOT);
        assert_eq!(said.is_some(), *read, "{what}");
    }
}

#[test]
fn a_channel_message_becomes_an_event_threaded_on_itself() {
    let names = ChannelNames::new([("release".to_string(), 10)]);
    let said = said_in_message(&message(json!({})), BOT).expect("read");
    let ev = incoming(said, Place::Channel, &names);
    assert_eq!(ev.actor, "discord:42");
    assert_eq!(ev.display_name, "Alice A");
    assert_eq!(ev.channel, "#release");
    assert_eq!(ev.thread, "1001", "a thread starts from the request");
    assert_eq!(ev.message_id, "1001");
    assert_eq!(ev.groups, ["discord-role:7", "discord-role:8"]);
    assert!(!ev.direct);
}

#[test]
fn places_decide_channel_thread_and_conversation() {
    let names = ChannelNames::new([("release".to_string(), 3)]);
    let said = || said_in_message(&message(json!({"channel_id": "55"})), BOT).expect("read");
    let t = incoming(said(), Place::Thread { parent: 3 }, &names);
    assert_eq!((t.channel.as_str(), t.thread.as_str()), ("#release", "55"));
    assert_eq!(t.conversation, "discord:55:42");
    let unnamed = incoming(said(), Place::Channel, &names);
    assert_eq!(
        (unnamed.channel.as_str(), unnamed.thread.as_str()),
        ("55", "1001")
    );
    let dm = said_in_message(
        &message(json!({"guild_id": null, "member": null, "channel_id": "66"})),
        BOT,
    )
    .expect("a DM is read");
    let dm = incoming(dm, Place::Direct, &names);
    assert!(dm.direct);
    assert!(dm.groups.is_empty(), "no roles outside a guild");
    assert_eq!((dm.channel.as_str(), dm.thread.as_str()), ("66", "66"));
}

#[test]
fn display_names_prefer_the_guild_nickname() {
    let nick = json!({"member": {"roles": [], "nick": "ali", "joined_at": "2026-01-01T00:00:00Z", "deaf": false, "mute": false, "flags": 0}});
    let said = said_in_message(&message(nick), BOT).expect("read");
    assert_eq!(said.display_name, "ali");
    let plain = json!({"author": {"id": "42", "username": "alice", "global_name": null}});
    assert_eq!(
        said_in_message(&message(plain), BOT)
            .expect("read")
            .display_name,
        "alice"
    );
}

#[test]
fn channel_types_map_to_places() {
    assert_eq!(Place::of(ChannelType::Text, None), Place::Channel);
    assert_eq!(
        Place::of(ChannelType::PublicThread, Some(3)),
        Place::Thread { parent: 3 }
    );
    assert_eq!(
        Place::of(ChannelType::PrivateThread, Some(3)),
        Place::Thread { parent: 3 }
    );
    assert_eq!(Place::of(ChannelType::Private, None), Place::Direct);
    assert_eq!(Place::of(ChannelType::News, None), Place::Channel);
}

#[test]
fn a_slash_interaction_becomes_the_same_kind_of_event() {
    let i: CommandInteraction = serde_json::from_value(json!({
        "id": "5000", "application_id": "901", "type": 2, "token": "tok", "version": 1,
        "guild_id": "1", "channel_id": "10",
        "channel": {"id": "10", "type": 0, "name": "release"},
        "member": {"user": {"id": "42", "username": "alice", "global_name": null},
                   "roles": ["8"], "nick": null, "joined_at": "2026-01-01T00:00:00Z",
                   "deaf": false, "mute": false, "flags": 0, "permissions": "0"},
        "data": {"id": "300", "name": "retry", "type": 1, "options": [
            {"name": "pkg", "type": 3, "value": "hello"},
            {"name": "dry-run", "type": 5, "value": true}
        ]},
        "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {},
        "attachment_size_limit": 8388608
    }))
    .expect("serenity reads the interaction");
    let inv = slash_invocation(&i.data);
    assert_eq!(inv.name, "retry");
    assert_eq!(
        inv.options,
        [
            ("pkg".to_string(), SlashValue::Text("hello".into())),
            ("dry-run".to_string(), SlashValue::Switch(true))
        ]
    );
    let said = said_in_slash(
        i.id.get(),
        &i.user,
        i.member.as_deref(),
        i.guild_id.map(|g| g.get()),
        i.channel_id.get(),
        7777,
        "!retry hello --dry-run".into(),
    );
    let ev = incoming(
        said,
        Place::Channel,
        &ChannelNames::new([("release".to_string(), 10)]),
    );
    assert_eq!(ev.actor, "discord:42");
    assert_eq!(ev.groups, ["discord-role:8"]);
    assert_eq!(
        (ev.channel.as_str(), ev.thread.as_str()),
        ("#release", "7777")
    );
    assert_eq!(ev.message_id, "slash-5000");
    assert_eq!(ev.text, "!retry hello --dry-run");
}
