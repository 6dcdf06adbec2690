//! What the daemon records about itself, so the chain tells the whole story and not only the
//! requests: its start (with the policy bundle and settings it started with) and stop, holds a
//! previous run left undecided, every policy load or reload (each file's hash and what changed)
//! and every settings change. Each is a chained control receipt, visible in `airlock log`.

use super::state::Daemon;
use crate::policy::{Policy, PolicyError};
use crate::settings::Settings;
use crate::store::{NewEvent, Op, now_ms};
use airlock_protocol::{Event, Outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Who these records are by.
const ACTOR: &str = "daemon";

impl Daemon {
    /// Record the start: process, mode, the policy bundle and settings in force. Holds a
    /// previous run left without an outcome are finalised first.
    pub async fn record_start(&self) {
        let behind = self.behind_witness();
        // Whether the run before this one ended with a stop record: a start after a start
        // means it was killed or crashed (its last rows after the last checkpoint may be gone).
        let previous_unclean = self
            .lock_reader()
            .unclean_stops_if_started_now()
            .unwrap_or(false);
        self.finalise_interrupted().await;
        let restored = self.restore_counters();
        let policy = self.policy.current();
        let settings_file = self.home.settings_file();
        let input = json!({
            "action": "daemon start",
            "pid": std::process::id(),
            "uid": self.uid,
            "version": env!("CARGO_PKG_VERSION"),
            "mode": if self.users.is_some() { "system" } else { "user" },
            "policy_sha256": policy.bundle_sha256(),
            "policy_files": files_json(&policy),
            "settings_file": settings_file.display().to_string(),
            "settings_sha256": file_sha256(&settings_file),
            "refused_keys": self.refused_keys(),
            "checkpoint_key": self.tree_heads.key_location(),
            "counters_restored_from": restored,
            "previous_run": if previous_unclean { "ended without a stop record (killed or crashed)" } else { "ended with a stop record, or none ran" },
        });
        let mut reason = format!("Airlock daemon started in {}", self.mode());
        let refused = input["refused_keys"].as_array().map_or(0, Vec::len);
        if refused > 0 {
            // A registered key that no longer verifies: trust roots changed under it, or its
            // row was tampered with. Said loudly; step-up refuses the key meanwhile.
            tracing::error!(
                refused,
                "registered security keys are refused: see `airlock key list`"
            );
            reason.push_str(&format!(
                "; {refused} registered security key(s) REFUSED (see `airlock key list`)"
            ));
        }
        self.record_or_log("daemon start", input, Outcome::Executed, &reason)
            .await;
        if let Some(why) = behind {
            // Rows were deleted (or the database replaced) while the daemon was down: nothing
            // is decided until a person has looked.
            let reason = format!(
                "{why}. Airlock's emergency stop is on until a person checks the receipts (`airlock verify`) and runs `airlock resume`."
            );
            tracing::error!(%reason, "the receipt database is behind its witness");
            self.emergency_stop(Some(reason), false, super::WATCHDOG)
                .await;
        }
    }

    /// Why the database does not hold what the witness says was written, if it does not.
    fn behind_witness(&self) -> Option<String> {
        let reader = self.lock_reader();
        let database = reader.path().to_path_buf();
        match crate::store::witness::all(&database) {
            Err(why) => return Some(format!("the receipt witness {why}")),
            Ok(heads) if heads.is_empty() => {
                let head = reader.verify_head().unwrap_or(0);
                return (head > 0).then(|| {
                    format!(
                        "the receipt witness beside `{}` is missing although the chain has {head} rows",
                        database.display()
                    )
                });
            }
            Ok(_) => {}
        }
        match reader.witness_problem() {
            Ok(problem) => problem.map(|p| p.message),
            Err(e) => Some(format!(
                "cannot compare the receipts with their witness: {e}"
            )),
        }
    }

    /// Record a clean stop (`why`: the signal). A stop that is not recorded is a crash; the
    /// next start finalises what it left.
    pub async fn record_stop(&self, why: &str) {
        let input = json!({
            "action": "daemon stop",
            "pid": std::process::id(),
            "signal": why,
            "decisions": self.decisions.load(std::sync::atomic::Ordering::Relaxed),
        });
        self.record_or_log(
            "daemon stop",
            input,
            Outcome::Executed,
            &format!("Airlock daemon stopped ({why})"),
        )
        .await;
    }

    /// A request held for a person when the previous daemon ended gets the outcome it had in
    /// effect: `interrupted` (the hook's connection broke, so it failed closed and the action
    /// did not run).
    async fn finalise_interrupted(&self) {
        let unfinished = match self.lock_reader().unfinished_holds() {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "cannot look for holds a previous run left");
                return;
            }
        };
        if unfinished.is_empty() {
            return;
        }
        let ops = unfinished
            .iter()
            .map(|id| {
                Op::Event(NewEvent {
                    receipt_id: id.clone(),
                    time_ms: now_ms(),
                    outcome: Outcome::Interrupted.as_str().to_string(),
                    actor: ACTOR.to_string(),
                    detail: json!({
                        "why": "the daemon ended while this request waited for a person; the hook's connection broke, so it failed closed and the action did not run",
                    }),
                })
            })
            .collect();
        match self.writer.write(ops).await {
            Ok(()) => tracing::warn!(
                count = unfinished.len(),
                "requests a previous daemon left waiting are recorded as interrupted"
            ),
            Err(e) => tracing::error!(error = %e, "cannot record interrupted requests"),
        }
    }

    /// Budget and breaker counters from the requests of the longest window they count over,
    /// so a restart neither resets a budget nor forgets the denials a breaker counts. Returns
    /// how many requests were counted.
    fn restore_counters(&self) -> usize {
        let policy = self.policy.current();
        let window = policy.counter_window().as_millis() as i64;
        if window == 0 {
            return 0;
        }
        let since = now_ms() - window;
        let decisions = match self.lock_reader().recent_decisions(since) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot restore budget and breaker counters");
                return 0;
            }
        };
        for d in &decisions {
            // The same session key the decision path uses.
            let session = if d.session.is_empty() {
                format!("({} without session)", d.agent)
            } else {
                d.session.clone()
            };
            self.controls
                .touch(&session, &d.agent, &d.cwd, None, d.time_ms);
            let permitted = d.outcomes.iter().any(|o| o == "allowed" || o == "approved");
            let refused = d.outcomes.iter().any(|o| {
                matches!(
                    o.as_str(),
                    "denied" | "rejected" | "expired" | "rate_limited"
                )
            });
            if permitted {
                self.controls
                    .record_permitted(policy.budgets(), &session, &d.classes, d.time_ms);
            } else if refused {
                // A breaker this would trip tripped back then, and its containment was kept.
                let _ = self
                    .controls
                    .record_refusal(policy.breakers(), &session, d.time_ms);
            }
        }
        decisions.len()
    }

    /// Load the policy again (`why`: what prompted it) and record the load, or the failure
    /// (the last good policy then stays in force).
    pub async fn reload_policy(&self, why: &str) -> Result<usize, PolicyError> {
        let before = self.policy.current();
        let loaded = match Policy::load(self.policy.dirs()) {
            Ok(policy) => policy,
            Err(err) => {
                let input = json!({
                    "action": "policy load",
                    "why": why,
                    "error": err.to_string(),
                    "policy_sha256": before.bundle_sha256(),
                });
                let reason = format!(
                    "the policy did not load ({why}); the last good policy stays in force: {err}"
                );
                self.record_or_log("policy load", input, Outcome::Failed, &reason)
                    .await;
                return Err(err);
            }
        };
        let policy = Arc::new(loaded);
        let rules = policy.rule_count();
        self.policy.replace(policy.clone());
        let _ = self.events.send(Event::PolicyReloaded { rules });
        let input = json!({
            "action": "policy load",
            "why": why,
            "policy_sha256": policy.bundle_sha256(),
            "previous_sha256": before.bundle_sha256(),
            "rules": rules,
            "policy_files": files_json(&policy),
            "changed": changes(&before, &policy),
        });
        let reason = format!("policy reloaded ({why}): {rules} rules");
        self.record_or_log("policy load", input, Outcome::Executed, &reason)
            .await;
        Ok(rules)
    }

    /// Record a settings change: the file's hash and each changed setting, old and new value.
    pub async fn record_settings_change(&self, before: &Settings, after: &Settings) {
        let changed = changed_settings(before, after);
        if changed.is_empty() {
            return;
        }
        let path = self.home.settings_file();
        let names: Vec<&str> = changed.keys().map(String::as_str).collect();
        let reason = format!("settings changed: {}", names.join(", "));
        let input = json!({
            "action": "settings change",
            "settings_file": path.display().to_string(),
            "settings_sha256": file_sha256(&path),
            "changed": changed,
        });
        self.record_or_log("settings change", input, Outcome::Executed, &reason)
            .await;
    }

    /// A settings file that no longer loads: recorded, the last good settings stay.
    pub async fn record_settings_error(&self, error: &str) {
        let path = self.home.settings_file();
        let input = json!({
            "action": "settings change",
            "settings_file": path.display().to_string(),
            "settings_sha256": file_sha256(&path),
            "error": error,
        });
        let reason = format!("settings changed but do not load; the last good ones stay: {error}");
        self.record_or_log("settings change", input, Outcome::Failed, &reason)
            .await;
    }

    async fn record_or_log(&self, action: &str, input: Value, outcome: Outcome, reason: &str) {
        if let Err(e) = self
            .record_control(action, input, outcome, ACTOR, reason)
            .await
        {
            tracing::error!(error = %e, action, "cannot record the daemon's own action");
        }
    }
}

/// Each policy file with the SHA-256 of its text.
fn files_json(policy: &Policy) -> Value {
    policy
        .file_hashes()
        .map(|(path, hash)| json!({"path": path.display().to_string(), "sha256": hash}))
        .collect()
}

/// Files added, removed and changed from `before` to `after`.
fn changes(before: &Policy, after: &Policy) -> Value {
    let old: BTreeMap<&Path, &str> = before.file_hashes().collect();
    let new: BTreeMap<&Path, &str> = after.file_hashes().collect();
    let names = |paths: Vec<&&Path>| -> Vec<String> {
        paths.into_iter().map(|p| p.display().to_string()).collect()
    };
    json!({
        "added": names(new.keys().filter(|p| !old.contains_key(*p)).collect()),
        "removed": names(old.keys().filter(|p| !new.contains_key(*p)).collect()),
        "modified": names(
            new.iter()
                .filter(|(p, h)| old.get(*p).is_some_and(|o| o != *h))
                .map(|(p, _)| p)
                .collect()
        ),
    })
}

/// Each setting (dotted name) whose value differs, with `from` and `to`.
fn changed_settings(before: &Settings, after: &Settings) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let (Ok(old), Ok(new)) = (
        serde_json::to_value(without_secrets(before)),
        serde_json::to_value(without_secrets(after)),
    ) else {
        return out;
    };
    diff("", &old, &new, &mut out);
    out
}

/// Settings as they may be recorded: a connection string's password never enters the chain.
fn without_secrets(settings: &Settings) -> Settings {
    let mut shown = settings.clone();
    shown.retention.postgres = crate::retention::postgres::redacted(&settings.retention.postgres);
    shown
}

fn diff(prefix: &str, old: &Value, new: &Value, out: &mut BTreeMap<String, Value>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                diff(
                    &name,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if old != new => {
            out.insert(prefix.to_string(), json!({"from": old, "to": new}));
        }
        _ => {}
    }
}

/// SHA-256 (hex) of a file's bytes, `None` when it does not exist or cannot be read.
fn file_sha256(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|bytes| hex::encode(Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_connection_string_is_recorded_without_its_password() {
        let before = Settings::default();
        let mut after = Settings::default();
        after.retention.postgres = "postgres://writer:s3cret@db.example/audit".into();
        let changed = changed_settings(&before, &after);
        let text = serde_json::to_string(&changed).unwrap_or_default();
        assert!(text.contains("writer@db.example"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn changed_settings_name_each_dotted_key_with_both_values() {
        let before = Settings::default();
        let mut after = Settings::default();
        after.approval_timeout_secs += 30;
        after.step_up.resume = !before.step_up.resume;
        let changed = changed_settings(&before, &after);
        assert_eq!(
            changed.keys().collect::<Vec<_>>(),
            ["approval_timeout_secs", "step_up.resume"]
        );
        assert_eq!(
            changed["step_up.resume"],
            json!({"from": before.step_up.resume, "to": after.step_up.resume})
        );
        assert!(changed_settings(&before, &before).is_empty());
    }
}
