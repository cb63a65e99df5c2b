//! What every webhook-sending service has in common, seen from the bot's
//! HTTP server: a delivery arrives as headers and a raw body, and the
//! service's receiver says whether it is genuine and what it is — before
//! anything is stored. The server knows no service; each receiver knows
//! its own headers, signature scheme and which secret may speak for what.

/// A genuine delivery, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The service's id for this delivery: its retries repeat it, so it
    /// deduplicates them.
    pub delivery_id: String,
    pub event_type: String,
    /// The webhook whose secret verified it (its channel hears it), or
    /// `None` for a catch-all secret.
    pub hook_target: Option<String>,
}

/// Why a delivery is refused: nothing of it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No signature header.
    Unsigned(&'static str),
    /// Signed, but by no secret allowed to speak for what it is about.
    BadSignature,
    /// A header the service always sends is missing or unusable.
    BadHeaders(&'static str),
}

impl Refused {
    /// The HTTP status: 401 for anything about the signature, else 400.
    pub fn status(&self) -> u16 {
        match self {
            Refused::Unsigned(_) | Refused::BadSignature => 401,
            Refused::BadHeaders(_) => 400,
        }
    }

    /// One line for the sender.
    pub fn reason(&self) -> &'static str {
        match self {
            Refused::Unsigned(why) | Refused::BadHeaders(why) => why,
            Refused::BadSignature => "bad signature\n",
        }
    }
}

/// A service's side of `POST /hooks/{source}`.
pub trait Receiver: Send + Sync {
    /// The path segment and the `source` deliveries are stored under.
    fn source(&self) -> &'static str;

    /// Checks a delivery: `header` looks a header up by lower-case name.
    fn receive(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<Received, Refused>;

    /// Learns the secret of a webhook registered on `target` (by another
    /// replica, found in the shared store). Receivers with no registered
    /// webhooks ignore it.
    fn learn(&self, _target: &str, _secret: secrecy::SecretString) {}
}
