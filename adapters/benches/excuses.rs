//! Benchmark: parse + diff of update_excuses.yaml.
//!
//! Run with `cargo bench -p shepherd-adapters --bench excuses` (or
//! `adapters/benches/bench-excuses.sh`, which installs PyYAML and builds the
//! release binary first). It times, on the real plucky file and a ~100 MB
//! file made by scaling it:
//! - parsing the new file and diffing it against the (already parsed) old
//!   one, and parsing alone on one core and on every core,
//! - PyYAML's CSafeLoader loading the same text, in the same run,
//!   and prints the ratio, plus the process's peak RSS after each part;
//! - then the whole `shepherd retry --excuses plucky….yaml.xz --dry-run`
//!   run (the release binary, started as a user starts it: reading and
//!   decompressing the file, parsing, planning, printing the URLs) against
//!   PyYAML's load of the same file.

use std::process::Command;
use std::time::{Duration, Instant};

use shepherd_adapters::britney::{decompress, diff, parse, parse_parallel};

/// A vendored fixture under the workspace's `tests/` folder.
fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(path)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// `key: value` with `suffix` added to the value, keeping quoted values quoted.
fn append(line: &str, suffix: &str) -> String {
    let line = line.trim_end();
    match line.strip_suffix('\'') {
        Some(open) => format!("{open}{suffix}'\n"),
        None => format!("{line}{suffix}\n"),
    }
}

/// A plausible next run: some versions bumped, some tests regressed, some items gone.
fn modify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut items, mut passes) = (0usize, 0usize);
    let mut dropping = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("- ") {
            items += 1;
            dropping = items % 40 == 0;
        }
        if dropping {
            continue;
        }
        if line.starts_with("  new-version: ") && items % 10 == 0 {
            out.push_str(&append(line, "build1"));
            continue;
        }
        if line.trim() == "- PASS" {
            passes += 1;
            if passes % 50 == 0 {
                out.push_str(&line.replace("PASS", "REGRESSION"));
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// The real file repeated `copies` times with renamed items.
fn scale(text: &str, copies: usize) -> String {
    let at = text.find("\nsources:\n").expect("sources") + "\nsources:\n".len();
    let (head, body) = text.split_at(at);
    let mut out = String::with_capacity(text.len() * copies);
    out.push_str(head);
    for k in 0..copies {
        for line in body.split_inclusive('\n') {
            let renamed = line.starts_with("  item-name: ") || line.starts_with("  source: ");
            if renamed && k > 0 {
                out.push_str(&append(line, &format!("-copy{k}")));
            } else {
                out.push_str(line);
            }
        }
    }
    out
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
}

/// Seconds PyYAML's C loader takes on `path`, if python3 + PyYAML (with libyaml) are here.
fn pyyaml_seconds(path: &std::path::Path) -> Option<f64> {
    let script = "import sys,time,yaml\nt=open(sys.argv[1]).read()\ns=time.perf_counter()\nyaml.load(t, Loader=yaml.CSafeLoader)\nprint(time.perf_counter()-s)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "PyYAML unavailable: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The bot keeps the previous run parsed and reads the new file's text, so
/// the old text is dropped before measuring, as it would be there.
fn case(name: &str, old_text: String, new_text: &str, runs: usize) {
    let old = parse(&old_text).expect("old parses");
    drop(old_text);
    let (parse_diff, transitions) = best_of(runs, || {
        let new = parse(new_text).expect("new parses");
        diff(&old, &new, None).len()
    });
    let (parse_only, items) = best_of(runs, || parse(new_text).expect("parses").items.len());
    // Before the parallel parse, whose threads keep memory of their own.
    let rss = peak_rss_mb();
    let (parallel, _) = best_of(runs, || {
        parse_parallel(new_text).expect("parses").items.len()
    });
    let dir = tempfile_dir();
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, new_text).expect("write temp file");
    let python = pyyaml_seconds(&path);
    let _ = std::fs::remove_file(&path);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: {:.1} MB, {items} items, {transitions} transitions | parse+diff {:.1} ms (parse {:.1} ms; on {} cores {:.1} ms), {:.0} MB/s | peak RSS {:.1} MB",
        new_text.len() as f64 / 1e6,
        ms(parse_diff),
        ms(parse_only),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ms(parallel),
        new_text.len() as f64 / 1e6 / parse_diff.as_secs_f64(),
        rss
    );
    match python {
        Some(py) => println!(
            "{name}: PyYAML CSafeLoader {:.0} ms → ratio {:.1}× (parse+diff vs load alone)",
            py * 1000.0,
            py / parse_diff.as_secs_f64()
        ),
        None => println!(
            "{name}: PyYAML CSafeLoader not available → no ratio (run scripts/bench-excuses)"
        ),
    }
}

/// The release `shepherd` binary: `SHEPHERD_BIN`, or the one cargo built
/// beside this bench (`target/release/shepherd`).
fn shepherd_bin() -> Option<std::path::PathBuf> {
    if let Some(bin) = std::env::var_os("SHEPHERD_BIN") {
        return Some(bin.into());
    }
    let exe = std::env::current_exe().ok()?;
    // target/release/deps/excuses-… → target/release/shepherd
    let bin = exe.parent()?.parent()?.join("shepherd");
    bin.exists().then_some(bin)
}

/// Wall time of whole `shepherd retry --excuses FILE --dry-run` runs, as a
/// user runs it, and PyYAML's load of the same file (decompressed).
fn whole_run(xz_path: &std::path::Path, text: &str, runs: usize) {
    let Some(bin) = shepherd_bin() else {
        println!("whole run: no release binary (run `cargo build --release -p shepherd`, as bench-excuses.sh does)");
        return;
    };
    let mut times = Vec::new();
    let mut urls = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["retry", "--excuses"])
            .arg(xz_path)
            .arg("--dry-run")
            .output()
            .expect("shepherd runs");
        times.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        urls = out.stdout.iter().filter(|&&b| b == b'\n').count();
    }
    times.sort();
    let (best, median) = (times[0], times[runs / 2]);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let dir = tempfile_dir();
    let path = dir.join("plucky-original.yaml");
    std::fs::write(&path, text).expect("write temp file");
    let python = pyyaml_seconds(&path);
    let _ = std::fs::remove_file(&path);
    println!(
        "whole run (`shepherd retry --excuses plucky….yaml.xz --dry-run`, {urls} URLs, {runs} runs): median {:.1} ms, best {:.1} ms",
        ms(median),
        ms(best)
    );
    match python {
        Some(py) => println!(
            "whole run: {:.1} ms, PyYAML load {:.0} ms → ratio {:.1}× (target ≥ 50×; best run {:.1}×)",
            ms(median),
            py * 1000.0,
            py / median.as_secs_f64(),
            py / best.as_secs_f64()
        ),
        None => println!("whole run: PyYAML CSafeLoader not available → no ratio"),
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shepherd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("excuses bench: run with `cargo bench` to measure");
        return;
    }
    let xz_path = fixture("fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz");
    let read = || {
        let xz = std::fs::read(&xz_path).expect("plucky fixture (tests/fixtures) is readable");
        decompress(&xz).expect("decompresses")
    };
    // First, while this process is small: the whole run starts a process
    // per run, and this one's memory (hundreds of MB later) is no help.
    whole_run(&xz_path, &read(), 15);
    let plucky = read();
    let modified = modify(&plucky);
    case("plucky", plucky, &modified, 7);
    drop(modified);
    let big = scale(&read(), 9);
    let big_modified = modify(&big);
    case("synthetic", big, &big_modified, 3);
    let _ = std::fs::remove_dir_all(tempfile_dir());
}
