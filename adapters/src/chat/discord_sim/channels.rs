//! Channels, messages and threads: the REST endpoints a chat adapter posts,
//! edits and threads through.

use serde_json::Value;

use super::payloads::{self, Via};
use super::rest::{
    self, error, invalid_form, ok, status, unknown_channel, unknown_message, Answer,
};
use super::state::{now, ChannelDef, Inner, FLAG_HAS_THREAD};

pub(super) fn get_channel(st: &Inner, channel: u64) -> Answer {
    match payloads::channel(st, channel) {
        Some(c) => ok(c),
        None => unknown_channel(),
    }
}

pub(super) fn get_message(st: &Inner, channel: u64, id: u64) -> Answer {
    if !st.channels.contains_key(&channel) {
        return unknown_channel();
    }
    match st.message(channel, id) {
        Some(m) => ok(payloads::message(st, m, Via::Rest)),
        None => unknown_message(),
    }
}

/// A nonce as Discord compares them: strings and integers alike.
fn nonce_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn create_message(st: &mut Inner, channel: u64, body: &Value) -> Answer {
    if !st.channels.contains_key(&channel) {
        return unknown_channel();
    }
    let content = match rest::check_content(body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let nonce = body.get("nonce").filter(|n| !n.is_null()).cloned();
    let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
    if let (Some(key), true) = (nonce.as_ref().and_then(nonce_key), enforce) {
        // The same author and nonce within a few minutes: Discord returns
        // the first message and creates nothing.
        let bot = st.bot.id;
        let first = st.messages.get(&channel).and_then(|ms| {
            ms.iter().find(|m| {
                m.author.id == bot && m.nonce.as_ref().and_then(nonce_key) == Some(key.clone())
            })
        });
        if let Some(m) = first {
            return ok(payloads::message(st, m, Via::Rest));
        }
    }
    let mut m = st.bot_message(channel, &content);
    m.nonce = nonce;
    m.allowed_mentions = body.get("allowed_mentions").cloned();
    m.message_reference = body
        .get("message_reference")
        .filter(|r| !r.is_null())
        .cloned();
    if m.message_reference.is_some() {
        m.kind = 19;
    }
    let (mentions, roles) = super::state::parse_mentions(&content);
    m.mentions = mentions;
    m.mention_roles = roles;
    let answer = ok(payloads::message(st, &m, Via::Rest));
    let id = st.store(m);
    st.echo_create(channel, id);
    answer
}

pub(super) fn edit_message(st: &mut Inner, channel: u64, id: u64, body: &Value) -> Answer {
    if !st.channels.contains_key(&channel) {
        return unknown_channel();
    }
    if !body.is_object() {
        return error(400, 50109, "The request body contains invalid JSON.");
    }
    let bot = st.bot.id;
    let Some(m) = st.message_mut(channel, id) else {
        return unknown_message();
    };
    if m.author.id != bot {
        return error(403, 50005, "Cannot edit a message authored by another user");
    }
    if let Some(content) = body.get("content") {
        let content = content.as_str().unwrap_or("").to_string();
        if content.chars().count() > super::state::MAX_CONTENT {
            return invalid_form(
                "content",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 2000 or fewer in length.",
            );
        }
        m.edits.push(content.clone());
        m.content = content;
        m.edited_timestamp = Some(now());
    }
    st.echo_update(channel, id, false);
    match st.message(channel, id) {
        Some(m) => ok(payloads::message(st, m, Via::Rest)),
        None => unknown_message(),
    }
}

/// Starts a thread from a message: the thread's id is the message's, as on
/// Discord, and a message has at most one thread.
pub(super) fn create_thread(st: &mut Inner, channel: u64, id: u64, body: &Value) -> Answer {
    let guild = match st.channels.get(&channel) {
        None => return unknown_channel(),
        Some(ChannelDef::Text { guild, .. }) => *guild,
        Some(_) => return error(400, 50024, "Cannot execute action on this channel type"),
    };
    let Some(m) = st.message(channel, id) else {
        return unknown_message();
    };
    if m.thread.is_some() || st.channels.contains_key(&id) {
        return error(
            400,
            160004,
            "A thread has already been created for this message",
        );
    }
    let name = match body.get("name").and_then(Value::as_str) {
        Some(n) if (1..=100).contains(&n.chars().count()) => n.to_string(),
        _ => {
            return invalid_form(
                "name",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        }
    };
    let auto_archive = body
        .get("auto_archive_duration")
        .and_then(Value::as_u64)
        .unwrap_or(4320);
    st.channels.insert(
        id,
        ChannelDef::Thread {
            guild,
            parent: channel,
            name,
            owner: st.bot.id,
            auto_archive,
            created: now(),
        },
    );
    st.threads.push((channel, id));
    if let Some(m) = st.message_mut(channel, id) {
        m.thread = Some(id);
        m.flags |= FLAG_HAS_THREAD;
    }
    // Discord tells the channel the starter message changed (it now has a
    // thread): a MESSAGE_UPDATE that is not an edit.
    st.echo_update(channel, id, false);
    match payloads::channel(st, id) {
        Some(c) => status(201, c),
        None => unknown_channel(),
    }
}
