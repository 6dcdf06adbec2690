use super::*;
use airlock_protocol::Outcome;
use serde_json::json;

fn receipt(id: &str, session: &str, classes: serde_json::Value) -> NewReceipt {
    NewReceipt {
        id: id.to_string(),
        time_ms: 1_000,
        agent: "claude-code".into(),
        session: Some(session.into()),
        cwd: "/w".into(),
        tool: "Bash".into(),
        event: "pre_tool_use".into(),
        tool_use_id: Some(format!("tu-{id}")),
        input: json!({"command": format!("echo {id}")}),
        classes,
        rules: json!([{"id": "baseline.read", "decision": "allow", "justification": "j", "class": "read", "source": "x"}]),
        decision: "allow".into(),
        reason: "because".into(),
        detail: json!({}),
    }
}

fn event(id: &str, outcome: Outcome) -> Op {
    Op::Event(NewEvent {
        receipt_id: id.into(),
        time_ms: 2_000,
        outcome: outcome.as_str().into(),
        actor: "policy".into(),
        detail: json!({}),
    })
}

#[test]
fn appended_rows_chain_and_verify() {
    let mut store = Store::in_memory().unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt("a", "s1", json!(["read"])))),
            event("a", Outcome::Allowed),
        ])
        .unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt("b", "s2", json!(["network.fetch"])))),
            event("b", Outcome::ApprovalRequired),
        ])
        .unwrap();
    store.append(&[event("b", Outcome::Approved)]).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        report,
        VerifyReport {
            rows: 5,
            receipts: 2,
            events: 3,
            head_seq: 5,
            problem: None
        }
    );
}

#[test]
fn listing_filters_and_orders_newest_first() {
    let mut store = Store::in_memory().unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt("a", "s1", json!(["read"])))),
            event("a", Outcome::Allowed),
        ])
        .unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt(
                "b",
                "s2",
                json!(["network.fetch", "read"]),
            ))),
            event("b", Outcome::ApprovalRequired),
            event("b", Outcome::Rejected),
        ])
        .unwrap();
    let all = store.list(&LogFilter::default()).unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(
        all[0].outcomes,
        vec![Outcome::ApprovalRequired, Outcome::Rejected]
    );
    assert_eq!(all[0].rules, vec!["baseline.read".to_string()]);

    let rejected = store
        .list(&LogFilter {
            outcome: Some(Outcome::Rejected),
            ..LogFilter::default()
        })
        .unwrap();
    assert_eq!(rejected.len(), 1);
    let network = store
        .list(&LogFilter {
            class: Some(airlock_protocol::ActionClass::NetworkFetch),
            ..LogFilter::default()
        })
        .unwrap();
    assert_eq!(network[0].id, "b");
    let by_text = store
        .list(&LogFilter {
            text: Some("echo a".into()),
            ..LogFilter::default()
        })
        .unwrap();
    assert_eq!(by_text[0].id, "a");
    let page = store
        .list(&LogFilter {
            before_seq: Some(all[0].seq),
            limit: Some(1),
            ..LogFilter::default()
        })
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
}

#[test]
fn detail_has_the_timeline_and_tool_use_lookup_works() {
    let mut store = Store::in_memory().unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt("a", "s1", json!(["read"])))),
            event("a", Outcome::Allowed),
            event("a", Outcome::Executed),
        ])
        .unwrap();
    let detail = store.get("a").unwrap();
    let outcomes: Vec<&str> = detail.timeline.iter().map(|t| t.outcome.as_str()).collect();
    assert_eq!(outcomes, ["allowed", "executed"]);
    assert_eq!(
        store.find_by_tool_use("tu-a").unwrap(),
        Some("a".to_string())
    );
    assert_eq!(store.find_by_tool_use("nope").unwrap(), None);
    assert!(matches!(store.get("zzz"), Err(StoreError::NotFound(_))));
}

#[test]
fn a_modified_row_is_named() {
    let mut store = Store::in_memory().unwrap();
    store
        .append(&[
            Op::Receipt(Box::new(receipt("a", "s1", json!(["read"])))),
            event("a", Outcome::Allowed),
        ])
        .unwrap();
    store
        .conn()
        .execute("UPDATE events SET actor = 'someone else' WHERE seq = 2", [])
        .unwrap();
    let problem = store.verify().unwrap().problem.unwrap();
    assert_eq!(problem.seq, 2);
    assert_eq!(problem.table, "events");
    assert_eq!(problem.id.as_deref(), Some("a"));
}

#[test]
fn file_database_uses_wal_and_reopens_with_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        store
            .append(&[
                Op::Receipt(Box::new(receipt("a", "s1", json!(["read"])))),
                event("a", Outcome::Allowed),
            ])
            .unwrap();
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    let mut store = Store::open(&path).unwrap();
    store.append(&[event("a", Outcome::Executed)]).unwrap();
    assert!(store.verify().unwrap().ok());
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.verify().unwrap().rows, 3);
}

/// A log longer than one verification window, with rows of both tables in uneven runs.
fn long_store() -> Store {
    let mut store = Store::in_memory().unwrap();
    let mut ops = Vec::new();
    for i in 0..1800 {
        let id = format!("r{i}");
        ops.push(Op::Receipt(Box::new(receipt(&id, "s", json!(["read"])))));
        // Every third receipt gets three events, so one table runs ahead of the other.
        let events = if i % 3 == 0 { 3 } else { 1 };
        for _ in 0..events {
            ops.push(event(&id, Outcome::Allowed));
        }
    }
    store.append(&ops).unwrap();
    store
}

#[test]
fn verification_in_windows_sees_every_row() {
    let store = long_store();
    let report = store.verify().unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.receipts, 1800);
    assert_eq!(report.events, 600 * 3 + 1200);
    assert_eq!(report.rows, report.head_seq);
}

#[test]
fn verification_in_windows_finds_changes_and_gaps_far_in() {
    // A changed row well past the first window.
    let store = long_store();
    store
        .conn()
        .execute(
            "UPDATE receipts SET reason = 'edited' WHERE id = 'r1500'",
            [],
        )
        .unwrap();
    let problem = store.verify().unwrap().problem.unwrap();
    assert_eq!(problem.id.as_deref(), Some("r1500"));
    assert!(problem.message.contains("modified"), "{problem:?}");

    // A gap longer than a whole window, in both tables.
    let store = long_store();
    store
        .conn()
        .execute("DELETE FROM events WHERE seq BETWEEN 1200 AND 3600", [])
        .unwrap();
    store
        .conn()
        .execute("DELETE FROM receipts WHERE seq BETWEEN 1200 AND 3600", [])
        .unwrap();
    let problem = store.verify().unwrap().problem.unwrap();
    assert_eq!(problem.seq, 1200, "{problem:?}");
    assert!(problem.message.contains("missing"), "{problem:?}");
}
