//! A test request as request.cgi takes it, encoded exactly as Ubuntu's
//! tools do: parameters in the order release, arch…, package, trigger…,
//! all-proposed, ppa…, each `quote_plus`-encoded (`wire::form`; shared
//! reference britney-autopkgtest, §1.5 and §3.2).

use thiserror::Error;

use crate::wire::form::encode_query;

/// The trigger that asks for a baseline run against the release pocket.
pub const MIGRATION_REFERENCE: &str = "migration-reference/0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRequest {
    pub release: String,
    pub arches: Vec<String>,
    pub package: String,
    pub triggers: Vec<String>,
    pub all_proposed: bool,
    pub ppas: Vec<String>,
}

/// Requests request.cgi would refuse; caught before anything is sent.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum InvalidRequest {
    #[error("a test request needs at least one trigger")]
    NoTrigger,
    #[error("trigger `{0}` must be SOURCE/VERSION")]
    MalformedTrigger(String),
    #[error("{MIGRATION_REFERENCE} must be the only trigger")]
    ReferenceWithTriggers,
    #[error("{MIGRATION_REFERENCE} and all-proposed=1 are not compatible")]
    ReferenceWithAllProposed,
    #[error("{MIGRATION_REFERENCE} cannot run against a PPA")]
    ReferenceWithPpa,
    #[error("PPA `{0}` must be OWNER/NAME")]
    MalformedPpa(String),
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".+-".contains(c))
}

fn valid_version(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".+:~-".contains(&c))
}

/// Checks `SOURCE/VERSION` with request.cgi's own patterns.
pub fn check_trigger(t: &str) -> Result<(), InvalidRequest> {
    match t.split_once('/') {
        Some((name, version)) if valid_name(name) && valid_version(version) => Ok(()),
        _ => Err(InvalidRequest::MalformedTrigger(t.to_string())),
    }
}

impl TestRequest {
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if self.triggers.is_empty() {
            return Err(InvalidRequest::NoTrigger);
        }
        if self.triggers.iter().any(|t| t == MIGRATION_REFERENCE) {
            if self.triggers.len() > 1 {
                return Err(InvalidRequest::ReferenceWithTriggers);
            }
            if self.all_proposed {
                return Err(InvalidRequest::ReferenceWithAllProposed);
            }
            if !self.ppas.is_empty() {
                return Err(InvalidRequest::ReferenceWithPpa);
            }
            return Ok(());
        }
        for t in &self.triggers {
            check_trigger(t)?;
        }
        if let Some(p) = self.ppas.iter().find(|p| !matches!(p.split_once('/'), Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/'))) {
            return Err(InvalidRequest::MalformedPpa(p.clone()));
        }
        Ok(())
    }

    /// The query string, parameters in request.cgi's documented order.
    pub fn query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("release", &self.release)];
        pairs.extend(self.arches.iter().map(|a| ("arch", a.as_str())));
        pairs.push(("package", &self.package));
        pairs.extend(self.triggers.iter().map(|t| ("trigger", t.as_str())));
        if self.all_proposed {
            pairs.push(("all-proposed", "1"));
        }
        pairs.extend(self.ppas.iter().map(|p| ("ppa", p.as_str())));
        encode_query(pairs)
    }

    /// `base?query`, e.g. `https://autopkgtest.ubuntu.com/request.cgi?release=…`.
    pub fn url(&self, base: &str) -> String {
        format!("{base}?{}", self.query())
    }

    /// Triggers sorted, as request.cgi compares them for duplicates.
    pub fn sorted_triggers(&self) -> Vec<String> {
        let mut t = self.triggers.clone();
        t.sort();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(triggers: &[&str]) -> TestRequest {
        TestRequest {
            release: "plucky".into(),
            arches: vec!["amd64".into()],
            package: "refpolicy".into(),
            triggers: triggers.iter().map(|t| t.to_string()).collect(),
            all_proposed: false,
            ppas: vec![],
        }
    }

    #[test]
    fn encodes_like_britneys_retry_links() {
        assert_eq!(
            req(&["libsepol/3.8-1"]).url("https://autopkgtest.ubuntu.com/request.cgi"),
            "https://autopkgtest.ubuntu.com/request.cgi?release=plucky&arch=amd64&package=refpolicy&trigger=libsepol%2F3.8-1"
        );
    }

    #[test]
    fn order_is_release_arch_package_trigger_all_proposed_ppa() {
        let mut r = req(&["a/1", "b/2"]);
        r.arches.push("s390x".into());
        r.all_proposed = true;
        r.ppas = vec!["x/y".into()];
        assert_eq!(
            r.query(),
            "release=plucky&arch=amd64&arch=s390x&package=refpolicy&trigger=a%2F1&trigger=b%2F2&all-proposed=1&ppa=x%2Fy"
        );
    }

    #[test]
    fn query_round_trips() {
        use crate::wire::form::parse_query;

        let r = req(&["strace/6.13+ds-1ubuntu1", "glibc/2.41-1ubuntu2"]);
        let pairs = parse_query(&r.query());
        assert_eq!(
            pairs[3],
            ("trigger".to_string(), "strace/6.13+ds-1ubuntu1".to_string())
        );
    }

    #[test]
    fn migration_reference_rules_match_request_cgi() {
        assert_eq!(req(&["migration-reference/0"]).validate(), Ok(()));
        assert_eq!(
            req(&["migration-reference/0", "gzip/1.13-1"]).validate(),
            Err(InvalidRequest::ReferenceWithTriggers)
        );
        let mut r = req(&["migration-reference/0"]);
        r.all_proposed = true;
        assert_eq!(r.validate(), Err(InvalidRequest::ReferenceWithAllProposed));
        assert_eq!(
            req(&["hello"]).validate(),
            Err(InvalidRequest::MalformedTrigger("hello".into()))
        );
        assert_eq!(req(&[]).validate(), Err(InvalidRequest::NoTrigger));
        assert_eq!(req(&["libsepol/1:3.8~rc1+b1"]).validate(), Ok(()));
    }
}
