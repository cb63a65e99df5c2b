//! Plain text out of the small HTML that services put in their answers
//! (request.cgi pages, the links inside britney's excuse lines).

/// Strips tags and decodes the entities Flask/Jinja and britney escape.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_go_entities_decode() {
        assert_eq!(
            super::text("<p>a &amp; <b>b</b> &lt;c&gt; &#39;d&#39;</p>"),
            "a & b <c> 'd'"
        );
        assert_eq!(super::text("&amp;lt;"), "&lt;", "decoded once");
    }
}
