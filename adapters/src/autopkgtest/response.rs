//! Reading request.cgi's HTML answers. The app answers every request with a
//! tiny page: "Test request submitted." and a `<dl>` of what was queued, or
//! "You submitted an invalid request: …", a login form, or a traceback.
//! Key on the status and those markers (shared reference
//! britney-autopkgtest, §3.2; real pages in fixtures/excuses/request-cgi).

use thiserror::Error;

use crate::wire::resend::is_gateway_error;

/// What request.cgi queued, as its `<dl>` lists it (`arch`, `triggers`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub fields: Vec<(String, String)>,
}

impl Submitted {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RequestError {
    #[error(
        "not logged in to autopkgtest-cloud: the session cookie or API key is missing or expired"
    )]
    NotLoggedIn,
    #[error("refused: {0}")]
    Forbidden(String),
    #[error("release {0} not found")]
    UnknownRelease(String),
    #[error("arch {0} not found")]
    UnknownArch(String),
    #[error("{0}")]
    TriggerNotPublished(String),
    #[error("test already running")]
    AlreadyRunning,
    #[error("test already queued")]
    AlreadyQueued,
    #[error("malformed trigger, must be SOURCE/VERSION")]
    MalformedTrigger,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("request.cgi failed: {0}")]
    ServerError(String),
    #[error("HTTP {status}: {message}")]
    Unexpected { status: u16, message: String },
}

impl RequestError {
    /// Worth trying again later: the service, not the request, is at fault
    /// — a gateway error, or 429 (too many requests).
    pub fn is_transient(&self) -> bool {
        matches!(self, RequestError::Unexpected { status, .. } if *status == 429 || is_gateway_error(*status))
    }

    /// The test is already in flight: asking again would duplicate it.
    pub fn is_duplicate(&self) -> bool {
        matches!(
            self,
            RequestError::AlreadyRunning | RequestError::AlreadyQueued
        )
    }
}

/// Text of every `<tag>…</tag>` in order, tags stripped and entities decoded.
fn elements(html: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(gt) = after.find('>') else { break };
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else { break };
        out.push(text(&body[..end]));
        rest = &body[end + close.len()..];
    }
    out
}

/// Tag-free, entity-decoded text on one line: it is shown in a step's
/// error and a progress message, so each run of whitespace (line breaks
/// included) becomes one space.
fn text(html: &str) -> String {
    crate::wire::html::text(html)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Classifies a request.cgi answer.
pub fn classify(status: u16, html: &str) -> Result<Submitted, RequestError> {
    if status == 200 && html.contains("Test request submitted.") {
        let (dt, dd) = (elements(html, "dt"), elements(html, "dd"));
        return Ok(Submitted {
            fields: dt.into_iter().zip(dd).collect(),
        });
    }
    if html.contains("Log in with Ubuntu SSO") {
        return Err(RequestError::NotLoggedIn);
    }
    if html.contains("A server error has occurred") {
        let reason = html
            .lines()
            .map(str::trim)
            .find(|l| l.contains("Error: ") && !l.starts_with("File "))
            .map(text)
            .unwrap_or_else(|| "traceback".to_string());
        return Err(RequestError::ServerError(reason));
    }
    let paragraphs = elements(html, "p");
    let Some(start) = paragraphs
        .iter()
        .position(|p| p.starts_with("You submitted an invalid request:"))
    else {
        return Err(RequestError::Unexpected {
            status,
            message: text(html).chars().take(200).collect(),
        });
    };
    let message = paragraphs[start..]
        .iter()
        .map(|p| {
            p.trim_start_matches("You submitted an invalid request:")
                .trim()
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let word_after = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(" not found"))
            .map(str::to_string)
    };
    Err(if message.starts_with("Test already running") {
        RequestError::AlreadyRunning
    } else if message.starts_with("Test already queued") {
        RequestError::AlreadyQueued
    } else if message.contains("not allowed to") {
        RequestError::Forbidden(message)
    } else if let Some(r) = word_after("release ") {
        RequestError::UnknownRelease(r)
    } else if let Some(a) = word_after("arch ") {
        RequestError::UnknownArch(a)
    } else if message.contains(" is not published in ") {
        RequestError::TriggerNotPublished(message)
    } else if message.starts_with("Malformed trigger") {
        RequestError::MalformedTrigger
    } else {
        RequestError::Invalid(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str) -> String {
        let p = crate::britney::fixture(&format!("fixtures/excuses/request-cgi/{name}.html"));
        std::fs::read_to_string(p).unwrap()
    }

    /// Every rendered page in the fixtures, with the status index.json gives it.
    #[test]
    fn every_request_cgi_fixture_is_classified() {
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::britney::fixture(
                "fixtures/excuses/request-cgi/index.json",
            ))
            .unwrap(),
        )
        .unwrap();
        let mut seen = 0;
        for case in index.as_array().unwrap() {
            let name = case["scenario"].as_str().unwrap();
            let status = case["status"].as_u64().unwrap() as u16;
            let got = classify(status, &page(name));
            let expected: Result<(), RequestError> = match name {
                n if n.starts_with("ok-") || n == "dup-in-queue-not-detected" => Ok(()),
                "not-logged-in" => Err(RequestError::NotLoggedIn),
                "err-forbidden" => Err(RequestError::Forbidden(
                    "You are not allowed to upload hello or hello/2.10-5 to Ubuntu, thus you are not allowed to use this service.".into(),
                )),
                "err-unknown-release" => Err(RequestError::UnknownRelease("nosuch".into())),
                "err-unknown-arch" => Err(RequestError::UnknownArch("sparc".into())),
                "err-trigger-not-published" => {
                    Err(RequestError::TriggerNotPublished("hello/9.9-1 is not published in resolute".into()))
                }
                "err-already-running" => Err(RequestError::AlreadyRunning),
                "err-malformed-trigger" => Err(RequestError::MalformedTrigger),
                "err-migration-reference-plus-trigger" => {
                    Err(RequestError::Invalid("Cannot use additional triggers with migration-reference/0".into()))
                }
                "err-migration-reference-all-proposed" => Err(RequestError::Invalid(
                    "migration-reference/0 and all-proposed=1 are not compatible arguments.".into(),
                )),
                "err-missing-trigger" => Err(RequestError::Invalid(
                    "You have passed invalid args: release, arch, package, requester Please see an example url below: https://autopkgtest.ubuntu.com/request.cgi/?release=release&arch=arch&package=pkg&trigger=trigger1&trigger=trigger2".into(),
                )),
                "err-all-proposed-not-1" => Err(RequestError::ServerError("ValueError: Invalid all-proposed value".into())),
                "err-extra-param-env" => Err(RequestError::ServerError("ValueError: Invalid argument env".into())),
                other => panic!("fixture {other} has no expectation"),
            };
            assert_eq!(
                got.as_ref().map(|_| ()).map_err(Clone::clone),
                expected,
                "{name}"
            );
            seen += 1;
        }
        assert_eq!(seen, 18);
    }

    #[test]
    fn submitted_pages_list_what_was_queued() {
        let s = classify(200, &page("ok-multi-arch-multi-trigger-all-proposed")).unwrap();
        assert_eq!(s.field("arch"), Some("amd64, s390x"));
        assert_eq!(
            s.field("triggers"),
            Some("['gzip/1.13-1', 'glibc/2.42-0ubuntu3']")
        );
        let s = classify(200, &page("ok-ppa")).unwrap();
        assert_eq!(s.field("ppas"), Some("['someone/myppa']"));
    }

    /// Found by the fuzzer (fuzz/corpus/request_cgi/regression-*): a
    /// paragraph over two lines, or a traceback line with a NEL in it, made
    /// an error of two lines.
    #[test]
    fn fuzz_regression_what_a_page_says_is_one_line() {
        let page = "<p>You submitted an invalid request: </p><p>Malf\nYou submi/p</p>";
        assert_eq!(
            classify(400, page),
            Err(RequestError::Invalid("Malf You submi/p".into()))
        );
        // … and one broken over lines is still recognised.
        let page = "<p>You submitted an invalid request:</p><p>Test already\r\nrunning</p>";
        assert_eq!(classify(403, page), Err(RequestError::AlreadyRunning));
        let page = "Error: \u{85}A server error has occurred";
        assert_eq!(
            classify(500, page),
            Err(RequestError::ServerError(
                "Error: A server error has occurred".into()
            ))
        );
        let s = classify(
            200,
            "Test request submitted.<dt>arch</dt><dd>amd64,\n s390x</dd>",
        )
        .unwrap();
        assert_eq!(s.field("arch"), Some("amd64, s390x"));
    }

    #[test]
    fn only_gateway_trouble_is_transient() {
        let bad_gateway = classify(502, "<html><body>Bad Gateway</body></html>").unwrap_err();
        assert!(bad_gateway.is_transient());
        assert!(!classify(403, &page("not-logged-in"))
            .unwrap_err()
            .is_transient());
        assert!(classify(403, &page("err-already-running"))
            .unwrap_err()
            .is_duplicate());
    }
}
