//! `shepherd sandbox` as a person runs it in a terminal: started, its
//! banner read (HTTP port, webhook secret), spoken to line by line, its
//! stdout followed, stdin closed to end it. Each test file uses part of it.
#![allow(dead_code)]

pub mod replicas;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Long enough for a loaded machine; a healthy sandbox answers in milliseconds.
const PATIENCE: Duration = Duration::from_secs(30);

/// The binary with every `SHEPHERD_*` variable of the caller's environment
/// removed: the bot rejects unknown ones, and a developer's own settings
/// must not change what a test sees.
pub fn shepherd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shepherd"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SHEPHERD_") {
            c.env_remove(k);
        }
    }
    c
}

pub struct Sandbox {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    /// Every stdout line read so far.
    pub seen: Vec<String>,
    /// The banner, as printed on stderr.
    pub banner: String,
    /// Where Launchpad's deliveries go (the banner's `webhooks: POST …`).
    pub hooks_url: String,
    /// The webhook secret the banner prints.
    pub secret: String,
}

/// The lines of `read`, each handed over as soon as it is printed.
fn lines_of(read: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(read).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Sandbox {
    /// Starts `shepherd sandbox ARGS` and reads its banner.
    pub fn start(args: &[&str]) -> Self {
        let mut child = shepherd()
            .arg("sandbox")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("shepherd runs");
        let stdin = child.stdin.take();
        let stdout = lines_of(child.stdout.take().expect("piped stdout"));
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        let mut banner = String::new();
        let deadline = Instant::now() + PATIENCE;
        // The banner ends with its `try:` line.
        while !banner.lines().any(|l| l.starts_with("try: ")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match stderr.recv_timeout(left) {
                Ok(line) => banner.push_str(&format!("{line}\n")),
                Err(e) => panic!("no banner ({e:?}); stderr so far:\n{banner}"),
            }
        }
        // Keep reading stderr, so the sandbox never blocks on a full pipe.
        std::thread::spawn(move || while stderr.recv().is_ok() {});
        let hooks_url = banner
            .lines()
            .find_map(|l| l.strip_prefix("webhooks: POST "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `webhooks: POST URL` in the banner:\n{banner}"))
            .to_string();
        let secret = banner
            .lines()
            .filter(|l| l.starts_with("webhook secret of "))
            .find_map(|l| l.split_once("): "))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `webhook secret of …: SECRET` in the banner:\n{banner}"))
            .to_string();
        Self {
            child,
            stdin,
            stdout,
            seen: Vec::new(),
            banner,
            hooks_url,
            secret,
        }
    }

    /// Types `line` into the sandbox.
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("the sandbox reads its input");
    }

    /// Waits for the next stdout line containing `needle` and returns it.
    pub fn expect(&mut self, needle: &str) -> String {
        self.expect_where(needle, |line| line.contains(needle))
    }

    /// Waits until each of `needles` has been said (each in a line of its
    /// own, in any order: a reply and an announcement race each other).
    pub fn expect_all(&mut self, needles: &[&str]) {
        let mut missing: Vec<&str> = needles.to_vec();
        while let Some(next) = missing.first().copied() {
            let what = format!("{next:?} (and {} more)", missing.len() - 1);
            let line = self.expect_where(&what, |l| missing.iter().any(|n| l.contains(n)));
            missing.retain(|n| !line.contains(n));
        }
    }

    /// Waits for the next stdout line that `is_it` accepts and returns it;
    /// `what` describes it if none comes.
    pub fn expect_where(&mut self, what: &str, is_it: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if is_it(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "the sandbox never said {what:?}; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Ends the input (Ctrl-D), waits for the sandbox to finish its plans
    /// and exit 0, and returns everything it said on stdout.
    pub fn finish(mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running after its input ended");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}");
        // The reader thread ends at EOF: take what is left.
        while let Ok(line) = self.stdout.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

impl Drop for Sandbox {
    /// A failed test must not leave a sandbox running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
