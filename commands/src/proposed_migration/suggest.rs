//! "Did you mean" for a package that is not in -proposed: close spellings
//! first, then names containing what was typed. People often type part of
//! a name (`demo` for `shepherd-demo-lib`), which no edit distance finds.

use crate::registry::edit_distance;

/// How many names a suggestion lists; more would bury the likely one.
pub const SHOWN: usize = 3;

/// Names shorter than this match too much as a substring (`a`, `li`).
const MIN_SUBSTRING: usize = 3;

/// Suggestions for `typed` among `names`, best first: at most `SHOWN`,
/// and how many more matched.
pub fn closest<'a>(typed: &str, names: impl Iterator<Item = &'a str>) -> (Vec<&'a str>, usize) {
    let typed = typed.to_ascii_lowercase();
    let mut ranked: Vec<((u8, usize, usize), &str)> = names
        .filter(|n| **n != typed)
        .filter_map(|n| rank(&typed, n).map(|r| (r, n)))
        .collect();
    ranked.sort();
    ranked.dedup_by(|a, b| a.1 == b.1);
    let more = ranked.len().saturating_sub(SHOWN);
    (
        ranked.into_iter().take(SHOWN).map(|(_, n)| n).collect(),
        more,
    )
}

/// Lower is better: (kind, closeness within the kind, length), or `None`
/// when `name` is no candidate.
fn rank(typed: &str, name: &str) -> Option<(u8, usize, usize)> {
    // A typo: at most two edits, and under half the typed letters (two
    // edits turn `lib` into `ab`).
    let d = edit_distance(typed, name);
    if d <= 2 && 2 * d < typed.chars().count() {
        return Some((0, d, name.len()));
    }
    if typed.len() < MIN_SUBSTRING {
        return None;
    }
    let at = name.find(typed)?;
    // The start of the name, then the start of a word in it
    // (`demo` in `shepherd-demo-lib`), then anywhere.
    let kind = if at == 0 {
        1
    } else if name[..at].ends_with(['-', '.', '+']) {
        2
    } else {
        3
    };
    // Among equals, the name with least beside the typed part.
    Some((kind, name.len() - typed.len(), name.len()))
}

/// "a", "a or b", "a, b or c".
pub fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "libsepol",
        "libselinux",
        "shepherd-demo-lib",
        "shepherd-demo-tool",
        "shepherd-demo-held",
        "demolition",
        "pydemo",
        "systemd",
        "systemd-bootchart",
        "a",
        "ab",
    ];

    #[test]
    fn typos_then_prefixes_then_words_then_anywhere() {
        let rows: &[(&str, &[&str], usize)] = &[
            // One edit away.
            ("libsepl", &["libsepol"], 0),
            // Case does not matter.
            ("LibSepol", &[], 0),
            // Part of several names, at a word start: shortest first.
            (
                "demo",
                &["demolition", "shepherd-demo-lib", "shepherd-demo-held"],
                2,
            ),
            ("demo-t", &["shepherd-demo-tool"], 0),
            // A prefix beats a longer name that merely contains it.
            ("systemd", &["systemd-bootchart"], 0),
            // `ab` is two edits from `lib`: too many for three letters.
            ("lib", &["libsepol", "libselinux", "shepherd-demo-lib"], 0),
            // Inside a word, last.
            ("emo", &["pydemo", "demolition", "shepherd-demo-lib"], 2),
            // Too short to match inside names, and too short for two edits.
            ("xy", &[], 0),
            ("zzzzzz-nothing", &[], 0),
        ];
        for (typed, expected, more) in rows {
            let (got, got_more) = closest(typed, NAMES.iter().copied());
            assert_eq!((&got[..], got_more), (*expected, *more), "{typed}");
        }
    }

    #[test]
    fn the_typed_name_itself_is_no_suggestion() {
        let (got, _) = closest("systemd", ["systemd"].into_iter());
        assert!(got.is_empty());
    }

    #[test]
    fn lists_read_as_words() {
        assert_eq!(or_list(&[]), "");
        assert_eq!(or_list(&["a"]), "a");
        assert_eq!(or_list(&["a", "b"]), "a or b");
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }
}
