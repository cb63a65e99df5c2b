//! `update_output.txt`: what britney tried in its last run, what it
//! accepted, and what a skipped attempt would have broken.
//! Grammar: shared reference britney-autopkgtest, §2.

/// One `trying:` attempt of the main or a hint run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub items: Vec<String>,
    pub accepted: bool,
    /// Newly uninstallable binaries per arch (`* arch: pkg, pkg`), for skipped attempts.
    pub uninstallable: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateOutput {
    pub generated: Option<String>,
    pub arch_order: Vec<String>,
    pub attempts: Vec<Attempt>,
    /// Items accepted and committed (all `final:` lines).
    pub migrated: Vec<String>,
}

impl UpdateOutput {
    /// Did britney commit this item in the run?
    pub fn migrated(&self, item: &str) -> bool {
        self.migrated.iter().any(|m| m == item)
    }

    /// What breaks if `item` migrates, from the last skipped attempt that
    /// tried it: (arch, binaries).
    pub fn breaks(&self, item: &str) -> Option<&[(String, Vec<String>)]> {
        self.attempts
            .iter()
            .rev()
            .find(|a| {
                !a.accepted && !a.uninstallable.is_empty() && a.items.iter().any(|i| i == item)
            })
            .map(|a| a.uninstallable.as_slice())
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses the text; unknown lines are ignored (the format grows).
pub fn parse(text: &str) -> UpdateOutput {
    let mut out = UpdateOutput::default();
    // `* arch:` lines after `got:` belong to the attempt; after `endloop:` they do not.
    let mut in_attempt = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Generated on:") {
            out.generated = Some(rest.trim().to_string());
        } else if let Some(rest) = t.strip_prefix("Arch order is:") {
            out.arch_order = words(rest);
        } else if let Some(rest) = t.strip_prefix("trying:") {
            out.attempts.push(Attempt {
                items: words(rest),
                accepted: false,
                uninstallable: Vec::new(),
            });
            in_attempt = true;
        } else if t.starts_with("accepted:") {
            if let Some(a) = out.attempts.last_mut() {
                a.accepted = true;
            }
            in_attempt = false;
        } else if t.starts_with("skipped:") || t.starts_with("got:") {
            // stays in the attempt: its `* arch:` lines follow
        } else if let Some(rest) = t.strip_prefix("* ") {
            let Some((arch, pkgs)) = rest.split_once(':') else {
                continue;
            };
            if let (true, Some(a)) = (in_attempt, out.attempts.last_mut()) {
                a.uninstallable.push((arch.trim().to_string(), words(pkgs)));
            }
        } else if let Some(rest) = t.strip_prefix("final:") {
            out.migrated.extend(words(rest));
            in_attempt = false;
        } else if t.starts_with("endloop:") || t.starts_with("finish:") {
            in_attempt = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::britney::fixture;

    fn testsuite(dir: &str) -> UpdateOutput {
        let p = fixture(&format!(
            "fixtures/excuses/britney2-ubuntu-testsuite/{dir}/output.txt"
        ));
        parse(&std::fs::read_to_string(p).unwrap())
    }

    #[test]
    fn skipped_attempts_name_what_would_break() {
        let o = testsuite("binary_from_new_source_package_pass-run00");
        assert_eq!(
            o.arch_order,
            ["amd64", "arm64", "armhf", "i386", "powerpc", "ppc64el"]
        );
        assert_eq!(o.attempts.len(), 3);
        assert!(!o.attempts[0].accepted);
        assert_eq!(
            o.attempts[0].uninstallable,
            vec![(
                "powerpc".to_string(),
                vec!["darkgreen".to_string(), "lightgreen".to_string()]
            )]
        );
        // -green was skipped first, then accepted later in the run.
        assert!(o.migrated("-green") && o.migrated("newgreen"));
        assert_eq!(o.breaks("-green").unwrap()[0].0, "powerpc");
    }

    #[test]
    fn removals_and_multi_item_attempts() {
        let o = testsuite("remove_from_unstable-run90");
        assert_eq!(
            o.migrated,
            [
                "-black",
                "-blue",
                "-darkgreen",
                "-grey",
                "-lightgreen",
                "green"
            ]
        );
        let multi = o.attempts.iter().find(|a| a.items.len() == 2).unwrap();
        assert_eq!(multi.items, ["-blue", "green"]);
        assert!(!o.migrated("-libc6"));
        assert_eq!(
            o.breaks("-libc6").unwrap(),
            &[("powerpc".to_string(), vec!["libgreen1".to_string()])]
        );
    }

    #[test]
    fn every_fixture_parses() {
        let dir = fixture("fixtures/excuses/britney2-ubuntu-testsuite");
        for e in std::fs::read_dir(dir).unwrap() {
            let o = parse(&std::fs::read_to_string(e.unwrap().path().join("output.txt")).unwrap());
            assert!(o.generated.is_some());
        }
    }
}
