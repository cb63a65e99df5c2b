//! What goes into a request and comes out of a write: named-operation
//! parameters in lazr.restful's encoding (shared reference launchpad-api,
//! §1.6), and a write's answer.

use serde_json::Value;

use super::error::LpError;
use crate::wire::form::encode_query;

/// A named-operation parameter, encoded as lazr.restful expects (§1.6).
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A string; JSON-quoted when it would otherwise read as JSON (`"3.5"`, `"true"`).
    Str(String),
    /// An enumeration title, sent as-is (`Release`, `Fix Committed`).
    Enum(String),
    Bool(bool),
    Int(i64),
    /// A reference to another object: given as a path, sent as a full API URL.
    Link(String),
    /// A list, sent as a JSON array.
    List(Vec<String>),
    /// A dict (e.g. snap `channels`), sent as a JSON object.
    Json(Value),
}

impl Param {
    fn encode(&self, root: &str) -> String {
        match self {
            Param::Str(s) => {
                if serde_json::from_str::<Value>(s).is_ok() {
                    Value::String(s.clone()).to_string()
                } else {
                    s.clone()
                }
            }
            Param::Enum(s) => s.clone(),
            Param::Bool(b) => b.to_string(),
            Param::Int(i) => i.to_string(),
            Param::Link(p) => absolute(root, p),
            Param::List(items) => Value::from(items.clone()).to_string(),
            Param::Json(v) => v.to_string(),
        }
    }
}

pub(super) fn absolute(root: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!(
            "{}/{}",
            root.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

pub(super) fn form(params: &[(&str, Param)], root: &str) -> String {
    encode_query(params.iter().map(|(k, v)| (*k, v.encode(root))))
}

/// What a write answered: factory ops give the new object's URL, others a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Created(String),
    Body(Value),
}

impl Written {
    /// The new object's URL from a factory op (`op` names it in the error).
    pub fn created(self, op: &str) -> Result<String, LpError> {
        match self {
            Written::Created(url) => Ok(url),
            Written::Body(_) => Err(LpError::Decode(format!("{op} did not answer 201 Created"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_the_lazr_way() {
        let root = "https://api.launchpad.net/devel";
        assert_eq!(Param::Str("maas".into()).encode(root), "maas");
        assert_eq!(Param::Str("3.5".into()).encode(root), "\"3.5\"");
        assert_eq!(Param::Str("true".into()).encode(root), "\"true\"");
        assert_eq!(Param::Enum("Release".into()).encode(root), "Release");
        assert_eq!(Param::Bool(false).encode(root), "false");
        assert_eq!(
            Param::Link("/~maas/+archive/ubuntu/3.6".into()).encode(root),
            "https://api.launchpad.net/devel/~maas/+archive/ubuntu/3.6"
        );
        assert_eq!(
            Param::List(vec!["snap:build:0.1".into()]).encode(root),
            "[\"snap:build:0.1\"]"
        );
        assert_eq!(
            form(
                &[
                    ("ws.op", Param::Enum("copyPackage".into())),
                    ("to_pocket", Param::Enum("Release".into()))
                ],
                root
            ),
            "ws.op=copyPackage&to_pocket=Release"
        );
    }
}
