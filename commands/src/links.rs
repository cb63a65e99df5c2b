//! Links a person would click, built from the configured service roots —
//! so the sandbox's point at its simulators and a staging deployment's at
//! staging — instead of hard-coded production hosts.

/// Where Launchpad's and autopkgtest-cloud's web pages are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// Launchpad's web root, no trailing slash (`https://launchpad.net`).
    launchpad: String,
    /// autopkgtest-cloud's web root (`https://autopkgtest.ubuntu.com`).
    autopkgtest: String,
}

impl Default for Links {
    fn default() -> Self {
        Self {
            launchpad: "https://launchpad.net".into(),
            autopkgtest: "https://autopkgtest.ubuntu.com".into(),
        }
    }
}

impl Links {
    /// From Launchpad's API root (`https://api.launchpad.net/devel/` →
    /// `https://launchpad.net`; a simulator's root keeps its host and port)
    /// and request.cgi's URL (its site's root); production's when unset.
    pub fn from_roots(launchpad_api: Option<&str>, request_cgi: Option<&str>) -> Self {
        let mut links = Self::default();
        if let Some(root) = launchpad_api.and_then(site_of) {
            links.launchpad = match root.split_once("://api.") {
                Some((scheme, host)) => format!("{scheme}://{host}"),
                None => root,
            };
        }
        if let Some(root) = request_cgi.and_then(site_of) {
            links.autopkgtest = root;
        }
        links
    }

    /// A Launchpad object's page from its path (`/~o/+snap/maas/+build/7`).
    pub fn launchpad(&self, path: &str) -> String {
        format!("{}/{}", self.launchpad, path.trim_start_matches('/'))
    }

    /// A bug's page: Launchpad serves bugs on its `bugs.` host.
    pub fn bug(&self, n: impl std::fmt::Display) -> String {
        match self.launchpad.split_once("://") {
            Some((scheme, host)) if host.ends_with("launchpad.net") => {
                format!("{scheme}://bugs.{host}/bugs/{n}")
            }
            _ => self.launchpad(&format!("bugs/{n}")),
        }
    }

    /// A PPA's `+packages` page (`owner/name`), where copies show up.
    pub fn ppa_packages(&self, ppa: &str) -> String {
        match ppa.split_once('/') {
            Some((owner, name)) => {
                self.launchpad(&format!("~{owner}/+archive/ubuntu/{name}/+packages"))
            }
            None => self.launchpad(&format!("~{ppa}")),
        }
    }

    pub fn snap_build(&self, owner: &str, snap: &str, id: &str) -> String {
        self.launchpad(&format!("~{owner}/+snap/{snap}/+build/{id}"))
    }

    /// A test's result history on autopkgtest-cloud (britney's history_url:
    /// the package under its pool prefix, `libf` for `libfoo`).
    pub fn history(&self, package: &str, release: &str, arch: &str) -> String {
        let prefix: String = if package.starts_with("lib") {
            package.chars().take(4).collect()
        } else {
            package.chars().take(1).collect()
        };
        format!(
            "{}/packages/{prefix}/{package}/{release}/{arch}",
            self.autopkgtest
        )
    }

    /// autopkgtest-cloud's running page, at a package's entry.
    pub fn running(&self, package: &str) -> String {
        format!("{}/running#pkg-{package}", self.autopkgtest)
    }
}

/// `scheme://host[:port]` of a URL.
fn site_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_configured_roots() {
        let rows: &[(Option<&str>, Option<&str>, &str, &str)] = &[
            (
                None,
                None,
                "https://bugs.launchpad.net/bugs/5",
                "https://autopkgtest.ubuntu.com/running#pkg-glibc",
            ),
            (
                Some("https://api.launchpad.net/devel/"),
                Some("https://autopkgtest.ubuntu.com/request.cgi"),
                "https://bugs.launchpad.net/bugs/5",
                "https://autopkgtest.ubuntu.com/running#pkg-glibc",
            ),
            (
                Some("https://api.staging.launchpad.net/devel/"),
                None,
                "https://bugs.staging.launchpad.net/bugs/5",
                "https://autopkgtest.ubuntu.com/running#pkg-glibc",
            ),
            (
                Some("http://127.0.0.1:4001/devel/"),
                Some("http://127.0.0.1:4002/request.cgi"),
                "http://127.0.0.1:4001/bugs/5",
                "http://127.0.0.1:4002/running#pkg-glibc",
            ),
        ];
        for (lp, adt, bug, running) in rows {
            let l = Links::from_roots(*lp, *adt);
            assert_eq!(l.bug(5), *bug, "{lp:?}");
            assert_eq!(l.running("glibc"), *running, "{adt:?}");
        }
        let l = Links::default();
        assert_eq!(
            l.ppa_packages("maas/3.6"),
            "https://launchpad.net/~maas/+archive/ubuntu/3.6/+packages"
        );
        assert_eq!(
            l.snap_build("maas-committers", "maas", "7"),
            "https://launchpad.net/~maas-committers/+snap/maas/+build/7"
        );
        assert_eq!(
            l.launchpad("/~o/+livefs/u/r/l/+build/4"),
            "https://launchpad.net/~o/+livefs/u/r/l/+build/4"
        );
        // britney's history_url: the pool prefix (`libs` for libsepol).
        assert_eq!(
            l.history("libsepol", "plucky", "amd64"),
            "https://autopkgtest.ubuntu.com/packages/libs/libsepol/plucky/amd64"
        );
        assert_eq!(
            l.history("refpolicy", "plucky", "s390x"),
            "https://autopkgtest.ubuntu.com/packages/r/refpolicy/plucky/s390x"
        );
    }
}
