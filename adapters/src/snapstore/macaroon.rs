//! The little of macaroons the Snap Store needs: reading the v1 and v2
//! binary formats, binding a discharge to its root, and writing the bound
//! discharge back in the version it came in (shared reference
//! snapstore-maas §1.5).
//!
//! Written here rather than taken from a crate: `macaroon` 0.3 (the
//! maintained-looking one) was last released in 2022, builds libsodium
//! through `sodiumoxide`, and its v2 writer leaves out an empty location
//! that pymacaroons writes — so its bound discharge would not be the bytes
//! pymacaroons' `prepare_for_request` sends. What we need is about two
//! hundred lines, and `testdata/pymacaroons_vector.json` (made by
//! pymacaroons itself) pins it byte for byte.
//!
//! Reading is as lenient as pymacaroons' where it matters (either base64
//! alphabet, padding optional) and stricter on damage it would trip over
//! (a truncated packet is an error here, not an exception or a loop).

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// URL-safe, padding written never and read either way.
const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Never says what the macaroon held: these errors may be logged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a macaroon: {0}")]
pub struct MacaroonError(pub(crate) String);

fn bad(reason: impl Into<String>) -> MacaroonError {
    MacaroonError(reason.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Caveat {
    pub id: Vec<u8>,
    /// Present for third-party caveats.
    pub vid: Option<Vec<u8>>,
    pub location: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Macaroon {
    pub version: Version,
    /// Empty when absent: pymacaroons reads and writes it that way.
    pub location: Vec<u8>,
    pub identifier: Vec<u8>,
    pub caveats: Vec<Caveat>,
    pub signature: Vec<u8>,
}

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC(key, HMAC(key, a) ‖ HMAC(key, b)): how third-party caveats are
/// signed, and (with a zero key) how a discharge is bound.
pub(crate) fn hmac_concat(key: &[u8], a: &[u8], b: &[u8]) -> [u8; 32] {
    let mut both = hmac(key, a).to_vec();
    both.extend_from_slice(&hmac(key, b));
    hmac(key, &both)
}

/// Base64 of either alphabet, padding optional, whitespace ignored.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    B64.decode(cleaned.trim_end_matches('=')).ok()
}

pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Standard alphabet with padding: how craft-store encodes exported credentials.
pub(crate) fn b64_standard(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Macaroon {
    pub fn deserialize(text: &str) -> Result<Self, MacaroonError> {
        let raw = b64_decode(text).ok_or_else(|| bad("not base64"))?;
        match raw.first() {
            Some(2) => read_v2(&raw[1..]),
            Some(b) if b.is_ascii_digit() || (b'a'..=b'f').contains(b) => read_v1(&raw),
            Some(_) => Err(bad("neither the v1 nor the v2 binary format")),
            None => Err(bad("empty")),
        }
    }

    pub fn serialize(&self) -> String {
        b64_encode(&match self.version {
            Version::V1 => self.write_v1(),
            Version::V2 => self.write_v2(),
        })
    }

    /// `self` (a discharge) bound to `root`, as pymacaroons'
    /// `root.prepare_for_request(self)`: the signature replaced by
    /// HMAC(K0, HMAC(K0, root sig) ‖ HMAC(K0, own sig)), K0 = 32 zero bytes.
    pub fn bound_to(&self, root: &Macaroon) -> Macaroon {
        Macaroon {
            signature: hmac_concat(&[0u8; 32], &root.signature, &self.signature).to_vec(),
            ..self.clone()
        }
    }

    fn write_v1(&self) -> Vec<u8> {
        let mut out = Vec::new();
        packet_v1(&mut out, b"location", &self.location);
        packet_v1(&mut out, b"identifier", &self.identifier);
        for c in &self.caveats {
            packet_v1(&mut out, b"cid", &c.id);
            // pymacaroons writes both or neither, and an empty one counts as absent.
            if let (Some(vid), Some(cl)) = (&c.vid, &c.location) {
                if !vid.is_empty() && !cl.is_empty() {
                    packet_v1(&mut out, b"vid", vid);
                    packet_v1(&mut out, b"cl", cl);
                }
            }
        }
        packet_v1(&mut out, b"signature", &self.signature);
        out
    }

    fn write_v2(&self) -> Vec<u8> {
        let mut out = vec![2u8];
        // Written even when empty, as pymacaroons does (libmacaroons would not).
        field_v2(&mut out, LOCATION, &self.location);
        field_v2(&mut out, IDENTIFIER, &self.identifier);
        out.push(EOS);
        for c in &self.caveats {
            if let Some(l) = &c.location {
                field_v2(&mut out, LOCATION, l);
            }
            field_v2(&mut out, IDENTIFIER, &c.id);
            if let Some(v) = &c.vid {
                field_v2(&mut out, VID, v);
            }
            out.push(EOS);
        }
        out.push(EOS);
        field_v2(&mut out, SIGNATURE, &self.signature);
        out
    }
}

/// `LLLLkey value\n`, LLLL the packet's whole length in lowercase hex.
fn packet_v1(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let len = 4 + key.len() + 1 + value.len() + 1;
    out.extend_from_slice(format!("{len:04x}").as_bytes());
    out.extend_from_slice(key);
    out.push(b' ');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn read_v1(raw: &[u8]) -> Result<Macaroon, MacaroonError> {
    let mut m = Macaroon {
        version: Version::V1,
        location: Vec::new(),
        identifier: Vec::new(),
        caveats: Vec::new(),
        signature: Vec::new(),
    };
    let mut signed = false;
    let mut rest = raw;
    while !rest.is_empty() {
        let len = rest
            .get(..4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .filter(|len| (6..=rest.len()).contains(len))
            .ok_or_else(|| bad("a v1 packet's length is damaged"))?;
        let packet = &rest[4..len];
        rest = &rest[len..];
        let body = packet
            .strip_suffix(b"\n")
            .ok_or_else(|| bad("a v1 packet does not end its line"))?;
        let space = body.iter().position(|b| *b == b' ');
        let (key, value) = match space {
            Some(i) => (&body[..i], body[i + 1..].to_vec()),
            None => return Err(bad("a v1 packet has no value")),
        };
        let last = m.caveats.last_mut();
        match (key, last) {
            (b"location", _) => m.location = value,
            (b"identifier", _) => m.identifier = value,
            (b"signature", _) => {
                m.signature = value;
                signed = true;
            }
            (b"cid", _) => m.caveats.push(Caveat {
                id: value,
                vid: None,
                location: None,
            }),
            (b"vid", Some(c)) => c.vid = Some(value),
            (b"cl", Some(c)) => c.location = Some(value),
            _ => return Err(bad("a v1 packet with an unknown or misplaced key")),
        }
    }
    if !signed {
        return Err(bad("no signature"));
    }
    Ok(m)
}

const EOS: u8 = 0;
const LOCATION: u8 = 1;
const IDENTIFIER: u8 = 2;
const VID: u8 = 4;
const SIGNATURE: u8 = 6;

fn varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn field_v2(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    out.push(kind);
    varint(out, data.len());
    out.extend_from_slice(data);
}

/// Reads v2 fields from a cursor; every read checks the bounds.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<usize, MacaroonError> {
        let mut n: usize = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.rest.split_first().ok_or_else(|| bad("truncated"))?;
            self.rest = rest;
            n |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(n);
            }
        }
        Err(bad("a v2 length is too long"))
    }

    /// One field: `(kind, data)`, or `(EOS, [])`.
    fn field(&mut self) -> Result<(usize, &'a [u8]), MacaroonError> {
        let kind = self.varint()?;
        if kind == usize::from(EOS) {
            return Ok((kind, &[]));
        }
        let len = self.varint()?;
        if len > self.rest.len() {
            return Err(bad("a v2 field runs past the end"));
        }
        let (data, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok((kind, data))
    }

    /// Fields up to the next end-of-section, in strictly rising kinds.
    fn section(&mut self) -> Result<Vec<(usize, &'a [u8])>, MacaroonError> {
        let mut fields: Vec<(usize, &'a [u8])> = Vec::new();
        loop {
            let (kind, data) = self.field()?;
            if kind == usize::from(EOS) {
                return Ok(fields);
            }
            if fields.last().is_some_and(|(k, _)| *k >= kind) {
                return Err(bad("v2 fields out of order"));
            }
            fields.push((kind, data));
        }
    }
}

fn read_v2(raw: &[u8]) -> Result<Macaroon, MacaroonError> {
    let mut r = Reader { rest: raw };
    let header = r.section()?;
    let (location, identifier) = match header.as_slice() {
        [(1, l), (2, i)] => (l.to_vec(), i.to_vec()),
        [(2, i)] => (Vec::new(), i.to_vec()),
        _ => return Err(bad("a v2 header needs an identifier")),
    };
    let mut caveats = Vec::new();
    loop {
        let section = r.section()?;
        let caveat = match section.as_slice() {
            [] => break,
            [(2, id)] => (None, id, None),
            [(1, l), (2, id), (4, v)] => (Some(l.to_vec()), id, Some(v.to_vec())),
            [(2, id), (4, v)] => (None, id, Some(v.to_vec())),
            _ => return Err(bad("a v2 caveat with unexpected fields")),
        };
        caveats.push(Caveat {
            location: caveat.0,
            id: caveat.1.to_vec(),
            vid: caveat.2,
        });
    }
    match r.field()? {
        (6, sig) => Ok(Macaroon {
            version: Version::V2,
            location,
            identifier,
            caveats,
            signature: sig.to_vec(),
        }),
        _ => Err(bad("a v2 macaroon without its signature")),
    }
}

/// Binds a serialized discharge to a serialized root: the `discharge=`
/// value of the `Authorization` header.
pub fn bind_discharge(root: &str, discharge: &str) -> Result<String, MacaroonError> {
    let root = Macaroon::deserialize(root).map_err(|e| bad(format!("root: {}", e.0)))?;
    let discharge =
        Macaroon::deserialize(discharge).map_err(|e| bad(format!("discharge: {}", e.0)))?;
    Ok(discharge.bound_to(&root).serialize())
}

/// Minting, for the simulator (and tests): the signatures a real issuer
/// computes, so the simulator can check what it is sent.
#[cfg(any(test, feature = "sim"))]
impl Macaroon {
    pub fn mint(version: Version, location: &str, key: &[u8], identifier: &[u8]) -> Macaroon {
        let derived = hmac(b"macaroons-key-generator", key);
        Macaroon {
            version,
            location: location.as_bytes().to_vec(),
            identifier: identifier.to_vec(),
            caveats: Vec::new(),
            signature: hmac(&derived, identifier).to_vec(),
        }
    }

    pub fn add_first_party(&mut self, predicate: &[u8]) {
        self.signature = hmac(&self.signature, predicate).to_vec();
        self.caveats.push(Caveat {
            id: predicate.to_vec(),
            vid: None,
            location: None,
        });
    }

    /// A third-party caveat. `vid` is opaque here (pymacaroons encrypts the
    /// caveat key into it; the simulator keeps keys by caveat id instead).
    pub fn add_third_party(&mut self, location: &str, id: &[u8], vid: &[u8]) {
        self.signature = hmac_concat(&self.signature, vid, id).to_vec();
        self.caveats.push(Caveat {
            id: id.to_vec(),
            vid: Some(vid.to_vec()),
            location: Some(location.as_bytes().to_vec()),
        });
    }

    /// The signature `key` gives this macaroon's identifier and caveats.
    pub fn expected_signature(&self, key: &[u8]) -> Vec<u8> {
        let mut m = Macaroon::mint(self.version, "", key, &self.identifier);
        for c in &self.caveats {
            match &c.vid {
                None => m.add_first_party(&c.id),
                Some(vid) => m.add_third_party("", &c.id, vid),
            }
        }
        m.signature
    }
}

#[cfg(test)]
mod tests;
