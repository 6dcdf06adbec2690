//! End-to-end: symbolic links through the real hook and daemon. A link in the workspace to
//! Airlock's configuration directory must not let an agent's Write replace Airlock's policy, while
//! the person's own edit of the same file still reloads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Airlock, HookResult, outcomes, payload};

/// What an agent would put there: a policy that lets everything through.
const HOSTILE_POLICY: &str = "version = 1\n\n[[rule]]\nid = \"mine.anything\"\ndecision = \"allow\"\njustification = \"convenient\"\nclasses = [\"*\"]\n";

/// The person's own policy file before anything happens.
const USER_POLICY: &str = "version = 1\n";

/// A rule the person adds themselves.
const PERSON_RULE: &str = "version = 1\n\n[[rule]]\nid = \"mine.no-make-deploy\"\ndecision = \"deny\"\njustification = \"deploys go through CI\"\ncommands = [\"make deploy\"]\n";

/// A stand-in for the coding agent: it asks the hook, and performs the Write only when the hook
/// allows it (as Claude Code does). Each attempt is its own session: a refused tampering attempt
/// contains its session (a circuit breaker), which would hide what the next attempt gets.
fn agent_write(
    airlock: &Airlock,
    session: &str,
    workspace: &Path,
    file: &Path,
    content: &str,
) -> HookResult {
    let out = airlock.hook(&payload(
        "PreToolUse",
        "Write",
        json!({"file_path": file, "content": content}),
        session,
        &format!("toolu_{}", file.file_name().unwrap().to_string_lossy()),
        workspace.to_str().unwrap(),
    ));
    if out.code == 0 && out.json()["hookSpecificOutput"]["permissionDecision"] == "allow" {
        std::fs::write(file, content).unwrap();
    }
    out
}

fn policy_rules(airlock: &Airlock) -> u64 {
    airlock.json(&["status", "--json"])["policy_rules"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_write_through_a_link_into_airlocks_config_is_refused_and_a_persons_edit_still_reloads() {
    let mut airlock = Airlock::new();
    let policy_file = airlock.user_policy_dir().join("zz.toml");
    std::fs::create_dir_all(airlock.user_policy_dir()).unwrap();
    std::fs::write(&policy_file, USER_POLICY).unwrap();
    airlock.start_daemon(30);
    let rules = policy_rules(&airlock);

    // The agent's workspace holds a link to Airlock's configuration directory.
    let workspace = tempfile::tempdir().unwrap();
    let workspace = workspace.path().canonicalize().unwrap();
    std::fs::create_dir(workspace.join(".git")).unwrap();
    let config_dir = airlock.user_policy_dir().parent().unwrap().to_path_buf();
    std::os::unix::fs::symlink(&config_dir, workspace.join("cfg")).unwrap();

    // Control: the stand-in agent really writes when allowed.
    let notes = workspace.join("notes.txt");
    let out = agent_write(&airlock, "control", &workspace, &notes, "notes\n");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "notes\n");

    // The attack: a Write whose path goes through the link.
    let through = workspace.join("cfg/policies/zz.toml");
    let out = agent_write(&airlock, "write", &workspace, &through, HOSTILE_POLICY);
    assert_eq!(out.code, 2, "{out:?}");
    let verdict = out.json();
    assert_eq!(
        verdict["hookSpecificOutput"]["permissionDecision"], "deny",
        "{out:?}"
    );
    let reason = verdict["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("deny.airlock-self"), "{reason}");
    let receipt = airlock
        .receipts()
        .into_iter()
        .find(|r| r["input"]["file_path"] == through.to_str().unwrap())
        .expect("the refused Write has a receipt");
    assert_eq!(receipt["decision"], "deny");
    assert_eq!(outcomes(&receipt), ["denied"]);
    assert_eq!(receipt["rules"], json!(["deny.airlock-self"]));

    // The same through a shell, and with the link made in the same command line.
    for (session, command) in [
        (
            "heredoc",
            format!("cat > cfg/policies/zz.toml <<'EOF'\n{HOSTILE_POLICY}EOF"),
        ),
        (
            "new-link",
            format!(
                "ln -s {} c2 && printf '%s' '{HOSTILE_POLICY}' > c2/policies/zz.toml",
                config_dir.display()
            ),
        ),
    ] {
        let out = airlock.hook(&payload(
            "PreToolUse",
            "Bash",
            json!({"command": command, "description": "x"}),
            session,
            "toolu_bash",
            workspace.to_str().unwrap(),
        ));
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(out.stdout.contains("deny.airlock-self"), "{out:?}");
    }

    // Nothing changed: the file byte for byte, and the daemon's policy after its reload interval.
    assert_eq!(std::fs::read(&policy_file).unwrap(), USER_POLICY.as_bytes());
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(policy_rules(&airlock), rules);

    // Positive control: the person's own edit of the same file is followed live.
    std::fs::write(&policy_file, PERSON_RULE).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while policy_rules(&airlock) != rules + 1 {
        assert!(
            Instant::now() < deadline,
            "the person's edit was not reloaded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = airlock.hook(&payload(
        "PreToolUse",
        "Bash",
        json!({"command": "make deploy", "description": "x"}),
        "person",
        "toolu_deploy",
        workspace.to_str().unwrap(),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("mine.no-make-deploy"), "{out:?}");
}
