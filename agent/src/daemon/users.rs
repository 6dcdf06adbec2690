//! System mode: one daemon serves every user of the machine, each with a view of their own —
//! a classifier that knows their home and Airlock's protected places, and a policy of the
//! machine's directories, the "always" approvals the daemon keeps for them in its own state, and
//! their own policy directory, which may only tighten (`Policy::load_for`).
//!
//! Every request's session is named `USER/SESSION`, so grants, session controls and pending
//! requests of one user are never another's, and ownership is read off the name. A user's policy
//! is re-read when its files change (looked at every [`RECHECK`]); one that would loosen is
//! refused whole, the machine's policy applies alone, and that is chained.

use crate::classify::{Classifier, Env};
use crate::policy::{Policy, PolicyError};
use crate::system::OsUser;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How often a user's policy directory is looked at for changes.
const RECHECK: Duration = Duration::from_secs(2);

/// The session name a request of `user` is kept under.
pub fn session_of(user: &str, session: Option<&str>) -> String {
    format!("{user}/{}", session.unwrap_or_default())
}

/// The user a session name belongs to (system mode).
pub fn owner_of(session: &str) -> Option<&str> {
    session.split_once('/').map(|(user, _)| user)
}

/// One user's view.
pub struct UserView {
    pub user: OsUser,
    pub classifier: Classifier,
    policy: Mutex<PolicyState>,
}

struct PolicyState {
    policy: Arc<Policy>,
    /// The machine policy (its bundle hash) and the user's files it was built from.
    built_from: (String, Fingerprint),
    checked: Instant,
    /// Why the user's own policy is not in force, if it is not.
    refused: Option<String>,
}

type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

pub struct Users {
    /// Shipped policy, then the machine's.
    machine_dirs: Vec<PathBuf>,
    /// The daemon's state, where each user's "always" approvals are kept.
    data_dir: PathBuf,
    /// Airlock's own places (the daemon's, the machine's).
    protected: Vec<PathBuf>,
    views: Mutex<HashMap<u32, Arc<UserView>>>,
    names: Mutex<HashMap<String, u32>>,
}

/// A policy refusal found while building a view, for the caller to chain.
pub struct Refusal {
    pub user: String,
    pub error: String,
}

impl Users {
    pub fn new(machine_dirs: Vec<PathBuf>, data_dir: PathBuf, protected: Vec<PathBuf>) -> Self {
        Self {
            machine_dirs,
            data_dir,
            protected,
            views: Mutex::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// Where the daemon keeps `uid`'s "always" approvals (never a file the user can edit).
    pub fn always_dir(&self, uid: u32) -> PathBuf {
        self.data_dir.join("always").join(uid.to_string())
    }

    /// The view of `uid`, built the first time. `Err` when the uid is no user of this machine.
    pub fn view(&self, uid: u32) -> Result<Arc<UserView>, String> {
        if let Some(view) = self.lock_views().get(&uid) {
            return Ok(view.clone());
        }
        let user = OsUser::by_uid(uid)
            .ok_or_else(|| format!("uid {uid} is not a user of this machine (no passwd entry)"))?;
        let mut protected = self.protected.clone();
        protected.push(user.home.join(".config/airlock"));
        protected.push(user.home.join(".local/share/airlock"));

        let reader = crate::user_fs::Reader::for_user(&user, &self.protected);
        let classifier = Classifier::new(Env {
            home: user.home.clone(),
            protected,
        })
        .map_err(|e| e.to_string())?
        .reading_for(reader);
        let machine = Policy::load(&self.machine_dirs).map_err(|e| e.to_string())?;
        let view = Arc::new(UserView {
            user: user.clone(),
            classifier,
            policy: Mutex::new(PolicyState {
                policy: Arc::new(machine),
                built_from: (String::new(), Vec::new()),
                checked: Instant::now() - RECHECK,
                refused: None,
            }),
        });
        self.lock_names().insert(user.name.clone(), uid);
        self.lock_views().insert(uid, view.clone());
        Ok(view)
    }

    /// The view of the user a session belongs to.
    pub fn view_of_session(&self, session: &str) -> Result<Arc<UserView>, String> {
        let name = owner_of(session).ok_or_else(|| format!("session `{session}` names no user"))?;
        let uid = self.lock_names().get(name).copied();
        let uid = match uid {
            Some(uid) => uid,
            None => {
                OsUser::by_name(name)
                    .ok_or_else(|| format!("no user `{name}` on this machine"))?
                    .uid
            }
        };
        self.view(uid)
    }

    /// The policy in force for `view`: the machine's, the user's approvals and what their own
    /// directory adds, if it only tightens. A refusal found now is returned once, for the
    /// caller to chain.
    pub fn policy(&self, view: &UserView, machine: &Arc<Policy>) -> (Arc<Policy>, Option<Refusal>) {
        let machine_generation = machine.bundle_sha256().to_string();
        let mut state = view.policy.lock().unwrap_or_else(|p| p.into_inner());
        if state.checked.elapsed() < RECHECK && state.built_from.0 == machine_generation {
            return (state.policy.clone(), None);
        }
        state.checked = Instant::now();
        let always = self.always_dir(view.user.uid);
        let own = view.user.policy_dir();
        let reader = view.classifier.reader();
        // The user's own directory is read as they may read it: a link in it to a file they
        // cannot read is not read (nor quoted in a parse error) for them.
        let fingerprint = crate::user_fs::as_user(reader.clone(), || {
            let mut files = files_of(&always, Read::AsDaemon);
            files.extend(files_of(&own, Read::ForUser));
            files.sort();
            files
        });
        if state.built_from.0 == machine_generation && state.built_from.1 == fingerprint {
            return (state.policy.clone(), None);
        }
        let mut dirs = self.machine_dirs.clone();
        dirs.push(always);
        dirs.push(own);
        let tighten_from = dirs.len() - 1;
        let loaded = crate::user_fs::as_user(reader, || {
            Policy::load_for(&dirs, &view.user.home, Some(tighten_from))
        });
        let (policy, refused) = match loaded {
            Ok(policy) => (Arc::new(policy), None),
            Err(e) => (machine.clone(), Some(describe(&e))),
        };
        let news = refused
            .as_ref()
            .filter(|now| state.refused.as_ref() != Some(*now))
            .map(|error| Refusal {
                user: view.user.name.clone(),
                error: error.clone(),
            });
        state.policy = policy;
        state.refused = refused;
        state.built_from = (machine_generation, fingerprint);
        (state.policy.clone(), news)
    }

    /// Why the user's own policy directory is not in force, as of the last [`Users::policy`]
    /// (`None`: it is).
    pub fn refusal(&self, view: &UserView) -> Option<String> {
        let state = view.policy.lock().unwrap_or_else(|p| p.into_inner());
        state.refused.clone()
    }

    /// Read the user's policy again at the next request (an approval was just added).
    pub fn invalidate(&self, view: &UserView) {
        let mut state = view.policy.lock().unwrap_or_else(|p| p.into_inner());
        state.checked = Instant::now() - RECHECK;
        state.built_from.1.clear();
    }

    fn lock_views(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<UserView>>> {
        self.views.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_names(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn describe(error: &PolicyError) -> String {
    format!("{error}; the machine's policy applies alone until it is fixed")
}

/// Whose rights a directory is read with.
#[derive(Clone, Copy)]
enum Read {
    /// The daemon's own state.
    AsDaemon,
    /// A user's directory (`user_fs`).
    ForUser,
}

/// Every policy file in `dir` with its time and size (a missing directory is no files).
fn files_of(dir: &Path, read: Read) -> Fingerprint {
    let names: Vec<PathBuf> = match read {
        Read::AsDaemon => match std::fs::read_dir(dir) {
            Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
            Err(_) => return Vec::new(),
        },
        Read::ForUser => match crate::user_fs::read_dir(dir) {
            Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
            Err(_) => return Vec::new(),
        },
    };
    names
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|path| {
            let meta = match read {
                Read::AsDaemon => std::fs::metadata(&path).ok(),
                Read::ForUser => crate::user_fs::metadata(&path).ok(),
            };
            (
                path,
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            )
        })
        .collect()
}

/// What a request is judged by: its user's view in system mode, the daemon's own otherwise.
pub struct Judge {
    view: Option<Arc<UserView>>,
    pub policy: Arc<Policy>,
}

impl Judge {
    pub fn classifier<'a>(&'a self, daemon: &'a super::state::Daemon) -> &'a Classifier {
        match &self.view {
            Some(view) => &view.classifier,
            None => &daemon.classifier,
        }
    }

    /// The OS user the request is judged for (system mode).
    pub fn user(&self) -> Option<&OsUser> {
        self.view.as_ref().map(|v| &v.user)
    }
}

impl super::state::Daemon {
    /// Whom the files of a request of `session` are read for: its user in system mode (nobody
    /// when the session names no user, so every read is refused); `None` in user mode.
    pub fn reader_for_session(&self, session: Option<&str>) -> Option<Arc<crate::user_fs::Reader>> {
        let users = self.users.as_ref()?;
        users
            .view_of_session(session?)
            .ok()
            .and_then(|view| view.classifier.reader())
    }

    /// The mode's one-line guarantee.
    pub fn mode(&self) -> &'static str {
        if self.users.is_some() {
            super::SYSTEM_MODE
        } else {
            super::USER_MODE
        }
    }

    /// The classifier and policy for a request of `session`. In system mode the session names
    /// its user; a session that names nobody is judged by nothing (`Err`).
    pub async fn judge_of(&self, session: Option<&str>) -> Result<Judge, String> {
        let machine = self.policy.current();
        let Some(users) = &self.users else {
            return Ok(Judge {
                view: None,
                policy: machine,
            });
        };
        let view = users.view_of_session(session.unwrap_or_default())?;
        // Reading and parsing a user's policy files is file work like classification: off the
        // async workers, so one user's slow load (or a second request waiting on it) never
        // holds up the others (review round 17, R17-1).
        let (policy, refusal) = super::decide::off_the_reactor(|| users.policy(&view, &machine));
        if let Some(refusal) = refusal {
            let input = serde_json::json!({
                "action": "policy load",
                "user": refusal.user,
                "error": refusal.error,
            });
            let reason = format!(
                "the policy of user `{}` does not load: {}",
                refusal.user, refusal.error
            );
            if let Err(e) = self
                .record_control(
                    "policy load",
                    input,
                    airlock_protocol::Outcome::Failed,
                    "daemon",
                    &reason,
                )
                .await
            {
                tracing::error!(error = %e, "cannot record a user's refused policy");
            }
        }
        Ok(Judge {
            view: Some(view),
            policy,
        })
    }

    /// Whether the person at `peer` may see and decide what belongs to `session`: in user mode
    /// everyone who may connect; in system mode its own user, root, and the admin group.
    pub fn may_act_on(&self, peer: &super::who::Peer, session: Option<&str>) -> bool {
        if self.users.is_none() {
            return true;
        }
        if self.is_admin(peer) {
            return true;
        }
        let Some(uid) = peer.uid else {
            return false;
        };
        let owner = session.and_then(owner_of);
        owner.is_some() && owner.map(str::to_string) == OsUser::by_uid(uid).map(|u| u.name)
    }

    /// Root or a member of the admin group (as the kernel says the peer runs).
    pub fn is_admin(&self, peer: &super::who::Peer) -> bool {
        if self.users.is_none() {
            return true;
        }
        if peer.uid == Some(0) {
            return true;
        }
        let Some(admin) = self.home.system.as_ref().and_then(|s| s.admin_gid()) else {
            return false;
        };
        // The groups of the process that connected, and only while its pid still names it: a
        // pid handed to another process since (an admin's) says nothing about this peer
        // (review round 14, S6). Its start time is looked at before and after the read.
        let same_process = |pid: u32| {
            peer.start_time.is_some() && super::controls::process_start_time(pid) == peer.start_time
        };
        peer.pid.is_some_and(|pid| {
            same_process(pid)
                && crate::system::process_groups(pid).contains(&admin)
                && same_process(pid)
        }) || peer.gid == Some(admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_named_after_its_user_and_read_back() {
        let name = session_of("alice", Some("0b9c-uuid"));
        assert_eq!(name, "alice/0b9c-uuid");
        assert_eq!(owner_of(&name), Some("alice"));
        assert_eq!(owner_of(&session_of("bob", None)), Some("bob"));
        assert_eq!(owner_of("no-owner"), None);
    }
}
