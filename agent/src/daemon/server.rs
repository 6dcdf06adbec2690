//! Serving the protocol over a local socket.
//!
//! The socket is a filesystem path created with mode 0600 inside a 0700 directory (never an
//! abstract socket, which any user could reach), and every connection's peer uid is checked
//! against the daemon's own.

use super::decide::Peer;
use super::state::Daemon;
use super::who::Who;
use airlock_protocol::{
    Envelope, ErrorCode, PROTOCOL_VERSION, Request, Response, SessionState, StatusInfo,
};
use anyhow::Context;
use interprocess::local_socket::tokio::{Listener, Stream, prelude::*};
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Largest request line accepted (file writes carry their content).
const MAX_LINE: u64 = 32 * 1024 * 1024;

pub async fn serve(daemon: Arc<Daemon>) -> anyhow::Result<()> {
    let socket = daemon.home.socket();
    // System mode: every user connects (each is judged in their own view, `access.rs`), in a
    // directory only the daemon's account can write; user mode: its one user only.
    let mode = if daemon.users.is_some() { 0o666 } else { 0o600 };
    let (listener, activated) = match socket_from_systemd(&socket, mode)? {
        Some(listener) => (listener, true),
        None => (bind(&socket, mode)?, false),
    };
    let policy = daemon.policy.current();
    tracing::info!(
        socket = %socket.display(),
        rules = policy.rule_count(),
        files = policy.files().len(),
        "airlock daemon ready"
    );
    eprintln!(
        "airlock daemon: listening on {}{} with {} rules from {} policy files; {}; checkpoint key in {}",
        socket.display(),
        if activated {
            " (opened by systemd)"
        } else {
            ""
        },
        policy.rule_count(),
        policy.files().len(),
        daemon.mode(),
        daemon.tree_heads.key_location()
    );
    tokio::spawn(watch_policy(daemon.clone()));
    tokio::spawn(watch_socket(daemon.clone()));
    tokio::spawn(watch_launchers(daemon.clone()));

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let signal = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    let daemon = daemon.clone();
                    tokio::spawn(async move { connection(daemon, stream).await });
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            _ = hangup.recv() => {
                // Like the file watcher: serialised with "always" amendments, and off the
                // accept loop.
                let daemon = daemon.clone();
                tokio::spawn(async move {
                    let _guard = daemon.policy.lock_changes().await;
                    reload(&daemon, "SIGHUP").await;
                });
            }
            _ = tokio::signal::ctrl_c() => break "SIGINT",
            _ = terminate.recv() => break "SIGTERM",
        }
    };
    daemon.cancel_all("the Airlock daemon is shutting down");
    // Give held hooks a moment to record `canceled` and answer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    daemon.record_stop(signal).await;
    // The last checkpoint covers the stop itself.
    match daemon.tree_heads.sign_now() {
        Ok(Some(size)) => tracing::info!(size, "signed the receipt log's checkpoint"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot sign the last checkpoint"),
    }
    daemon.flush_retention().await;
    // A socket systemd opened is systemd's to remove (it keeps listening for the next start).
    if !activated {
        let _ = std::fs::remove_file(&socket);
    }
    eprintln!("airlock daemon: stopped");
    Ok(())
}

/// Bind the socket ourselves, with exactly `mode`.
fn bind(socket: &std::path::Path, mode: u32) -> anyhow::Result<Listener> {
    let name = socket
        .to_fs_name::<GenericFilePath>()
        .with_context(|| format!("invalid socket path `{}`", socket.display()))?;
    let listener = ListenerOptions::new()
        .name(name)
        .mode(mode)
        .try_overwrite(true)
        .create_tokio()
        .with_context(|| format!("cannot listen on `{}`", socket.display()))?;
    // The mode above is filtered by the process's umask; say it once more, exactly.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of `{}`", socket.display()))?;
    Ok(listener)
}

/// The listening socket systemd opened for us (`airlock.socket`, passed as `LISTEN_FDS`), if
/// any. It must be a Unix stream listener bound to our very path with our mode: anything else is
/// a unit that does not match this daemon, refused rather than served.
fn socket_from_systemd(socket: &std::path::Path, mode: u32) -> anyhow::Result<Option<Listener>> {
    use std::os::unix::fs::PermissionsExt;
    let mut passed = listenfd::ListenFd::from_env();
    if passed.len() == 0 {
        return Ok(None);
    }
    let Some(std_listener) = passed
        .take_unix_listener(0)
        .context("the socket systemd passed is not a Unix stream listener; check airlock.socket")?
    else {
        return Ok(None);
    };
    let bound = std_listener.local_addr()?;
    if bound.as_pathname() != Some(socket) {
        anyhow::bail!(
            "systemd passed a socket bound to {bound:?}, not `{}`: airlock.socket's ListenStream must name it",
            socket.display()
        );
    }
    let actual = std::fs::metadata(socket)
        .with_context(|| format!("cannot look at `{}`", socket.display()))?
        .permissions()
        .mode()
        & 0o777;
    if actual != mode {
        // Made with another mode (a unit without SocketMode, `systemd-socket-activate` under a
        // umask): the daemon's own socket in its own directory is set right, or refused.
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(mode)).with_context(
            || {
                format!(
                    "the socket systemd made, `{}`, has mode {actual:o}, not {mode:o}, and cannot be changed: set SocketMode in airlock.socket",
                    socket.display()
                )
            },
        )?;
        tracing::info!(was = format!("{actual:o}"), "set the passed socket's mode");
    }
    let fd = std::os::fd::OwnedFd::from(std_listener);
    let listener = interprocess::os::unix::uds_local_socket::tokio::Listener::try_from(fd)
        .context("cannot serve the socket systemd passed")?;
    tracing::info!(socket = %socket.display(), "serving the socket systemd opened");
    Ok(Some(listener.into()))
}

async fn reload(daemon: &Daemon, why: &str) {
    match daemon.reload_policy(why).await {
        Ok(rules) => {
            tracing::info!(rules, why, "policy reloaded");
            eprintln!("airlock daemon: policy reloaded ({why}): {rules} rules");
        }
        Err(err) => {
            tracing::error!(error = %err, "policy reload failed; keeping the last good policy");
            eprintln!(
                "airlock daemon: POLICY NOT RELOADED ({why}), keeping the last good policy: {err}"
            );
        }
    }
}

/// Reload when a policy file changes on disk; a broken edit keeps the last good policy.
async fn watch_policy(daemon: Arc<Daemon>) {
    let mut last = fingerprint(&daemon);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = fingerprint(&daemon);
        if now != last {
            let _guard = daemon.policy.lock_changes().await;
            reload(&daemon, "policy files changed").await;
            // What was seen before the load, not after: an edit made while it ran is then
            // still a change on the next look instead of being taken as already loaded.
            last = now;
        }
    }
}

fn fingerprint(daemon: &Daemon) -> Vec<(std::path::PathBuf, Option<SystemTime>, u64)> {
    let mut out = Vec::new();
    for dir in daemon.policy.dirs() {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let meta = entry.metadata().ok();
                    out.push((
                        path,
                        meta.as_ref().and_then(|m| m.modified().ok()),
                        meta.map_or(0, |m| m.len()),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// A launcher killed while the daemon runs (or while it was down) turns the emergency stop on
/// within [`IDENTITY_EVERY`] (`Daemon::check_launchers`).
async fn watch_launchers(daemon: Arc<Daemon>) {
    let mut tick = tokio::time::interval(IDENTITY_EVERY);
    loop {
        tick.tick().await;
        daemon.check_launchers().await;
    }
}

/// How often the socket and the lock file are looked at (a `stat` each).
const IDENTITY_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// If the socket or the lock file is replaced while the daemon runs, another process may be
/// answering hooks in its name: the emergency stop goes on (persisted, recorded, notified), so
/// every request this daemon still sees is denied and a person looks.
async fn watch_socket(daemon: Arc<Daemon>) {
    let socket = daemon.home.socket();
    let lock = daemon.home.lock_file();
    let (Some(socket_id), Some(lock_id)) = (
        crate::identity::identity(&socket),
        crate::identity::identity(&lock),
    ) else {
        tracing::warn!("cannot watch the socket and lock file for replacement");
        return;
    };
    let mut tick = tokio::time::interval(IDENTITY_EVERY);
    loop {
        tick.tick().await;
        let replaced = if crate::identity::identity(&socket) != Some(socket_id) {
            Some(format!(
                "Airlock's socket `{}` was removed or replaced",
                socket.display()
            ))
        } else if crate::identity::identity(&lock) != Some(lock_id) {
            Some(format!(
                "Airlock's lock file `{}` was removed or replaced",
                lock.display()
            ))
        } else {
            None
        };
        if let Some(what) = replaced {
            let reason = format!(
                "{what} while the daemon ran: another process may be answering hooks in Airlock's name. Restart the daemon, then `airlock resume`."
            );
            tracing::error!(%reason, "possible impostor");
            eprintln!("airlock daemon: {reason}");
            daemon
                .emergency_stop(Some(reason), false, super::WATCHDOG)
                .await;
            return;
        }
    }
}

async fn connection(daemon: Arc<Daemon>, stream: Stream) {
    let peer = match stream.peer_creds() {
        Ok(creds) => {
            if daemon.users.is_none() && creds.euid() != Some(daemon.uid) {
                tracing::warn!(euid = ?creds.euid(), "refused a connection from another user");
                return;
            }
            let pid = creds.pid().and_then(|p| u32::try_from(p).ok());
            Peer {
                pid,
                uid: creds.euid(),
                gid: creds.egid(),
                start_time: pid.and_then(super::controls::process_start_time),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read peer credentials; refusing the connection");
            return;
        }
    };
    // `&Stream` reads and writes; the reader and writer share it.
    let mut send = &stream;
    let mut reader = BufReader::new(&stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) => return,
            Ok(n) if n as u64 > MAX_LINE => {
                let _ = reply(
                    &mut send,
                    0,
                    &error(ErrorCode::BadRequest, "request line too long"),
                )
                .await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "connection read failed");
                return;
            }
        }
        let envelope: Envelope<Request> = match serde_json::from_slice(&line) {
            Ok(env) => env,
            Err(e) => {
                let version = serde_json::from_slice::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("v").and_then(serde_json::Value::as_u64));
                let (code, message) = match version {
                    Some(v) if v != u64::from(PROTOCOL_VERSION) => (
                        ErrorCode::ProtocolVersion,
                        format!(
                            "this daemon speaks protocol {PROTOCOL_VERSION}, the client sent {v}; use matching Airlock versions"
                        ),
                    ),
                    _ => (ErrorCode::BadRequest, format!("not a valid request: {e}")),
                };
                if reply(&mut send, 0, &error(code, &message)).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if envelope.v != PROTOCOL_VERSION {
            let message = format!(
                "this daemon speaks protocol {PROTOCOL_VERSION}, the client sent {}; use matching Airlock versions",
                envelope.v
            );
            if reply(
                &mut send,
                envelope.id,
                &error(ErrorCode::ProtocolVersion, &message),
            )
            .await
            .is_err()
            {
                return;
            }
            continue;
        }
        let id = envelope.id;
        // Read from /proc only for requests a person makes, not on the hook's path.
        let surface = envelope.surface;
        let who = || Who::client(peer, surface);
        if let Some(refused) = super::access::refuse(&daemon, &peer, &envelope.body) {
            if reply(&mut send, id, &refused).await.is_err() {
                return;
            }
            continue;
        }
        let response = match envelope.body {
            Request::Hook {
                agent,
                payload,
                agent_pid,
            } => {
                let closed = peer_closed(&mut reader);
                daemon
                    .handle_hook(&agent, payload, agent_pid, peer, closed)
                    .await
            }
            Request::Pending {} => Response::Pending {
                items: daemon
                    .pending_list()
                    .into_iter()
                    .filter(|item| daemon.may_act_on(&peer, item.session.as_deref()))
                    .collect(),
            },
            Request::Approve {
                id: target,
                scope,
                assertion,
            } => match daemon.refuse_if_from_agent(peer, "approve", &target).await {
                Some(refused) => refused,
                None => {
                    daemon
                        .approve(&target, scope, assertion.as_ref(), &who())
                        .await
                }
            },
            Request::Deny { id: target, reason } => daemon.deny(&target, reason, &who()),
            Request::Status {} => Response::Status(status(&daemon)),
            Request::Stop { reason, kill } => {
                daemon.emergency_stop(reason, kill, &who().label()).await
            }
            Request::Resume { assertion } => {
                match daemon.refuse_if_from_agent(peer, "resume", "").await {
                    Some(refused) => refused,
                    None => daemon.resume(assertion.as_ref(), &who().label()).await,
                }
            }
            // An agent may not open ceremonies either: it could replace the user's open
            // challenge, or prompt for a touch in a window of its own.
            Request::StepUpBegin { target } => {
                match daemon.refuse_if_from_agent(peer, "step-up", "").await {
                    Some(refused) => refused,
                    None => daemon.step_up_begin(target),
                }
            }
            Request::KeyList {} => daemon.key_list(),
            Request::PolicyCheck {} => daemon.policy_check(&peer).await,
            Request::PreviewAlways { id: target } => daemon.preview_always(&target).await,
            Request::KeyRegisterBegin { name, assertion } => {
                match daemon.refuse_if_from_agent(peer, "key add", &name).await {
                    Some(refused) => refused,
                    None => {
                        daemon
                            .key_register_begin(&name, assertion.as_ref(), &who().label())
                            .await
                    }
                }
            }
            Request::KeyRegisterFinish { name, credential } => {
                match daemon.refuse_if_from_agent(peer, "key add", &name).await {
                    Some(refused) => refused,
                    None => {
                        daemon
                            .key_register_finish(&name, &credential, &who().label())
                            .await
                    }
                }
            }
            Request::KeyRemove {
                id: target,
                assertion,
            } => {
                match daemon
                    .refuse_if_from_agent(peer, "key remove", &target)
                    .await
                {
                    Some(refused) => refused,
                    None => {
                        daemon
                            .key_remove(&target, assertion.as_ref(), &who().label())
                            .await
                    }
                }
            }
            Request::Sessions {} => Response::Sessions {
                items: daemon
                    .controls
                    .sessions()
                    .into_iter()
                    .filter(|s| daemon.may_act_on(&peer, Some(&s.id)))
                    .collect(),
            },
            Request::SessionCancel { id: target, reason } => {
                daemon
                    .set_session(&target, SessionState::Canceled, reason, &who().label())
                    .await
            }
            Request::SessionContain { id: target, reason } => {
                daemon
                    .set_session(&target, SessionState::Contained, reason, &who().label())
                    .await
            }
            Request::SessionRelease { id: target } => {
                match daemon
                    .refuse_if_from_agent(peer, "session release", &target)
                    .await
                {
                    Some(refused) => refused,
                    None => {
                        daemon
                            .set_session(&target, SessionState::Active, None, &who().label())
                            .await
                    }
                }
            }
            Request::Launch {} => daemon.register_launcher(peer).await,
            Request::LaunchEnded {} => daemon.end_launch(peer).await,
            Request::Rollback {
                id: target,
                session,
                force,
            } => {
                // A rollback writes files as the person chose them: not the agent's to ask for.
                match daemon.refuse_if_from_agent(peer, "rollback", &target).await {
                    Some(refused) => refused,
                    None => {
                        daemon
                            .rollback(&target, session, force, &who().label())
                            .await
                    }
                }
            }
            Request::History { filter } => daemon.history(&peer, filter),
            Request::Receipt { id: target } => daemon.receipt_detail(&peer, &target),
            Request::Subscribe {} => {
                subscribe(&daemon, &peer, id, &mut send).await;
                return;
            }
        };
        if reply(&mut send, id, &response).await.is_err() {
            return;
        }
    }
}

/// Resolves when the client closes its end while we hold its request.
async fn peer_closed(reader: &mut BufReader<&Stream>) {
    match reader.fill_buf().await {
        Ok([]) | Err(_) => {}
        // The client sent more while waiting: it is still there; wait forever.
        Ok(_) => std::future::pending::<()>().await,
    }
}

async fn subscribe(daemon: &Daemon, peer: &Peer, id: u64, send: &mut &Stream) {
    let mut events = daemon.events.subscribe();
    let ready = Response::Done {
        message: "subscribed".into(),
    };
    if reply(send, id, &ready).await.is_err() {
        return;
    }
    loop {
        match events.recv().await {
            Ok(event) => {
                if !super::access::may_see(daemon, peer, &event) {
                    continue;
                }
                if reply(send, id, &Response::Event(event)).await.is_err() {
                    return;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "a subscriber fell behind");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn status(daemon: &Daemon) -> StatusInfo {
    let policy = daemon.policy.current();
    StatusInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        started_ms: daemon.started_ms,
        policy_rules: policy.rule_count(),
        policy_files: policy
            .files()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        pending: daemon.approvals.lock_pending().len(),
        decisions: daemon.decisions.load(std::sync::atomic::Ordering::Relaxed),
        database: daemon.home.database().display().to_string(),
        socket: daemon.home.socket().display().to_string(),
        stopped: daemon.controls.stop_info(),
        receipt_log: daemon.writer.wal_report(),
        checkpoint_key: daemon.tree_heads.key_location(),
        checkpoints: daemon.tree_heads.state(),
        retention: daemon
            .shipper
            .status(daemon.lock_reader().newest_seq().unwrap_or(0)),
        mode: daemon.mode().to_string(),
    }
}

fn error(code: ErrorCode, message: &str) -> Response {
    Response::Error {
        code,
        message: message.to_string(),
    }
}

async fn reply(send: &mut &Stream, id: u64, response: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&Envelope::new(id, response))?;
    line.push(b'\n');
    send.write_all(&line).await?;
    send.flush().await
}
