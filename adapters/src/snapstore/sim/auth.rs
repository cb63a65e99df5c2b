//! The simulated store's side of Ubuntu One macaroons. It mints a root
//! (with a third-party caveat for SSO) and a discharge as the real issuers
//! sign them, and checks each request's header for real: the root's
//! signature under the store's key, the discharge's under the caveat key,
//! and the binding of one to the other. The one shortcut: the caveat key
//! is kept by caveat id instead of being encrypted into the caveat.
//!
//! Discharges carry a generation (`login.ubuntu.com|generation|N`);
//! [`Auth::expire`] makes every generation issued so far stale, which the
//! store answers with `macaroon-needs-refresh`, and SSO's refresh endpoint
//! hands out the next one — unless [`Auth::revoked`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::SecretString;

use crate::snapstore::credentials::Credentials;
use crate::snapstore::macaroon::{hmac_concat, Macaroon, Version};

const STORE_LOCATION: &str = "api.snapcraft.io";
const SSO_LOCATION: &str = "login.ubuntu.com";
const GENERATION: &str = "login.ubuntu.com|generation|";

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refused {
    /// A good pair whose discharge is stale.
    NeedsRefresh,
    Invalid(&'static str),
}

pub(super) struct Auth {
    /// Unique per simulator, so one simulator refuses another's credentials.
    root_key: Vec<u8>,
    /// Caveat id → the discharge key SSO signs with.
    caveat_keys: HashMap<Vec<u8>, Vec<u8>>,
    /// Discharges of a lower generation need a refresh.
    min_generation: u64,
    /// The highest generation issued.
    issued: u64,
    pub revoked: bool,
    pub refreshes: usize,
    next_id: u64,
}

impl Default for Auth {
    fn default() -> Self {
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            root_key: format!(
                "simulated store root key {}-{n}-{nanos}",
                std::process::id()
            )
            .into_bytes(),
            caveat_keys: HashMap::new(),
            min_generation: 0,
            issued: 0,
            revoked: false,
            refreshes: 0,
            next_id: 0,
        }
    }
}

fn discharge(cid: &[u8], key: &[u8], version: Version, generation: u64) -> Macaroon {
    let mut d = Macaroon::mint(version, SSO_LOCATION, key, cid);
    d.add_first_party(b"login.ubuntu.com|account|c2hlcGhlcmQtYm90");
    d.add_first_party(format!("{GENERATION}{generation}").as_bytes());
    d
}

fn generation(d: &Macaroon) -> Option<u64> {
    d.caveats.iter().find_map(|c| {
        let text = std::str::from_utf8(&c.id).ok()?;
        text.strip_prefix(GENERATION)?.parse().ok()
    })
}

/// `Macaroon root=R, discharge=D` (values optionally in double quotes).
fn parse_header(value: &str) -> Option<(String, String)> {
    let rest = value.trim().strip_prefix("Macaroon ")?;
    let (mut root, mut discharge) = (None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "root" => root = Some(v),
            "discharge" => discharge = Some(v),
            _ => {}
        }
    }
    Some((root?, discharge?))
}

impl Auth {
    /// A fresh root and discharge pair, in `version`.
    pub fn mint(&mut self, version: Version) -> Credentials {
        self.next_id += 1;
        let cid = format!("sso-caveat-{}", self.next_id).into_bytes();
        let mut key = self.root_key.clone();
        key.extend_from_slice(format!(" caveat {}", self.next_id).as_bytes());
        let root_id = format!("root-{}", self.next_id).into_bytes();
        let mut root = Macaroon::mint(version, STORE_LOCATION, &self.root_key, &root_id);
        root.add_first_party(b"api.snapcraft.io|acl|[\"package_access\", \"package_release\"]");
        root.add_third_party(SSO_LOCATION, &cid, b"simulated encrypted caveat key");
        let d = discharge(&cid, &key, version, self.issued);
        self.caveat_keys.insert(cid, key);
        let secret = |m: &Macaroon| SecretString::from(m.serialize());
        match Credentials::new(secret(&root), secret(&d)) {
            Ok(c) => c,
            Err(e) => unreachable!("the simulator's own macaroons read back: {e}"),
        }
    }

    /// Every discharge issued so far needs a refresh.
    pub fn expire(&mut self) {
        self.issued += 1;
        self.min_generation = self.issued;
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, header: Option<&str>) -> Result<(), Refused> {
        let (root, bound) = header
            .and_then(parse_header)
            .ok_or(Refused::Invalid("no Macaroon authorization"))?;
        let root = Macaroon::deserialize(&root).map_err(|_| Refused::Invalid("bad root"))?;
        let bound = Macaroon::deserialize(&bound).map_err(|_| Refused::Invalid("bad discharge"))?;
        if root.expected_signature(&self.root_key) != root.signature {
            return Err(Refused::Invalid("root signature"));
        }
        let cid = root
            .caveats
            .iter()
            .find(|c| c.location.as_deref() == Some(SSO_LOCATION.as_bytes()))
            .map(|c| c.id.clone())
            .ok_or(Refused::Invalid("no SSO caveat"))?;
        if bound.identifier != cid {
            return Err(Refused::Invalid("discharge for another root"));
        }
        let key = self
            .caveat_keys
            .get(&cid)
            .ok_or(Refused::Invalid("unknown caveat"))?;
        let unbound = bound.expected_signature(key);
        if hmac_concat(&[0u8; 32], &root.signature, &unbound).to_vec() != bound.signature {
            return Err(Refused::Invalid("discharge not bound to this root"));
        }
        match generation(&bound) {
            Some(g) if g >= self.min_generation => Ok(()),
            _ => Err(Refused::NeedsRefresh),
        }
    }

    /// SSO's `POST /api/v2/tokens/refresh`: the next generation of an
    /// (unbound) discharge this simulator issued.
    pub fn refresh(&mut self, old: &str) -> Result<String, &'static str> {
        if self.revoked {
            return Err("The discharge macaroon can no longer be refreshed");
        }
        let old = Macaroon::deserialize(old).map_err(|_| "Invalid discharge macaroon")?;
        let key = self
            .caveat_keys
            .get(&old.identifier)
            .ok_or("Unknown discharge macaroon")?;
        if old.expected_signature(key) != old.signature {
            return Err("Invalid discharge macaroon");
        }
        self.refreshes += 1;
        self.issued = self.issued.max(self.min_generation) + 1;
        Ok(discharge(&old.identifier, key, old.version, self.issued).serialize())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn minted_pairs_pass_and_tampering_does_not() {
        let mut auth = Auth::default();
        for version in [Version::V1, Version::V2] {
            let c = auth.mint(version);
            let header = c.authorization().unwrap();
            assert_eq!(auth.check(Some(header.expose_secret())), Ok(()));
            let unbound = format!(
                "Macaroon root={}, discharge={}",
                c.root().expose_secret(),
                c.discharge().expose_secret()
            );
            assert!(matches!(
                auth.check(Some(&unbound)),
                Err(Refused::Invalid(_))
            ));
            let quoted = header
                .expose_secret()
                .replace("root=", "root=\"")
                .replace(", discharge=", "\", discharge=\"")
                + "\"";
            assert_eq!(auth.check(Some(&quoted)), Ok(()));
        }
        assert!(auth.check(None).is_err());
        assert!(auth.check(Some("Bearer x")).is_err());
    }

    #[test]
    fn expiry_asks_for_a_refresh_and_the_refresh_cures_it() {
        let mut auth = Auth::default();
        let c = auth.mint(Version::V1);
        auth.expire();
        let h = c.authorization().unwrap();
        assert_eq!(
            auth.check(Some(h.expose_secret())),
            Err(Refused::NeedsRefresh)
        );
        let fresh = auth.refresh(c.discharge().expose_secret()).unwrap();
        let c2 = c.with_discharge(SecretString::from(fresh)).unwrap();
        assert_eq!(
            auth.check(Some(c2.authorization().unwrap().expose_secret())),
            Ok(())
        );
        auth.revoked = true;
        assert!(auth.refresh(c2.discharge().expose_secret()).is_err());
    }
}
