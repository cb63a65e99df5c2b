//! autopkgtest-cloud's one write: a test request through request.cgi.

use shepherd_adapters::autopkgtest::queues::find;
use shepherd_adapters::autopkgtest::{AutopkgtestClient, ClientError, TestRequest};

use crate::executor::ApplyError;
use shepherd_commands::links::Links;

/// Reads before it writes: a test already queued or running (say, after a
/// crash between sending and recording) is not requested a second time.
pub async fn request_test(
    client: &AutopkgtestClient,
    r: &TestRequest,
) -> Result<String, ApplyError> {
    let classify = |e: ClientError| ApplyError::from_service(&e, e.is_transient());
    let in_flight = client.in_flight().await.map_err(classify)?;
    if let Some(f) = find(
        &in_flight,
        &r.release,
        &r.arches[0],
        &r.package,
        &r.sorted_triggers(),
        r.all_proposed,
    ) {
        return Ok(format!(
            "already {:?} on autopkgtest-cloud; not requested again",
            f.state
        )
        .to_lowercase());
    }
    match client.request(r).await {
        Ok(s) => Ok(format!(
            "queued ✓ (requester {}) · {}",
            s.field("requester").unwrap_or("?"),
            Links::from_roots(None, Some(client.request_url())).running(&r.package)
        )),
        Err(ClientError::Refused(e)) if e.is_duplicate() => {
            Ok(format!("{e} on autopkgtest-cloud; not sent twice"))
        }
        Err(e) => Err(classify(e)),
    }
}
