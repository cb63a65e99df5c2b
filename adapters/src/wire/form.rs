//! Form and percent encoding as the services' own Python tools write it, so
//! what Shepherd sends reads byte for byte like what they send: query
//! strings and form bodies with Python's `quote_plus` (request.cgi's
//! parameters, lazr.restful's named operations, and the simulators reading
//! both back), and RFC 3986 percent-encoding for OAuth header values.

/// Python's `urllib.parse.quote_plus`: unreserved characters kept, space
/// as `+`, everything else percent-encoded (so `/` → `%2F`, `+` → `%2B`).
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `quote_plus` (and plain `%XX`) text; bad escapes are kept as-is.
pub fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `k=v&k=v…` in the order given, keys and values `quote_plus`-encoded:
/// a query string or an `application/x-www-form-urlencoded` body.
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k.as_ref()), quote_plus(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses a query string (or form body) into ordered pairs.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (unquote_plus(k), unquote_plus(v)),
            None => (unquote_plus(p), String::new()),
        })
        .collect()
}

/// RFC 3986 percent-encoding: unreserved characters (ALPHA DIGIT `-._~`)
/// stay, every other byte of the UTF-8 becomes `%XX` (uppercase). Unlike
/// `quote_plus`, a space is `%20`: OAuth 1.0a (RFC 5849 §3.6) requires it.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus_encodes_as_python_does() {
        assert_eq!(
            quote_plus("strace/6.13+ds-1ubuntu1"),
            "strace%2F6.13%2Bds-1ubuntu1"
        );
        assert_eq!(quote_plus("a:1~b c"), "a%3A1~b+c");
        assert_eq!(unquote_plus("a%2"), "a%2");
    }

    #[test]
    fn queries_round_trip_in_order() {
        let pairs = [("ws.op", "getByName"), ("a b", "x/y+z"), ("ws.op", "again")];
        let q = encode_query(pairs);
        assert_eq!(q, "ws.op=getByName&a+b=x%2Fy%2Bz&ws.op=again");
        let back: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(parse_query(&q), back);
        assert_eq!(
            parse_query("flag&&k=%zz"),
            [("flag".into(), String::new()), ("k".into(), "%zz".into())]
        );
    }

    #[test]
    fn unreserved_characters_stay_and_the_rest_is_encoded() {
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode("a b+c/d=e&f"), "a%20b%2Bc%2Fd%3De%26f");
        assert_eq!(percent_encode("é*'!"), "%C3%A9%2A%27%21");
    }
}
