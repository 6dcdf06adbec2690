//! What the window can ask for. Each command is one protocol request to the daemon (or, for
//! `verify`, a read-only check of the receipt database); none decides anything itself.

use crate::link::{self, Answer};
use airlock_client::settings::{MAX_APPROVAL_TIMEOUT_SECS, Settings};
use airlock_protocol::window::{
    HistoryQuery, RulePreview, SettingsView, Verification, WindowError, WindowErrorCode, events,
};
use airlock_protocol::{
    ApprovalScope, PendingApproval, ReceiptDetail, ReceiptSummary, Request, Response, StatusInfo,
    StepUpTarget,
};
use airlock_store::Store;
use tauri::Emitter;

#[tauri::command]
pub fn status() -> Answer<StatusInfo> {
    match link::call(Request::Status {})? {
        Response::Status(info) => Ok(info),
        other => Err(link::unexpected(&other)),
    }
}

#[tauri::command]
pub fn pending() -> Answer<Vec<PendingApproval>> {
    match link::call(Request::Pending {})? {
        Response::Pending { items } => Ok(items),
        other => Err(link::unexpected(&other)),
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
) -> Answer<String> {
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
        let _ = app.emit(events::TOUCH_KEY_DONE, &id);
        link::message_of(result.map_err(key_error)?)
    })
    .await
    .map_err(|e| WindowError::new(WindowErrorCode::Internal, e.to_string()))?
}

#[tauri::command]
pub fn deny(id: String, reason: Option<String>) -> Answer<String> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    link::done(Request::Deny { id, reason })
}

#[tauri::command]
pub fn preview_always(id: String) -> Answer<RulePreview> {
    match link::call(Request::PreviewAlways { id })? {
        Response::RulePreview { toml, file } => Ok(RulePreview { toml, file }),
        other => Err(link::unexpected(&other)),
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
pub fn stop(reason: Option<String>) -> Answer<String> {
    link::done(Request::Stop {
        reason: reason.or_else(|| Some("emergency stop from the Airlock window".into())),
        kill: false,
    })
}

#[tauri::command]
pub async fn resume(app: tauri::AppHandle) -> Answer<String> {
    tauri::async_runtime::spawn_blocking(move || {
        let mut client = link::connect()?;
        let response = airlock_stepup::ceremony::call_with_key(
            &mut client,
            StepUpTarget::Resume,
            false,
            |assertion| Request::Resume { assertion },
            crate::pin::window_ui(app.clone()),
        )
        .map_err(key_error);
        let _ = app.emit(events::TOUCH_KEY_DONE, "resume");
        link::message_of(response?)
    })
    .await
    .map_err(|e| WindowError::new(WindowErrorCode::Internal, e.to_string()))?
}

#[tauri::command]
pub fn rollback(id: String) -> Answer<String> {
    link::done(Request::Rollback {
        id,
        session: false,
        force: false,
    })
}

fn open_store() -> Answer<Store> {
    let path = link::home()?.database();
    if !path.exists() {
        return Err(WindowError::new(
            WindowErrorCode::Receipts,
            format!(
                "no receipt database at `{}` yet; it appears when the daemon first runs",
                path.display()
            ),
        ));
    }
    Store::open_read_only(&path).map_err(receipts_error)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// Receipts come from the daemon (in system mode the database is the daemon's, and each user
/// reads only their own).
#[tauri::command]
pub fn history(query: HistoryQuery) -> Answer<Vec<ReceiptSummary>> {
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
        limit: Some(query.limit.unwrap_or(50).min(5000)),
    };
    match link::call(airlock_protocol::Request::History { filter })? {
        airlock_protocol::Response::History { items } => Ok(items),
        other => Err(link::unexpected(&other)),
    }
}

#[tauri::command]
pub fn receipt(id: String) -> Answer<ReceiptDetail> {
    match link::call(airlock_protocol::Request::Receipt { id })? {
        airlock_protocol::Response::Receipt { detail } => Ok(*detail),
        other => Err(link::unexpected(&other)),
    }
}

#[tauri::command]
pub fn verify() -> Answer<Verification> {
    let store = open_store()?;
    let chain = store.verify().map_err(receipts_error)?;
    let settings = Settings::load(&link::home()?.settings_file()).map_err(settings_error)?;
    let (keys, proofs) =
        airlock_stepup::audit::audit(&store, &settings.step_up).map_err(receipts_error)?;
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
        step_ups: u32::try_from(proofs.verified).unwrap_or(u32::MAX),
        message,
    })
}

#[tauri::command]
pub fn settings() -> Answer<SettingsView> {
    let home = link::home()?;
    let path = home.settings_file();
    let settings = Settings::load(&path).map_err(settings_error)?;
    let policy = match link::call(Request::PolicyCheck {})? {
        Response::PolicyFiles { items } => items,
        other => return Err(link::unexpected(&other)),
    };
    Ok(SettingsView {
        approval_timeout_secs: settings.approval_timeout_secs,
        approval_timeout_max_secs: MAX_APPROVAL_TIMEOUT_SECS,
        settings_file: path.display().to_string(),
        step_up_resume: settings.step_up.resume,
        step_up_policy_loosening: settings.step_up.policy_loosening,
        require_attestation: settings.step_up.require_attestation,
        notifications: settings.notifications.enabled,
        policy,
    })
}

#[tauri::command]
pub fn save_approval_timeout(secs: u64) -> Answer<String> {
    let most = MAX_APPROVAL_TIMEOUT_SECS;
    if !(5..=most).contains(&secs) {
        return Err(WindowError::new(
            WindowErrorCode::Settings,
            format!(
                "approval timeout {secs} s is out of range: choose 5 to {most} seconds (below the agent's hook timeout)"
            ),
        ));
    }
    let path = link::home()?.settings_file();
    let mut settings = Settings::load(&path).map_err(settings_error)?;
    settings.approval_timeout_secs = secs;
    settings.save(&path).map_err(settings_error)?;
    Ok(format!(
        "saved to `{}`; new requests use it within a few seconds",
        path.display()
    ))
}

#[tauri::command]
pub fn save_notifications(enabled: bool) -> Answer<String> {
    let path = link::home()?.settings_file();
    let mut settings = Settings::load(&path).map_err(settings_error)?;
    settings.notifications.enabled = enabled;
    settings.save(&path).map_err(settings_error)?;
    Ok(format!(
        "notifications {}; the daemon follows this within a few seconds",
        if enabled { "on" } else { "off" }
    ))
}

/// A failed security-key ceremony (the chain of causes, for the person).
fn key_error(error: impl std::fmt::Display) -> WindowError {
    WindowError::new(WindowErrorCode::SecurityKey, format!("{error:#}"))
}

fn settings_error(error: impl std::fmt::Display) -> WindowError {
    WindowError::new(WindowErrorCode::Settings, error.to_string())
}

fn receipts_error(error: impl std::fmt::Display) -> WindowError {
    WindowError::new(WindowErrorCode::Receipts, error.to_string())
}
