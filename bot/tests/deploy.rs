//! The deployment files in deploy/ cannot rot: what they hand the binary,
//! the binary accepts. The Kubernetes ConfigMap's shepherd.toml passes
//! `shepherd check-config` with the variables the Deployment gives it (the
//! Secret's and its own), and the Deployment agrees with that config and
//! with the image; shepherd.env.example and the snap's configure hook each
//! list every SHEPHERD_* variable the binary reads, and no other.
//! (cli.rs checks deploy/shepherd.example.toml.)

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser};
use shepherd::config::{Config, ConfigError, ENV_OVERRIDES, LOG_VARIABLES};

use common::shepherd;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(file)
}

fn read(file: &str) -> String {
    let path = deploy(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// YAML as the manifests write it: scalars (as text), sequences, mappings.
#[derive(Debug)]
enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The one document of deploy/`file`, read by a full YAML parser.
    fn load(file: &str) -> Yaml {
        let text = read(file);
        let mut stack: Vec<Yaml> = Vec::new();
        let mut keys: Vec<Option<String>> = Vec::new();
        let mut docs = Vec::new();
        for event in Parser::new_from_str(&text) {
            let (event, span) = event.unwrap_or_else(|e| panic!("{file}: {e}"));
            let node = match event {
                Event::SequenceStart(..) => {
                    stack.push(Yaml::Seq(Vec::new()));
                    keys.push(None);
                    continue;
                }
                Event::MappingStart(..) => {
                    stack.push(Yaml::Map(Vec::new()));
                    keys.push(None);
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    keys.pop();
                    stack.pop().expect("an end has a start")
                }
                Event::Scalar(value, ..) => Yaml::Scalar(value.into_owned()),
                Event::Alias(_) => panic!("{file}: alias at {span:?}; the manifests use none"),
                _ => continue,
            };
            match (stack.last_mut(), keys.last_mut()) {
                (Some(Yaml::Seq(items)), _) => items.push(node),
                (Some(Yaml::Map(entries)), Some(key)) => match key.take() {
                    None => match node {
                        Yaml::Scalar(k) => *key = Some(k),
                        other => panic!("{file}: a key that is not a scalar: {other:?}"),
                    },
                    Some(k) => entries.push((k, node)),
                },
                _ => docs.push(node),
            }
        }
        assert_eq!(docs.len(), 1, "{file}: one document");
        docs.pop().expect("one document")
    }

    /// The value under the mapping keys `path`.
    fn at(&self, path: &[&str]) -> &Yaml {
        path.iter().fold(self, |node, key| {
            node.entries()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no `{key}` (of {path:?}) in {node:?}"))
        })
    }

    fn text(&self) -> &str {
        match self {
            Yaml::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn entries(&self) -> &[(String, Yaml)] {
        match self {
            Yaml::Map(entries) => entries,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    fn items(&self) -> &[Yaml] {
        match self {
            Yaml::Seq(items) => items,
            other => panic!("not a sequence: {other:?}"),
        }
    }

    /// The item of a sequence of mappings whose `name` is `name`.
    fn named(&self, name: &str) -> &Yaml {
        self.items()
            .iter()
            .find(|item| item.at(&["name"]).text() == name)
            .unwrap_or_else(|| panic!("no item named {name} in {self:?}"))
    }
}

/// Whether the binary reads `var`: configuration refuses an unknown
/// SHEPHERD_* variable before it looks at any value.
fn known(var: &str) -> bool {
    let registry = shepherd::runtime::registry().expect("the built-in commands register");
    let env = [(var.to_string(), String::new())];
    match Config::from_toml("", Path::new("empty.toml"), &env, &registry) {
        Err(ConfigError::Env { var: refused, .. }) => {
            assert_eq!(refused, var);
            false
        }
        _ => true,
    }
}

/// `listed` (the variables `file` names) is every variable the binary
/// reads, and names none it does not.
fn assert_every_variable(file: &str, listed: &BTreeSet<String>) {
    let unknown: Vec<&String> = listed.iter().filter(|v| !known(v)).collect();
    assert!(
        unknown.is_empty(),
        "{file} names variables the binary refuses: {unknown:?}"
    );
    let missing: Vec<&str> = ENV_OVERRIDES
        .iter()
        .map(|(var, _)| *var)
        .chain(LOG_VARIABLES)
        .filter(|var| !listed.contains(*var))
        .collect();
    assert!(
        missing.is_empty(),
        "{file} does not list {missing:?}, which the binary reads"
    );
}

#[test]
fn the_environment_file_lists_every_variable() {
    // `VAR=value` or `#VAR=value`: every line that sets one.
    let listed = read("shepherd.env.example")
        .lines()
        .filter_map(|line| line.trim_start_matches('#').split_once('='))
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("SHEPHERD_"))
        .map(str::to_string)
        .collect();
    assert_every_variable("deploy/shepherd.env.example", &listed);
}

#[test]
fn the_snap_configure_hook_maps_every_variable() {
    let hook = read("snap/hooks/configure");
    let keys = hook
        .split_once("keys=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(keys, _)| keys)
        .expect("the hook's keys=\"…\" list");
    // store-url → SHEPHERD_STORE_URL, as the hook maps them.
    let listed = keys
        .split_whitespace()
        .map(|key| format!("SHEPHERD_{}", key.to_uppercase().replace('-', "_")))
        .collect();
    assert_every_variable("deploy/snap/hooks/configure", &listed);
}

/// The ConfigMap's configuration passes check-config with the environment
/// the Deployment gives the container; the Deployment mounts it where the
/// image reads it, and probes and serves the port it listens on.
#[test]
fn kubernetes_configuration_passes_check_config() {
    let config_map = Yaml::load("k8s/configmap.yaml");
    let secret = Yaml::load("k8s/secret.yaml");
    let deployment = Yaml::load("k8s/deployment.yaml");
    let service = Yaml::load("k8s/service.yaml");
    for (doc, kind) in [
        (&config_map, "ConfigMap"),
        (&secret, "Secret"),
        (&deployment, "Deployment"),
        (&service, "Service"),
    ] {
        assert_eq!(doc.at(&["kind"]).text(), kind);
    }
    let pod = deployment.at(&["spec", "template", "spec"]);
    let container = &pod.at(&["containers"]).items()[0];

    // The configuration: the ConfigMap's one key, in the mounted volume.
    let (file_name, text) = match config_map.at(&["data"]).entries() {
        [(name, text)] => (name.as_str(), text.text()),
        other => panic!("the ConfigMap holds one file, not {other:?}"),
    };
    let volume = pod.at(&["volumes"]).named("config");
    assert_eq!(
        volume.at(&["configMap", "name"]).text(),
        config_map.at(&["metadata", "name"]).text()
    );
    let mount = container.at(&["volumeMounts"]).named("config");
    let path = format!("{}/{file_name}", mount.at(&["mountPath"]).text());
    assert!(
        read("container-entrypoint.sh").contains(&format!("config={path}\n")),
        "the image's entrypoint does not read {path}"
    );

    // Its environment: the Secret's, then the container's own.
    let from = &container.at(&["envFrom"]).items()[0];
    assert_eq!(
        from.at(&["secretRef", "name"]).text(),
        secret.at(&["metadata", "name"]).text()
    );
    let mut env: Vec<(String, String)> = secret
        .at(&["stringData"])
        .entries()
        .iter()
        .map(|(k, v)| (k.clone(), v.text().to_string()))
        .collect();
    env.extend(container.at(&["env"]).items().iter().map(|e| {
        (
            e.at(&["name"]).text().into(),
            e.at(&["value"]).text().into(),
        )
    }));

    // The store's URL may hold a password: the Secret's, never the ConfigMap's.
    let config: toml::Table = text.parse().expect("the ConfigMap's TOML parses");
    let store = config.get("store").and_then(|s| s.as_table());
    for key in ["url", "path"] {
        assert!(
            store.is_none_or(|s| !s.contains_key(key)),
            "store.{key} in the ConfigMap: the store is the Secret's SHEPHERD_STORE_URL"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(file_name);
    std::fs::write(&file, text).unwrap();
    let out = shepherd()
        .arg("check-config")
        .arg(&file)
        .envs(env)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "deploy/k8s/configmap.yaml's {file_name}:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is valid."), "{stdout}");
    // A command nobody may run is a configuration mistake in an example.
    assert!(!stdout.contains("warning:"), "{stdout}");
    // Replicas share one store: PostgreSQL, never a SQLite file each.
    let replicas: u32 = deployment.at(&["spec", "replicas"]).text().parse().unwrap();
    assert!(
        replicas == 1 || stdout.contains("store: postgresql "),
        "{replicas} replicas need PostgreSQL:\n{stdout}"
    );
    // Every placeholder is a secret, shown redacted.
    assert!(!stdout.contains("CHANGE-ME"), "{stdout}");

    // The port: where the config listens, what the pod declares, probes
    // and the Service sends to.
    let listen: SocketAddr = config["webhook"]["listen"]
        .as_str()
        .and_then(|l| l.parse().ok())
        .expect("webhook.listen is an address");
    assert!(
        listen.ip().is_unspecified(),
        "{listen}: the Service and the probes reach the pod's address, not 127.0.0.1"
    );
    let port = container.at(&["ports"]).named("http");
    assert_eq!(
        port.at(&["containerPort"]).text(),
        listen.port().to_string(),
        "the container's http port is not webhook.listen's"
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        let get = container.at(&[probe, "httpGet"]);
        assert_eq!(get.at(&["path"]).text(), "/healthz", "{probe}");
        assert_eq!(get.at(&["port"]).text(), "http", "{probe}");
    }
    assert_eq!(
        service
            .at(&["spec", "ports"])
            .named("http")
            .at(&["targetPort"])
            .text(),
        "http"
    );
    let labels = deployment.at(&["spec", "template", "metadata", "labels"]);
    for (key, value) in service.at(&["spec", "selector"]).entries() {
        assert_eq!(labels.at(&[key]).text(), value.text(), "selector {key}");
    }
}
