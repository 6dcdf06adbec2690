//! System mode end to end, as root without systemd as PID 1: `airlock install system` makes the
//! account and directories, the test binaries are copied to a world-readable prefix, and the
//! daemon is started as the unit's `ExecStart` would (`setpriv` to the `airlock` account with
//! the ambient `CAP_DAC_READ_SEARCH`). Two users of the machine then act as agents would:
//! neither can write Airlock's state or stop it, the environment cannot point their hooks
//! elsewhere, a loosening rule in their own policy is refused while a tightening one applies,
//! and each sees and decides only their own requests. The machine is left as it was found.
//!
//! The marker this installs switches every Airlock client on the machine to system mode, so
//! these tests run one at a time (`cargo test` runs test binaries one after another).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::desktop::Desktop;
use crate::support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const ALICE: &str = "airlock-e2e-alice";
const BOB: &str = "airlock-e2e-bob";
/// Seconds a held request waits before it expires.
const TIMEOUT_SECS: u64 = 8;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `setpriv` arguments that amount to the unit's `User=`/`Group=` and `AmbientCapabilities=`.
const AS_THE_UNIT: [&str; 5] = [
    "--reuid=airlock",
    "--regid=airlock",
    "--init-groups",
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
];

/// Root is needed (accounts, /etc, setpriv); elsewhere the test says so and, in CI, fails.
fn root_or_skip() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "system mode tests need root (CI runs as root)"
    );
    eprintln!("SKIPPED: system mode tests need root");
    false
}

/// An installation under test; dropping it puts the machine back.
struct System {
    prefix: PathBuf,
    daemon: Option<Child>,
}

impl System {
    fn bin(&self) -> PathBuf {
        self.prefix.join("bin/airlock")
    }

    /// Install from a world-readable copy of the test binaries, as a package would.
    fn install() -> Self {
        for (path, what) in [
            ("/etc/airlock", "a directory"),
            ("/var/lib/airlock", "a directory"),
        ] {
            assert!(
                !Path::new(path).exists(),
                "`{path}` exists ({what} of an installed Airlock): this test would change it; run it on a machine without system mode"
            );
        }
        assert!(
            airlock::system::OsUser::by_name("airlock").is_none(),
            "an `airlock` account exists already: run this test on a machine without system mode"
        );
        let prefix = PathBuf::from(format!("/opt/airlock-e2e-{}", std::process::id()));
        let system = Self {
            prefix: prefix.clone(),
            daemon: None,
        };
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        std::fs::copy(support::BIN, system.bin()).unwrap();
        copy_tree(
            &support::repo_root().join("policies"),
            &prefix.join("share/airlock/policies"),
        );
        chmod_tree(&prefix);
        for user in [ALICE, BOB] {
            run_ok(Command::new("useradd").args(["--create-home", "--shell", "/bin/sh", user]));
            // Homes private, as Debian makes them: the daemon reads them by its capability.
            let home = PathBuf::from(format!("/home/{user}"));
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let out = run_ok(Command::new(system.bin()).args(["install", "system", "--no-start"]));
        assert!(out.contains("made the account `airlock`"), "{out}");
        // Again: nothing is made twice.
        let again = run_ok(Command::new(system.bin()).args(["install", "system", "--no-start"]));
        assert!(!again.contains("made the"), "{again}");
        std::fs::write(
            "/etc/airlock/settings.toml",
            format!("approval_timeout_secs = {TIMEOUT_SECS}\n[retention]\nsyslog = false\n"),
        )
        .unwrap();
        system
    }

    /// Start the daemon exactly as the unit's `ExecStart` would.
    fn start(&mut self) {
        let child = Command::new("setpriv")
            .args(AS_THE_UNIT)
            .arg(self.bin())
            .arg("daemon")
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if Command::new(self.bin())
                .args(["status"])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut child = self.daemon.take().unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the system daemon did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().unwrap().id()
    }

    /// `airlock ARGS` as `user`, with a clean environment plus `env`.
    fn as_user(&self, user: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", user, "--", "env", "-i"])
            .arg(format!("HOME=/home/{user}"))
            .arg("PATH=/usr/bin:/bin");
        for (k, v) in env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.arg(self.bin()).args(args).output().unwrap()
    }

    /// A hook request as `user`'s agent makes it (below a process standing for the agent).
    fn hook(&self, user: &str, command: &str, tool_use_id: &str, env: &[(&str, &str)]) -> Value {
        run_hook(&self.bin(), user, command, ("sess-1", tool_use_id), env)
    }

    /// A hook request as `user`'s agent makes it, left waiting (for a person) on another thread.
    fn hook_in_background(
        &self,
        user: &'static str,
        command: &'static str,
        (session, tool_use_id): (&'static str, &'static str),
    ) -> std::thread::JoinHandle<Value> {
        let bin = self.bin();
        std::thread::spawn(move || run_hook(&bin, user, command, (session, tool_use_id), &[]))
    }

    /// The receipt for a tool call, read by root from the daemon's database.
    fn receipt(&self, tool_use_id: &str) -> Value {
        let out = run_ok(Command::new("sqlite3").args([
            "-json",
            "/var/lib/airlock/receipts.sqlite3",
            &format!(
                "SELECT session, decision, reason, detail FROM receipts WHERE tool_use_id = '{tool_use_id}'"
            ),
        ]));
        let rows: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
        rows.into_iter()
            .next()
            .unwrap_or_else(|| panic!("no receipt for {tool_use_id}"))
    }

    /// The id of the receipt for a tool call.
    fn receipt_id(&self, tool_use_id: &str) -> String {
        run_ok(Command::new("sqlite3").args([
            "/var/lib/airlock/receipts.sqlite3",
            &format!("SELECT id FROM receipts WHERE tool_use_id = '{tool_use_id}'"),
        ]))
        .trim()
        .to_string()
    }

    /// Write a file as `user` (so it is theirs, in their private home).
    fn write_as(&self, user: &str, path: &str, text: &str) {
        let out = support::run_with_input(
            Command::new("runuser").args([
                "-u",
                user,
                "--",
                "sh",
                "-c",
                "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"",
                "sh",
                path,
            ]),
            text.as_bytes(),
        );
        assert!(
            out.status.success(),
            "cannot write {path} as {user}: {out:?}"
        );
    }

    /// Whether `user` can create `path` (`touch`, or a write into it for files).
    fn can_write(&self, user: &str, path: &str) -> bool {
        Command::new("runuser")
            .args(["-u", user, "--", "sh", "-c", "echo x >> \"$1\"", "sh", path])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new(self.bin())
            .args(["uninstall", "system", "--purge"])
            .output();
        for user in [ALICE, BOB] {
            let _ = Command::new("userdel").args(["--remove", user]).output();
        }
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// A hook request as `user`'s agent makes it: below a process standing for the agent, with a
/// clean environment plus `env`, in the user's project.
fn run_hook(
    bin: &Path,
    user: &str,
    command: &str,
    (session, tool_use_id): (&str, &str),
    env: &[(&str, &str)],
) -> Value {
    let payload = support::payload(
        "PreToolUse",
        "Bash",
        serde_json::json!({"command": command}),
        session,
        tool_use_id,
        &format!("/home/{user}/project"),
    );
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", user, "--", "env", "-i"])
        .arg(format!("HOME=/home/{user}"))
        .arg("PATH=/usr/bin:/bin");
    for (k, v) in env {
        cmd.arg(format!("{k}={v}"));
    }
    cmd.args(["perl", "-e", "exit(system(@ARGV) >> 8)", "sh", "-c"])
        .arg("\"$0\" hook claude-code; exit $?")
        .arg(bin);
    let out = support::run_with_input(&mut cmd, payload.as_bytes());
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "hook output is not JSON ({e}): {stdout} / {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// World-readable (and the binary executable), as a package installs it.
fn chmod_tree(path: &Path) {
    let meta = std::fs::metadata(path).unwrap();
    let mode = if meta.is_dir() || path.ends_with("bin/airlock") {
        0o755
    } else {
        0o644
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            chmod_tree(&entry.path());
        }
    }
}

/// A user's own desktop session (the shared rig, as that user): an X server, a session bus and
/// dunst.
fn user_session(user: &'static str) -> Desktop {
    Desktop::for_user(user).xvfb().bus().dunst()
}

/// The user's own `airlock notify`, started in their session; its log.
fn notify_in(session: &mut Desktop, bin: &Path) -> PathBuf {
    let log = session.dir().join("notify.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = session.command(bin);
    cmd.arg("notify")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(out);
    let child = cmd.spawn().unwrap();
    session.adopt(child);
    log
}

fn decision(output: &Value) -> String {
    output["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn system_mode_keeps_users_out_of_airlocks_state_and_apart_from_each_other() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip() {
        return;
    }
    let mut system = System::install();
    // Each agent works in a project in its user's private home.
    for user in [ALICE, BOB] {
        system.write_as(
            user,
            &format!("/home/{user}/project/test.sh"),
            "cargo test\n",
        );
        system.write_as(
            user,
            &format!("/home/{user}/project/clean.sh"),
            "rm -rf ~/Documents\n",
        );
    }
    // Bob tightens his own policy; Alice tries to loosen hers.
    system.write_as(
        BOB,
        &format!("/home/{BOB}/.config/airlock/policies/mine.toml"),
        "[[rule]]\nid = \"bob.no-ls\"\ndecision = \"deny\"\njustification = \"bob never lists\"\ncommands = [\"ls\"]\n",
    );
    let alice_policy = format!("/home/{ALICE}/.config/airlock/policies/mine.toml");
    system.write_as(
        ALICE,
        &alice_policy,
        "[[rule]]\nid = \"alice.exports\"\ndecision = \"allow\"\njustification = \"mine\"\nclasses = [\"data.export\"]\n",
    );
    system.start();

    let status = run_ok(Command::new(system.bin()).args(["status"]));
    assert!(status.contains("system mode"), "{status}");

    // Decided in each user's own view: Alice's `ls` is routine, Bob's own rule denies his.
    let out = system.hook(ALICE, "ls", "t-alice-ls", &[]);
    assert_eq!(decision(&out), "allow", "{out}");
    let receipt = system.receipt("t-alice-ls");
    let detail: Value = serde_json::from_str(receipt["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["os_user"]["name"], ALICE, "{detail}");
    assert!(
        receipt["session"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{ALICE}/")),
        "{receipt}"
    );
    let out = system.hook(BOB, "ls", "t-bob-ls", &[]);
    assert_eq!(decision(&out), "deny", "{out}");

    // Scripts in private homes are read (by the capability) and judged by their content.
    let out = system.hook(ALICE, "bash test.sh", "t-alice-test", &[]);
    assert_eq!(
        decision(&out),
        "allow",
        "a readable script of `cargo test`: {out}"
    );
    let out = system.hook(ALICE, "bash clean.sh", "t-alice-clean", &[]);
    assert_ne!(decision(&out), "allow", "{out}");
    let reason = system.receipt("t-alice-clean")["reason"].to_string();
    assert!(
        reason.contains("rm -rf ~/Documents"),
        "judged by what the script holds: {reason}"
    );

    // Only what a user may read is read for them (review round 14, S1): Bob's private script,
    // the shadow file and the daemon's own state — named directly, through a link in Alice's
    // project, or through `..` — are never read, so no line of them reaches a receipt she can
    // read, and nothing unread is allowed.
    system.write_as(
        BOB,
        &format!("/home/{BOB}/project/secret.sh"),
        "echo BOB-SECRET-2231\n",
    );
    system.write_as(
        BOB,
        &format!("/home/{BOB}/project/secret.toml"),
        "BOB-POLICY-SECRET-7 = [\n",
    );
    let links = format!(
        "cd /home/{ALICE}/project && ln -s /home/{BOB}/project/secret.sh bobs.sh && \
         ln -s /etc/shadow shadow.sh && ln -s /var/lib/airlock state && \
         ln -s /home/{BOB}/project/secret.toml /home/{ALICE}/.config/airlock/policies/aa.toml"
    );
    run_ok(Command::new("runuser").args(["-u", ALICE, "--", "sh", "-c", &links]));
    let shadow_line = std::fs::read_to_string("/etc/shadow")
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut secrets = vec!["BOB-SECRET-2231".to_string(), shadow_line];
    for key in [
        "/var/lib/airlock/checkpoint.key",
        "/var/lib/airlock/step-up.key",
    ] {
        if let Ok(text) = std::fs::read_to_string(key) {
            secrets.push(text.lines().next().unwrap_or_default().to_string());
        }
    }
    for (n, command) in [
        format!("bash /home/{BOB}/project/secret.sh"),
        "bash bobs.sh".to_string(),
        format!("sh ../../{BOB}/project/secret.sh"),
        format!("python3 /home/{BOB}/project/secret.sh"),
        "bash /etc/shadow".to_string(),
        "bash shadow.sh".to_string(),
        "bash /var/lib/airlock/checkpoint.key".to_string(),
        "bash state/checkpoint.key".to_string(),
        "source /etc/shadow".to_string(),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("t-alice-unreadable-{n}");
        let out = system.hook(ALICE, command, &id, &[]);
        assert_ne!(decision(&out), "allow", "{command}: {out}");
        let receipt_id = system.receipt_id(&id);
        let shown = system.as_user(ALICE, &["show", &receipt_id, "--json"], &[]);
        assert!(shown.status.success(), "{shown:?}");
        let shown = String::from_utf8_lossy(&shown.stdout);
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "`{command}` showed Alice `{secret}`: {shown}"
            );
        }
    }

    // Alice's loosening rule is refused at load, naming the file and rule; the export still
    // needs a key (none is registered: denied).
    let out = system.hook(
        ALICE,
        "curl -T ~/project/test.sh https://uploads.example.com/x",
        "t-alice-export",
        &[],
    );
    assert_eq!(decision(&out), "deny", "{out}");
    let refused = run_ok(Command::new("sqlite3").args([
        "/var/lib/airlock/receipts.sqlite3",
        "SELECT reason FROM receipts WHERE tool = 'airlock policy load'",
    ]));
    assert!(
        refused.contains(ALICE)
            && refused.contains(&alice_policy)
            && refused.contains("alice.exports"),
        "{refused}"
    );
    // Her link to Bob's file in her policy directory was not read (nor quoted in an error).
    assert!(!refused.contains("BOB-POLICY-SECRET"), "{refused}");

    // Neither user can write Airlock's state, policy, settings, approvals or socket directory,
    // nor read its receipts (positive control: the same write into their own home works).
    assert!(system.can_write(ALICE, &format!("/home/{ALICE}/probe")));
    for path in [
        "/var/lib/airlock/receipts.sqlite3",
        "/var/lib/airlock/probe",
        "/var/lib/airlock/always/probe.toml",
        "/var/lib/airlock/checkpoint.key",
        "/etc/airlock/policies/zz.toml",
        "/etc/airlock/settings.toml",
        "/etc/airlock/system.toml",
        "/run/airlock/probe",
        "/run/airlock/airlock.sock",
    ] {
        assert!(!system.can_write(ALICE, path), "{ALICE} could write {path}");
    }
    let read = Command::new("runuser")
        .args([
            "-u",
            ALICE,
            "--",
            "sqlite3",
            "/var/lib/airlock/receipts.sqlite3",
            "SELECT 1",
        ])
        .output()
        .unwrap();
    assert!(!read.status.success(), "{ALICE} could read the receipts");

    // Nor stop the daemon (positive control: a signal to her own process is delivered).
    let own = Command::new("runuser")
        .args(["-u", ALICE, "--", "sh", "-c", "sleep 30 & kill $!"])
        .status()
        .unwrap();
    assert!(own.success());
    let kill = Command::new("runuser")
        .args(["-u", ALICE, "--", "kill", &system.daemon_pid().to_string()])
        .output()
        .unwrap();
    assert!(!kill.status.success(), "{ALICE} could signal the daemon");
    // Nor run a daemon of her own, whatever the environment says.
    let own_daemon = system.as_user(
        ALICE,
        &["daemon"],
        &[("AIRLOCK_HOME", "/tmp/alice-airlock")],
    );
    assert!(!own_daemon.status.success());
    assert!(
        String::from_utf8_lossy(&own_daemon.stderr)
            .contains("the daemon runs as the account `airlock`"),
        "{own_daemon:?}"
    );
    // A hook pointed elsewhere by the environment still talks to the system daemon.
    let out = system.hook(
        ALICE,
        "git status",
        "t-alice-env",
        &[("AIRLOCK_HOME", "/tmp/alice-airlock")],
    );
    assert_eq!(decision(&out), "allow", "{out}");
    system.receipt("t-alice-env");

    // Two users apart: Bob neither sees nor decides Alice's held request; Alice does.
    let hook = system.hook_in_background(
        ALICE,
        "rm -rf build-cache-2 && git push origin main",
        ("sess-2", "t-alice-held"),
    );
    let deadline = Instant::now() + Duration::from_secs(TIMEOUT_SECS);
    let id = loop {
        let out = system.as_user(ALICE, &["pending", "--json"], &[]);
        let items: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if let Some(id) = items
            .as_array()
            .and_then(|a| a.first())
            .and_then(|i| i["id"].as_str())
        {
            break id.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "Alice never saw her pending request: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Bob names a process of root's — this test, an ancestor of every command it runs — as
    // "his agent" (the hook's word, sent raw). Believed, it would make Alice's approval below
    // look like it came from inside an agent and refuse it (review round 14, S2); it is not.
    let claimed = std::process::id();
    let request = serde_json::json!({
        "v": airlock_protocol::PROTOCOL_VERSION,
        "id": 1,
        "body": {
            "type": "hook",
            "agent": "claude-code",
            "payload": serde_json::from_str::<Value>(&support::payload(
                "PreToolUse", "Bash", serde_json::json!({"command": "ls"}), "sess-9", "t-bob-claims", &format!("/home/{BOB}/project"),
            )).unwrap(),
            "agent_pid": claimed,
        }
    });
    run_ok(Command::new("runuser").args([
        "-u",
        BOB,
        "--",
        "perl",
        "-MIO::Socket::UNIX",
        "-e",
        "my $s = IO::Socket::UNIX->new(Peer => '/run/airlock/airlock.sock') or die $!; print $s $ARGV[0], qq(\n); print scalar <$s>;",
        &request.to_string(),
    ]));
    let bobs: Value =
        serde_json::from_slice(&system.as_user(BOB, &["pending", "--json"], &[]).stdout).unwrap();
    assert_eq!(bobs, serde_json::json!([]), "Bob sees Alice's request");
    let roots: Value = serde_json::from_slice(
        &Command::new(system.bin())
            .args(["pending", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        roots.as_array().map(Vec::len),
        Some(1),
        "root sees every request: {roots}"
    );
    let bob_approves = system.as_user(BOB, &["approve", &id], &[]);
    assert!(
        !bob_approves.status.success(),
        "Bob approved Alice's request"
    );
    assert!(
        String::from_utf8_lossy(&bob_approves.stderr).contains("only your own requests"),
        "{bob_approves:?}"
    );
    let alice_approves = system.as_user(ALICE, &["approve", &id], &[]);
    assert!(alice_approves.status.success(), "{alice_approves:?}");
    let held = hook.join().unwrap();
    assert_eq!(decision(&held), "allow", "{held}");

    // Notifications reach each user's own session through their own `airlock notify` (the
    // daemon has no user's session bus): Alice's request shows in Alice's dunst only, and her
    // Approve there is her own approval over the socket.
    let mut alices_session = user_session(ALICE);
    let mut bobs_session = user_session(BOB);
    let alice_log = notify_in(&mut alices_session, &system.bin());
    let bob_log = notify_in(&mut bobs_session, &system.bin());
    let wait_for_text = |log: &Path, text: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(text)
        {
            assert!(
                Instant::now() < deadline,
                "`{text}` never in {}: {}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for_text(&alice_log, "following the Airlock daemon");
    wait_for_text(&bob_log, "following the Airlock daemon");
    let hook = system.hook_in_background(
        ALICE,
        "git push origin main",
        ("sess-3", "t-alice-notified"),
    );
    let deadline = Instant::now() + Duration::from_secs(TIMEOUT_SECS);
    while alices_session.displayed() != Some(1) {
        assert!(
            Instant::now() < deadline,
            "no notification in Alice's session: {}",
            std::fs::read_to_string(&alice_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(bobs_session.displayed(), Some(0), "Bob saw Alice's request");
    // dunst's context menu picks Approve; dunst sends ActionInvoked to Alice's notifier.
    run_ok(alices_session.command("dunstctl").arg("context"));
    let notified = hook.join().unwrap();
    assert_eq!(decision(&notified), "allow", "{notified}");
    let approved = run_ok(Command::new("sqlite3").args([
        "/var/lib/airlock/receipts.sqlite3",
        "SELECT e.actor, e.detail FROM events e JOIN receipts r ON r.id = e.receipt_id \
         WHERE r.tool_use_id = 't-alice-notified' AND e.outcome = 'approved'",
    ]));
    let alice_uid = airlock::system::OsUser::by_name(ALICE).unwrap().uid;
    assert!(
        approved.starts_with("notification: pid ")
            && approved.contains(&format!(" uid {alice_uid}")),
        "approved by Alice's own process, claiming her notification: {approved}"
    );
    drop(alices_session);
    drop(bobs_session);

    // History through the daemon: each user reads their own receipts only; root reads all.
    let log_of = |user: &str| -> Vec<Value> {
        let out = system.as_user(user, &["log", "--json", "--limit", "500"], &[]);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alices = log_of(ALICE);
    let bobs = log_of(BOB);
    assert!(!alices.is_empty() && !bobs.is_empty());
    assert!(alices.iter().all(|r| {
        r["session"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("{ALICE}/"))
    }));
    assert!(bobs.iter().all(|r| {
        r["session"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("{BOB}/"))
    }));
    let alice_receipt = alices[0]["id"].as_str().unwrap().to_string();
    let shown = system.as_user(ALICE, &["show", &alice_receipt, "--json"], &[]);
    assert!(shown.status.success(), "{shown:?}");
    let hidden = system.as_user(BOB, &["show", &alice_receipt], &[]);
    assert!(!hidden.status.success(), "Bob read Alice's receipt");
    let everyone: Vec<Value> = serde_json::from_slice(
        &Command::new(system.bin())
            .args(["log", "--json", "--limit", "500"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        everyone.len() > alices.len() + bobs.len() - 1,
        "root reads every receipt"
    );

    drop(system);
    // Left as found.
    for path in ["/etc/airlock", "/var/lib/airlock", "/run/airlock"] {
        assert!(!Path::new(path).exists(), "{path} is left behind");
    }
    assert!(airlock::system::OsUser::by_name("airlock").is_none());
    assert!(airlock::system::OsUser::by_name(ALICE).is_none());
}

/// The unit passes `systemd-analyze verify` without a word (negative control: a misspelled
/// setting is reported, so the check can fail).
#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("systemd-analyze is installed by scripts/setup");
    let dir = tempfile::tempdir().unwrap();
    let unit = run_ok(Command::new(support::BIN).args(["install", "system", "--print-unit"]));
    assert!(
        unit.contains(&format!("ExecStart={} daemon", support::BIN)),
        "{unit}"
    );
    let verify = |text: &str| {
        let path = dir.path().join("airlock.service");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(analyze)
            .args(["verify", "--man=no"])
            .arg(&path)
            .arg(dir.path().join("airlock.socket"))
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let socket = run_ok(Command::new(support::BIN).args(["install", "system", "--print-socket"]));
    assert!(
        socket.contains("ListenStream=/run/airlock/airlock.sock"),
        "{socket}"
    );
    std::fs::write(dir.path().join("airlock.socket"), &socket).unwrap();
    let (ok, said) = verify(&unit);
    assert!(ok && said.trim().is_empty(), "systemd-analyze: {said}");
    let (_, said) = verify(&unit.replace("UMask=", "UMsk="));
    assert!(
        said.contains("UMsk"),
        "the check did not notice a bad setting: {said}"
    );
    // The socket unit is checked too.
    std::fs::write(
        dir.path().join("airlock.socket"),
        socket.replace("SocketMode=", "SocketMod="),
    )
    .unwrap();
    let (_, said) = verify(&unit);
    assert!(
        said.contains("SocketMod"),
        "the socket unit was not checked: {said}"
    );
}

/// The .deb, built from the very binary under test: `apt-get install ./airlock_*.deb` makes
/// system mode (man pages and completions in place), the daemon started as the unit starts it
/// reports system mode, removal keeps the receipts and leaves user mode, purge removes
/// everything, and the machine is left as it was found.
#[test]
fn the_deb_installs_system_mode_keeps_receipts_on_removal_and_purges() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    if !root_or_skip() {
        return;
    }
    for path in ["/usr/bin/airlock", "/etc/airlock", "/var/lib/airlock"] {
        assert!(
            !Path::new(path).exists(),
            "`{path}` exists: Airlock is installed on this machine; run this test without it"
        );
    }
    let out_dir = tempfile::tempdir().unwrap();
    let built = run_ok(
        Command::new("bash")
            .arg(support::repo_root().join("agent/packaging/deb/build-deb"))
            .arg(support::BIN)
            .arg(out_dir.path())
            .args(["0.0.0~e2e", "none"]),
    );
    let deb = PathBuf::from(built.trim());
    assert!(deb.is_file(), "{built}");
    let apt = |args: &[&str]| {
        run_ok(
            Command::new("apt-get")
                .args(["-y", "-q", "-o", "Dpkg::Use-Pty=0"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    struct Purge;
    impl Drop for Purge {
        fn drop(&mut self) {
            let _ = Command::new("pkill")
                .args(["-KILL", "-u", "airlock"])
                .status();
            let _ = Command::new("apt-get")
                .args(["-y", "-q", "purge", "airlock"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output();
        }
    }
    let _purge = Purge;
    let installed = apt(&["install", deb.to_str().unwrap()]);
    assert!(
        installed.contains("made the account `airlock`"),
        "{installed}"
    );
    for path in [
        "/usr/bin/airlock",
        "/usr/share/airlock/policies/00-baselines.toml",
        "/usr/lib/systemd/system/airlock.service",
        "/usr/share/man/man1/airlock.1.gz",
        "/usr/share/man/man1/airlock-approve.1.gz",
        "/usr/share/bash-completion/completions/airlock",
        "/usr/share/zsh/vendor-completions/_airlock",
        "/usr/share/fish/vendor_completions.d/airlock.fish",
        "/etc/airlock/system.toml",
    ] {
        assert!(Path::new(path).exists(), "{path} is missing after install");
    }
    assert!(!Path::new("/etc/systemd/system/airlock.service").exists());
    let unit = std::fs::read_to_string("/usr/lib/systemd/system/airlock.service").unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/airlock daemon"), "{unit}");
    let page = run_ok(Command::new("zcat").arg("/usr/share/man/man1/airlock-approve.1.gz"));
    assert!(page.contains("Approve a pending request"), "{page}");

    // Started as the units start it: the socket opened first and handed over (systemd's own
    // `systemd-socket-activate` standing in for airlock.socket; the daemon sets its mode),
    // the daemon as the account with its ambient capability, nothing else.
    std::fs::write(
        "/etc/airlock/settings.toml",
        "[retention]\nsyslog = false\n",
    )
    .unwrap();
    let daemon_log = out_dir.path().join("daemon.log");
    let mut daemon = Command::new("setpriv")
        .args(AS_THE_UNIT)
        .args([
            "sh",
            "-c",
            "exec systemd-socket-activate -l /run/airlock/airlock.sock /usr/bin/airlock daemon",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&daemon_log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let out = Command::new("/usr/bin/airlock")
            .arg("status")
            .output()
            .unwrap();
        if out.status.success() {
            break String::from_utf8_lossy(&out.stdout).to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the packaged daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.contains("system mode"), "{status}");
    let said = std::fs::read_to_string(&daemon_log).unwrap();
    assert!(said.contains("(opened by systemd)"), "{said}");
    let socket_mode = std::fs::metadata("/run/airlock/airlock.sock")
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(socket_mode, 0o666, "every user reaches the socket");
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(Path::new("/var/lib/airlock/receipts.sqlite3").exists());

    // Removed: back to user mode, the receipts kept.
    apt(&["remove", "airlock"]);
    assert!(!Path::new("/usr/bin/airlock").exists());
    assert!(
        !Path::new("/etc/airlock/system.toml").exists(),
        "still in system mode"
    );
    assert!(
        Path::new("/var/lib/airlock/receipts.sqlite3").exists(),
        "removal lost the receipts"
    );
    // Purged: nothing left.
    apt(&["purge", "airlock"]);
    for path in ["/var/lib/airlock", "/etc/airlock", "/run/airlock"] {
        assert!(!Path::new(path).exists(), "{path} is left after purge");
    }
    assert!(airlock::system::OsUser::by_name("airlock").is_none());
    let group = Command::new("getent")
        .args(["group", "airlock-admin"])
        .output()
        .unwrap();
    assert!(
        !group.status.success(),
        "the admin group is left after purge"
    );
}
