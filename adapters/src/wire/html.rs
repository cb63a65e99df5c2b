//! Plain text out of the small HTML that services put in their answers
//! (request.cgi pages, the links inside britney's excuse lines, Launchpad's
//! escaped error text).

/// Strips tags and decodes entities.
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
    decode_entities(&out)
}

/// Named entities that the services' escaping produces (Python's
/// `html.escape`, Jinja, Zope) plus common Latin-1 letters of people's names.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("hellip", '…'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("aacute", 'á'),
    ("agrave", 'à'),
    ("acirc", 'â'),
    ("auml", 'ä'),
    ("aring", 'å'),
    ("ccedil", 'ç'),
    ("eacute", 'é'),
    ("egrave", 'è'),
    ("ecirc", 'ê'),
    ("euml", 'ë'),
    ("iacute", 'í'),
    ("iuml", 'ï'),
    ("ntilde", 'ñ'),
    ("oacute", 'ó'),
    ("ocirc", 'ô'),
    ("ouml", 'ö'),
    ("oslash", 'ø'),
    ("uacute", 'ú'),
    ("uuml", 'ü'),
    ("szlig", 'ß'),
    ("Eacute", 'É'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("Auml", 'Ä'),
];

/// The character `&name;` stands for: `#123`, `#x1F600` or a known name.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        // Digits only: `from_str_radix` would also take a sign (`&#+1;`).
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let code = u32::from_str_radix(digits, radix).ok()?;
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Decodes `&…;` entities in one pass (so `&amp;lt;` is `&lt;`); anything
/// that is not a known entity stays as written.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // Entity names are short; a `;` further on belongs to other text.
        let decoded = after
            .char_indices()
            .take(32)
            .find(|(_, c)| *c == ';')
            .and_then(|(end, _)| Some((end, entity(&after[..end])?)));
        match decoded {
            Some((end, c)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_entities_decode() {
        assert_eq!(
            text("<p>a &amp; <b>b</b> &lt;c&gt; &#39;d&#39;</p>"),
            "a & b <c> 'd'"
        );
        assert_eq!(text("&amp;lt;"), "&lt;", "decoded once");
    }

    #[test]
    fn numeric_and_named_entities_decode_and_the_rest_stays() {
        assert_eq!(
            decode_entities("&#x27;maas&#x27; &quot;q&quot; &#233;&eacute;&#x1F600; R&amp;D"),
            "'maas' \"q\" éé😀 R&D"
        );
        for kept in [
            "&bogus;", "&#xZZ;", "&#;", "&#x;", "&#0;", "&#xD800;", "&#+1;", "a & b", "&", "&amp",
        ] {
            assert_eq!(decode_entities(kept), kept);
        }
        assert_eq!(decode_entities("é&é;&#x41;"), "é&é;A");
    }
}
