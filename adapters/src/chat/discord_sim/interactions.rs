//! Slash commands: registering a guild's commands, and answering an
//! interaction (the callback, then `@original` and follow-ups through the
//! interaction's webhook). serenity 0.12.5's routes: `InteractionResponse`,
//! `WebhookOriginalInteractionResponse`, `WebhookFollowupMessages` in
//! http/routing.rs; none of its calls add a query string.

use serde_json::{json, Value};

use super::payloads::{self, Via};
use super::rest::{self, error, invalid_form, no_content, ok, unknown_message, Answer};
use super::state::{now, Inner, FLAG_EPHEMERAL, FLAG_LOADING};

/// Interaction callback types that create the `@original` message.
const CHANNEL_MESSAGE_WITH_SOURCE: u64 = 4;
const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u64 = 5;

fn not_our_application() -> Answer {
    error(
        403,
        20012,
        "You are not authorized to perform this action on this application",
    )
}

pub(super) fn overwrite_commands(st: &mut Inner, app: u64, guild: u64, body: &Value) -> Answer {
    if app != st.app_id {
        return not_our_application();
    }
    if !st.guilds.contains(&guild) {
        return error(404, 10004, "Unknown Guild");
    }
    let Some(sent) = body.as_array() else {
        return invalid_form("_errors", "LIST_TYPE_CONVERT", "Must be an array.");
    };
    let old = st.commands.get(&guild).cloned().unwrap_or_default();
    let mut stored = Vec::with_capacity(sent.len());
    for c in sent {
        let name_ok = c
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| (1..=32).contains(&n.chars().count()));
        if !c.is_object() || !name_ok {
            return invalid_form(
                "name",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 32 in length.",
            );
        }
        // Overwriting keeps a command's id when its name stays (Discord
        // matches on name and type).
        let kept = old
            .iter()
            .find(|o| o["name"] == c["name"])
            .and_then(|o| o["id"].as_str()?.parse::<u64>().ok());
        let id = match kept {
            Some(id) => id,
            None => st.snowflake(),
        };
        let version = st.snowflake();
        stored.push(payloads::command(st, guild, id, version, c));
    }
    st.commands.insert(guild, stored.clone());
    ok(Value::Array(stored))
}

pub(super) fn get_commands(st: &Inner, app: u64, guild: u64) -> Answer {
    if app != st.app_id {
        return not_our_application();
    }
    ok(Value::Array(
        st.commands.get(&guild).cloned().unwrap_or_default(),
    ))
}

fn unknown_interaction() -> Answer {
    error(404, 10062, "Unknown interaction")
}

fn unknown_webhook() -> Answer {
    error(404, 10015, "Unknown Webhook")
}

/// The interaction a webhook token belongs to.
fn by_token(st: &Inner, app: u64, token: &str) -> Option<u64> {
    if app != st.app_id {
        return None;
    }
    st.interactions
        .iter()
        .find(|(_, i)| i.token == token)
        .map(|(id, _)| *id)
}

/// A message the interaction's webhook posts: authored by the bot, with the
/// application as `webhook_id`, type 20 (a slash command's response).
fn response_message(st: &mut Inner, channel: u64, content: &str, flags: u64) -> u64 {
    let mut m = st.bot_message(channel, content);
    m.kind = 20;
    m.flags = flags;
    m.webhook_id = Some(st.app_id);
    st.store(m)
}

fn flags_of(data: Option<&Value>) -> u64 {
    data.and_then(|d| d.get("flags"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        & FLAG_EPHEMERAL
}

pub(super) fn callback(st: &mut Inner, id: u64, token: &str, body: &Value) -> Answer {
    let Some(rec) = st.interactions.get(&id).filter(|i| i.token == token) else {
        return unknown_interaction();
    };
    if !rec.callbacks.is_empty() {
        return error(400, 40060, "Interaction has already been acknowledged.");
    }
    let channel = rec.channel_id;
    let Some(kind) = body.get("type").and_then(Value::as_u64) else {
        return invalid_form("type", "BASE_TYPE_REQUIRED", "This field is required");
    };
    let data = body.get("data");
    let original = match kind {
        CHANNEL_MESSAGE_WITH_SOURCE => {
            let data = data.cloned().unwrap_or_else(|| json!({}));
            let content = match rest::check_content(&data) {
                Ok(c) => c,
                Err(e) => return e,
            };
            Some(response_message(
                st,
                channel,
                &content,
                flags_of(Some(&data)),
            ))
        }
        // "The bot is thinking": an empty message that stays loading until
        // `@original` is edited.
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE => Some(response_message(
            st,
            channel,
            "",
            FLAG_LOADING | flags_of(data),
        )),
        _ => None,
    };
    if let Some(rec) = st.interactions.get_mut(&id) {
        rec.callbacks.push(body.clone());
        rec.original = original;
    }
    if let Some(m) = original {
        st.echo_create(channel, m);
    }
    // serenity expects 204 (http/client.rs `wind(204, ..)`).
    no_content()
}

pub(super) fn edit_original(st: &mut Inner, app: u64, token: &str, body: &Value) -> Answer {
    let Some(id) = by_token(st, app, token) else {
        return unknown_webhook();
    };
    if !body.is_object() {
        return error(400, 50109, "The request body contains invalid JSON.");
    }
    let Some((channel, original)) = st
        .interactions
        .get(&id)
        .and_then(|i| Some((i.channel_id, i.original?)))
    else {
        return unknown_message();
    };
    let Some(m) = st.message_mut(channel, original) else {
        return unknown_message();
    };
    if let Some(content) = body.get("content") {
        let content = content.as_str().unwrap_or("").to_string();
        if content.chars().count() > super::state::MAX_CONTENT {
            return invalid_form(
                "content",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 2000 or fewer in length.",
            );
        }
        // Filling in a deferred response is not an edit on Discord.
        if m.flags & FLAG_LOADING == 0 {
            m.edited_timestamp = Some(now());
        }
        m.flags &= !FLAG_LOADING;
        m.edits.push(content.clone());
        m.content = content;
    }
    st.echo_update(channel, original, false);
    match st.message(channel, original) {
        Some(m) => ok(payloads::message(st, m, Via::Rest)),
        None => unknown_message(),
    }
}

pub(super) fn followup(st: &mut Inner, app: u64, token: &str, body: &Value) -> Answer {
    let Some(id) = by_token(st, app, token) else {
        return unknown_webhook();
    };
    // Follow-ups go through the webhook the callback opens.
    let Some(channel) = st
        .interactions
        .get(&id)
        .filter(|i| !i.callbacks.is_empty())
        .map(|i| i.channel_id)
    else {
        return unknown_webhook();
    };
    let content = match rest::check_content(body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let m = response_message(st, channel, &content, flags_of(Some(body)));
    if let Some(rec) = st.interactions.get_mut(&id) {
        rec.followups.push(m);
    }
    st.echo_create(channel, m);
    match st.message(channel, m) {
        Some(msg) => ok(payloads::message(st, msg, Via::Rest)),
        None => unknown_message(),
    }
}
