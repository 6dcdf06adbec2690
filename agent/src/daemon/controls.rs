//! Runtime controls (AWOSS-RUN-L2-003): emergency stop, session cancel and containment,
//! budgets and circuit breakers.
//!
//! The stop and every canceled or contained session are persisted (`controls.json` in the data
//! directory, written atomically), so a daemon restart stays stopped and keeps sessions
//! contained. Budget and breaker counters live in memory and are rebuilt at start from the
//! receipts of their longest window (`daemon/lifecycle.rs`).

use crate::policy::{Breaker, BreakerTrigger, Budget};
use airlock_protocol::{ActionClass, SessionState, SessionSummary, StopInfo};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// What is written to `controls.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Persisted {
    stop: Option<StopInfo>,
    /// Sessions that are canceled or contained, with why.
    sessions: BTreeMap<String, PersistedSession>,
    /// Mediated coding-agent processes and launchers (pid, start time): who may not approve
    /// survives a daemon restart (an agent that restarts the daemon is still the agent).
    #[serde(default)]
    agents: Vec<(u32, u64)>,
    /// Launchers that have not said they ended: one that disappears without saying so was
    /// killed, and its agent's processes are no longer kept below it.
    #[serde(default)]
    launchers: Vec<(u32, u64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersistedSession {
    state: SessionState,
    reason: String,
}

#[derive(Debug, Clone, Default)]
struct Session {
    agent: String,
    cwd: String,
    first_ms: i64,
    last_ms: i64,
    requests: u64,
    denials: VecDeque<i64>,
    denial_total: u64,
    state: SessionState,
    reason: Option<String>,
    agent_pid: Option<u32>,
    /// When each class was last seen permitted (for sequence breakers).
    seen: HashMap<ActionClass, i64>,
}

/// A mediated coding-agent process: pid plus its start time, so a recycled pid is not confused
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentProcess {
    pub pid: u32,
    pub start_time: u64,
}

#[derive(Default)]
struct State {
    stop: Option<StopInfo>,
    sessions: HashMap<String, Session>,
    /// Permitted-request times per budget key (`budget id` + session or `*`).
    usage: HashMap<String, VecDeque<i64>>,
    agents: BTreeSet<(u32, u64)>,
    launchers: BTreeSet<(u32, u64)>,
}

pub struct Controls {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlsError {
    #[error(
        "cannot read `{path}`: {message}; fix or remove it (it holds the emergency stop and contained sessions)"
    )]
    Read { path: PathBuf, message: String },
    #[error("cannot save `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why a request may not proceed, before policy is even consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Stopped(StopInfo),
    SessionCanceled(String),
    SessionContained(String),
}

impl Controls {
    pub fn load(path: &Path) -> Result<Self, ControlsError> {
        let persisted: Persisted = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| ControlsError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Persisted::default(),
            Err(e) => {
                return Err(ControlsError::Read {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        let mut state = State {
            stop: persisted.stop,
            agents: persisted.agents.into_iter().filter(alive).collect(),
            // Kept even if gone: a launcher that vanished while the daemon was down is
            // reported at start (`dead_launchers`).
            launchers: persisted.launchers.into_iter().collect(),
            ..State::default()
        };
        for (id, s) in persisted.sessions {
            state.sessions.insert(
                id,
                Session {
                    state: s.state,
                    reason: Some(s.reason),
                    ..Session::default()
                },
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, state: &State) -> Result<(), ControlsError> {
        let persisted = Persisted {
            stop: state.stop.clone(),
            sessions: state
                .sessions
                .iter()
                .filter(|(_, s)| s.state != SessionState::Active)
                .map(|(id, s)| {
                    (
                        id.clone(),
                        PersistedSession {
                            state: s.state,
                            reason: s.reason.clone().unwrap_or_default(),
                        },
                    )
                })
                .collect(),
            agents: state.agents.iter().copied().collect(),
            launchers: state.launchers.iter().copied().collect(),
        };
        let text = serde_json::to_string_pretty(&persisted).unwrap_or_default();
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|source| ControlsError::Write {
                path: self.path.clone(),
                source,
            })
    }

    pub fn stop_info(&self) -> Option<StopInfo> {
        self.lock().stop.clone()
    }

    pub fn stop(&self, info: StopInfo) -> Result<(), ControlsError> {
        let mut state = self.lock();
        state.stop = Some(info);
        self.save(&state)
    }

    /// End the stop; returns whether one was in force.
    pub fn resume(&self) -> Result<bool, ControlsError> {
        let mut state = self.lock();
        let was = state.stop.take().is_some();
        self.save(&state)?;
        Ok(was)
    }

    /// Note a request of a session, before it is decided.
    pub fn touch(
        &self,
        session: &str,
        agent: &str,
        cwd: &str,
        agent_pid: Option<AgentProcess>,
        now_ms: i64,
    ) {
        let mut state = self.lock();
        if state.sessions.len() > MAX_SESSIONS + MAX_SESSIONS / 5 {
            forget_idle_sessions(&mut state);
        }
        if let Some(p) = agent_pid
            && state.agents.insert((p.pid, p.start_time))
            && let Err(e) = self.save(&state)
        {
            tracing::error!(error = %e, "cannot persist a mediated agent process");
        }
        let s = state.sessions.entry(session.to_string()).or_default();
        if s.first_ms == 0 {
            s.first_ms = now_ms;
        }
        s.last_ms = now_ms;
        s.requests += 1;
        s.agent = agent.to_string();
        s.cwd = cwd.to_string();
        if let Some(p) = agent_pid {
            s.agent_pid = Some(p.pid);
        }
    }

    /// Whether a request of `session` with `classes` is blocked by a stop or the session's state.
    pub fn block(&self, session: &str, classes: &BTreeSet<ActionClass>) -> Option<Block> {
        let state = self.lock();
        if let Some(stop) = &state.stop {
            return Some(Block::Stopped(stop.clone()));
        }
        let s = state.sessions.get(session)?;
        match s.state {
            SessionState::Active => None,
            SessionState::Canceled => {
                Some(Block::SessionCanceled(s.reason.clone().unwrap_or_default()))
            }
            SessionState::Contained => {
                let only_reads = classes.iter().all(|c| *c == ActionClass::Read);
                (!only_reads).then(|| Block::SessionContained(s.reason.clone().unwrap_or_default()))
            }
        }
    }

    pub fn set_state(
        &self,
        session: &str,
        new: SessionState,
        reason: &str,
    ) -> Result<SessionSummary, ControlsError> {
        let mut state = self.lock();
        let s = state.sessions.entry(session.to_string()).or_default();
        s.state = new;
        s.reason = (new != SessionState::Active).then(|| reason.to_string());
        if new == SessionState::Active {
            s.denials.clear();
        }
        let summary = summary(session, s);
        self.save(&state)?;
        Ok(summary)
    }

    pub fn known_session(&self, session: &str) -> bool {
        self.lock().sessions.contains_key(session)
    }

    pub fn sessions(&self) -> Vec<SessionSummary> {
        let state = self.lock();
        let mut items: Vec<SessionSummary> = state
            .sessions
            .iter()
            .map(|(id, s)| summary(id, s))
            .collect();
        items.sort_by_key(|s| std::cmp::Reverse(s.last_ms));
        items
    }

    /// The first budget a permitted request with `classes` would exceed.
    pub fn over_budget<'b>(
        &self,
        budgets: &'b [Budget],
        session: &str,
        classes: &BTreeSet<ActionClass>,
        now_ms: i64,
    ) -> Option<&'b Budget> {
        let mut state = self.lock();
        budgets.iter().find(|b| {
            if !b.classes.iter().any(|c| classes.contains(c)) {
                return false;
            }
            let times = state.usage.entry(budget_key(b, session)).or_default();
            prune(times, now_ms, b.window);
            times.len() >= b.max as usize
        })
    }

    /// Count a permitted request against its budgets and remember its classes for breakers.
    pub fn record_permitted(
        &self,
        budgets: &[Budget],
        session: &str,
        classes: &BTreeSet<ActionClass>,
        now_ms: i64,
    ) {
        let mut state = self.lock();
        for b in budgets
            .iter()
            .filter(|b| b.classes.iter().any(|c| classes.contains(c)))
        {
            state
                .usage
                .entry(budget_key(b, session))
                .or_default()
                .push_back(now_ms);
        }
        if let Some(s) = state.sessions.get_mut(session) {
            for class in classes {
                s.seen.insert(*class, now_ms);
            }
        }
    }

    /// A breaker this request trips before it runs (a tag, or a sequence).
    pub fn trips_before<'b>(
        &self,
        breakers: &'b [Breaker],
        session: &str,
        classes: &BTreeSet<ActionClass>,
        tags: &BTreeSet<String>,
        now_ms: i64,
    ) -> Option<&'b Breaker> {
        let state = self.lock();
        let seen = state.sessions.get(session).map(|s| &s.seen);
        breakers.iter().find(|b| match &b.trigger {
            BreakerTrigger::Tags(wanted) => wanted.iter().any(|t| tags.contains(t)),
            BreakerTrigger::Sequence {
                first,
                then,
                window,
            } => {
                let window_ms = window.as_millis() as i64;
                then.iter().any(|c| classes.contains(c))
                    && seen.is_some_and(|seen| {
                        first
                            .iter()
                            .any(|c| seen.get(c).is_some_and(|t| now_ms - t <= window_ms))
                    })
            }
            BreakerTrigger::Denials { .. } => false,
        })
    }

    /// Count a refusal (denied, rejected, expired, rate limited); returns a denial breaker it
    /// trips.
    pub fn record_refusal<'b>(
        &self,
        breakers: &'b [Breaker],
        session: &str,
        now_ms: i64,
    ) -> Option<&'b Breaker> {
        let mut state = self.lock();
        let s = state.sessions.get_mut(session)?;
        s.denials.push_back(now_ms);
        s.denial_total += 1;
        if s.state != SessionState::Active {
            return None;
        }
        breakers.iter().find(|b| match &b.trigger {
            BreakerTrigger::Denials { count, window } => {
                prune(&mut s.denials, now_ms, *window);
                s.denials.len() >= *count as usize
            }
            _ => false,
        })
    }

    /// Agent processes of sessions active within `recent`, for `stop --kill`.
    pub fn agent_pids(&self, now_ms: i64, recent: Duration) -> Vec<(String, u32)> {
        let state = self.lock();
        state
            .sessions
            .iter()
            .filter(|(_, s)| now_ms - s.last_ms <= recent.as_millis() as i64)
            .filter_map(|(id, s)| s.agent_pid.map(|p| (id.clone(), p)))
            .collect()
    }

    /// Whether `process` is (by pid and start time) a mediated coding-agent process.
    /// Register a process as a coding agent's (a launcher's): its descendants are the agent's.
    /// A launcher: the root of an agent's process tree until it says it ended.
    pub fn add_launcher(&self, process: AgentProcess) -> Result<(), ControlsError> {
        let mut state = self.lock();
        state.agents.insert((process.pid, process.start_time));
        state.launchers.insert((process.pid, process.start_time));
        self.save(&state)
    }

    /// A launcher said its agent and every process below it have exited.
    pub fn end_launch(&self, process: AgentProcess) -> Result<bool, ControlsError> {
        let mut state = self.lock();
        let was = state.launchers.remove(&(process.pid, process.start_time));
        if was {
            self.save(&state)?;
        }
        Ok(was)
    }

    /// Launchers that are gone without having said they ended (killed); forgotten once told.
    pub fn dead_launchers(&self) -> Vec<AgentProcess> {
        let mut state = self.lock();
        let dead: Vec<(u32, u64)> = state
            .launchers
            .iter()
            .copied()
            .filter(|p| !alive(p))
            .collect();
        if dead.is_empty() {
            return Vec::new();
        }
        for p in &dead {
            state.launchers.remove(p);
        }
        if let Err(e) = self.save(&state) {
            tracing::error!(error = %e, "cannot persist the launchers");
        }
        dead.into_iter()
            .map(|(pid, start_time)| AgentProcess { pid, start_time })
            .collect()
    }

    pub fn is_agent(&self, process: AgentProcess) -> bool {
        self.lock()
            .agents
            .contains(&(process.pid, process.start_time))
    }
}

/// Sessions remembered in memory; beyond this the least recently seen active ones are forgotten
/// (canceled and contained sessions are always kept).
const MAX_SESSIONS: usize = 10_000;

fn forget_idle_sessions(state: &mut State) {
    let mut active: Vec<(i64, String)> = state
        .sessions
        .iter()
        .filter(|(_, s)| s.state == SessionState::Active)
        .map(|(id, s)| (s.last_ms, id.clone()))
        .collect();
    active.sort();
    let excess = state.sessions.len().saturating_sub(MAX_SESSIONS);
    for (_, id) in active.into_iter().take(excess) {
        state.sessions.remove(&id);
    }
    let sessions = &state.sessions;
    state.usage.retain(|key, _| {
        key.split_once('\u{0}')
            .is_none_or(|(_, s)| sessions.contains_key(s))
    });
    // Never forget a live agent: only processes that are gone.
    state.agents.retain(alive);
}

/// Whether the process (pid, start time) still runs: a zombie (killed, not yet reaped by its
/// parent) does not.
fn alive(process: &(u32, u64)) -> bool {
    process_start_time(process.0) == Some(process.1)
}

fn budget_key(budget: &Budget, session: &str) -> String {
    if budget.per_session {
        format!("{}\u{0}{session}", budget.id)
    } else {
        budget.id.clone()
    }
}

fn prune(times: &mut VecDeque<i64>, now_ms: i64, window: Duration) {
    let cutoff = now_ms - window.as_millis() as i64;
    while times.front().is_some_and(|t| *t <= cutoff) {
        times.pop_front();
    }
}

fn summary(id: &str, s: &Session) -> SessionSummary {
    SessionSummary {
        id: id.to_string(),
        agent: s.agent.clone(),
        cwd: s.cwd.clone(),
        first_ms: s.first_ms,
        last_ms: s.last_ms,
        requests: s.requests,
        denials: s.denial_total,
        state: s.state,
        reason: s.reason.clone(),
        agent_pid: s.agent_pid,
    }
}

pub use airlock_client::process::{parent_pid, process_start_time};

/// The mediated agent process `pid` descends from, if any (checked up to the init process).
pub fn agent_ancestor(controls: &Controls, pid: u32) -> Option<AgentProcess> {
    let mut current = pid;
    for _ in 0..128 {
        let parent = parent_pid(current)?;
        if parent <= 1 {
            return None;
        }
        if let Some(start_time) = process_start_time(parent) {
            let candidate = AgentProcess {
                pid: parent,
                start_time,
            };
            if controls.is_agent(candidate) {
                return Some(candidate);
            }
        }
        current = parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::BreakerTrigger;

    fn budget(max: u32) -> Budget {
        Budget {
            id: "b".into(),
            justification: "j".into(),
            classes: vec![ActionClass::ExternalComm],
            max,
            window: Duration::from_secs(60),
            per_session: true,
        }
    }

    #[test]
    fn budgets_count_permitted_requests_per_session_in_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let controls = Controls::load(&dir.path().join("c.json")).unwrap();
        let budgets = vec![budget(2)];
        let comm = BTreeSet::from([ActionClass::ExternalComm]);
        assert!(controls.over_budget(&budgets, "s", &comm, 1_000).is_none());
        controls.record_permitted(&budgets, "s", &comm, 1_000);
        controls.record_permitted(&budgets, "s", &comm, 2_000);
        assert!(controls.over_budget(&budgets, "s", &comm, 3_000).is_some());
        assert!(
            controls
                .over_budget(&budgets, "other", &comm, 3_000)
                .is_none()
        );
        assert!(
            controls.over_budget(&budgets, "s", &comm, 61_500).is_none(),
            "the first fell out of the window"
        );
        let reads = BTreeSet::from([ActionClass::Read]);
        assert!(controls.over_budget(&budgets, "s", &reads, 3_000).is_none());
    }

    #[test]
    fn stop_and_contained_sessions_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let controls = Controls::load(&path).unwrap();
        controls
            .stop(StopInfo {
                since_ms: 5,
                by: "me".into(),
                reason: "r".into(),
            })
            .unwrap();
        controls
            .set_state("s1", SessionState::Contained, "breaker")
            .unwrap();
        let again = Controls::load(&path).unwrap();
        assert_eq!(again.stop_info().map(|s| s.by), Some("me".into()));
        assert!(again.resume().unwrap());
        assert_eq!(
            again.block("s1", &BTreeSet::from([ActionClass::Read])),
            None
        );
        assert_eq!(
            again.block("s1", &BTreeSet::from([ActionClass::FileWrite])),
            Some(Block::SessionContained("breaker".into()))
        );
    }

    #[test]
    fn denial_breaker_trips_at_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let controls = Controls::load(&dir.path().join("c.json")).unwrap();
        controls.touch("s", "claude-code", "/w", None, 0);
        let breakers = vec![Breaker {
            id: "d".into(),
            justification: "j".into(),
            trigger: BreakerTrigger::Denials {
                count: 3,
                window: Duration::from_secs(60),
            },
        }];
        assert!(controls.record_refusal(&breakers, "s", 1).is_none());
        assert!(controls.record_refusal(&breakers, "s", 2).is_none());
        assert_eq!(
            controls
                .record_refusal(&breakers, "s", 3)
                .map(|b| b.id.as_str()),
            Some("d")
        );
    }

    #[test]
    fn reads_the_parent_of_this_process() {
        let me = std::process::id();
        assert!(parent_pid(me).is_some());
        assert!(process_start_time(me).is_some());
    }
}
