//! The gateway: a websocket at `/` speaking JSON text frames. On connect it
//! sends HELLO; it answers heartbeats, IDENTIFY (READY, or close 4004 on a
//! wrong token) and RESUME (the missed dispatches, then RESUMED). Dispatches
//! injected while no client is connected wait: before the first session
//! they are sent after READY, during a session they are replayed on RESUME.
//!
//! IDENTIFY's `compress` is ignored: serenity 0.12.5 always sends `true`
//! (gateway/ws.rs:275) and reads text frames as well as zlib ones, and
//! Discord only compresses large payloads anyway.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::payloads;
use super::state::{lock, Inner, Live, Outgoing, Shared};

/// Discord's gateway close codes the fake uses.
const UNKNOWN_ERROR: u16 = 4000;
const DECODE_ERROR: u16 = 4002;
const AUTHENTICATION_FAILED: u16 = 4004;
const ALREADY_AUTHENTICATED: u16 = 4005;

/// How long to wait for the client's answer to a close frame before
/// dropping the socket (so the close frame is read, not lost in a reset).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

pub(super) async fn upgrade(ws: WebSocketUpgrade, State(s): State<Shared>) -> Response {
    ws.on_upgrade(move |socket| run(socket, s))
}

/// One websocket connection: its frames in, and everything queued for it
/// (answers and dispatches, in one channel so their order is kept) out.
async fn run(mut socket: WebSocket, s: Shared) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (conn, greeting) = {
        let mut st = lock(&s);
        st.gateway.next_conn += 1;
        st.gateway.connections += 1;
        (st.gateway.next_conn, hello(st.gateway.heartbeat_ms))
    };
    if socket
        .send(Message::Text(greeting.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut closing = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let mut st = lock(&s);
                    on_frame(&mut st, conn, &tx, text.as_str());
                }
                // The fake never offers compression, so binary frames are
                // not something a client may send.
                Some(Ok(Message::Binary(_))) => {
                    let _ = tx.send(Outgoing::Close(DECODE_ERROR, "Error while decoding payload."));
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    closing = true;
                    break;
                }
                None => break,
            },
        }
    }
    {
        let mut st = lock(&s);
        if st.gateway.live.as_ref().is_some_and(|l| l.conn == conn) {
            st.gateway.live = None;
        }
    }
    if closing {
        // Read until the client answers the close (or gives up), so the
        // close frame reaches it before the TCP connection goes.
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(m)) = socket.recv().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// HELLO, the first frame of every connection.
pub(super) fn hello(heartbeat_ms: u64) -> Value {
    json!({"op": 10, "s": null, "t": null,
           "d": {"heartbeat_interval": heartbeat_ms, "_trace": ["fake-discord"]}})
}

/// The token as IDENTIFY/RESUME carry it: serenity sends `Bot <token>`,
/// other libraries the bare token; Discord accepts both.
fn token_ok(st: &Inner, d: &Value) -> bool {
    d.get("token")
        .and_then(Value::as_str)
        .map(|t| t.strip_prefix("Bot ").unwrap_or(t))
        == Some(st.token.as_str())
}

/// One text frame from connection `conn`; answers go to `tx`.
pub(super) fn on_frame(
    st: &mut Inner,
    conn: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    text: &str,
) {
    let frame: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            let _ = tx.send(Outgoing::Close(
                DECODE_ERROR,
                "Error while decoding payload.",
            ));
            return;
        }
    };
    st.gateway.received.push(frame.clone());
    let d = frame.get("d").cloned().unwrap_or(Value::Null);
    match frame.get("op").and_then(Value::as_u64) {
        Some(1) => {
            let _ = tx.send(Outgoing::Text(
                json!({"op": 11, "s": null, "t": null, "d": null}).to_string(),
            ));
        }
        Some(2) => identify(st, conn, tx, &d),
        Some(6) => resume(st, conn, tx, &d),
        None => {
            let _ = tx.send(Outgoing::Close(
                DECODE_ERROR,
                "Error while decoding payload.",
            ));
        }
        // Presence updates, member requests and the like: nothing to do.
        Some(_) => {}
    }
}

fn identify(st: &mut Inner, conn: u64, tx: &mpsc::UnboundedSender<Outgoing>, d: &Value) {
    if !token_ok(st, d) {
        let _ = tx.send(Outgoing::Close(
            AUTHENTICATION_FAILED,
            "Authentication failed.",
        ));
        return;
    }
    if st.gateway.live.as_ref().is_some_and(|l| l.conn == conn) {
        let _ = tx.send(Outgoing::Close(
            ALREADY_AUTHENTICATED,
            "Already authenticated.",
        ));
        return;
    }
    // A new session: dispatches of the old one that never reached a socket
    // are carried over, so a client that re-identifies still sees them.
    let gw = &mut st.gateway;
    let mut carried: Vec<(String, Value)> = gw
        .history
        .drain(..)
        .filter(|(seq, t, _)| *seq > gw.delivered && t != "READY" && t != "RESUMED")
        .map(|(_, t, d)| (t, d))
        .collect();
    carried.append(&mut gw.pending);
    gw.seq = 0;
    gw.delivered = 0;
    let session = format!("fake{:016x}", st.snowflake());
    st.gateway.session_id = Some(session.clone());
    take_over(st, conn, tx);
    let ready = payloads::ready(st, &session, d.get("shard"));
    st.dispatch("READY", ready);
    for (t, d) in carried {
        st.dispatch(&t, d);
    }
}

fn resume(st: &mut Inner, conn: u64, tx: &mpsc::UnboundedSender<Outgoing>, d: &Value) {
    if !token_ok(st, d) {
        let _ = tx.send(Outgoing::Close(
            AUTHENTICATION_FAILED,
            "Authentication failed.",
        ));
        return;
    }
    let session = d.get("session_id").and_then(Value::as_str);
    if session.is_none() || session != st.gateway.session_id.as_deref() {
        // INVALID_SESSION, not resumable: the client must IDENTIFY again.
        let _ = tx.send(Outgoing::Text(
            json!({"op": 9, "s": null, "t": null, "d": false}).to_string(),
        ));
        return;
    }
    let client_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    take_over(st, conn, tx);
    let missed: Vec<(u64, String)> = st
        .gateway
        .history
        .iter()
        .filter(|(seq, _, _)| *seq > client_seq)
        .map(|(seq, t, d)| (*seq, frame(*seq, t, d)))
        .collect();
    for (seq, text) in missed {
        st.send_live(seq, text);
    }
    st.dispatch("RESUMED", json!({"_trace": ["fake-discord"]}));
}

/// `conn` receives the dispatches from now on; an older connection the
/// client may have left behind is closed (one shard, one session).
fn take_over(st: &mut Inner, conn: u64, tx: &mpsc::UnboundedSender<Outgoing>) {
    if let Some(old) = st.gateway.live.take() {
        if old.conn != conn {
            let _ = old
                .tx
                .send(Outgoing::Close(UNKNOWN_ERROR, "Session taken over."));
        }
    }
    st.gateway.live = Some(Live {
        conn,
        tx: tx.clone(),
    });
}

fn frame(seq: u64, t: &str, d: &Value) -> String {
    json!({"op": 0, "s": seq, "t": t, "d": d}).to_string()
}

impl Inner {
    /// Sends a dispatch (`op 0`) to the client, or keeps it until one
    /// connects (before the first session) or resumes (during one).
    pub fn dispatch(&mut self, t: &str, d: Value) {
        if self.gateway.session_id.is_none() {
            self.gateway.pending.push((t.to_string(), d));
            return;
        }
        self.gateway.seq += 1;
        let seq = self.gateway.seq;
        let text = frame(seq, t, &d);
        self.gateway.history.push((seq, t.to_string(), d));
        self.send_live(seq, text);
    }

    fn send_live(&mut self, seq: u64, text: String) {
        let gw = &mut self.gateway;
        if let Some(live) = &gw.live {
            if live.tx.send(Outgoing::Text(text)).is_ok() {
                gw.delivered = gw.delivered.max(seq);
            } else {
                gw.live = None;
            }
        }
    }

    /// Closes the live connection with a resumable code (4000): the client
    /// should reconnect and RESUME the session.
    pub fn disconnect(&mut self) {
        self.close_gateway(UNKNOWN_ERROR, "Unknown error.");
    }

    /// Closes the live connection with `code` (4014: disallowed intents,
    /// which no reconnect can fix).
    pub fn close_gateway(&mut self, code: u16, reason: &'static str) {
        if let Some(live) = self.gateway.live.take() {
            let _ = live.tx.send(Outgoing::Close(code, reason));
        }
    }
}
