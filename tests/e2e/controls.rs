//! End-to-end tests of the runtime controls through the real daemon and CLI: emergency stop,
//! session cancel and containment, budgets, circuit breakers, rollback, and refusing an agent's
//! approval of its own actions. Together with e2e_hook.rs they produce every outcome of the
//! vocabulary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::{Airlock, bash_payload, outcomes, payload, wait_for};

fn reason(out: &support::HookResult) -> String {
    out.json()["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn emergency_stop_denies_everything_cancels_pending_and_survives_a_restart() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let held = airlock.hook_in_background(&bash_payload("git push", "s1", "t1"));
    let pending_id = airlock.wait_pending()["id"].as_str().unwrap().to_string();

    let said = airlock.run_ok(&["stop", "--reason", "agent went rogue"]);
    assert!(
        said.contains("emergency stop is on") && said.contains("1 pending request(s) canceled"),
        "{said}"
    );
    let out = held.join().unwrap();
    assert_eq!(out.code, 2);
    assert!(
        reason(&out).contains("Airlock canceled this request"),
        "{out:?}"
    );
    assert_eq!(
        outcomes(&airlock.receipt(&pending_id)),
        ["approval_required", "canceled"]
    );

    let out = airlock.hook(&bash_payload("ls", "s2", "t2"));
    assert_eq!(out.code, 2, "even reads are denied while stopped");
    assert!(reason(&out).contains("emergency stop is on"), "{out:?}");
    assert!(reason(&out).contains("agent went rogue"), "{out:?}");
    let r = &airlock.receipts()[0];
    assert_eq!(outcomes(r), ["denied"]);
    assert_eq!(r["rules"], json!(["control.emergency-stop"]));

    let status = airlock.json(&["status", "--json"]);
    assert_eq!(status["stopped"]["reason"], "agent went rogue");
    airlock.stop_daemon();
    airlock.start_daemon(60);
    assert_eq!(
        airlock.hook(&bash_payload("ls", "s2", "t3")).code,
        2,
        "still stopped after a restart"
    );

    let said = airlock.run_ok(&["resume"]);
    assert!(said.contains("emergency stop is off"), "{said}");
    assert_eq!(airlock.hook(&bash_payload("ls", "s2", "t4")).code, 0);
    // Both control actions are receipts in the chain.
    let controls: Vec<String> = airlock
        .receipts()
        .iter()
        .filter(|r| r["agent"] == "airlock")
        .map(|r| r["tool"].as_str().unwrap().to_string())
        .filter(|tool| {
            !tool.starts_with("airlock daemon ") && !tool.starts_with("airlock retention ")
        })
        .collect();
    assert_eq!(controls, ["airlock resume", "airlock stop"]);
}

#[test]
fn stop_with_kill_terminates_mediated_agents_and_records_interrupted() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("payload.json");
    std::fs::write(&payload_file, bash_payload("ls", "agent-session", "t1")).unwrap();
    // A stand-in coding agent: runs its hook, then keeps working.
    let mut agent = airlock.agent_script(&format!(
        "\"$AIRLOCK\" hook claude-code < {}; sleep 60",
        payload_file.display()
    ));
    wait_for("the agent's first request", || {
        airlock
            .receipts()
            .iter()
            .any(|r| r["session"] == "agent-session")
    });
    let said = airlock.run_ok(&["stop", "--kill"]);
    assert!(
        said.contains(&format!("terminated agent processes: [{}]", agent.id())),
        "{said}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = agent.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "agent not terminated");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let r = airlock
        .receipts()
        .into_iter()
        .find(|r| r["session"] == "agent-session")
        .unwrap();
    assert_eq!(outcomes(&r), ["allowed", "interrupted"]);
    airlock.run_ok(&["resume"]);
}

#[test]
fn session_cancel_contain_and_release() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    assert_eq!(airlock.hook(&bash_payload("ls", "s-cancel", "a")).code, 0);
    assert_eq!(airlock.hook(&bash_payload("ls", "s-contain", "b")).code, 0);
    let sessions = airlock.json(&["session", "list", "--json"]);
    let ids: BTreeSet<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains("s-cancel") && ids.contains("s-contain"),
        "{sessions}"
    );

    airlock.run_ok(&["session", "cancel", "s-cancel", "--reason", "wrong task"]);
    let out = airlock.hook(&bash_payload("ls", "s-cancel", "c"));
    assert_eq!(out.code, 2);
    assert!(
        reason(&out).contains("this session was canceled in Airlock (wrong task)"),
        "{out:?}"
    );

    airlock.run_ok(&["session", "contain", "s-contain"]);
    assert_eq!(
        airlock
            .hook(&bash_payload("cat README.md", "s-contain", "d"))
            .code,
        0,
        "reads still work"
    );
    let out = airlock.hook(&bash_payload("touch new-file", "s-contain", "e"));
    assert_eq!(out.code, 2);
    assert!(
        reason(&out).contains(
            "only reading is allowed until a person runs `airlock session release s-contain`"
        ),
        "{out:?}"
    );
    assert_eq!(
        airlock.receipts()[0]["rules"],
        json!(["control.session-contained"])
    );

    airlock.run_ok(&["session", "release", "s-contain"]);
    assert_eq!(
        airlock
            .hook(&bash_payload("touch new-file", "s-contain", "f"))
            .code,
        0
    );
    // Other sessions were never affected.
    assert_eq!(
        airlock.hook(&bash_payload("touch x", "s-other", "g")).code,
        0
    );
    let missing = airlock.run(&["session", "cancel", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no session `nope`"));
}

#[test]
fn a_budget_trips_and_records_rate_limited() {
    let mut airlock = Airlock::new();
    std::fs::create_dir_all(airlock.user_policy_dir()).unwrap();
    std::fs::write(
        airlock.user_policy_dir().join("budgets.toml"),
        "[[budget]]\nid = \"team.builds\"\njustification = \"two builds a minute is plenty\"\nclasses = [\"build\"]\nmax = 2\nwindow = \"1m\"\n",
    )
    .unwrap();
    airlock.start_daemon(60);
    assert_eq!(
        airlock.hook(&bash_payload("cargo build", "s1", "a")).code,
        0
    );
    assert_eq!(airlock.hook(&bash_payload("cargo test", "s1", "b")).code, 0);
    let out = airlock.hook(&bash_payload("make", "s1", "c"));
    assert_eq!(out.code, 2);
    assert!(
        reason(&out).starts_with(
            "rate limited by budget `team.builds`: at most 2 such actions per 60 s in a session"
        ),
        "{out:?}"
    );
    let r = &airlock.receipts()[0];
    assert_eq!(outcomes(r), ["rate_limited"]);
    assert_eq!(r["rules"], json!(["team.builds"]));
    // Per session: another session still has its budget; reads are not counted.
    assert_eq!(
        airlock.hook(&bash_payload("cargo build", "s2", "d")).code,
        0
    );
    assert_eq!(airlock.hook(&bash_payload("ls", "s1", "e")).code, 0);
    let limited = airlock.json(&["log", "--json", "--outcome", "rate_limited"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);

    // A restart does not reset the budget: the counters come back from the receipts.
    airlock.stop_daemon();
    airlock.start_daemon(60);
    let out = airlock.hook(&bash_payload("cargo build", "s1", "f"));
    assert_eq!(out.code, 2, "the budget was reset by a restart: {out:?}");
    assert!(reason(&out).starts_with("rate limited by budget `team.builds`"));
    let start = airlock
        .receipts()
        .into_iter()
        .find(|r| r["tool"] == "airlock daemon start")
        .unwrap();
    assert!(
        start["input"]["counters_restored_from"].as_u64().unwrap() >= 5,
        "{start}"
    );
    // The other session had one build: it still has one left.
    assert_eq!(
        airlock.hook(&bash_payload("cargo build", "s2", "g")).code,
        0
    );
    assert_eq!(
        airlock.hook(&bash_payload("cargo build", "s2", "h")).code,
        2
    );
}

#[test]
fn breakers_trip_on_scripted_abuse_and_contain_the_session() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    // 1. Reading credentials (approved by a person), then reaching the network.
    let read = airlock.hook_in_background(&bash_payload("cat ~/.aws/credentials", "exfil", "a"));
    let id = airlock.wait_pending()["id"].as_str().unwrap().to_string();
    airlock.run_ok(&["approve", &id]);
    assert_eq!(read.join().unwrap().code, 0);
    let out = airlock.hook(&bash_payload("curl -s https://docs.rs/serde", "exfil", "b"));
    assert_eq!(
        out.code, 2,
        "documentation hosts are allowed, but not right after reading credentials"
    );
    assert!(
        reason(&out).contains("circuit breaker `breaker.credentials-then-network` tripped"),
        "{out:?}"
    );
    let sessions = airlock.json(&["session", "list", "--json"]);
    let exfil = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "exfil")
        .unwrap();
    assert_eq!(exfil["state"], "contained");
    assert_eq!(
        airlock.hook(&bash_payload("cargo test", "exfil", "c")).code,
        2
    );

    // 2. Repeated refusals: five denied variations contain the session.
    // Destructive variations that touch no agent configuration (deleting a tree holding
    // `~/.claude` would trip the tampering breaker at once).
    for (i, cmd) in [
        "dd if=/dev/zero of=/dev/sda",
        "sudo dd if=/dev/zero of=/dev/sda bs=1M",
        "mkfs.ext4 /dev/sda1",
        "kill -9 -1",
        "bash -c 'kill -9 -1'",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(
            airlock
                .hook(&bash_payload(cmd, "retrier", &format!("r{i}")))
                .code,
            2
        );
    }
    let out = airlock.hook(&bash_payload("touch ok", "retrier", "r9"));
    assert_eq!(out.code, 2);
    assert!(
        reason(&out)
            .contains("this session is contained in Airlock (breaker `breaker.repeated-refusals`)"),
        "{out:?}"
    );

    // 3. Editing the agent's own hook configuration.
    let settings =
        json!({"file_path": "/home/user/project/.claude/settings.json", "content": "{}"});
    let out = airlock.hook(&payload(
        "PreToolUse",
        "Write",
        settings,
        "tamper",
        "w1",
        "/home/user/project",
    ));
    assert_eq!(out.code, 2);
    assert!(
        reason(&out).contains("breaker.control-tampering"),
        "{out:?}"
    );

    // Each trip is a chained record naming the session and breaker (the repeated-refusals
    // trip has no request receipt of its own that says so).
    let trips: Vec<(String, String)> = airlock
        .receipts()
        .into_iter()
        .filter(|r| r["tool"] == "airlock breaker trip")
        .map(|r| {
            (
                r["input"]["session"].as_str().unwrap().to_string(),
                r["input"]["breaker"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (session, breaker) in [
        ("exfil", "breaker.credentials-then-network"),
        ("retrier", "breaker.repeated-refusals"),
        ("tamper", "breaker.control-tampering"),
    ] {
        assert!(
            trips.contains(&(session.to_string(), breaker.to_string())),
            "no trip record for {breaker} in {session}: {trips:?}"
        );
    }

    // A person releases a session.
    airlock.run_ok(&["session", "release", "retrier"]);
    assert_eq!(
        airlock
            .hook(&bash_payload("touch ok", "retrier", "r10"))
            .code,
        0
    );
}

/// Rollback never writes through a link the agent planted afterwards: a directory on the way
/// replaced by a link to somewhere else is refused (recorded, and the message says why) and
/// nothing lands there; a link at the old temporary name is ignored. With the directory back,
/// the same rollback restores the exact bytes (positive control).
#[test]
fn rollback_does_not_follow_planted_links() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let ws = airlock.home().join("workspace");
    let outside = airlock.home().join("outside");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("main.rs"), "outside\n").unwrap();
    std::fs::write(outside.join("bashrc"), "the person's\n").unwrap();
    let main_rs = ws.join("src/main.rs");
    std::fs::write(&main_rs, "fn main() {}\n").unwrap();
    let cwd = ws.to_str().unwrap();
    let input = json!({"file_path": main_rs.to_str().unwrap(), "content": "x"});
    let pre = airlock.hook(&payload(
        "PreToolUse",
        "Write",
        input.clone(),
        "s",
        "t1",
        cwd,
    ));
    assert_eq!(pre.code, 0, "{pre:?}");
    let receipt = airlock.receipts()[0]["id"].as_str().unwrap().to_string();
    std::fs::write(&main_rs, "fn main() { evil() }\n").unwrap();
    airlock.hook(&payload("PostToolUse", "Write", input, "s", "t1", cwd));

    // The agent moves `src` away and puts a link to another directory in its place, and a link
    // to the person's file where a restore's temporary file used to be written.
    std::fs::rename(ws.join("src"), ws.join("src-moved")).unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("src")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("bashrc"),
        outside.join(".main.rs.airlock-restore"),
    )
    .unwrap();
    let refused = airlock.run(&["rollback", "--force", &receipt]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("is a symbolic link now"), "{err}");
    assert_eq!(
        std::fs::read_to_string(outside.join("main.rs")).unwrap(),
        "outside\n"
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("bashrc")).unwrap(),
        "the person's\n"
    );
    let record = airlock
        .receipts()
        .into_iter()
        .find(|r| r["tool"] == "airlock rollback")
        .expect("the refused rollback is recorded");
    assert_eq!(record["decision"], "deny", "{record}");
    assert_ne!(
        outcomes(&airlock.receipt(&receipt)).last().unwrap(),
        "rolled_back"
    );

    // `src` back as it was, with a link at the old temporary name beside the file: the link is
    // not followed, and the file gets its exact bytes back.
    std::fs::remove_file(ws.join("src")).unwrap();
    std::fs::rename(ws.join("src-moved"), ws.join("src")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("bashrc"),
        ws.join("src/.main.rs.airlock-restore"),
    )
    .unwrap();
    let said = airlock.run_ok(&["rollback", &receipt]);
    assert!(said.starts_with("rolled back"), "{said}");
    assert_eq!(std::fs::read_to_string(&main_rs).unwrap(), "fn main() {}\n");
    assert_eq!(
        std::fs::read_to_string(outside.join("bashrc")).unwrap(),
        "the person's\n"
    );
    assert!(airlock.run_ok(&["verify"]).starts_with("ok:"));
}

#[test]
fn rollback_restores_the_exact_bytes_of_several_edited_files() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let ws = airlock.home().join("workspace");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    let cwd = ws.to_str().unwrap();
    let main_rs = ws.join("src/main.rs");
    let lib_rs = ws.join("src/lib.rs");
    let original_main =
        b"fn main() {\n    println!(\"hello\");\n}\n\xF0\x9F\x9A\x80 binary-ish \x00 tail";
    std::fs::write(&main_rs, original_main).unwrap();
    let original_lib = "pub fn answer() -> u32 { 42 }\n";
    std::fs::write(&lib_rs, original_lib).unwrap();
    let new_file = ws.join("src/new.rs");

    // The agent edits main.rs, rewrites lib.rs and creates new.rs, with PostToolUse after each.
    let edits = [
        ("Edit", &main_rs, "t1", b"fn main() {}\n".to_vec()),
        (
            "Write",
            &lib_rs,
            "t2",
            b"pub fn answer() -> u32 { 41 }\n".to_vec(),
        ),
        ("Write", &new_file, "t3", b"// new\n".to_vec()),
        ("Edit", &main_rs, "t4", b"fn main() { loop {} }\n".to_vec()),
    ];
    let mut receipts = Vec::new();
    for (tool, path, tool_use, content) in &edits {
        let input = json!({"file_path": path.to_str().unwrap(), "content": "x"});
        let out = airlock.hook(&payload(
            "PreToolUse",
            tool,
            input.clone(),
            "edit-session",
            tool_use,
            cwd,
        ));
        assert_eq!(out.code, 0, "{out:?}");
        receipts.push(airlock.receipts()[0]["id"].as_str().unwrap().to_string());
        std::fs::write(path, content).unwrap();
        assert_eq!(
            airlock
                .hook(&payload(
                    "PostToolUse",
                    tool,
                    input,
                    "edit-session",
                    tool_use,
                    cwd
                ))
                .code,
            0
        );
    }

    // One receipt: lib.rs back to its original bytes.
    let said = airlock.run_ok(&["rollback", &receipts[1]]);
    assert!(said.starts_with("rolled back"), "{said}");
    assert_eq!(std::fs::read_to_string(&lib_rs).unwrap(), original_lib);
    assert_eq!(
        outcomes(&airlock.receipt(&receipts[1])),
        ["allowed", "executed", "rolled_back"]
    );
    let again = airlock.run(&["rollback", &receipts[1]]);
    assert_eq!(again.status.code(), Some(1), "a receipt rolls back once");

    // Later work is not lost silently: main.rs changed after its last edit.
    std::fs::write(&main_rs, b"fn main() { /* by hand */ }\n").unwrap();
    let refused = airlock.run(&["rollback", "--session", "edit-session"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("changed again after the tool ran") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&main_rs).unwrap(),
        b"fn main() { /* by hand */ }\n"
    );

    // The whole session, newest first, forced.
    let said = airlock.run_ok(&["rollback", "--session", "edit-session", "--force"]);
    assert!(said.starts_with("rolled back"), "{said}");
    assert_eq!(std::fs::read(&main_rs).unwrap(), original_main);
    assert!(!new_file.exists(), "a file the agent created is removed");
    for id in [&receipts[0], &receipts[2], &receipts[3]] {
        assert_eq!(
            outcomes(&airlock.receipt(id)).last().unwrap(),
            "rolled_back"
        );
    }
    assert!(airlock.run_ok(&["verify"]).starts_with("ok:"));
}

#[test]
fn an_approve_from_inside_a_mediated_agent_is_refused_and_recorded() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("push.json");
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "sneaky", "t1"),
    )
    .unwrap();
    // The agent asks for a push (held), and while waiting, a child of the agent tries to
    // approve it.
    let agent = airlock.agent_script(&format!(
        "\"$AIRLOCK\" hook claude-code < {} > /dev/null 2>&1 & \
         sleep 0.5; id=$(\"$AIRLOCK\" pending --json | sed -n 's/.*\"id\": \"\\([^\"]*\\)\".*/\\1/p' | head -n 1); \
         \"$AIRLOCK\" approve \"$id\"; echo \"approve exit $?\"; wait",
        payload_file.display()
    ));
    let pending = airlock.wait_pending();
    let id = pending["id"].as_str().unwrap().to_string();
    // The real person denies it afterwards.
    wait_for("the refused approve", || {
        airlock
            .receipts()
            .iter()
            .any(|r| r["tool"] == "airlock approve")
    });
    airlock.run_ok(&["deny", &id]);
    let out = agent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("approve exit 1"), "{stdout} {stderr}");
    assert!(
        stderr.contains("an agent may not approve or loosen its own controls"),
        "{stderr}"
    );
    let refused = airlock
        .receipts()
        .into_iter()
        .find(|r| r["tool"] == "airlock approve")
        .unwrap();
    assert_eq!(outcomes(&refused), ["denied"]);
    assert_eq!(refused["input"]["target"], id.as_str());
    assert_eq!(
        outcomes(&airlock.receipt(&id)),
        ["approval_required", "rejected"]
    );
}

/// Claude Code runs every hook and every Bash tool call through its own `/bin/sh -c` (dash on
/// Debian, which stays as the hook's parent). The hook registers the agent above those shells,
/// so an approve from a later tool call — a sibling shell, not a descendant of the hook's — is
/// still refused; the person's own approve from outside goes through.
#[test]
fn an_approve_from_a_later_tool_call_shell_is_refused() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("push.json");
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "sibling", "t1"),
    )
    .unwrap();
    let agent = airlock.agent_script(&format!(
        "sh -c '\"$AIRLOCK\" hook claude-code < {} > /dev/null 2>&1' & \
         sleep 0.5; sh -c 'id=$(\"$AIRLOCK\" pending --json | sed -n \"s/.*\\\"id\\\": \\\"\\([^\\\"]*\\)\\\".*/\\1/p\" | head -n 1); \"$AIRLOCK\" approve \"$id\"; echo \"approve exit $?\"'; wait",
        payload_file.display()
    ));
    let pending = airlock.wait_pending();
    let id = pending["id"].as_str().unwrap().to_string();
    wait_for("the refused approve", || {
        airlock
            .receipts()
            .iter()
            .any(|r| r["tool"] == "airlock approve")
    });
    // The person approves from outside the agent: it goes through.
    airlock.run_ok(&["approve", &id]);
    let out = agent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("approve exit 1"), "{stdout} {stderr}");
    let refused = airlock
        .receipts()
        .into_iter()
        .find(|r| r["tool"] == "airlock approve")
        .unwrap();
    assert_eq!(outcomes(&refused), ["denied"]);
    assert_eq!(refused["input"]["target"], id.as_str());
    assert_eq!(
        outcomes(&airlock.receipt(&id)),
        ["approval_required", "approved"]
    );
}

/// Through `airlock run`, processes the agent starts that leave its tree — a double-forked
/// `setsid`, a `nohup … &` — stay below the launcher (a child subreaper), so their approves are
/// refused and recorded; the person's own approve from outside goes through.
#[test]
fn through_the_launcher_escaped_descendants_cannot_approve() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("push.json");
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "launched", "t1"),
    )
    .unwrap();
    let results = airlock.home().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let script = format!(
        "sh -c '\"$AIRLOCK\" hook claude-code < {payload} > /dev/null 2>&1' & \
         sleep 0.5; \
         id=$(\"$AIRLOCK\" pending --json | sed -n 's/.*\"id\": \"\\([^\"]*\\)\".*/\\1/p' | head -n 1); \
         ( setsid sh -c 'sleep 0.3; grep PPid /proc/$$/status > {r}/setsid.ppid; \"$AIRLOCK\" approve \"$0\" 2> {r}/setsid.err; echo $? > {r}/setsid.part; mv {r}/setsid.part {r}/setsid' \"$id\" & ); \
         nohup sh -c '\"$AIRLOCK\" approve \"$0\" 2> {r}/nohup.err; echo $? > {r}/nohup.part; mv {r}/nohup.part {r}/nohup' \"$id\" > /dev/null 2>&1 & \
         wait",
        payload = payload_file.display(),
        r = results.display(),
    );
    let mut launcher = airlock.cmd(&["run", "--", "sh", "-c", &script]);
    let launcher = launcher
        .env("AIRLOCK", support::BIN)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pending = airlock.wait_pending();
    let id = pending["id"].as_str().unwrap().to_string();
    wait_for("both escaped approves", || {
        results.join("setsid").exists() && results.join("nohup").exists()
    });
    for how in ["setsid", "nohup"] {
        let code = std::fs::read_to_string(results.join(how)).unwrap();
        let err = std::fs::read_to_string(results.join(format!("{how}.err"))).unwrap();
        let ppid = std::fs::read_to_string(results.join("setsid.ppid")).unwrap_or_default();
        assert_eq!(
            code.trim(),
            "1",
            "{how}: {err} (launcher {}, {ppid})",
            launcher.id()
        );
        assert!(err.contains("an agent may not approve"), "{how}: {err}");
    }
    let refused: Vec<_> = airlock
        .receipts()
        .into_iter()
        .filter(|r| r["tool"] == "airlock approve")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().all(|r| outcomes(r) == ["denied"]));
    assert!(
        airlock
            .receipts()
            .iter()
            .any(|r| r["tool"] == "airlock launch"),
        "the launcher is on the record"
    );
    // The person, outside the launcher's tree.
    airlock.run_ok(&["approve", &id]);
    let out = launcher.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        outcomes(&airlock.receipt(&id)),
        ["approval_required", "approved"]
    );
    // A launcher that ends normally says so, and nothing is stopped.
    wait_for("the launcher's end", || {
        airlock
            .receipts()
            .iter()
            .any(|r| r["tool"] == "airlock launch ended")
    });
    assert!(airlock.json(&["status", "--json"])["stopped"].is_null());
}

/// The agent kills its launcher, so what it started is no longer kept below it: the daemon
/// turns the emergency stop on (which cancels what waits) and an approve from the loose
/// process is refused. Who is the agent survives a daemon restart too.
#[test]
fn a_killed_launcher_turns_the_stop_on_and_the_agent_stays_known_across_restarts() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("push.json");
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "launched", "t1"),
    )
    .unwrap();
    let results = airlock.home().join("results");
    std::fs::create_dir_all(&results).unwrap();
    // The stand-in agent under the launcher: its hook registers it, then it kills the launcher
    // (its parent) and, from a detached process, tries to approve.
    let script = format!(
        "sh -c '\"$AIRLOCK\" hook claude-code < {payload} > /dev/null 2>&1' & \
         sleep 0.5; \
         id=$(\"$AIRLOCK\" pending --json | sed -n 's/.*\"id\": \"\\([^\"]*\\)\".*/\\1/p' | head -n 1); \
         kill -9 $LAUNCHER; \
         ( setsid sh -c '\"$AIRLOCK\" approve \"$0\" 2> {r}/err; echo $? > {r}/code.part; mv {r}/code.part {r}/code' \"$id\" & ); \
         sleep 3",
        payload = payload_file.display(),
        r = results.display(),
    );
    // This shell's parent is the stand-in agent (perl); the launcher is the agent's parent.
    let launcher_script =
        format!("LAUNCHER=$(awk '{{print $4}}' /proc/$PPID/stat); export LAUNCHER; {script}");
    let mut launcher = airlock.cmd(&[
        "run",
        "--",
        "perl",
        "-e",
        "exit(system(@ARGV) >> 8)",
        "sh",
        "-c",
        &launcher_script,
    ]);
    let mut launcher = launcher
        .env("AIRLOCK", support::BIN)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let id = airlock.wait_pending()["id"].as_str().unwrap().to_string();
    wait_for("the loose approve", || results.join("code").exists());
    let _ = launcher.wait();
    let code = std::fs::read_to_string(results.join("code")).unwrap();
    assert_ne!(code.trim(), "0", "the loose process approved");
    let stopped = airlock.json(&["status", "--json"])["stopped"].clone();
    assert!(
        stopped["reason"]
            .as_str()
            .is_some_and(|r| r.contains("launcher of a mediated coding agent")),
        "{stopped}"
    );
    assert_ne!(outcomes(&airlock.receipt(&id)).last().unwrap(), "approved");

    // Hooks only: the agent known before a daemon restart is still the agent after it.
    airlock.run_ok(&["resume"]);
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "plain", "t2"),
    )
    .unwrap();
    let agent = airlock.agent_script(&format!(
        "\"$AIRLOCK\" hook claude-code < {} > /dev/null 2>&1; sleep 2; \
         \"$AIRLOCK\" resume; echo \"resume exit $?\"",
        payload_file.display()
    ));
    std::thread::sleep(std::time::Duration::from_millis(800));
    airlock.stop_daemon();
    airlock.start_daemon(60);
    airlock.run_ok(&["stop", "--reason", "test"]);
    let out = agent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("resume exit 1"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(airlock.json(&["status", "--json"])["stopped"].is_object());
}

/// A process that unlinks Airlock's socket and binds its own in its place: the hook refuses to
/// take its answer (it does not hold the daemon's lock), and the daemon, seeing its socket
/// replaced, turns the emergency stop on — recorded, and still on after a restart. Before the
/// swap, the same hook is allowed (positive control).
#[test]
fn an_impostor_on_the_socket_is_refused_and_turns_the_stop_on() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let ok = airlock.hook(&bash_payload("ls", "s", "t1"));
    assert_eq!(ok.code, 0, "{ok:?}");

    let socket = airlock.socket();
    std::fs::remove_file(&socket).unwrap();
    let impostor = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let serving = std::thread::spawn(move || {
        // Accepts and would answer "allow" to anything; the hook must not get that far.
        for stream in impostor.incoming().take(1) {
            drop(stream);
        }
    });
    let out = airlock.hook(&bash_payload("ls", "s", "t2"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        reason(&out).contains("does not hold the daemon's lock"),
        "{out:?}"
    );
    serving.join().unwrap();

    wait_for("the watchdog's stop", || {
        airlock.receipts().iter().any(|r| {
            r["tool"] == "airlock stop"
                && r["input"]["reason"]
                    .as_str()
                    .is_some_and(|t| t.contains("socket"))
        })
    });
    // Restarted (the new daemon binds the socket again): the stop is still on.
    airlock.stop_daemon();
    let _ = std::fs::remove_file(&socket);
    airlock.start_daemon(60);
    let out = airlock.hook(&bash_payload("ls", "s", "t3"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(reason(&out).contains("emergency stop is on"), "{out:?}");
    assert!(reason(&out).contains("socket"), "{out:?}");
}

#[test]
fn every_outcome_of_the_vocabulary_is_produced_and_listed() {
    let mut airlock = Airlock::new();
    std::fs::create_dir_all(airlock.user_policy_dir()).unwrap();
    std::fs::write(
        airlock.user_policy_dir().join("b.toml"),
        "[[budget]]\nid = \"one-build\"\njustification = \"j\"\nclasses = [\"build\"]\nmax = 1\nwindow = \"1h\"\n",
    )
    .unwrap();
    // Long enough that a held request is still pending when a loaded machine's `airlock
    // pending` looks (the expired case waits it out once).
    airlock.start_daemon(3);
    let ws = airlock.home().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let cwd = ws.to_str().unwrap();
    let file = ws.join("a.txt");
    std::fs::write(&file, "before").unwrap();
    let input = json!({"file_path": file.to_str().unwrap(), "content": "after"});
    // allowed, executed, rolled_back
    airlock.hook(&payload(
        "PreToolUse",
        "Write",
        input.clone(),
        "v",
        "w",
        cwd,
    ));
    std::fs::write(&file, "after").unwrap();
    airlock.hook(&payload("PostToolUse", "Write", input, "v", "w", cwd));
    let write_id = airlock.receipts()[0]["id"].as_str().unwrap().to_string();
    airlock.run_ok(&["rollback", &write_id]);
    // failed
    airlock.hook(&payload(
        "PostToolUseFailure",
        "Bash",
        json!({"command": "false"}),
        "v",
        "nope",
        cwd,
    ));
    // denied
    airlock.hook(&bash_payload("rm -rf /", "v2", "d"));
    // approval_required, expired (timeout 3 s)
    airlock.hook(&bash_payload("git push", "v3", "e"));
    // approved, rejected
    for (verb, tu) in [("approve", "p1"), ("deny", "p2")] {
        let h = airlock.hook_in_background(&bash_payload("git push", "v4", tu));
        let id = airlock.wait_pending()["id"].as_str().unwrap().to_string();
        airlock.run_ok(&[verb, &id]);
        h.join().unwrap();
    }
    // rate_limited
    airlock.hook(&bash_payload("cargo build", "v5", "b1"));
    airlock.hook(&bash_payload("cargo build", "v5", "b2"));
    // canceled, interrupted: a held request canceled by stop --kill of its agent
    let payload_file = airlock.home().join("p.json");
    std::fs::write(&payload_file, bash_payload("ls", "v6", "k")).unwrap();
    let mut agent = airlock.agent_script(&format!(
        "\"$AIRLOCK\" hook claude-code < {}; sleep 60",
        payload_file.display()
    ));
    wait_for("the agent's request", || {
        airlock.receipts().iter().any(|r| r["session"] == "v6")
    });
    let held = airlock.hook_in_background(&bash_payload("git push --force", "v7", "c"));
    std::thread::sleep(Duration::from_millis(300));
    airlock.run_ok(&["stop", "--kill"]);
    held.join().unwrap();
    let _ = agent.wait();
    airlock.run_ok(&["resume"]);

    let seen: BTreeSet<String> = airlock
        .json(&["log", "--json", "--limit", "1000"])
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r: &Value| outcomes(r))
        .collect();
    for outcome in [
        "allowed",
        "denied",
        "approval_required",
        "approved",
        "rejected",
        "expired",
        "canceled",
        "interrupted",
        "rolled_back",
        "rate_limited",
        "executed",
        "failed",
    ] {
        assert!(
            seen.contains(outcome),
            "{outcome} missing from `airlock log`: {seen:?}"
        );
        let filtered = airlock.json(&["log", "--json", "--outcome", outcome]);
        assert!(!filtered.as_array().unwrap().is_empty(), "{outcome}");
    }
}

/// The newest receipt `airlock log` lists for `tool`, waiting up to 15 s for it.
fn newest(airlock: &Airlock, tool: &str, count_before: usize) -> Value {
    let mut found = None;
    wait_for(&format!("a new `{tool}` receipt"), || {
        let all: Vec<Value> = airlock
            .receipts()
            .into_iter()
            .filter(|r| r["tool"] == tool)
            .collect();
        if all.len() > count_before {
            found = all.into_iter().next();
            true
        } else {
            false
        }
    });
    found.unwrap()
}

/// The policy bundle a receipt names (from its chained detail).
fn policy_of(airlock: &Airlock, id: &str) -> String {
    airlock
        .sqlite3(&format!(
            "SELECT json_extract(detail, '$.policy_sha256') FROM receipts WHERE id = '{id}'"
        ))
        .trim()
        .to_string()
}

#[test]
fn the_daemon_records_its_start_policy_loads_settings_changes_interruptions_and_stop() {
    let mut airlock = Airlock::new();
    airlock.start_daemon_from_settings();
    let start = newest(&airlock, "airlock daemon start", 0);
    assert_eq!(outcomes(&start), ["executed"]);
    let started_under = start["input"]["policy_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(started_under.len(), 64, "{start}");
    assert!(
        start["input"]["policy_files"]
            .as_array()
            .is_some_and(|f| !f.is_empty() && f[0]["sha256"].as_str().is_some()),
        "{start}"
    );
    assert!(start["reason"].as_str().unwrap().contains("tamper-evident"));

    // A request names the bundle it was decided under.
    let out = airlock.hook(&bash_payload("ls", "s1", "t1"));
    assert_eq!(out.code, 0);
    let listed = airlock.receipts();
    let ls = listed.iter().find(|r| r["tool"] == "Bash").unwrap();
    assert_eq!(
        policy_of(&airlock, ls["id"].as_str().unwrap()),
        started_under
    );

    // A policy file added by hand: a chained load naming it, and the next request the new
    // bundle. A broken edit: a failed load, the last good policy stays.
    let dir = airlock.user_policy_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let added = dir.join("team.toml");
    std::fs::write(
        &added,
        "[[rule]]\nid = \"team.no-telnet\"\ndecision = \"deny\"\njustification = \"no telnet\"\nprograms = [\"telnet\"]\n[rule.examples]\nmatch = [\"telnet host\"]\nnot_match = [\"ls\"]\n",
    )
    .unwrap();
    let load = newest(&airlock, "airlock policy load", 0);
    assert_eq!(outcomes(&load), ["executed"], "{load}");
    assert_eq!(
        load["input"]["changed"]["added"],
        json!([added.display().to_string()]),
        "{load}"
    );
    assert_eq!(load["input"]["previous_sha256"], started_under.as_str());
    let reloaded_under = load["input"]["policy_sha256"].as_str().unwrap().to_string();
    assert_ne!(reloaded_under, started_under);
    let out = airlock.hook(&bash_payload("ls -la", "s1", "t2"));
    assert_eq!(out.code, 0);
    let newest_bash = airlock
        .receipts()
        .into_iter()
        .find(|r| r["tool"] == "Bash")
        .unwrap();
    assert_eq!(
        policy_of(&airlock, newest_bash["id"].as_str().unwrap()),
        reloaded_under
    );
    std::fs::write(&added, "[[rule]\nthis is not toml").unwrap();
    let failed = newest(&airlock, "airlock policy load", 1);
    assert_eq!(outcomes(&failed), ["failed"], "{failed}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("last good policy stays"),
        "{failed}"
    );
    std::fs::remove_file(&added).unwrap();
    newest(&airlock, "airlock policy load", 2);

    // A settings change names each setting with its old and new value.
    let settings = airlock.home().join("config/settings.toml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "approval_timeout_secs = 77\n").unwrap();
    let change = newest(&airlock, "airlock settings change", 0);
    assert_eq!(
        change["input"]["changed"]["approval_timeout_secs"]["to"], 77,
        "{change}"
    );
    assert_eq!(
        change["input"]["settings_sha256"].as_str().unwrap().len(),
        64
    );

    // A request held for a person when the daemon is killed: after the restart it shows
    // `interrupted`, and the new start is recorded; a clean stop is recorded too.
    let held = airlock.hook_in_background(&bash_payload("git push", "s2", "t3"));
    let id = airlock.wait_pending()["id"].as_str().unwrap().to_string();
    let pid = airlock.daemon_pid().unwrap();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(held.join().unwrap().code, 2, "the hook failed open");
    airlock.stop_daemon();
    assert_eq!(outcomes(&airlock.receipt(&id)), ["approval_required"]);
    airlock.start_daemon_from_settings();
    assert_eq!(
        outcomes(&airlock.receipt(&id)),
        ["approval_required", "interrupted"]
    );
    let restart = newest(&airlock, "airlock daemon start", 1);
    assert_eq!(
        restart["input"]["previous_run"], "ended without a stop record (killed or crashed)",
        "{restart}"
    );
    airlock.stop_daemon();
    let stopped: Vec<Value> = airlock
        .receipts()
        .into_iter()
        .filter(|r| r["tool"] == "airlock daemon stop")
        .collect();
    assert_eq!(stopped.len(), 1, "only the clean stop is recorded");
    assert_eq!(stopped[0]["input"]["signal"], "SIGTERM");
    let verified = airlock.run_ok(&["verify"]);
    assert!(
        verified.contains("note: 1 daemon run(s) ended without a stop record"),
        "{verified}"
    );
}

/// A connection handed on inside the agent: a child connects and exits, its parent (the agent's
/// descendant) sends the approve. The kernel names the child, which is gone, so the request is
/// refused and recorded; the person's approve still works.
#[test]
fn an_approve_on_a_connection_whose_process_exited_is_refused() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let payload_file = airlock.home().join("push.json");
    std::fs::write(
        &payload_file,
        bash_payload("git push origin main", "handoff", "t1"),
    )
    .unwrap();
    let script = airlock.home().join("handoff.py");
    std::fs::write(
        &script,
        r#"import json, os, socket, sys
path, target = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
child = os.fork()
if child == 0:
    s.connect(path)
    os._exit(0)
os.waitpid(child, 0)
s.sendall((json.dumps({"v": 1, "id": 1, "body": {"type": "approve", "id": target, "scope": "once"}}) + "\n").encode())
print(s.makefile().readline())
"#,
    )
    .unwrap();
    let agent = airlock.agent_script(&format!(
        "\"$AIRLOCK\" hook claude-code < {} > /dev/null 2>&1 & \
         sleep 0.5; id=$(\"$AIRLOCK\" pending --json | sed -n 's/.*\"id\": \"\\([^\"]*\\)\".*/\\1/p' | head -n 1); \
         python3 {} {} \"$id\"; wait",
        payload_file.display(),
        script.display(),
        airlock.socket().display()
    ));
    let id = airlock.wait_pending()["id"].as_str().unwrap().to_string();
    wait_for("the refused approve", || {
        airlock
            .receipts()
            .iter()
            .any(|r| r["tool"] == "airlock approve")
    });
    assert_eq!(
        airlock
            .json(&["pending", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    airlock.run_ok(&["approve", &id]);
    let out = agent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("has already exited"), "{stdout}");
    assert_eq!(
        outcomes(&airlock.receipt(&id)),
        ["approval_required", "approved"]
    );
}

/// The snapshots table is not chained: a row pointed at a file outside what the receipt names
/// (with a pre-image of the attacker's) is refused whole, and nothing is written there; the
/// untouched snapshot rolls back (positive control).
#[test]
fn a_snapshot_row_pointed_elsewhere_is_not_restored() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let ws = airlock.home().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let file = ws.join("k.txt");
    std::fs::write(&file, "before\n").unwrap();
    let outside = airlock.home().join("outside.txt");
    std::fs::write(&outside, "keep me\n").unwrap();
    let write = json!({"file_path": file.display().to_string(), "content": "after\n"});
    let out = airlock.hook(&payload(
        "PreToolUse",
        "Write",
        write.clone(),
        "s1",
        "w1",
        ws.to_str().unwrap(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    std::fs::write(&file, "after\n").unwrap();
    airlock.hook(&payload(
        "PostToolUse",
        "Write",
        write,
        "s1",
        "w1",
        ws.to_str().unwrap(),
    ));
    let receipt = airlock
        .requests()
        .into_iter()
        .find(|r| r["tool"] == "Write")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pristine_path = airlock.sqlite3(&format!(
        "SELECT path FROM snapshots WHERE receipt_id = '{receipt}'"
    ));
    airlock.sqlite3(&format!(
        "UPDATE snapshots SET path = '{}' WHERE receipt_id = '{receipt}'",
        outside.display()
    ));
    let out = airlock.run(&["rollback", &receipt]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not one the receipt's chained record vouches for"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me\n");
    airlock.sqlite3(&format!(
        "UPDATE snapshots SET path = '{}' WHERE receipt_id = '{receipt}'",
        pristine_path.trim()
    ));
    // A row added for a file the tool never touched (inside the workspace, as if it had
    // existed; with a pre-image the attacker stored): refused too.
    let planted = ws.join("planted.sh");
    airlock.sqlite3(&format!(
        "INSERT INTO snapshots (receipt_id, time_ms, path, existed, pre_hash, mode, size, post_known) \
         SELECT receipt_id, time_ms, '{}', 1, pre_hash, 33261, size, 1 FROM snapshots WHERE receipt_id = '{receipt}'",
        planted.display()
    ));
    let out = airlock.run(&["rollback", &receipt]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("planted.sh"));
    assert!(!planted.exists());
    airlock.sqlite3(&format!(
        "DELETE FROM snapshots WHERE path = '{}'",
        planted.display()
    ));
    let said = airlock.run_ok(&["rollback", &receipt]);
    assert!(
        said.contains(&file.display().to_string()),
        "the restored file is named: {said}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "before\n");
}

/// Rows deleted while the daemon was down (the witness beside the database says more was
/// written): the next start turns the emergency stop on and says why. A witness removed or
/// replaced fails verify. A clean restart stays armed (positive control).
#[test]
fn a_database_behind_its_witness_stops_the_daemon_at_start() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    for i in 0..3 {
        assert_eq!(
            airlock
                .hook(&bash_payload("ls", "s", &format!("t{i}")))
                .code,
            0
        );
    }
    airlock.stop_daemon();
    airlock.start_daemon(60);
    assert!(
        airlock.json(&["status", "--json"])["stopped"].is_null(),
        "a clean restart stopped"
    );
    airlock.stop_daemon();
    airlock.sqlite3("PRAGMA wal_checkpoint(TRUNCATE);");
    let witness = format!("{}-head", airlock.database().display());
    let pristine_witness = std::fs::read(&witness).unwrap();

    // The witness removed, or replaced by a link: verify fails.
    std::fs::remove_file(&witness).unwrap();
    let out = airlock.run(&["verify"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("is missing or empty"));
    std::os::unix::fs::symlink("/dev/null", &witness).unwrap();
    let out = airlock.run(&["verify"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a regular file"));
    std::fs::remove_file(&witness).unwrap();
    std::fs::write(&witness, &pristine_witness).unwrap();

    // The newest rows deleted and the head moved back, then a last head appended that the
    // shortened chain holds: the earlier lines still say more was written.
    let head: i64 = airlock
        .sqlite3("SELECT seq FROM chain_head")
        .trim()
        .parse()
        .unwrap();
    let keep = head - 4;
    let keep_hash = airlock.sqlite3(&format!(
        "SELECT hash FROM receipts WHERE seq = {keep} UNION ALL SELECT hash FROM events WHERE seq = {keep}"
    ));
    airlock.sqlite3(&format!(
        "DELETE FROM receipts WHERE seq > {keep}; DELETE FROM events WHERE seq > {keep}; DELETE FROM tree_heads; UPDATE chain_head SET seq = {keep}, hash = '{}';",
        keep_hash.trim()
    ));
    airlock::store::witness::record(&airlock.database(), keep, keep_hash.trim()).unwrap();
    let out = airlock.run(&["verify"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    airlock.start_daemon(60);
    let stopped = airlock.json(&["status", "--json"])["stopped"].clone();
    assert!(
        stopped["reason"]
            .as_str()
            .is_some_and(|r| r.contains("was the chain's head")),
        "{stopped}"
    );
    assert_eq!(airlock.hook(&bash_payload("ls", "s", "t9")).code, 2);
}

/// An impostor that takes a new lock file and socket of its own (holding the new lock, so the
/// lock check alone passes) is refused by the hook: it is not the `airlock` program.
#[test]
fn an_impostor_holding_a_lock_of_its_own_is_refused() {
    let mut airlock = Airlock::new();
    airlock.start_daemon(60);
    let run = airlock.socket().parent().unwrap().to_path_buf();
    let script = airlock.home().join("impostor.py");
    std::fs::write(
        &script,
        r#"import fcntl, os, socket, sys, time
run = sys.argv[1]
lock, sock = os.path.join(run, "airlock.lock"), os.path.join(run, "airlock.sock")
os.unlink(lock)
held = open(lock, "w")
fcntl.flock(held, fcntl.LOCK_EX)
os.unlink(sock)
s = socket.socket(socket.AF_UNIX)
s.bind(sock)
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
time.sleep(2)
"#,
    )
    .unwrap();
    let mut impostor = std::process::Command::new("python3")
        .arg(&script)
        .arg(&run)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(impostor.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready");
    let out = airlock.hook(&bash_payload("rm -rf ~/Documents", "s", "t1"));
    let _ = impostor.kill();
    let _ = impostor.wait();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        reason(&out).contains("is not the `airlock` program"),
        "{out:?}"
    );
}
