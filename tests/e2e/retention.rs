//! Independent retention through a real PostgreSQL server (Debian's, started by the test in a
//! temporary directory): every row and checkpoint reaches a copy the daemon's role may only add
//! to; a consistent rewrite and a truncation of the local log are named by `verify --against`;
//! an outage loses nothing and keeps order (decision latency during it is reported); a
//! `kill -9` in the middle of a backlog resumes without loss or duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use airlock::client::Client;
use airlock_protocol::{Decision, Request, Response};
use std::time::{Duration, Instant};
use support::postgres::Postgres;
use support::{Airlock, bash_payload};

/// Settings that ship to `pg` (and not to syslog, which another test covers).
fn settings(pg: &Postgres, batch_rows: u32) -> String {
    format!(
        "[retention]\nsyslog = false\npostgres = {:?}\nbatch_rows = {batch_rows}\n",
        pg.conninfo("airlock_writer")
    )
}

/// A fresh PostgreSQL and a daemon shipping to it in batches of `batch_rows`.
fn shipping(batch_rows: u32) -> (Postgres, Airlock) {
    let pg = Postgres::start();
    let mut airlock = Airlock::new();
    airlock.write_settings(&settings(&pg, batch_rows));
    airlock.start_daemon_from_settings();
    (pg, airlock)
}

/// Wait until the copy holds exactly the local chain.
fn wait_retained(airlock: &Airlock, pg: &Postgres) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let local = airlock.chain();
        let retained = pg.rows();
        if !local.is_empty() && local == retained {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the copy never caught up: {} local rows, {} retained; status: {}",
            local.len(),
            retained.len(),
            airlock.run_ok(&["status"])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One allowed request straight over the socket; returns its round-trip time.
fn request(connection: &mut Client, i: u64) -> Duration {
    let payload = serde_json::json!({
        "session_id": format!("ret-{}", i % 7),
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/home/user/project",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "cargo test --workspace", "description": "run tests"},
        "tool_use_id": format!("toolu_ret_{i}"),
    });
    let started = Instant::now();
    let response = connection
        .call(Request::Hook {
            agent: "claude-code".into(),
            payload,
            agent_pid: None,
        })
        .unwrap();
    let took = started.elapsed();
    match response {
        Response::Verdict(v) => assert_eq!(v.decision, Decision::Allow, "request {i}"),
        other => panic!("request {i}: {other:?}"),
    }
    took
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The copy holds every row and checkpoint; the daemon's role cannot change it; a consistent
/// rewrite and a truncation of the local log are named by `verify --against`, and the daemon
/// stops shipping a log that no longer continues its copy (a chained record says so).
#[test]
fn the_retained_copy_catches_a_consistent_rewrite_and_a_truncation() {
    let (pg, mut airlock) = shipping(500);
    for (i, cmd) in ["ls", "cargo build", "rm -rf /", "git status"]
        .iter()
        .enumerate()
    {
        airlock.hook(&bash_payload(cmd, &format!("s{i}"), &format!("t{i}")));
    }
    wait_retained(&airlock, &pg);
    let status = airlock.run_ok(&["status"]);
    assert!(
        status.contains("retention: PostgreSQL `airlock_writer@")
            && status.contains(", 0 waiting in the outbox"),
        "{status}"
    );
    airlock.stop_daemon();
    // The stop record and the last checkpoint left with the last pass.
    wait_retained(&airlock, &pg);
    let checkpoints: i64 = pg
        .psql_ok(
            "auditor",
            "airlock",
            "SELECT max(size) FROM airlock_checkpoints",
        )
        .parse()
        .unwrap();
    assert_eq!(
        checkpoints,
        airlock.chain().len() as i64,
        "the last checkpoint covers the stop"
    );

    // The daemon's role may read and add, never change or remove; nor add a row that forks
    // the retained chain.
    assert!(
        pg.psql_ok(
            "airlock_writer",
            "airlock",
            "SELECT count(*) FROM airlock_rows"
        )
        .parse::<i64>()
        .unwrap()
            > 0
    );
    for sql in [
        "UPDATE airlock_rows SET canonical = 'x' WHERE seq = 3",
        "DELETE FROM airlock_rows WHERE seq = 3",
        "TRUNCATE airlock_rows",
        "DELETE FROM airlock_checkpoints",
        "ALTER TABLE airlock_rows DISABLE TRIGGER airlock_rows_append_only",
        "INSERT INTO airlock_rows (log_id, seq, kind, time_ms, canonical, prev_hash, hash) SELECT log_id, seq + 1, kind, time_ms, canonical, prev_hash, hash FROM airlock_rows ORDER BY seq DESC LIMIT 1",
        "INSERT INTO airlock_rows (log_id, seq, kind, time_ms, canonical, prev_hash, hash) SELECT log_id, 2, kind, time_ms, canonical, prev_hash, hash FROM airlock_rows WHERE seq = 2",
        // A checkpoint of rows the copy does not hold (it would stop checkpoint shipping).
        "INSERT INTO airlock_checkpoints (log_id, size, note) SELECT log_id, 1000000000000, 'junk' FROM airlock_rows LIMIT 1",
        "ALTER TABLE airlock_rows DISABLE ROW LEVEL SECURITY",
    ] {
        let out = pg.psql("airlock_writer", "airlock", sql);
        assert!(!out.status.success(), "the writer could run: {sql}");
    }
    // Another machine's role neither reads this log nor adds to it.
    assert_eq!(
        pg.psql_ok(
            "other_writer",
            "airlock",
            "SELECT count(*) FROM airlock_rows"
        ),
        "0"
    );
    let log_id = pg.psql_ok(
        "auditor",
        "airlock",
        "SELECT DISTINCT log_id FROM airlock_rows",
    );
    assert!(log_id.starts_with("airlock_writer/"), "{log_id}");
    let foreign = pg.psql(
        "other_writer",
        "airlock",
        &format!("INSERT INTO airlock_heads (log_id, seq, hash) VALUES ('{log_id}', 999, 'x')"),
    );
    assert!(!foreign.status.success(), "another role wrote to this log");
    // Positive control: the owner can change the table (so the refusals above are the role's).
    pg.psql_ok(
        "db_owner",
        "airlock",
        "SELECT seq FROM airlock_rows ORDER BY seq LIMIT 1 FOR UPDATE",
    );

    let against = pg.conninfo("auditor");
    let out = airlock.run(&["verify", "--against", &against]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "ok: {} rows match the copy retained at",
            airlock.chain().len()
        )),
        "{text}"
    );

    airlock.sqlite3("PRAGMA wal_checkpoint(TRUNCATE);");
    let pristine = std::fs::read(airlock.database()).unwrap();
    let witness = format!("{}-head", airlock.database().display());
    let pristine_witness = std::fs::read(&witness).unwrap();
    // Put the log back as it was before an attack.
    let restore = |airlock: &Airlock| {
        std::fs::write(airlock.database(), &pristine).unwrap();
        std::fs::write(&witness, &pristine_witness).unwrap();
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", airlock.database().display()));
        }
    };
    // `verify --against` after an attack: it fails (exit 4); its output.
    let fails_against = |airlock: &Airlock| {
        let out = airlock.run(&["verify", "--against", &against]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(4), "{text}");
        text
    };

    // A consistent rewrite (every hash recomputed, witness rewritten): the chain holds, the
    // copy names the row.
    let denied_seq: i64 = airlock
        .sqlite3("SELECT min(seq) FROM receipts WHERE decision = 'deny'")
        .trim()
        .parse()
        .unwrap();
    support::rewrite_chain(
        &airlock.database(),
        "UPDATE receipts SET decision = 'allow' WHERE decision = 'deny'",
    );
    let text = fails_against(&airlock);
    assert!(
        text.contains("rows verified"),
        "the chain itself holds: {text}"
    );
    assert!(
        text.contains(&format!(
            "row {denied_seq} differs from the row the copy received"
        )),
        "{text}"
    );

    // Restarted on the rewritten log, the daemon will not ship rows that do not continue the
    // copy: it stops, says so in status, and chains the reason.
    airlock.start_daemon_from_settings();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = airlock.run_ok(&["status"]);
        if status.contains("STOPPED") {
            assert!(
                status.contains("is not the row") && status.contains("the copy holds"),
                "{status}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "shipping did not stop: {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = airlock.run_ok(&["log", "--agent", "airlock"]);
    assert!(log.contains("airlock retention stopped"), "{log}");
    airlock.stop_daemon();

    // Truncation: the newest rows cut off, head and witness moved back consistently.
    restore(&airlock);
    let keep = 5;
    support::rewrite_chain(
        &airlock.database(),
        &format!(
            "DELETE FROM receipts WHERE seq > {keep}; DELETE FROM events WHERE seq > {keep}; DELETE FROM tree_heads; DELETE FROM tree_hashes;"
        ),
    );
    let text = fails_against(&airlock);
    assert!(
        text.contains(&format!(
            "row {} is retained but missing from the local log (which ends at row {keep})",
            keep + 1
        )),
        "{text}"
    );

    // A row deleted in the middle (the rest re-linked around it).
    restore(&airlock);
    support::rewrite_chain(
        &airlock.database(),
        "DELETE FROM receipts WHERE seq = 3; DELETE FROM events WHERE seq = 3;",
    );
    let text = fails_against(&airlock);
    assert!(
        text.contains("row 3 is retained but missing from the local log"),
        "{text}"
    );

    // The whole local log wiped (witness and all): an empty log is no pass.
    restore(&airlock);
    support::rewrite_chain(
        &airlock.database(),
        "DELETE FROM receipts WHERE seq > 1; DELETE FROM events WHERE seq > 1;",
    );
    airlock.sqlite3("DELETE FROM receipts; DELETE FROM events; DELETE FROM chain_head;");
    let _ = std::fs::remove_file(&witness);
    let text = fails_against(&airlock);
    assert!(
        text.contains("the copy holds no log beginning with this log's first row"),
        "{text}"
    );

    // The untouched log still matches (positive control for the failures above).
    restore(&airlock);
    let out = airlock.run(&["verify", "--against", &against]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Another log of the same writer role, which this log does not continue (what a rewrite
    // shipped under a new name leaves beside the genuine one): named, and verify fails.
    let genesis = "0".repeat(64);
    pg.psql_ok(
        "airlock_writer",
        "airlock",
        &format!(
            "INSERT INTO airlock_rows (log_id, seq, kind, time_ms, canonical, prev_hash, hash) \
             VALUES ('airlock_writer/elsewhere:/x#1', 1, 'event', 0, '[\"event\",1,\"x\"]', '{genesis}', \
             encode(sha256(convert_to('{genesis}' || E'\\n' || '[\"event\",1,\"x\"]', 'UTF8')), 'hex'))"
        ),
    );
    let text = fails_against(&airlock);
    assert!(
        text.contains("of the same writer role, which this log does not continue"),
        "{text}"
    );
}

/// PostgreSQL stopped for a while and started again: decisions go on (their latency is
/// reported), the outage and the recovery are chained, and the copy ends up holding every row
/// in order, none twice.
#[test]
fn an_outage_loses_nothing_keeps_order_and_never_delays_a_decision() {
    let (pg, mut airlock) = shipping(100);
    let mut connection = Client::connect(&airlock.socket()).unwrap();
    const EACH: u64 = 400;
    let mut up: Vec<Duration> = (0..EACH).map(|i| request(&mut connection, i)).collect();
    wait_retained(&airlock, &pg);

    pg.halt();
    let mut down: Vec<Duration> = (EACH..2 * EACH)
        .map(|i| request(&mut connection, i))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status = airlock.run_ok(&["status"]);
        if status.contains("UNREACHABLE") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the outage is not reported: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.contains("waiting in the outbox"), "{status}");
    let waiting_local = airlock.chain().len();
    let retained_during = pg_rows_when_down(&pg);
    assert!(retained_during.is_none(), "the server is down");

    pg.resume();
    wait_retained(&airlock, &pg);
    let retained = pg.rows();
    assert!(retained.len() >= waiting_local);
    let seqs: Vec<i64> = retained.iter().map(|r| r.0).collect();
    assert_eq!(
        seqs,
        (1..=retained.len() as i64).collect::<Vec<_>>(),
        "in order, none twice, none missing"
    );
    let log = airlock.run_ok(&["log", "--agent", "airlock"]);
    assert!(log.contains("airlock retention outage"), "{log}");
    assert!(log.contains("airlock retention resumed"), "{log}");

    up.sort();
    down.sort();
    println!(
        "decision round trip with PostgreSQL up: median {:?}, p99 {:?}; during the outage: median {:?}, p99 {:?} ({EACH} requests each)",
        percentile(&up, 0.5),
        percentile(&up, 0.99),
        percentile(&down, 0.5),
        percentile(&down, 0.99),
    );
    let out = airlock.run(&["verify", "--against", &pg.conninfo("auditor")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Someone with more rights than the daemon's role removes the newest retained rows: the
    // next connection sees the copy behind what was shipped, chains that, and ships them again.
    airlock.stop_daemon();
    wait_retained(&airlock, &pg);
    let shipped = pg.count();
    pg.psql_ok(
        "db_owner",
        "airlock",
        &format!("DELETE FROM airlock_rows WHERE seq > {}", shipped - 50),
    );
    airlock.start_daemon_from_settings();
    wait_retained(&airlock, &pg);
    let log = airlock.run_ok(&["log", "--agent", "airlock"]);
    assert!(log.contains("airlock retention behind"), "{log}");
    let behind = airlock.run_ok(&["log", "--agent", "airlock", "--json"]);
    assert!(
        behind.contains(&format!("rows up to {shipped} were shipped to it")),
        "{behind}"
    );
}

/// Whether the server answers (None while it is down).
fn pg_rows_when_down(pg: &Postgres) -> Option<i64> {
    let out = pg.psql("auditor", "airlock", "SELECT count(*) FROM airlock_rows");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().unwrap())
}

/// `kill -9` of the daemon while it works through a backlog (small batches, so it is caught
/// between them): the next daemon resumes from what the copy holds, without loss or
/// duplicates.
#[test]
fn a_daemon_killed_in_the_middle_of_a_backlog_resumes_without_loss_or_duplicates() {
    let pg = Postgres::start();
    let mut airlock = Airlock::new();
    airlock.write_settings(&settings(&pg, 10));
    pg.halt();
    airlock.start_daemon_from_settings();
    let mut connection = Client::connect(&airlock.socket()).unwrap();
    for i in 0..3000 {
        request(&mut connection, i);
    }
    drop(connection);
    let backlog = airlock.chain().len() as i64;
    pg.resume();
    // Kill as soon as the copy has some rows, far from all of them.
    let deadline = Instant::now() + Duration::from_secs(30);
    let at_kill = loop {
        let n = pg.count();
        if n > 0 {
            airlock.kill_daemon();
            break pg.count();
        }
        assert!(
            Instant::now() < deadline,
            "nothing was shipped after the server came back"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        at_kill < backlog,
        "the daemon was killed with {at_kill} of {backlog} rows retained (the backlog must not be done)"
    );
    airlock.start_daemon_from_settings();
    wait_retained(&airlock, &pg);
    let retained = pg.rows();
    let seqs: Vec<i64> = retained.iter().map(|r| r.0).collect();
    assert_eq!(
        seqs,
        (1..=retained.len() as i64).collect::<Vec<_>>(),
        "in order, none twice, none missing"
    );
    // Rows may still be added (a `retention resumed` record): the copy is a prefix of the log.
    let local = airlock.chain();
    assert_eq!(retained[..], local[..retained.len()]);
    println!(
        "killed with {at_kill} of {backlog} rows retained; after restart all {} rows are",
        retained.len()
    );
}

/// The attack of review round 11: the writer role (whose password the agent's user can read)
/// holds the log's next row in an open transaction, so the daemon's rows cannot land; the agent
/// then kills the daemon, rewrites the rows that never left, and lets a new daemon ship the
/// rewritten tail. The wait is found in seconds and chained, and the head the copy was told
/// before the rows contradicts the rewritten tail, so `verify --against` fails.
#[test]
fn a_held_back_tail_rewritten_after_a_kill_is_caught_by_the_head_told_first() {
    let (pg, mut airlock) = shipping(500);
    airlock.hook(&bash_payload("ls", "s0", "t0"));
    wait_retained(&airlock, &pg);
    let tip = pg.count();
    // Hold the next row: a valid continuation, in a transaction left open.
    let hold = "BEGIN; INSERT INTO airlock_rows (log_id, seq, kind, time_ms, canonical, prev_hash, hash) \
         SELECT log_id, seq + 1, 'event', 0, '[\"event\",' || (seq + 1) || ',\"x\"]', hash, \
         encode(sha256(convert_to(hash || E'\\n' || '[\"event\",' || (seq + 1) || ',\"x\"]', 'UTF8')), 'hex') \
         FROM airlock_rows ORDER BY seq DESC LIMIT 1; SELECT pg_sleep(12);";
    let mut holder = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {} -X -q -h {} -U airlock_writer -d airlock -c \"$0\"",
            pg.psql_path().display(),
            pg.socket_dir().display()
        ))
        .arg(hold)
        .stderr(std::fs::File::create(airlock.home().join("holder.err")).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    airlock.hook(&bash_payload("cargo build --release", "s1", "t1"));
    // The held row makes the daemon's insert wait; a lock timeout turns that into an outage.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = airlock.run_ok(&["status"]);
        if status.contains("UNREACHABLE") {
            assert!(status.contains("lock timeout"), "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the held row went unnoticed: {status}; the holder said: {}",
            std::fs::read_to_string(airlock.home().join("holder.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let told: i64 = pg
        .psql_ok("auditor", "airlock", "SELECT max(seq) FROM airlock_heads")
        .parse()
        .unwrap();
    assert!(
        told > tip,
        "the head was told before the rows ({told} ≤ {tip})"
    );

    // The agent kills the daemon, lets go of the row, and rewrites what never left.
    airlock.kill_daemon();
    let _ = holder.kill();
    let _ = holder.wait();
    support::rewrite_chain(
        &airlock.database(),
        &format!(
            "DELETE FROM receipts WHERE seq > {tip}; DELETE FROM events WHERE seq > {tip}; DELETE FROM tree_heads WHERE size > {tip};"
        ),
    );
    airlock.start_daemon_from_settings();
    airlock.hook(&bash_payload("git status", "s2", "t2"));
    wait_retained(&airlock, &pg);
    let out = airlock.run(&["verify", "--against", &pg.conninfo("auditor")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains(&format!(
            "row {told} was the log's head when the copy was told"
        )),
        "{text}"
    );
}

/// Another spelling of the database's path (here a doubled slash) is the same log: its name in
/// the copy is fixed in the log the first time, so no second copy starts.
#[test]
fn another_spelling_of_the_home_ships_into_the_same_log() {
    let (pg, mut airlock) = shipping(500);
    airlock.hook(&bash_payload("ls", "s0", "t0"));
    wait_retained(&airlock, &pg);
    airlock.stop_daemon();
    let doubled = format!("{}//", airlock.home().display());
    let mut daemon = airlock
        .cmd(&["daemon"])
        .env("AIRLOCK_HOME", &doubled)
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !airlock.run(&["status"]).status.success() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    airlock.hook(&bash_payload("git status", "s1", "t1"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while pg.count() < airlock.chain().len() as i64 {
        assert!(Instant::now() < deadline, "not shipped");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let logs = pg.psql_ok(
        "auditor",
        "airlock",
        "SELECT count(DISTINCT log_id) FROM airlock_rows",
    );
    assert_eq!(logs, "1");
}
