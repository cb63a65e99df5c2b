//! `!watch` / `!unwatch`: a channel's subscriptions, stored and audited;
//! the wording is the command's.

use shepherd_commands::watch::{watch_reply, WatchKind};

use crate::dispatch::{Dispatcher, Request};
use crate::store::{now_ms, StoreError, Subscription};

impl Dispatcher {
    pub(crate) async fn watch(
        &self,
        req: &Request<'_>,
        kind: WatchKind,
        name: &str,
        on: bool,
    ) -> Result<String, StoreError> {
        let channel = &req.msg.channel;
        let changed = if on {
            let sub = Subscription {
                channel: channel.clone(),
                kind: kind.as_str().to_string(),
                target: name.to_string(),
                created_by: req.msg.actor.clone(),
            };
            self.store.subscribe(&sub, now_ms()).await?
        } else {
            self.store.unsubscribe(channel, kind.as_str(), name).await?
        };
        let (outcome, text) = watch_reply(channel, kind, name, on, changed);
        self.audit(req, None, outcome, "").await?;
        Ok(text)
    }
}
