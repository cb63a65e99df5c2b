//! request.cgi's HTML answers, as the real app renders them (compare
//! fixtures/excuses/request-cgi): the submitted page with its `<dl>` of what
//! was queued, "You submitted an invalid request", a traceback, and the
//! login form. The client classifies these same pages, so they must match.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::request_cgi::Asked;

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "\n<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Autopkgtest Test Request</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn invalid(status: StatusCode, nick: &str, paragraphs: &[String]) -> Response {
    let ps: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    html(
        status,
        &format!("\n<p><a href=\"/logout\">Logout {nick}</a></p>\n<p>You submitted an invalid request: </p>{ps}"),
    )
}

pub(super) fn invalid1(status: StatusCode, nick: &str, message: &str) -> Response {
    html(
        status,
        &format!(
            "\n<p><a href=\"/logout\">Logout {nick}</a></p>\n<p>You submitted an invalid request: {}</p>",
            escape(message)
        ),
    )
}

pub(super) fn traceback(error: &str) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("<p>A server error has occurred. Traceback:</p> <pre>Traceback (most recent call last):\n\n  File \"request/submit.py\", in validate_distro_request\n\n{error}\n</pre>"),
    )
}

pub(super) fn login_page(query: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        &format!(
            "<form action=\"/login\" method=\"post\">\n<input type=\"submit\" value=\"Log in with Ubuntu SSO\">\n<input type=\"hidden\" name=\"next\" value=\"/request.cgi?{}\">\n</form>",
            escape(query)
        ),
    )
}

/// "Test request submitted." with the `<dl>` of what was queued: result
/// history links (not for PPA runs), then the fields in the app's order.
pub(super) fn submitted(asked: &Asked, nick: &str) -> Response {
    let Asked {
        release,
        package,
        triggers,
        arches,
        ppas,
        all_proposed,
    } = asked;
    let mut dl = String::new();
    if ppas.is_empty() {
        dl.push_str("<dt>Result history</dt>\n");
        for arch in arches {
            let h = format!("http://localhost/packages/{package}/{release}/{arch}");
            dl.push_str(&format!("<dd><a href=\"{h}\">{h}</a></dd>\n"));
        }
    }
    let quoted = |v: &[String]| {
        format!(
            "[{}]",
            v.iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut fields = vec![("arch", arches.join(", ")), ("package", package.clone())];
    if *all_proposed {
        fields.insert(0, ("all-proposed", "1".to_string()));
    }
    if !ppas.is_empty() {
        fields.push(("ppas", quoted(ppas)));
    }
    fields.extend([
        ("release", release.clone()),
        ("requester", nick.to_string()),
        ("triggers", quoted(triggers)),
    ]);
    for (k, v) in fields {
        dl.push_str(&format!("<dt>{k}</dt>\n<dd>{}</dd>\n", escape(&v)));
    }
    html(
        StatusCode::OK,
        &format!("\n<p><a href=\"/logout\">Logout {nick}</a></p>\n\n<p>Test request submitted.</p>\n<dl>\n{dl}\n</dl>\n"),
    )
}
