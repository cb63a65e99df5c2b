//! Who hears of each HTTP exchange a client has: its service and how it
//! ended (the status code, `timeout`, or `error`). The bot counts them for
//! `/metrics`; the hook belongs to one client, not to the process, so two
//! bots in one process (the end-to-end tests) keep their counts apart.
//! Every send of every service's client passes [`Calls::send`], and each
//! attempt is reported once — a resend is another exchange.

use std::sync::Arc;

/// Told of every exchange of the clients it is given to.
pub trait CallObserver: Send + Sync {
    /// `service` names the service (`launchpad`, `snapstore`, …); `status`
    /// is the HTTP status code (`200`, `404`, …), `timeout`, or `error`
    /// (no answer: refused connection, reset, TLS).
    fn observe(&self, service: &'static str, status: &str);
}

/// A client's hook: silent by default.
#[derive(Clone, Default)]
pub struct Calls {
    observer: Option<Arc<dyn CallObserver>>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calls")
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl Calls {
    pub fn new(observer: Arc<dyn CallObserver>) -> Self {
        Self {
            observer: Some(observer),
        }
    }

    /// Sends `request`, reporting how it ended under `service`.
    pub async fn send(
        &self,
        service: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let result = request.send().await;
        if self.observer.is_some() {
            let status = match &result {
                Ok(resp) => resp.status().as_u16().to_string(),
                Err(e) => outcome_of(e).to_string(),
            };
            self.observe(service, &status);
        }
        result
    }

    /// Reports an exchange a client made by other means (serenity's own
    /// HTTP client, for Discord).
    pub fn observe(&self, service: &'static str, status: &str) {
        if let Some(observer) = &self.observer {
            observer.observe(service, status);
        }
    }
}

/// How a request that got no answer failed, in one word.
fn outcome_of(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else {
        "error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct Heard(Mutex<Vec<(String, String)>>);

    impl CallObserver for Heard {
        fn observe(&self, service: &'static str, status: &str) {
            self.0
                .lock()
                .unwrap()
                .push((service.to_string(), status.to_string()));
        }
    }

    #[tokio::test]
    async fn each_exchange_is_reported_with_its_status_or_failure() {
        use axum::routing::get;
        let app = axum::Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        // A port that was just free: nothing listens there.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();

        let heard = Arc::new(Heard::default());
        let calls = Calls::new(heard.clone());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let ok = calls
            .send("site", http.get(format!("http://{addr}/ok")))
            .await;
        assert_eq!(ok.unwrap().status(), 200);
        let missing = calls
            .send("site", http.get(format!("http://{addr}/nowhere")))
            .await;
        assert_eq!(missing.unwrap().status(), 404);
        assert!(calls
            .send("site", http.get(format!("http://{addr}/slow")))
            .await
            .is_err());
        assert!(calls
            .send("other", http.get(format!("http://{closed}/x")))
            .await
            .is_err());
        // Silent by default.
        let quiet = Calls::default();
        assert!(quiet
            .send("site", http.get(format!("http://{addr}/ok")))
            .await
            .is_ok());

        let heard = heard.0.lock().unwrap().clone();
        let pairs: Vec<(&str, &str)> = heard
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("site", "200"),
                ("site", "404"),
                ("site", "timeout"),
                ("other", "error")
            ]
        );
    }
}
