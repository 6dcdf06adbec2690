//! Control requests from people: emergency stop and resume, session cancel, contain and
//! release. Each is recorded in the receipt chain like any request, and a control that loosens
//! (approve, resume, release) is refused when it comes from inside a mediated agent.

use super::controls::{self, AgentProcess};
use super::decide::Peer;
use super::state::Daemon;
use crate::store::{NewEvent, NewReceipt, Op, now_ms};
use airlock_protocol::{ErrorCode, Event, Outcome, Response, SessionState, StopInfo};
use serde_json::{Value, json};
use std::time::Duration;

/// Sessions active this recently have their agent processes terminated by `stop --kill`.
const KILL_RECENT: Duration = Duration::from_secs(3600);

impl Daemon {
    /// `airlock run` registers itself as an agent's process: every process below it is the
    /// agent's. Taken from the connection's peer credentials, never from the message.
    pub async fn register_launcher(&self, peer: Peer) -> Response {
        let Some(pid) = peer.pid else {
            return Response::Error {
                code: ErrorCode::Forbidden,
                message: "the launcher's process cannot be identified (no peer credentials)".into(),
            };
        };
        let Some(start_time) = controls::process_start_time(pid) else {
            return internal(format!("process {pid} is gone"));
        };
        if let Err(e) = self.controls.add_launcher(AgentProcess { pid, start_time }) {
            return internal(e);
        }
        let input = json!({"action": "launch", "pid": pid});
        if let Err(e) = self
            .record_control(
                "launch",
                input,
                Outcome::Allowed,
                &format!("client pid {pid}"),
                "a launcher keeps a coding agent's whole process tree below it",
            )
            .await
        {
            tracing::error!(error = %e, "cannot record a launcher");
        }
        Response::Done {
            message: format!("process {pid} is registered as a coding agent's launcher"),
        }
    }

    /// The launcher (the peer) says its agent's whole tree has exited.
    pub async fn end_launch(&self, peer: Peer) -> Response {
        let process = peer.pid.and_then(|pid| {
            controls::process_start_time(pid).map(|start_time| AgentProcess { pid, start_time })
        });
        let Some(process) = process else {
            return Response::Error {
                code: ErrorCode::Forbidden,
                message: "the launcher's process cannot be identified".into(),
            };
        };
        match self.controls.end_launch(process) {
            Ok(true) => {
                let input = json!({"action": "launch ended", "pid": process.pid});
                if let Err(e) = self
                    .record_control(
                        "launch ended",
                        input,
                        Outcome::Executed,
                        &format!("client pid {}", process.pid),
                        "the launcher's agent and every process below it have exited",
                    )
                    .await
                {
                    tracing::error!(error = %e, "cannot record a launcher's end");
                }
                Response::Done {
                    message: "launch ended".into(),
                }
            }
            Ok(false) => Response::Error {
                code: ErrorCode::NotFound,
                message: format!("process {} is not a registered launcher", process.pid),
            },
            Err(e) => internal(e),
        }
    }

    /// Launchers that disappeared without saying they ended were killed: their agents'
    /// processes are no longer kept below them, so approvals from them cannot be told apart.
    /// The emergency stop goes on (recorded, notified). Returns whether one was found.
    pub async fn check_launchers(&self) -> bool {
        let dead = self.controls.dead_launchers();
        let Some(first) = dead.first() else {
            return false;
        };
        let pids: Vec<u32> = dead.iter().map(|p| p.pid).collect();
        let reason = format!(
            "the launcher of a mediated coding agent (pid {}) ended without its agent's processes having exited (it was killed?): they are no longer kept below it, so they could approve their own actions. Check the agent, then `airlock resume`.",
            first.pid
        );
        tracing::error!(?pids, "a launcher was killed");
        let _ = self
            .emergency_stop(Some(reason), false, super::WATCHDOG)
            .await;
        true
    }

    /// Refuse (and record) a loosening control request whose peer is, or descends from, a
    /// mediated coding-agent process: an agent may not approve its own actions.
    pub async fn refuse_if_from_agent(
        &self,
        peer: Peer,
        action: &str,
        target: &str,
    ) -> Option<Response> {
        // A launcher killed just now: its agent's processes are loose. Stop first (the stop
        // cancels what is pending), then judge this request.
        self.check_launchers().await;
        let Some(pid) = peer.pid else {
            // Without the peer's process we cannot tell it is not the agent: fail closed.
            return Some(Response::Error {
                code: ErrorCode::Forbidden,
                message: format!(
                    "refused: `{action}` came from a process Airlock cannot identify (no peer credentials); run it from your own terminal or the Airlock app"
                ),
            });
        };
        let Some(start_time) =
            controls::process_start_time(pid).filter(|now| peer.start_time == Some(*now))
        else {
            // The process that connected is gone (or its pid now names another process): the
            // connection was handed on (a child connects and exits, its parent sends). Whoever
            // sends now cannot be told apart from the agent, so a loosening request fails
            // closed.
            let message = format!(
                "refused: `{action}` came on a connection whose process (pid {pid}) has already exited (its pid may name another process now), so Airlock cannot tell it is not the coding agent; run it from your own terminal or the Airlock app"
            );
            let input =
                json!({"action": action, "target": target, "peer_pid": pid, "peer": "exited"});
            return Some(self.refuse_control(action, input, pid, message).await);
        };
        let own = Some(AgentProcess { pid, start_time }).filter(|p| self.controls.is_agent(*p));
        let agent = own.or_else(|| controls::agent_ancestor(&self.controls, pid))?;
        let message = format!(
            "refused: `{action}` came from process {pid}, which runs inside the mediated coding agent (pid {}); an agent may not approve or loosen its own controls. Run it from your own terminal or the Airlock app.",
            agent.pid
        );
        let input =
            json!({"action": action, "target": target, "peer_pid": pid, "agent_pid": agent.pid});
        tracing::warn!(
            pid,
            agent = agent.pid,
            action,
            "refused a control request from inside an agent"
        );
        Some(self.refuse_control(action, input, pid, message).await)
    }

    /// Record a refused control request from process `pid` and answer `Forbidden`.
    async fn refuse_control(
        &self,
        action: &str,
        input: serde_json::Value,
        pid: u32,
        message: String,
    ) -> Response {
        if let Err(e) = self
            .record_control(
                action,
                input,
                Outcome::Denied,
                &format!("client pid {pid}"),
                &message,
            )
            .await
        {
            tracing::error!(error = %e, "cannot record a refused control request");
        }
        Response::Error {
            code: ErrorCode::Forbidden,
            message,
        }
    }

    pub async fn emergency_stop(
        &self,
        reason: Option<String>,
        kill: bool,
        actor: &str,
    ) -> Response {
        let info = StopInfo {
            since_ms: now_ms(),
            by: actor.to_string(),
            reason: reason.unwrap_or_else(|| "emergency stop".to_string()),
        };
        if let Err(e) = self.controls.stop(info.clone()) {
            return internal(e);
        }
        let pending = self.approvals.lock_pending().len();
        self.cancel_all("Airlock's emergency stop was pressed");
        let mut killed = Vec::new();
        if kill {
            for (session, pid) in self.controls.agent_pids(now_ms(), KILL_RECENT) {
                let Some(raw) = rustix::process::Pid::from_raw(pid as i32) else {
                    continue;
                };
                if rustix::process::kill_process(raw, rustix::process::Signal::TERM).is_err() {
                    continue;
                }
                killed.push(pid);
                let receipt = self
                    .approvals
                    .lock_recent()
                    .by_session
                    .get(&session)
                    .cloned();
                if let Some(receipt_id) = receipt {
                    let event = Op::Event(NewEvent {
                        receipt_id,
                        time_ms: now_ms(),
                        outcome: Outcome::Interrupted.as_str().to_string(),
                        actor: actor.to_string(),
                        detail: json!({"signal": "SIGTERM", "agent_pid": pid, "session": session}),
                    });
                    if let Err(e) = self.writer.write(vec![event]).await {
                        tracing::error!(error = %e, "cannot record an interruption");
                    }
                }
            }
        }
        let message = format!(
            "emergency stop is on: every new agent request is denied until `airlock resume`; {pending} pending request(s) canceled{}",
            if kill {
                format!("; terminated agent processes: {killed:?}")
            } else {
                String::new()
            }
        );
        let input =
            json!({"action": "stop", "reason": info.reason, "kill": kill, "killed": killed});
        if let Err(e) = self
            .record_control("stop", input, Outcome::Executed, actor, &message)
            .await
        {
            return internal(e);
        }
        let _ = self.events.send(Event::EmergencyStop { stop: Some(info) });
        Response::Done { message }
    }

    pub async fn resume(&self, assertion: Option<&Value>, actor: &str) -> Response {
        let proof = if self.stepup.settings().resume {
            match self
                .checked_step_up(&airlock_protocol::StepUpTarget::Resume, assertion, actor)
                .await
            {
                Ok(proof) => Some(proof),
                Err(refused) => return *refused,
            }
        } else {
            None
        };
        let was = match self.controls.resume() {
            Ok(was) => was,
            Err(e) => return internal(e),
        };
        let message = if was {
            "emergency stop is off: requests are decided by policy again".to_string()
        } else {
            "the emergency stop was not on".to_string()
        };
        if let Err(e) = self
            .record_control(
                "resume",
                match proof {
                    Some(proof) => {
                        json!({"action": "resume", "was_stopped": was, "step_up": proof})
                    }
                    None => json!({"action": "resume", "was_stopped": was}),
                },
                Outcome::Executed,
                actor,
                &message,
            )
            .await
        {
            return internal(e);
        }
        let _ = self.events.send(Event::EmergencyStop { stop: None });
        Response::Done { message }
    }

    pub async fn set_session(
        &self,
        id: &str,
        state: SessionState,
        reason: Option<String>,
        actor: &str,
    ) -> Response {
        if !self.controls.known_session(id) {
            return Response::Error {
                code: ErrorCode::NotFound,
                message: format!("no session `{id}`; see `airlock session list`"),
            };
        }
        let (action, why) = match state {
            SessionState::Canceled => (
                "session cancel",
                reason.unwrap_or_else(|| format!("canceled by {actor}")),
            ),
            SessionState::Contained => (
                "session contain",
                reason.unwrap_or_else(|| format!("contained by {actor}")),
            ),
            SessionState::Active => ("session release", format!("released by {actor}")),
        };
        let summary = match self.controls.set_state(id, state, &why) {
            Ok(s) => s,
            Err(e) => return internal(e),
        };
        if state == SessionState::Canceled {
            self.cancel_session(id, "the session was canceled in Airlock");
        }
        let message = match state {
            SessionState::Canceled => {
                format!("session `{id}` canceled: every further request is denied")
            }
            SessionState::Contained => format!(
                "session `{id}` contained: only reading is allowed until `airlock session release {id}`"
            ),
            SessionState::Active => {
                format!("session `{id}` released: requests are decided by policy again")
            }
        };
        let input = json!({"action": action, "session": id, "reason": why});
        if let Err(e) = self
            .record_control(action, input, Outcome::Executed, actor, &message)
            .await
        {
            return internal(e);
        }
        let _ = self.events.send(Event::SessionChanged { session: summary });
        Response::Done { message }
    }

    /// A control action as a receipt in the chain: agent `airlock`, tool `control`.
    pub async fn record_control(
        &self,
        action: &str,
        input: Value,
        outcome: Outcome,
        actor: &str,
        reason: &str,
    ) -> Result<(), crate::store::StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let time_ms = now_ms();
        let decision = if outcome == Outcome::Denied {
            "deny"
        } else {
            "allow"
        };
        let receipt = NewReceipt {
            id: id.clone(),
            time_ms,
            agent: "airlock".into(),
            session: None,
            cwd: String::new(),
            tool: format!("airlock {action}"),
            event: "control".into(),
            tool_use_id: None,
            input,
            classes: json!([]),
            rules: json!([]),
            decision: decision.into(),
            reason: reason.to_string(),
            detail: json!({"actor": actor}),
        };
        let event = NewEvent {
            receipt_id: id,
            time_ms,
            outcome: outcome.as_str().to_string(),
            actor: actor.to_string(),
            detail: json!({}),
        };
        self.writer
            .write(vec![Op::Receipt(Box::new(receipt)), Op::Event(event)])
            .await
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    Response::Error {
        code: ErrorCode::Internal,
        message: e.to_string(),
    }
}
