use super::*;
use crate::classify::{Classifier, EXAMPLE_CWD, Env};
use airlock_protocol::Decision;
use std::path::PathBuf;

fn shipped() -> Policy {
    Policy::load(&[crate::home::default_policy_dir()]).unwrap()
}

fn decide(policy: &Policy, command: &str) -> Evaluation {
    let classifier = Classifier::new(Env::example()).unwrap();
    let request = ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), command);
    let classification = classifier.classify(&request);
    policy.evaluate(&request, &classification)
}

fn policy_from(text: &str) -> Policy {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), text).unwrap();
    Policy::load(&[dir.path().to_path_buf()]).unwrap()
}

#[test]
fn shipped_policy_loads_and_its_examples_pass() {
    let policy = shipped();
    assert!(policy.rule_count() >= 10);
    assert_eq!(
        policy.baseline_count(),
        airlock_protocol::ActionClass::ALL.len()
    );
}

#[test]
fn strictest_matching_rule_wins_and_is_reported() {
    let policy = shipped();
    let e = decide(&policy, "ls && rm -rf /");
    assert_eq!(e.decision, Decision::Deny);
    assert_eq!(e.rule_ids(), vec!["deny.destroy-critical-tree".to_string()]);
    assert!(
        e.reason.starts_with("denied by Airlock policy: `rm -rf /`"),
        "{}",
        e.reason
    );
}

#[test]
fn an_allow_rule_cannot_loosen_an_explicit_rule() {
    let policy = policy_from(
        r#"
[[baseline]]
class = "shell.exec"
decision = "allow"
justification = "b"

[[rule]]
id = "ask.deploy"
decision = "ask"
justification = "deploys need a human"
commands = ["./deploy.sh"]

[[rule]]
id = "allow.everything"
decision = "allow"
justification = "too broad"
classes = ["*"]
"#,
    );
    let e = decide(&policy, "./deploy.sh prod");
    assert_eq!(e.decision, Decision::Ask);
    assert_eq!(e.rule_ids(), vec!["ask.deploy".to_string()]);
    assert!(!e.loosenable());
}

#[test]
fn a_class_with_no_rule_and_no_baseline_asks() {
    let policy = policy_from(
        "[[baseline]]\nclass = \"read\"\ndecision = \"allow\"\njustification = \"b\"\n",
    );
    let e = decide(&policy, "curl https://example.com");
    assert_eq!(e.decision, Decision::Ask);
    assert_eq!(e.rule_ids(), vec![FALLBACK_ID.to_string()]);
}

#[test]
fn allow_rules_need_every_path_inside_but_strict_rules_need_any() {
    let policy = shipped();
    assert_eq!(
        decide(&policy, "rm -rf build dist").decision,
        Decision::Allow
    );
    assert_eq!(
        decide(&policy, "rm -rf build ~/notes").decision,
        Decision::Ask
    );
    assert_eq!(decide(&policy, "rm -rf build /").decision, Decision::Deny);
}

#[test]
fn later_directories_override_baselines_but_not_within_one_directory() {
    let shipped_dir = crate::home::default_policy_dir();
    let user = tempfile::tempdir().unwrap();
    std::fs::write(
        user.path().join("mine.toml"),
        "[[baseline]]\nclass = \"network.fetch\"\ndecision = \"allow\"\njustification = \"I trust the network\"\n",
    )
    .unwrap();
    let policy = Policy::load(&[shipped_dir, user.path().to_path_buf()]).unwrap();
    assert_eq!(
        decide(&policy, "curl https://example.com").decision,
        Decision::Allow
    );

    std::fs::write(
        user.path().join("again.toml"),
        "[[baseline]]\nclass = \"network.fetch\"\ndecision = \"ask\"\njustification = \"no\"\n",
    )
    .unwrap();
    let err = Policy::load(&[user.path().to_path_buf()]).unwrap_err();
    assert!(
        matches!(err, PolicyError::DuplicateBaseline { .. }),
        "{err}"
    );
}

#[test]
fn duplicate_rule_ids_are_refused_with_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let rule =
        "[[rule]]\nid = \"same\"\ndecision = \"deny\"\njustification = \"j\"\nprograms = [\"x\"]\n";
    std::fs::write(dir.path().join("a.toml"), rule).unwrap();
    std::fs::write(dir.path().join("b.toml"), rule).unwrap();
    let err = Policy::load(&[dir.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b.toml") && err.contains("a.toml") && err.contains("`same`"),
        "{err}"
    );
}

#[test]
fn an_empty_shipped_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Policy::load(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(matches!(err, PolicyError::Empty(_)), "{err}");
}

#[test]
fn always_rules_are_narrow_and_check_themselves() {
    let policy = shipped();
    let classifier = Classifier::new(Env::example()).unwrap();
    let request = ActionRequest::shell(
        "claude-code",
        PathBuf::from(EXAMPLE_CWD),
        "curl -s https://api.example.com/v1",
    );
    let classification = classifier.classify(&request);
    let evaluation = policy.evaluate(&request, &classification);
    let rules = amend::rules_for(&request, &classification, &evaluation, "note").unwrap();
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule.decision, Decision::Allow);
    assert_eq!(rule.classes, vec!["network.fetch".to_string()]);
    assert_eq!(
        rule.commands,
        vec!["curl -s https://api.example.com/v1".to_string()]
    );
    assert_eq!(rule.hosts, vec!["api.example.com".to_string()]);
    assert!(rule.id.starts_with("always."));

    let dir = tempfile::tempdir().unwrap();
    let (path, added, _) = amend::append(dir.path(), rules.clone()).unwrap();
    assert_eq!(added.len(), 1);
    let (_, again, _) = amend::append(dir.path(), rules).unwrap();
    assert!(again.is_empty(), "deduplicated");
    let amended =
        Policy::load(&[crate::home::default_policy_dir(), dir.path().to_path_buf()]).unwrap();
    assert_eq!(
        amended.evaluate(&request, &classification).decision,
        Decision::Allow
    );
    // Narrow: another host, or more arguments that add a class, still ask.
    assert_eq!(
        decide(&amended, "curl -s https://other.example.com/v1").decision,
        Decision::Ask
    );
    assert!(std::fs::read_to_string(path).unwrap().contains("[[rule]]"));
}

#[test]
fn glob_characters_in_always_rules_are_literal() {
    let policy = shipped();
    let classifier = Classifier::new(Env::example()).unwrap();
    let request = ActionRequest::shell(
        "claude-code",
        PathBuf::from(EXAMPLE_CWD),
        "curl 'https://x.example.com/a?b=*'",
    );
    let classification = classifier.classify(&request);
    let evaluation = policy.evaluate(&request, &classification);
    let rules = amend::rules_for(&request, &classification, &evaluation, "n").unwrap();
    assert!(
        rules[0].commands[0].contains("\\*"),
        "{:?}",
        rules[0].commands
    );
}

#[test]
fn budgets_and_breakers_load_and_bad_ones_are_named() {
    let policy = policy_from(
        r#"
[[budget]]
id = "b1"
justification = "j"
classes = ["external.comm", "remote.*"]
max = 3
window = "10m"
scope = "global"

[[breaker]]
kind = "sequence"
id = "k1"
justification = "j"
first = ["read.sensitive"]
then = ["network.fetch"]
window = "1h"
"#,
    );
    let b = &policy.budgets()[0];
    assert_eq!((b.max, b.window.as_secs(), b.per_session), (3, 600, false));
    assert_eq!(
        b.classes,
        vec![
            airlock_protocol::ActionClass::ExternalComm,
            airlock_protocol::ActionClass::RemoteWrite
        ]
    );
    assert!(matches!(
        policy.breakers()[0].trigger,
        BreakerTrigger::Sequence { .. }
    ));

    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in [
        (
            "[[budget]]\nid = \"x\"\njustification = \"j\"\nclasses = [\"*\"]\nmax = 3\nwindow = \"soon\"\n",
            "window `soon` is not a duration",
        ),
        (
            "[[budget]]\nid = \"x\"\njustification = \"j\"\nclasses = [\"*\"]\nmax = 0\nwindow = \"1m\"\n",
            "`max` must be at least 1",
        ),
        (
            "[[breaker]]\nkind = \"vibes\"\nid = \"x\"\njustification = \"j\"\n",
            "unknown variant `vibes`",
        ),
        (
            "[[breaker]]\nkind = \"tags\"\nid = \"x\"\njustification = \"j\"\ntags = [\"a\"]\ncount = 3\n",
            "unknown field `count`",
        ),
    ] {
        std::fs::write(dir.path().join("p.toml"), text).unwrap();
        let err = Policy::load(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.toml") && err.contains(expected), "{err}");
    }
}

/// The shipped policy plus `extra` as a user policy file.
fn shipped_with(extra: &str) -> (Policy, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("user.toml"), extra).unwrap();
    let policy =
        Policy::load(&[crate::home::default_policy_dir(), dir.path().to_path_buf()]).unwrap();
    (policy, dir)
}

fn decide_mcp(policy: &Policy, tool: &str) -> (Evaluation, Classification) {
    let classifier = Classifier::new(Env::example()).unwrap();
    let mut request = ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), "");
    request.tool = tool.to_string();
    request.input = serde_json::json!({"query": "x"});
    let mut classification = classifier.classify(&request);
    policy.enrich(&request, &mut classification);
    (policy.evaluate(&request, &classification), classification)
}

const MCP_POLICY: &str = r#"
[[mcp_tool]]
id = "mcp.slack-posts"
justification = "Posting reaches other people."
tools = ["mcp__slack__post_*"]
classes = ["external.comm"]

[[mcp_tool]]
id = "mcp.docs"
justification = "The docs server says its search is read-only."
tools = ["mcp__docs__*"]
annotations = { readOnlyHint = true }

[[mcp_tool]]
id = "mcp.db"
justification = "The database server says its tools are read-only, and also destructive."
tools = ["mcp__db__*"]
annotations = { readOnlyHint = true, destructiveHint = true, openWorldHint = true }
"#;

#[test]
fn mcp_tools_get_the_classes_policy_gives_them() {
    let (policy, _dir) = shipped_with(MCP_POLICY);
    let (evaluation, classification) = decide_mcp(&policy, "mcp__slack__post_message");
    let classes = classification.classes();
    assert!(
        classes.contains(&ActionClass::McpCall) && classes.contains(&ActionClass::ExternalComm)
    );
    assert_eq!(evaluation.decision, Decision::Ask);
    // Other tools of the server are only `mcp.call`.
    let (_, classification) = decide_mcp(&policy, "mcp__slack__list_channels");
    assert_eq!(classification.classes().len(), 1);
}

#[test]
fn an_annotation_alone_never_loosens_but_a_rule_may_trust_it() {
    let (policy, _dir) = shipped_with(MCP_POLICY);
    let (evaluation, classification) = decide_mcp(&policy, "mcp__docs__search");
    assert!(classification.units[0].tags.contains("mcp-read-only"));
    assert_eq!(evaluation.decision, Decision::Ask, "read-only hint alone");

    let trusted = format!(
        "{MCP_POLICY}\n[[rule]]\nid = \"allow.docs-read-only\"\ndecision = \"allow\"\njustification = \"We run the docs server ourselves.\"\nclasses = [\"mcp.call\"]\ntools = [\"mcp__docs__*\"]\ntags = [\"mcp-read-only\"]\n"
    );
    let (policy, _dir) = shipped_with(&trusted);
    assert_eq!(
        decide_mcp(&policy, "mcp__docs__search").0.decision,
        Decision::Allow
    );

    // "Destructive" wins over "read-only", and adds what it says.
    let (evaluation, classification) = decide_mcp(&policy, "mcp__db__query");
    let unit = &classification.units[0];
    assert!(!unit.tags.contains("mcp-read-only"));
    assert!(unit.classes.contains(&ActionClass::ShellDestructive));
    assert!(unit.classes.contains(&ActionClass::NetworkFetch));
    assert!(evaluation.decision >= Decision::Ask);
}

#[test]
fn a_bad_mcp_tool_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "[[mcp_tool]]\nid = \"x\"\njustification = \"y\"\ntools = [\"Bash\"]\n",
    )
    .unwrap();
    let err = Policy::load(&[crate::home::default_policy_dir(), dir.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mcp_tool `x`") && err.contains("mcp__SERVER__TOOL"),
        "{err}"
    );
}

#[test]
fn a_rule_naming_a_place_through_a_link_still_matches_where_paths_lead() {
    // Paths are resolved before rules see them; a rule written with the link's name must not
    // lose its match (a deny rule that stopped matching would loosen the policy).
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    std::fs::create_dir(base.join("real")).unwrap();
    std::os::unix::fs::symlink(base.join("real"), base.join("notes")).unwrap();
    let policy = policy_from(&format!(
        "version = 1\n[[rule]]\nid = \"mine.no-notes\"\ndecision = \"deny\"\njustification = \"x\"\npaths = [\"{}/notes/**\"]\n",
        base.display()
    ));
    let e = decide(&policy, &format!("echo x > {}/notes/f.txt", base.display()));
    assert_eq!(e.decision, Decision::Deny, "{}", e.reason);
    assert_eq!(e.rule_ids(), vec!["mine.no-notes".to_string()]);
}
