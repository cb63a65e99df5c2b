//! The shared bits of talking HTTP, used by more than one service's client
//! (and their simulators): reading the HTML services answer with, form and
//! percent encoding, when a failed request may be sent again, and who
//! hears of each exchange (`observe`). What is particular to one service
//! (lazr's value encoding, request.cgi's parameter order, Launchpad's error
//! statuses) stays with that service.

pub mod form;
pub mod html;
pub mod observe;
pub mod resend;

pub use observe::{CallObserver, Calls};

/// A failed HTTP exchange in words, with the causes reqwest keeps out of
/// its own message ("error sending request" alone hides a refused
/// connection or a timeout), each said once, and without the URL: callers
/// name the request themselves, and a URL may carry a secret.
pub fn network_words(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut words = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !words.contains(&said) {
            words = format!("{words}: {said}");
        }
        cause = c.source();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_says_so_once_and_names_no_url() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/secret-token/x");
        let e = reqwest::get(&url).await.unwrap_err();
        let words = network_words(e);
        assert!(words.starts_with("error sending request"), "{words}");
        assert!(words.to_lowercase().contains("refused"), "{words}");
        assert!(!words.contains("secret-token"), "{words}");
        let parts: Vec<&str> = words.split(": ").collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(!parts[i + 1..].contains(p), "{p:?} twice in {words}");
        }
    }
}
