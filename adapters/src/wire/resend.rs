//! When a failed request may be sent again, and the loop that sends it.
//!
//! What is sent again depends on what the request is, not only on how it
//! failed: a read may be repeated after any transient failure; a write with
//! `If-Match` only when it cannot have been applied (and were it applied,
//! its stale ETag turns the repeat into a 412); any other write — a POST
//! that makes a copy, a build, a webhook — is sent once, since a second
//! could make a second one. Its error still says whether trying later may
//! help, for a caller that reads before it writes again.

use std::future::Future;
use std::time::Duration;

/// How one exchange failed, as far as sending it again is concerned.
/// Errors found before sending, or in reading an answer, are neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: the connection failed or timed out.
    Network,
    /// An answer with this error status.
    Status(u16),
}

/// 502, 503, 504: a gateway, or the service behind it, could not answer
/// now (overload, maintenance, a timeout) — nothing about the request.
pub fn is_gateway_error(status: u16) -> bool {
    (502..=504).contains(&status)
}

impl Failure {
    /// Worth trying again later. Says nothing about whether the request
    /// itself may be sent again (see [`Resend`]).
    pub fn is_transient(self) -> bool {
        match self {
            Failure::Network => true,
            Failure::Status(status) => is_gateway_error(status),
        }
    }
}

/// After which failures a request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Reads: gateway errors (502–504), timeouts and other network failures.
    Read,
    /// A PATCH with `If-Match`: 502/503 only. Those mean it was not applied
    /// (a gateway's refusal, or Launchpad's own timeout, which rolls back);
    /// and were it applied, the stale ETag turns the second one into a 412.
    /// A 504 or a lost connection may hide an applied write: not sent again.
    ConditionalWrite,
    /// POSTs and unconditional PATCHes.
    Never,
}

impl Resend {
    pub fn allows(self, failure: Failure) -> bool {
        match self {
            Resend::Read => failure.is_transient(),
            Resend::ConditionalWrite => matches!(failure, Failure::Status(502 | 503)),
            Resend::Never => false,
        }
    }
}

/// The delays between attempts: the first resend waits `delays[0]`, the
/// next `delays[1]`, …; when they run out, the last failure is the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    delays: Vec<Duration>,
}

impl Backoff {
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// Whole seconds, e.g. `[0, 1, 2, 4]`.
    pub fn seconds(delays: &[u64]) -> Self {
        Self::new(delays.iter().map(|s| Duration::from_secs(*s)).collect())
    }

    /// Runs `attempt` until it succeeds, fails in a way `again` does not
    /// allow, or the delays run out; answers with its last result.
    pub async fn run<T, E, Fut>(
        &self,
        mut attempt: impl FnMut() -> Fut,
        again: impl Fn(&E) -> bool,
    ) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut delays = self.delays.iter();
        loop {
            match attempt().await {
                Err(e) if again(&e) => match delays.next() {
                    Some(d) => tokio::time::sleep(*d).await,
                    None => return Err(e),
                },
                answer => return answer,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn each_kind_of_request_is_sent_again_after_its_own_failures() {
        use Failure::{Network, Status};
        let cases = [
            (Network, [true, false, false]),
            (Status(502), [true, true, false]),
            (Status(503), [true, true, false]),
            (Status(504), [true, false, false]),
            (Status(500), [false, false, false]),
            (Status(404), [false, false, false]),
            (Status(412), [false, false, false]),
        ];
        for (failure, [read, conditional, never]) in cases {
            assert_eq!(Resend::Read.allows(failure), read, "{failure:?}");
            assert_eq!(
                Resend::ConditionalWrite.allows(failure),
                conditional,
                "{failure:?}"
            );
            assert_eq!(Resend::Never.allows(failure), never, "{failure:?}");
            assert_eq!(failure.is_transient(), read, "{failure:?}");
        }
    }

    #[tokio::test]
    async fn attempts_stop_at_success_at_a_refusal_or_when_the_delays_run_out() {
        let backoff = Backoff::new(vec![Duration::ZERO; 3]);
        let tries = Cell::new(0);
        let failing = || {
            tries.set(tries.get() + 1);
            async { Err::<(), u16>(503) }
        };
        assert_eq!(backoff.run(failing, |_| true).await, Err(503));
        assert_eq!(tries.get(), 4, "the first attempt and one per delay");

        tries.set(0);
        assert_eq!(backoff.run(failing, |_| false).await, Err(503));
        assert_eq!(tries.get(), 1, "a failure not allowed is the answer");

        tries.set(0);
        let second_succeeds = || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move {
                if n < 2 {
                    Err(503)
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(backoff.run(second_succeeds, |_| true).await, Ok(2));
    }
}
