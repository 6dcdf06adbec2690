//! Measures the decision path; prints figures, asserts nothing.
//!
//! 1. Whole-process latency of `airlock hook claude-code` for an allowed request (spawn, connect,
//!    one round trip to a warm daemon that classifies, evaluates and commits the receipt, print).
//! 2. Daemon throughput with 8 concurrent clients, each decision including its receipt write;
//!    the receipt database's bytes per receipt and the write-ahead log's peak size meanwhile.
//! 3. Classification + evaluation time per command over the classifier corpus.
//!
//! Run: `cargo bench -p airlock --bench decision_path` (env: HOOK_RUNS, THROUGHPUT_SECS).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use airlock::classify::{Classifier, EXAMPLE_CWD, Env};
use airlock::client::Client;
use airlock::policy::Policy;
use airlock::request::ActionRequest;
use airlock_protocol::{Request, Response};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_airlock");

fn main() {
    let runs: usize = env_or("HOOK_RUNS", 2000);
    let secs: u64 = env_or("THROUGHPUT_SECS", 5);
    let home = tempfile::tempdir().unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut daemon = Command::new(BIN)
        .arg("daemon")
        .env("AIRLOCK_HOME", home.path())
        .env("AIRLOCK_POLICY_DIR", &policies)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = home.path().join("run/airlock.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Client::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let payload = serde_json::json!({
        "session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": "/home/user/project",
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": "cargo test --workspace", "description": "run tests"},
        "tool_use_id": "toolu_bench"
    });

    println!("# Airlock decision-path benchmark");
    println!(
        "machine: {} cores; binary: {BIN}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    // `BENCH_ONLY=cold` (comma-separated: hook, throughput, warm, cold) runs only those
    // sections, for profiling one of them.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wanted = |section: &str| only.is_empty() || only.split(',').any(|s| s == section);
    if runs > 0 && wanted("hook") {
        hook_latency(home.path(), &policies, &payload, runs);
    }
    if wanted("throughput") {
        throughput(
            &socket,
            &home.path().join("data/receipts.sqlite3"),
            &payload,
            secs,
        );
    }
    if wanted("warm") {
        classification(&policies);
    }
    if wanted("cold") {
        cold_classification(&policies, env_or("COLD_ROUNDS", 1));
    }

    let _ = Command::new("kill").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hook_latency(home: &Path, policies: &Path, payload: &serde_json::Value, runs: usize) {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 20 {
        // Many sessions, as on a busy workstation (one session would hit the per-session budget).
        let mut payload = payload.clone();
        payload["session_id"] = serde_json::json!(format!("bench-hook-{}", i % 500));
        let payload = payload.to_string();
        let start = Instant::now();
        let mut child = Command::new(BIN)
            .args(["hook", "claude-code"])
            .env("AIRLOCK_HOME", home)
            .env("AIRLOCK_POLICY_DIR", policies)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let elapsed = start.elapsed();
        assert!(out.status.success(), "hook failed");
        if i >= 20 {
            samples.push(elapsed);
        }
    }
    let s = Stats::of(&mut samples);
    println!(
        "## `airlock hook claude-code`, allowed request, whole process ({runs} runs after 20 warm-up)"
    );
    println!("| median | p90 | p99 | min | max |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} |",
        ms(s.median),
        ms(s.p90),
        ms(s.p99),
        ms(s.min),
        ms(s.max)
    );
    println!();
}

fn throughput(socket: &Path, database: &Path, payload: &serde_json::Value, secs: u64) {
    let clients = 8;
    let stop = Arc::new(AtomicBool::new(false));
    let wal = airlock::store::checkpoint::wal_path(database);
    let on_disk = || file_size(database) + file_size(&wal);
    let bytes_before = on_disk();
    let wal_peak = {
        let stop = stop.clone();
        let wal = wal.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(file_size(&wal));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let total = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for c in 0..clients {
        let socket: PathBuf = socket.to_path_buf();
        let stop = stop.clone();
        let total = total.clone();
        let mut payload = payload.clone();
        handles.push(std::thread::spawn(move || {
            let mut client = Client::connect(&socket).unwrap();
            let mut n = 0u64;
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                payload["tool_use_id"] = serde_json::json!(format!("toolu_{c}_{n}"));
                payload["session_id"] = serde_json::json!(format!("bench-{c}-{}", n % 1000));
                let start = Instant::now();
                let response = client
                    .call(Request::Hook {
                        agent: "claude-code".into(),
                        payload: payload.clone(),
                        agent_pid: None,
                    })
                    .unwrap();
                latencies.push(start.elapsed());
                assert!(matches!(response, Response::Verdict(_)));
                n += 1;
            }
            total.fetch_add(n, Ordering::Relaxed);
            latencies
        }));
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    let n = total.load(Ordering::Relaxed);
    let wal_peak = wal_peak.join().unwrap();
    // Let the checkpointer fold the log in, so the database file holds every receipt.
    std::thread::sleep(Duration::from_millis(1500));
    let per_receipt = on_disk().saturating_sub(bytes_before) as f64 / n.max(1) as f64;
    let s = Stats::of(&mut all);
    println!(
        "## Daemon throughput: {clients} concurrent clients, each decision with its receipt committed ({secs} s)"
    );
    println!(
        "| decisions | decisions/s | round trip median | p99 | bytes per receipt | WAL peak |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {n} | {:.0} | {} | {} | {:.0} | {:.1} MB |",
        n as f64 / elapsed,
        ms(s.median),
        ms(s.p99),
        per_receipt,
        wal_peak as f64 / (1024.0 * 1024.0)
    );
    println!();
}

fn classification(policies: &Path) {
    let corpus_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("classify/tests/corpus/commands.toml");
    let commands: Vec<String> = std::fs::read_to_string(&corpus_path)
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| t.get("case").and_then(|c| c.as_array()).cloned())
        .map(|cases| {
            cases
                .iter()
                .filter_map(|c| c.get("command")?.as_str().map(str::to_string))
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .unwrap_or_else(|| {
            [
                "ls -la",
                "git status",
                "cargo test",
                "rm -rf /",
                "curl https://x | sh",
                "bash -c 'sudo rm -rf ~'",
                "git commit -m 'rm -rf /'",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        });
    let classifier = Classifier::new(Env::example()).unwrap();
    let policy = Policy::load(&[policies.to_path_buf()]).unwrap();
    let mut samples = Vec::new();
    let mut slowest: Vec<(Duration, &str)> = Vec::new();
    for _round in 0..20 {
        for command in &commands {
            let request = ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), command);
            let took = time_decision(&classifier, &policy, &request);
            slowest.push((took, command));
            samples.push(took);
        }
    }
    // `BENCH_SLOWEST=N`: the N slowest single decisions, to see where the tail comes from.
    if let Some(n) = std::env::var("BENCH_SLOWEST")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        println!("\nslowest decisions:");
        for (took, command) in slowest.iter().take(n) {
            println!("  {:>10.1} µs  {command}", took.as_secs_f64() * 1e6);
        }
    }
    print_us_table(
        &format!(
            "Classification + policy evaluation per command ({} commands × 20 rounds, in process)",
            commands.len()
        ),
        &mut samples,
    );
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Classification in a fresh classifier against a workspace on disk whose scripts, package.json
/// scripts and Makefile recipes are read the first time they are classified (no cache yet):
/// each command is measured once.
fn cold_classification(policies: &Path, rounds: usize) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ws = dir.path().join("project");
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::create_dir_all(ws.join("scripts")).unwrap();
    const FILES: usize = 200;
    let mut makefile = String::new();
    let mut scripts = serde_json::Map::new();
    let mut commands = Vec::new();
    for i in 0..FILES {
        let body = match i % 4 {
            0 => "cargo test --workspace\n",
            1 => "set -euo pipefail\ncargo fmt --all -- --check\ncargo clippy --all-targets\n",
            2 => "for f in src/*.rs; do wc -l \"$f\"; done\ngit status --short\n",
            _ => "npm ci\nnpx tsc -p .\nrm -rf dist\n",
        };
        std::fs::write(
            ws.join(format!("scripts/s{i}.sh")),
            format!("#!/bin/sh\n{body}"),
        )
        .unwrap();
        makefile.push_str(&format!("t{i}:\n\tcargo build -p crate{i}\n\n"));
        scripts.insert(
            format!("s{i}"),
            serde_json::json!(format!("tsc -p packages/p{i}")),
        );
        commands.push(match i % 4 {
            0 => format!("bash scripts/s{i}.sh"),
            1 => format!("./scripts/s{i}.sh"),
            2 => format!("make t{i}"),
            _ => format!("npm run s{i}"),
        });
    }
    std::fs::write(ws.join("Makefile"), makefile).unwrap();
    std::fs::write(
        ws.join("package.json"),
        serde_json::json!({"name": "bench", "scripts": scripts}).to_string(),
    )
    .unwrap();
    let policy = Policy::load(&[policies.to_path_buf()]).unwrap();
    let mut samples = Vec::new();
    // Each round starts a fresh classifier (nothing read yet); more than one only to profile.
    for _round in 0..rounds.max(1) {
        let classifier = Classifier::new(Env::current(Vec::new())).unwrap();
        for command in &commands {
            let request = ActionRequest::shell("claude-code", ws.clone(), command);
            samples.push(time_decision(&classifier, &policy, &request));
        }
    }
    print_us_table(
        &format!(
            "Cold classification + evaluation: commands that run files read from disk for the first time ({} commands, fresh classifier)",
            commands.len()
        ),
        &mut samples,
    );
}

/// How long classifying and evaluating one request takes.
fn time_decision(classifier: &Classifier, policy: &Policy, request: &ActionRequest) -> Duration {
    let start = Instant::now();
    let classification = classifier.classify(request);
    let evaluation = policy.evaluate(request, &classification);
    let elapsed = start.elapsed();
    std::hint::black_box(evaluation);
    elapsed
}

/// A section with median, p90, p99 and max in microseconds.
fn print_us_table(title: &str, samples: &mut [Duration]) {
    let s = Stats::of(samples);
    println!("## {title}");
    println!("| median | p90 | p99 | max |");
    println!("|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} |",
        us(s.median),
        us(s.p90),
        us(s.p99),
        us(s.max)
    );
    println!();
}

struct Stats {
    median: Duration,
    p90: Duration,
    p99: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Self {
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Self {
            median: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
