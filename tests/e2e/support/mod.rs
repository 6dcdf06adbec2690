//! Shared scaffolding for end-to-end tests: a scratch `AIRLOCK_HOME` per test, the real
//! `airlock` binary, a real daemon on a real socket, and the receipts it writes.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod postgres;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_airlock");

/// Wait until `check` holds, failing the test after 30 s (what no healthy run comes near: the
/// slowest waits are for a desktop app starting under Xvfb).
pub fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixture(name: &str) -> String {
    let path = repo_root()
        .join("../shared/reference/protocol-fixtures")
        .join(name);
    let local = repo_root().join("tests/fixtures").join(name);
    std::fs::read_to_string(&local)
        .or_else(|_| std::fs::read_to_string(&path))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// `airlock ARGS` for the installation at `home` (usable from another thread).
pub fn airlock_cmd(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("AIRLOCK_HOME", home)
        .env("AIRLOCK_POLICY_DIR", repo_root().join("policies"))
        .env_remove("AIRLOCK_LOG");
    cmd
}

/// One isolated Airlock installation.
pub struct Airlock {
    pub dir: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Airlock {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            daemon: None,
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn database(&self) -> PathBuf {
        self.home().join("data/receipts.sqlite3")
    }

    pub fn socket(&self) -> PathBuf {
        self.home().join("run/airlock.sock")
    }

    pub fn user_policy_dir(&self) -> PathBuf {
        self.home().join("config/policies")
    }

    /// `airlock ARGS` with this installation's environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        airlock_cmd(self.home(), args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "airlock {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.run_ok(args)).unwrap()
    }

    /// Start `airlock daemon` and wait until it answers. It gets no session bus (so no desktop
    /// notifications pop up on the desktop of whoever runs the tests).
    pub fn start_daemon(&mut self, approval_timeout_secs: u64) {
        self.start_daemon_with_env(
            approval_timeout_secs,
            &[("DBUS_SESSION_BUS_ADDRESS", Some("disabled:"))],
        );
    }

    /// Start `airlock daemon` with extra environment (`None` removes a variable) and wait until
    /// it answers.
    pub fn start_daemon_with_env(
        &mut self,
        approval_timeout_secs: u64,
        env: &[(&str, Option<&str>)],
    ) {
        let secs = approval_timeout_secs.to_string();
        self.start_daemon_args(&["daemon", "--approval-timeout", &secs], env);
    }

    /// Start `airlock daemon` with no `--approval-timeout`: it follows settings.toml.
    pub fn start_daemon_from_settings(&mut self) {
        self.start_daemon_args(
            &["daemon"],
            &[("DBUS_SESSION_BUS_ADDRESS", Some("disabled:"))],
        );
    }

    fn start_daemon_args(&mut self, args: &[&str], env: &[(&str, Option<&str>)]) {
        let mut cmd = self.cmd(args);
        for (key, value) in env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.socket().exists() && self.run(&["status", "--json"]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut child = self.daemon.take().unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "daemon did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The running daemon's process id.
    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Child::id)
    }

    pub fn stop_daemon(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `kill -9` the daemon: no stop record, no last checkpoint, no last shipping pass.
    pub fn kill_daemon(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The local chain: `(seq, hash)` of every row in order.
    pub fn chain(&self) -> Vec<(i64, String)> {
        self.sqlite3(
            "SELECT seq || ' ' || hash FROM (SELECT seq, hash FROM receipts UNION ALL SELECT seq, hash FROM events) ORDER BY seq",
        )
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (seq, hash) = l.split_once(' ').unwrap();
            (seq.parse().unwrap(), hash.to_string())
        })
        .collect()
    }

    /// Write `settings.toml`.
    pub fn write_settings(&self, text: &str) {
        let config = self.home().join("config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("settings.toml"), text).unwrap();
    }

    /// The hook as an agent runs it: through `/bin/sh -c` (dash here), below a process that
    /// stands for the agent (perl, which Debian always has: no shell or wrapper, so the hook
    /// registers it), which is not the test — the person, whose approvals must go through.
    fn hook_cmd(&self) -> Command {
        let mut cmd = Command::new("perl");
        cmd.args(["-e", "exit(system(@ARGV) >> 8)", "sh", "-c"])
            .arg("\"$0\" hook claude-code; exit $?")
            .arg(BIN)
            .env("AIRLOCK_HOME", self.home())
            .env("AIRLOCK_POLICY_DIR", repo_root().join("policies"))
            .env_remove("AIRLOCK_LOG");
        cmd
    }

    /// Run the hook with `payload` on stdin.
    pub fn hook(&self, payload: &str) -> HookResult {
        self.hook_with_env(payload, &[])
    }

    /// Run the hook with `payload` on stdin and `env` added to its environment.
    pub fn hook_with_env(&self, payload: &str, env: &[(&str, &str)]) -> HookResult {
        let mut cmd = self.hook_cmd();
        for (key, value) in env {
            cmd.env(key, value);
        }
        HookResult::from(run_with_input(&mut cmd, payload.as_bytes()))
    }

    /// Start the hook without waiting (for requests a human must decide).
    pub fn hook_in_background(&self, payload: &str) -> std::thread::JoinHandle<HookResult> {
        let mut child = self
            .hook_cmd()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.as_bytes())
            .unwrap();
        std::thread::spawn(move || HookResult::from(child.wait_with_output().unwrap()))
    }

    /// Run a shell script (as a stand-in coding agent) with this installation's environment;
    /// hooks it runs have the shell as their parent, like hooks run by Claude Code.
    pub fn agent_script(&self, script: &str) -> std::process::Child {
        // Below a stand-in agent process, as `hook_cmd`.
        Command::new("perl")
            .args(["-e", "exit(system(@ARGV) >> 8)", "sh", "-c"])
            .arg(script)
            .env("AIRLOCK_HOME", self.home())
            .env("AIRLOCK_POLICY_DIR", repo_root().join("policies"))
            .env("AIRLOCK", BIN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Wait until a request is pending and return it.
    pub fn wait_pending(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let pending = self.json(&["pending", "--json"]);
            if let Some(first) = pending.as_array().and_then(|a| a.first()) {
                return first.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no request became pending");
    }

    /// The newest receipts, as `airlock log --json` prints them.
    pub fn receipts(&self) -> Vec<Value> {
        self.json(&["log", "--json", "--limit", "1000"])
            .as_array()
            .unwrap()
            .clone()
    }

    /// The newest receipts without the daemon's records about itself (`airlock daemon start`
    /// and `stop`), for tests that count what requests left.
    pub fn requests(&self) -> Vec<Value> {
        self.receipts()
            .into_iter()
            .filter(|r| {
                !r["tool"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("airlock daemon "))
            })
            .collect()
    }

    pub fn receipt(&self, id: &str) -> Value {
        self.receipts()
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no receipt {id}"))
    }

    /// Run the real `sqlite3` command-line shell on the receipt database.
    pub fn sqlite3(&self, sql: &str) -> String {
        let out = Command::new("sqlite3")
            .arg(self.database())
            .arg(sql)
            .output()
            .expect("sqlite3 is installed by the setup script");
        assert!(
            out.status.success(),
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Airlock {
    fn drop(&mut self) {
        self.stop_daemon();
    }
}

#[derive(Debug)]
pub struct HookResult {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl HookResult {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("hook stdout is not JSON ({e}): {:?}", self.stdout))
    }
}

impl From<Output> for HookResult {
    fn from(out: Output) -> Self {
        Self {
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}

/// A Claude Code payload for any tool and event, in `cwd`.
pub fn payload(
    event: &str,
    tool: &str,
    input: Value,
    session: &str,
    tool_use_id: &str,
    cwd: &str,
) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": event,
        "tool_name": tool,
        "tool_input": input,
        "tool_use_id": tool_use_id,
    })
    .to_string()
}

/// A Claude Code PreToolUse payload for a Bash command.
pub fn bash_payload(command: &str, session: &str, tool_use_id: &str) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": "/home/user/project",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "test"},
        "tool_use_id": tool_use_id,
    })
    .to_string()
}

/// Outcomes of a receipt as strings.
pub fn outcomes(receipt: &Value) -> Vec<String> {
    receipt["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect()
}

/// What a same-user attacker does to rewrite history consistently: edit a row, then recompute
/// every hash after it (with Airlock's own chain code), the stored head and the whole witness.
pub fn rewrite_chain(database: &std::path::Path, edit: &str) {
    use airlock::store::chain::{EventRow, GENESIS, ReceiptRow, link};
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.execute_batch(edit).unwrap();
    let mut rows: Vec<(i64, &str, String)> = Vec::new();
    let mut stmt = conn
        .prepare(&format!("SELECT {} FROM receipts", ReceiptRow::COLUMNS))
        .unwrap();
    for r in stmt.query_map([], ReceiptRow::from_sql).unwrap() {
        let r = r.unwrap();
        rows.push((r.seq, "receipts", r.canonical()));
    }
    let mut stmt = conn
        .prepare(&format!("SELECT {} FROM events", EventRow::COLUMNS))
        .unwrap();
    for e in stmt.query_map([], EventRow::from_sql).unwrap() {
        let e = e.unwrap();
        rows.push((e.seq, "events", e.canonical()));
    }
    rows.sort_by_key(|r| r.0);
    let mut prev = GENESIS.to_string();
    for (seq, table, canonical) in &rows {
        let hash = link(&prev, canonical);
        conn.execute(
            &format!("UPDATE {table} SET prev_hash = ?1, hash = ?2 WHERE seq = ?3"),
            rusqlite::params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
    let last = rows.last().unwrap().0;
    conn.execute(
        "UPDATE chain_head SET seq = ?1, hash = ?2",
        rusqlite::params![last, prev],
    )
    .unwrap();
    // The witness rewritten whole, as a thorough attacker would (each line it holds is checked).
    std::fs::write(
        airlock::store::witness::path_for(database),
        format!("{last} {prev}\n"),
    )
    .unwrap();
}

/// A private session bus's configuration, listening in `dir`, with no activatable services:
/// nothing the host has installed starts on it.
pub fn private_bus_config(dir: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        dir.display()
    )
}

/// Run `cmd` with `input` on its stdin; its output captured.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}
