//! The JSON objects the fake sends, shaped as Discord's API v10 sends them:
//! snowflakes as strings, nullable fields present as `null`, and the fields
//! serenity 0.12.5 requires (checked in `payload_tests.rs`).

use serde_json::{json, Value};

use super::state::{ChannelDef, Inner, MemberDef, StoredMessage, UserDef};

/// The permissions sent as `app_permissions` and members' `permissions`:
/// every permission bit Discord defines up to `SEND_POLLS` (1 << 49).
pub(super) const ALL_PERMISSIONS: &str = "1125899906842623";

/// The largest upload Discord allows in a guild without boosts (10 MiB).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

pub(super) fn id(n: u64) -> Value {
    Value::String(n.to_string())
}

/// A user object as it appears inside messages and members. Discord leaves
/// `bot` out for people (serenity defaults it to false).
pub(super) fn user(u: &UserDef) -> Value {
    let mut v = json!({
        "id": id(u.id),
        "username": u.username,
        // Since the 2023 username migration every discriminator is "0".
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": null,
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if u.bot {
        v["bot"] = json!(true);
    }
    v
}

/// `GET /users/@me`: the bot's own user, with the private fields.
pub(super) fn current_user(st: &Inner) -> Value {
    let mut v = user(&st.bot);
    v["verified"] = json!(true);
    v["mfa_enabled"] = json!(false);
    v["email"] = Value::Null;
    v["locale"] = json!("en-US");
    v["premium_type"] = json!(0);
    v
}

/// Application flags: GATEWAY_MESSAGE_CONTENT_LIMITED (the intent is on,
/// as for a bot in fewer than 100 guilds).
const APP_FLAGS: u64 = 1 << 19;

/// `GET /oauth2/applications/@me`.
pub(super) fn application(st: &Inner) -> Value {
    json!({
        "id": id(st.app_id),
        "name": st.bot.username,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "bot": user(&st.bot),
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "5d3e7a2c1b9f4e8d6a0c2b4f6e8d0a1c3b5d7f9e1a3c5b7d9f0e2a4c6b8d0f1e",
        "flags": APP_FLAGS,
        "owner": {"id": "1", "username": "owner", "discriminator": "0", "global_name": null,
                  "avatar": null, "public_flags": 0, "flags": 0},
        "team": null,
        "rpc_origins": [],
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "integration_types_config": {"0": {}},
        "approximate_guild_count": st.guilds.len(),
        "approximate_user_install_count": 0,
        "hook": true,
        "is_monetized": false,
    })
}

/// A channel object, as `GET /channels/{id}` and thread creation return it.
pub(super) fn channel(st: &Inner, channel_id: u64) -> Option<Value> {
    let last = st
        .messages
        .get(&channel_id)
        .and_then(|ms| ms.last())
        .map(|m| id(m.id));
    let v = match st.channels.get(&channel_id)? {
        ChannelDef::Text { guild, name } => json!({
            "id": id(channel_id), "type": 0, "guild_id": id(*guild), "name": name,
            "position": 0, "permission_overwrites": [], "nsfw": false, "parent_id": null,
            "topic": null, "last_message_id": last, "rate_limit_per_user": 0, "flags": 0,
        }),
        ChannelDef::Thread {
            guild,
            parent,
            name,
            owner,
            auto_archive,
            created,
        } => {
            let count = st.messages.get(&channel_id).map_or(0, Vec::len);
            json!({
                "id": id(channel_id), "type": 11, "guild_id": id(*guild), "parent_id": id(*parent),
                "owner_id": id(*owner), "name": name, "last_message_id": last,
                "message_count": count, "total_message_sent": count, "member_count": 1,
                "rate_limit_per_user": 0, "flags": 0,
                "thread_metadata": {"archived": false, "auto_archive_duration": auto_archive,
                    "archive_timestamp": created, "locked": false, "create_timestamp": created},
            })
        }
        ChannelDef::Dm { user: u } => json!({
            "id": id(channel_id), "type": 1, "last_message_id": last, "flags": 0,
            "recipients": [user(&st.user(*u))],
        }),
    };
    Some(v)
}

/// Where a message goes: REST answers never carry `guild_id` or `member`
/// (Addendum); gateway dispatches do, in a guild.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Rest,
    Gateway,
}

/// A member's guild part as MESSAGE_CREATE carries it (no `user`).
fn partial_member(m: &MemberDef, joined: &str) -> Value {
    json!({
        "roles": m.roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "nick": m.nick, "avatar": null, "banner": null, "joined_at": joined,
        "premium_since": null, "deaf": false, "mute": false, "pending": false, "flags": 0,
        "communication_disabled_until": null,
    })
}

/// A full message object.
pub(super) fn message(st: &Inner, m: &StoredMessage, via: Via) -> Value {
    let referenced = m
        .message_reference
        .as_ref()
        .and_then(|r| r.get("message_id")?.as_str()?.parse::<u64>().ok())
        .and_then(|mid| st.message(m.channel_id, mid))
        .map(|r| message(st, r, Via::Rest));
    let mut v = json!({
        "id": id(m.id),
        "channel_id": id(m.channel_id),
        "author": user(&m.author),
        "content": m.content,
        "timestamp": m.timestamp,
        "edited_timestamp": m.edited_timestamp,
        "tts": false,
        "mention_everyone": false,
        "mentions": m.mentions.iter().map(|u| user(&st.user(*u))).collect::<Vec<_>>(),
        "mention_roles": m.mention_roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": m.kind,
        "flags": m.flags,
        // Real replies carry the message they answer; everything else null.
        "referenced_message": referenced,
    });
    if let Some(n) = &m.nonce {
        v["nonce"] = n.clone();
    }
    if let Some(r) = &m.message_reference {
        v["message_reference"] = r.clone();
    }
    if let Some(w) = m.webhook_id {
        v["webhook_id"] = id(w);
        v["application_id"] = id(w);
    }
    if let Some(t) = m.thread {
        if let Some(c) = channel(st, t) {
            v["thread"] = c;
        }
    }
    if via == Via::Gateway {
        if let Some(guild) = st.channels.get(&m.channel_id).and_then(ChannelDef::guild) {
            v["guild_id"] = id(guild);
            if let Some(member) = &m.member {
                v["member"] = partial_member(member, &m.timestamp);
            }
        }
    }
    v
}

/// The `d` of READY.
pub(super) fn ready(st: &Inner, session_id: &str, shard: Option<&Value>) -> Value {
    let guilds: Vec<Value> = st
        .guilds
        .iter()
        .map(|g| json!({"id": id(*g), "unavailable": true}))
        .collect();
    let mut d = json!({
        "v": 10,
        "user": current_user(st),
        "guilds": guilds,
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": st.ws_url(),
        "application": {"id": id(st.app_id), "flags": APP_FLAGS},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["fake"],
        "user_settings": {},
        "_trace": ["[\"fake-discord\",{\"micros\":0}]"],
    });
    if let Some(s) = shard {
        d["shard"] = s.clone();
    }
    d
}

/// What a test says about a slash-command invocation, resolved by the fake.
pub(super) struct InteractionParts<'a> {
    pub id: u64,
    pub token: &'a str,
    pub command_id: u64,
    pub name: &'a str,
    pub options: Vec<Value>,
    pub user: &'a UserDef,
    pub member: &'a MemberDef,
    pub channel_id: u64,
}

/// The `d` of INTERACTION_CREATE for a slash command (type 2).
pub(super) fn command_interaction(st: &Inner, p: &InteractionParts<'_>) -> Value {
    let def = st.channels.get(&p.channel_id);
    let guild = def.and_then(ChannelDef::guild);
    let mut data = json!({"id": id(p.command_id), "name": p.name, "type": 1, "options": p.options});
    let mut partial_channel = json!({"id": id(p.channel_id), "type": 0, "flags": 0,
        "permissions": ALL_PERMISSIONS});
    match def {
        Some(ChannelDef::Text { guild, name }) => {
            partial_channel["name"] = json!(name);
            partial_channel["guild_id"] = id(*guild);
        }
        Some(ChannelDef::Thread {
            guild,
            parent,
            name,
            ..
        }) => {
            partial_channel["type"] = json!(11);
            partial_channel["name"] = json!(name);
            partial_channel["guild_id"] = id(*guild);
            partial_channel["parent_id"] = id(*parent);
        }
        Some(ChannelDef::Dm { .. }) | None => partial_channel["type"] = json!(1),
    }
    let mut v = json!({
        "id": id(p.id),
        "application_id": id(st.app_id),
        "type": 2,
        "version": 1,
        "token": p.token,
        "data": data.clone(),
        "channel_id": id(p.channel_id),
        "channel": partial_channel,
        "app_permissions": ALL_PERMISSIONS,
        "locale": "en-US",
        "entitlements": [],
        // serenity 0.12.5 requires this; without it the event is dropped.
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    });
    match guild {
        Some(g) => {
            data["guild_id"] = id(g);
            v["data"] = data;
            v["guild_id"] = id(g);
            v["guild"] = json!({"id": id(g), "locale": "en-US", "features": []});
            v["guild_locale"] = json!("en-US");
            v["context"] = json!(0);
            v["authorizing_integration_owners"] = json!({"0": id(g)});
            let mut member = partial_member(p.member, &super::state::now());
            member["user"] = user(p.user);
            member["permissions"] = json!(ALL_PERMISSIONS);
            v["member"] = member;
        }
        None => {
            v["user"] = user(p.user);
            v["context"] = json!(1);
            v["authorizing_integration_owners"] = json!({"0": "0"});
        }
    }
    v
}

/// A stored guild command as Discord returns it: the definition the client
/// sent plus ids, type and version. `sent` must be a JSON object.
pub(super) fn command(st: &Inner, guild: u64, cmd_id: u64, version: u64, sent: &Value) -> Value {
    let mut v = sent.clone();
    v["id"] = id(cmd_id);
    v["application_id"] = id(st.app_id);
    v["guild_id"] = id(guild);
    v["version"] = id(version);
    for (key, default) in [
        ("type", json!(1)),
        ("description", json!("")),
        ("options", json!([])),
        ("default_member_permissions", Value::Null),
        ("nsfw", json!(false)),
    ] {
        if v.get(key).is_none_or(Value::is_null) {
            v[key] = default;
        }
    }
    v
}
