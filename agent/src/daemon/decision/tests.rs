//! The decision core on its own: every branch of the order of precedence, with no daemon.

use super::*;
use crate::classify::Unit;
use crate::policy::BreakerTrigger;
use airlock_protocol::StopInfo;
use std::time::Duration;

fn write_classification() -> Classification {
    Classification {
        units: vec![
            Unit::new("echo hi > notes.txt", 0, "kb:echo").with_class(ActionClass::FileWrite),
        ],
    }
}

fn evaluation(decision: Decision) -> Evaluation {
    Evaluation {
        decision,
        hits: vec![RuleHit {
            id: "policy.rule".into(),
            decision,
            justification: "the policy says so".into(),
            class: ActionClass::FileWrite,
            source: "test.toml".into(),
        }],
        details: Vec::new(),
        reason: format!("{}: the policy says so", decision.as_str()),
    }
}

/// The facts of a PreToolUse request in session `s` with nothing else known.
fn facts<'a>(classification: &'a Classification, evaluation: &'a Evaluation) -> Facts<'a> {
    Facts {
        session: "s",
        event: HookEvent::PreToolUse,
        classification,
        evaluation,
        session_grant: false,
        approved_before: None,
        controls: ControlFacts::default(),
        has_security_key: &|| true,
    }
}

fn when(ms: i64) -> String {
    format!("<{ms}>")
}

fn breaker() -> Breaker {
    Breaker {
        id: "breaker.exfil".into(),
        justification: "reading secrets then sending is exfiltration.".into(),
        trigger: BreakerTrigger::Tags(vec!["secret".into()]),
    }
}

fn budget() -> Budget {
    Budget {
        id: "budget.writes".into(),
        justification: "a burst of writes".into(),
        classes: vec![ActionClass::FileWrite],
        max: 3,
        window: Duration::from_secs(60),
        per_session: true,
    }
}

#[test]
fn the_policy_decides_when_nothing_else_is_known() {
    let c = write_classification();
    for (decision, action) in [
        (Decision::Allow, Action::Allow),
        (Decision::Ask, Action::Hold),
        (Decision::StepUp, Action::Hold),
    ] {
        let e = evaluation(decision);
        let ruling = rule(&facts(&c, &e), when);
        assert_eq!(ruling.decision, decision);
        assert_eq!(ruling.action, action);
        assert_eq!(ruling.hits, e.hits);
        assert_eq!(ruling.reason, e.reason);
        assert_eq!(ruling.trip, None);
    }
    let e = evaluation(Decision::Deny);
    let ruling = rule(&facts(&c, &e), when);
    assert_eq!(
        ruling.action,
        Action::Deny {
            answer: deny_for_model(&e.reason)
        }
    );
}

#[test]
fn a_session_grant_lifts_ask_and_nothing_else() {
    let c = write_classification();
    let ask = evaluation(Decision::Ask);
    let ruling = rule(
        &Facts {
            session_grant: true,
            ..facts(&c, &ask)
        },
        when,
    );
    assert_eq!(ruling.decision, Decision::Allow);
    assert_eq!(ruling.action, Action::Allow);
    assert_eq!(rule_ids(&ruling.hits), ["grant.session"]);
    assert_eq!(ruling.hits[0].class, ActionClass::FileWrite);
    // A grant never loosens a deny or a step-up.
    for strict in [Decision::Deny, Decision::StepUp] {
        let e = evaluation(strict);
        let ruling = rule(
            &Facts {
                session_grant: true,
                ..facts(&c, &e)
            },
            when,
        );
        assert_eq!(ruling.decision, strict);
        assert_eq!(rule_ids(&ruling.hits), ["policy.rule"]);
    }
}

#[test]
fn a_permission_request_follows_its_pre_tool_use_approval_only() {
    let c = write_classification();
    let ask = evaluation(Decision::Ask);
    let follow_up = Facts {
        event: HookEvent::PermissionRequest,
        approved_before: Some("r-1"),
        ..facts(&c, &ask)
    };
    let ruling = rule(&follow_up, when);
    assert_eq!(ruling.action, Action::Allow);
    assert_eq!(rule_ids(&ruling.hits), ["grant.pre-tool-use"]);
    assert!(ruling.reason.contains("r-1"), "{}", ruling.reason);
    // The same approval does not answer a PreToolUse (that is a new call).
    let again = Facts {
        approved_before: Some("r-1"),
        ..facts(&c, &ask)
    };
    assert_eq!(rule(&again, when).action, Action::Hold);
    // Nor does it lift a step-up.
    let step_up = evaluation(Decision::StepUp);
    let ruling = rule(
        &Facts {
            event: HookEvent::PermissionRequest,
            approved_before: Some("r-1"),
            ..facts(&c, &step_up)
        },
        when,
    );
    assert_eq!(ruling.action, Action::Hold);
}

#[test]
fn the_emergency_stop_refuses_even_a_granted_allow() {
    let c = write_classification();
    let allow = evaluation(Decision::Allow);
    let stop = StopInfo {
        since_ms: 42,
        by: "alice".into(),
        reason: "agent went wild".into(),
    };
    let ruling = rule(
        &Facts {
            session_grant: true,
            controls: ControlFacts {
                block: Some(Block::Stopped(stop)),
                breaker: Some(&breaker()),
                budget: Some(&budget()),
            },
            ..facts(&c, &allow)
        },
        when,
    );
    // The decision recorded is the policy's; the outcome is the control's.
    assert_eq!(ruling.decision, Decision::Allow);
    assert_eq!(rule_ids(&ruling.hits), ["control.emergency-stop"]);
    assert_eq!(ruling.hits[0].decision, Decision::Deny);
    assert_eq!(ruling.hits[0].source, "controls");
    assert!(
        ruling
            .reason
            .contains("since <42>, by alice: agent went wild"),
        "{}",
        ruling.reason
    );
    // A stop outranks a breaker: nothing trips while everything is refused anyway.
    assert_eq!(ruling.trip, None);
    let Action::Refuse {
        outcome,
        detail,
        answer,
    } = ruling.action
    else {
        panic!("{:?}", ruling.action)
    };
    assert_eq!(outcome, Outcome::Denied);
    assert_eq!(detail, json!({"control": "control.emergency-stop"}));
    assert!(answer.contains("Do not try to reach the same result another way"));
}

#[test]
fn canceled_and_contained_sessions_name_their_way_out() {
    let c = write_classification();
    let allow = evaluation(Decision::Allow);
    for (block, id, says) in [
        (
            Block::SessionCanceled("by bob".into()),
            "control.session-canceled",
            "every further action is denied",
        ),
        (
            Block::SessionContained("breaker `b`".into()),
            "control.session-contained",
            "airlock session release s",
        ),
    ] {
        let ruling = rule(
            &Facts {
                controls: ControlFacts {
                    block: Some(block),
                    ..ControlFacts::default()
                },
                ..facts(&c, &allow)
            },
            when,
        );
        assert_eq!(rule_ids(&ruling.hits), [id]);
        assert!(ruling.reason.contains(says), "{}", ruling.reason);
    }
}

#[test]
fn a_breaker_trips_and_refuses_unless_the_policy_denies_anyway() {
    let c = write_classification();
    let breaker = breaker();
    for decision in [Decision::Allow, Decision::Ask, Decision::StepUp] {
        let e = evaluation(decision);
        let ruling = rule(
            &Facts {
                controls: ControlFacts {
                    breaker: Some(&breaker),
                    budget: Some(&budget()),
                    ..ControlFacts::default()
                },
                ..facts(&c, &e)
            },
            when,
        );
        assert_eq!(rule_ids(&ruling.hits), ["breaker.exfil"]);
        let trip = ruling.trip.expect("the breaker trips");
        assert_eq!(trip.breaker, "breaker.exfil");
        assert!(trip.reason.contains("session release s"), "{}", trip.reason);
        assert!(matches!(
            ruling.action,
            Action::Refuse {
                outcome: Outcome::Denied,
                ..
            }
        ));
    }
    // Denied by policy: the policy's reason stands, and the attempt still contains the session.
    let deny = evaluation(Decision::Deny);
    let ruling = rule(
        &Facts {
            controls: ControlFacts {
                breaker: Some(&breaker),
                ..ControlFacts::default()
            },
            ..facts(&c, &deny)
        },
        when,
    );
    assert_eq!(rule_ids(&ruling.hits), ["policy.rule"]);
    assert!(matches!(ruling.action, Action::Deny { .. }));
    assert_eq!(
        ruling.trip.map(|t| t.reason),
        Some("circuit breaker `breaker.exfil` tripped: reading secrets then sending is exfiltration.".into())
    );
}

#[test]
fn an_exhausted_budget_rate_limits_what_the_policy_would_let_through() {
    let c = write_classification();
    let budget = budget();
    for decision in [Decision::Allow, Decision::Ask, Decision::StepUp] {
        let e = evaluation(decision);
        let ruling = rule(
            &Facts {
                controls: ControlFacts {
                    budget: Some(&budget),
                    ..ControlFacts::default()
                },
                ..facts(&c, &e)
            },
            when,
        );
        assert_eq!(rule_ids(&ruling.hits), ["budget.writes"]);
        assert!(
            ruling
                .reason
                .contains("at most 3 such actions per 60 s in a session"),
            "{}",
            ruling.reason
        );
        assert!(matches!(
            ruling.action,
            Action::Refuse {
                outcome: Outcome::RateLimited,
                ..
            }
        ));
    }
    // A denial is a denial, not a rate limit.
    let deny = evaluation(Decision::Deny);
    let ruling = rule(
        &Facts {
            controls: ControlFacts {
                budget: Some(&budget),
                ..ControlFacts::default()
            },
            ..facts(&c, &deny)
        },
        when,
    );
    assert!(matches!(ruling.action, Action::Deny { .. }));
}

#[test]
fn a_step_up_without_a_key_is_denied_with_the_way_to_register_one() {
    let c = write_classification();
    let step_up = evaluation(Decision::StepUp);
    let ruling = rule(
        &Facts {
            has_security_key: &|| false,
            ..facts(&c, &step_up)
        },
        when,
    );
    assert_eq!(ruling.decision, Decision::StepUp);
    let Action::DenyNoKey { answer } = ruling.action else {
        panic!("{:?}", ruling.action)
    };
    assert!(answer.starts_with(&step_up.reason), "{answer}");
    assert!(answer.contains("airlock key add"), "{answer}");
    // An `ask` needs no key.
    let ask = evaluation(Decision::Ask);
    let ruling = rule(
        &Facts {
            has_security_key: &|| false,
            ..facts(&c, &ask)
        },
        when,
    );
    assert_eq!(ruling.action, Action::Hold);
}

#[test]
fn only_a_step_up_asks_whether_a_key_is_registered() {
    // The question reads the store: a decision that cannot need a key never asks it.
    let c = write_classification();
    for decision in [Decision::Allow, Decision::Ask, Decision::Deny] {
        let e = evaluation(decision);
        let asked = std::cell::Cell::new(false);
        let key = || {
            asked.set(true);
            true
        };
        rule(
            &Facts {
                has_security_key: &key,
                ..facts(&c, &e)
            },
            when,
        );
        assert!(!asked.get(), "{decision:?} asked for a key");
    }
}

#[test]
fn rule_ids_keep_the_first_of_each() {
    let hit = |id: &str| RuleHit {
        id: id.into(),
        decision: Decision::Ask,
        justification: String::new(),
        class: ActionClass::FileWrite,
        source: String::new(),
    };
    assert_eq!(rule_ids(&[hit("a"), hit("b"), hit("a")]), ["a", "b"]);
}

#[test]
fn the_decision_detail_redacts_unit_text_and_keeps_its_shape() {
    let mut unit = Unit::new(
        "curl -H 'Authorization: token ghp_0123456789abcdefghijklmnopqrstuvwxyz' x",
        0,
        "kb:curl",
    )
    .with_class(ActionClass::NetworkFetch);
    unit.program = Some("curl".into());
    let detail = DecisionDetail {
        units: vec![UnitDetail::of(&unit)],
        policy_decision: Decision::Ask,
        policy_sha256: "abc",
        subagent: None,
        subagent_type: Some("explorer"),
        permission_mode: None,
        agent_pid: Some(7),
        hook_pid: None,
        os_user: OsUserDetail {
            uid: Some(1000),
            name: Some("dev".into()),
        },
    }
    .to_value();
    let keys: Vec<&String> = detail.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "agent_pid",
            "hook_pid",
            "os_user",
            "permission_mode",
            "policy_decision",
            "policy_sha256",
            "subagent",
            "subagent_type",
            "units"
        ]
    );
    let text = detail["units"][0]["text"].as_str().unwrap();
    assert!(!text.contains("ghp_0123456789"), "{text}");
    assert_eq!(detail["units"][0]["program"], "curl");
    assert_eq!(detail["units"][0]["classes"], json!(["network.fetch"]));
    assert_eq!(detail["policy_decision"], "ask");
    assert_eq!(detail["os_user"], json!({"uid": 1000, "name": "dev"}));
}
