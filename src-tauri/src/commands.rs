//! What the window can ask for. Each command is one protocol request to the daemon (or, for
//! `verify`, a read-only check of the receipt database); none decides anything itself.

use crate::link;
use airlock_client::settings::{MAX_APPROVAL_TIMEOUT_SECS, Settings};
use airlock_protocol::{
    ActionClass, ApprovalScope, Outcome, PendingApproval, PolicyFileCheck, ReceiptSummary, Request,
    Response, StatusInfo, StepUpTarget,
};
use airlock_store::{ReceiptDetail, Store};
use serde::{Deserialize, Serialize};
use tauri::Emitter;

#[tauri::command]
pub fn status() -> Result<StatusInfo, String> {
    match link::call(Request::Status {})? {
        Response::Status(info) => Ok(info),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

#[tauri::command]
pub fn pending() -> Result<Vec<PendingApproval>, String> {
    match link::call(Request::Pending {})? {
        Response::Pending { items } => Ok(items),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

/// Approve; a step-up request (or a policy loosening that needs one) runs the security-key
/// ceremony on a blocking thread, telling the window to show the "touch your key" dialog.
#[tauri::command]
pub async fn approve(
    app: tauri::AppHandle,
    id: String,
    scope: ApprovalScope,
    step_up: bool,
) -> Result<String, String> {
    tauri::async_runtime::spawn_blocking(move || {
        let mut client = link::connect()?;
        let target = StepUpTarget::Approve {
            id: id.clone(),
            scope,
        };
        let result = airlock_stepup::ceremony::call_with_key(
            &mut client,
            target,
            step_up,
            |assertion| Request::Approve {
                id: id.clone(),
                scope,
                assertion,
            },
            crate::pin::window_ui(app.clone()),
        );
        let _ = app.emit("airlock://touch-key-done", &id);
        link::message_of(result.map_err(|e| format!("{e:#}"))?)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[tauri::command]
pub fn deny(id: String, reason: Option<String>) -> Result<String, String> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    link::done(Request::Deny { id, reason })
}

#[derive(Serialize)]
pub struct RulePreview {
    toml: String,
    file: String,
}

#[tauri::command]
pub fn preview_always(id: String) -> Result<RulePreview, String> {
    match link::call(Request::PreviewAlways { id })? {
        Response::RulePreview { toml, file } => Ok(RulePreview { toml, file }),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

/// The diff a pending file edit would make (None for other tools).
#[tauri::command]
pub fn change_diff(agent: String, tool: String, input: serde_json::Value) -> Option<String> {
    airlock_client::preview::change_diff(&airlock_request::adapters::tool_call(
        &agent, &tool, &input,
    ))
}

#[tauri::command]
pub fn stop(reason: Option<String>) -> Result<String, String> {
    link::done(Request::Stop {
        reason: reason.or_else(|| Some("emergency stop from the Airlock window".into())),
        kill: false,
    })
}

#[tauri::command]
pub async fn resume(app: tauri::AppHandle) -> Result<String, String> {
    tauri::async_runtime::spawn_blocking(move || {
        let mut client = link::connect()?;
        let response = airlock_stepup::ceremony::call_with_key(
            &mut client,
            StepUpTarget::Resume,
            false,
            |assertion| Request::Resume { assertion },
            crate::pin::window_ui(app.clone()),
        )
        .map_err(|e| format!("{e:#}"));
        let _ = app.emit("airlock://touch-key-done", "resume");
        link::message_of(response?)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[tauri::command]
pub fn rollback(id: String) -> Result<String, String> {
    link::done(Request::Rollback {
        id,
        session: false,
        force: false,
    })
}

/// History filters, as the window sends them.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    agent: Option<String>,
    session: Option<String>,
    class: Option<ActionClass>,
    outcome: Option<Outcome>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    text: Option<String>,
    before_seq: Option<i64>,
    limit: Option<usize>,
}

fn open_store() -> Result<Store, String> {
    let path = link::home()?.database();
    if !path.exists() {
        return Err(format!(
            "no receipt database at `{}` yet; it appears when the daemon first runs",
            path.display()
        ));
    }
    Store::open_read_only(&path).map_err(|e| e.to_string())
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// Receipts come from the daemon (in system mode the database is the daemon's, and each user
/// reads only their own).
#[tauri::command]
pub fn history(query: HistoryQuery) -> Result<Vec<ReceiptSummary>, String> {
    let filter = airlock_protocol::HistoryFilter {
        session: non_empty(query.session),
        agent: non_empty(query.agent),
        tool: None,
        outcome: query.outcome,
        class: query.class,
        since_ms: query.since_ms,
        until_ms: query.until_ms,
        text: non_empty(query.text),
        before_seq: query.before_seq,
        limit: Some(query.limit.unwrap_or(50).min(5000) as u32),
    };
    match link::call(airlock_protocol::Request::History { filter })? {
        airlock_protocol::Response::History { items } => Ok(items),
        other => Err(format!("unexpected answer from the daemon: {other:?}")),
    }
}

#[tauri::command]
pub fn receipt(id: String) -> Result<ReceiptDetail, String> {
    match link::call(airlock_protocol::Request::Receipt { id })? {
        airlock_protocol::Response::Receipt { detail } => {
            serde_json::from_value(detail).map_err(|e| e.to_string())
        }
        other => Err(format!("unexpected answer from the daemon: {other:?}")),
    }
}

#[derive(Serialize)]
pub struct Verification {
    ok: bool,
    rows: i64,
    step_ups: usize,
    message: String,
}

#[tauri::command]
pub fn verify() -> Result<Verification, String> {
    let store = open_store()?;
    let chain = store.verify().map_err(|e| e.to_string())?;
    let settings = Settings::load(&link::home()?.settings_file()).map_err(|e| e.to_string())?;
    let (keys, proofs) =
        airlock_stepup::audit::audit(&store, &settings.step_up).map_err(|e| e.to_string())?;
    let message = match (&chain.problem, keys.problems.first(), &proofs.problem) {
        (Some(p), _, _) => format!("row {} ({}): {}", p.seq, p.table, p.message),
        (None, Some(key), _) => key.clone(),
        (None, None, Some(p)) => {
            format!("row {} (receipt {}): {}", p.seq, p.receipt_id, p.message)
        }
        (None, None, None) => format!(
            "{} rows, {} security keys and {} security-key approvals verified",
            chain.rows, keys.verified, proofs.verified
        ),
    };
    Ok(Verification {
        ok: chain.ok() && keys.problems.is_empty() && proofs.problem.is_none(),
        rows: chain.rows,
        step_ups: proofs.verified,
        message,
    })
}

#[derive(Serialize)]
pub struct SettingsView {
    approval_timeout_secs: u64,
    settings_file: String,
    step_up_resume: bool,
    step_up_policy_loosening: bool,
    require_attestation: bool,
    notifications: bool,
    /// The policy files the daemon loads for this user, as it checks them.
    policy: Vec<PolicyFileCheck>,
}

#[tauri::command]
pub fn settings() -> Result<SettingsView, String> {
    let home = link::home()?;
    let path = home.settings_file();
    let settings = Settings::load(&path).map_err(|e| e.to_string())?;
    let policy = match link::call(Request::PolicyCheck {})? {
        Response::PolicyFiles { items } => items,
        other => return Err(format!("unexpected answer from the daemon: {other:?}")),
    };
    Ok(SettingsView {
        approval_timeout_secs: settings.approval_timeout_secs,
        settings_file: path.display().to_string(),
        step_up_resume: settings.step_up.resume,
        step_up_policy_loosening: settings.step_up.policy_loosening,
        require_attestation: settings.step_up.require_attestation,
        notifications: settings.notifications.enabled,
        policy,
    })
}

#[tauri::command]
pub fn save_approval_timeout(secs: u64) -> Result<String, String> {
    let most = MAX_APPROVAL_TIMEOUT_SECS;
    if !(5..=most).contains(&secs) {
        return Err(format!(
            "approval timeout {secs} s is out of range: choose 5 to {most} seconds (below the agent's hook timeout)"
        ));
    }
    let path = link::home()?.settings_file();
    let mut settings = Settings::load(&path).map_err(|e| e.to_string())?;
    settings.approval_timeout_secs = secs;
    settings.save(&path).map_err(|e| e.to_string())?;
    Ok(format!(
        "saved to `{}`; new requests use it within a few seconds",
        path.display()
    ))
}

#[tauri::command]
pub fn save_notifications(enabled: bool) -> Result<String, String> {
    let path = link::home()?.settings_file();
    let mut settings = Settings::load(&path).map_err(|e| e.to_string())?;
    settings.notifications.enabled = enabled;
    settings.save(&path).map_err(|e| e.to_string())?;
    Ok(format!(
        "notifications {}; the daemon follows this within a few seconds",
        if enabled { "on" } else { "off" }
    ))
}
