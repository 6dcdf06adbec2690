//! Processes a command signals by number (`kill 4242`): which program each one runs, looked up
//! in `/proc` when the request is classified, so that stopping Airlock itself under its process
//! id is seen as what it is. (`pkill airlock` and computed ids are judged by the knowledge
//! base's patterns on the arguments.)

use super::Unit;
use airlock_protocol::ActionClass;
use std::path::{Path, PathBuf};

/// Judge one process-id argument of a signalling command.
pub(crate) fn judge_signalled(unit: &mut Unit, word: &str, protected: &[PathBuf]) {
    if airlock_userfs::sees_no_files() {
        // An example: no process table either.
        return;
    }
    // `-PGID` (a process group) and `%JOB` name processes Airlock does not enumerate.
    let pid = word;
    let number = pid.strip_prefix('-').unwrap_or(pid);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        if pid.starts_with('%') {
            unit.classes.insert(ActionClass::Unknown);
            unit.source
                .push_str(" (signals a shell job Airlock cannot see)");
        }
        return;
    }
    if pid.starts_with('-') {
        // A process group (`kill -9 -PGID`), or a signal number (`-9`) that reads the same:
        // any member of that group running Airlock is Airlock stopped. (`-1`, every process,
        // is the knowledge base's.)
        if number != "1" && group_runs_airlock(number, protected) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("airlock-self".into());
        }
        return;
    }
    if is_airlock(Path::new("/proc").join(number).as_path(), protected) {
        unit.classes.insert(ActionClass::AccessChange);
        unit.tags.insert("airlock-self".into());
    }
}

/// Whether a process of the group `pgid` runs Airlock (from each process's `stat`).
///
/// Reads `/proc` with the daemon's rights: it answers only "is this Airlock", never shows what
/// it read, and a process's name and program are what `ps` shows any user.
#[allow(clippy::disallowed_methods)]
fn group_runs_airlock(pgid: &str, protected: &[PathBuf]) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let dir = entry.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            return false;
        };
        // `PID (COMM) STATE PPID PGRP …`: the name may hold spaces and parentheses.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        after_name.split_whitespace().nth(2) == Some(pgid) && is_airlock(&dir, protected)
    })
}

/// Whether the process at `/proc/PID` runs Airlock: its program is Airlock's own executable,
/// lives in Airlock's directories, or is named like it.
#[allow(clippy::disallowed_methods)]
fn is_airlock(proc_dir: &Path, protected: &[PathBuf]) -> bool {
    let exe = std::fs::read_link(proc_dir.join("exe")).ok();
    let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    let own = std::env::current_exe().ok();
    let named = |name: &str| name.trim().to_ascii_lowercase().starts_with("airlock");
    comm_or_exe_named(&comm, exe.as_deref(), named)
        || exe.as_ref().is_some_and(|exe| {
            own.as_ref() == Some(exe) || protected.iter().any(|p| exe.starts_with(p))
        })
}

fn comm_or_exe_named(comm: &str, exe: Option<&Path>, named: impl Fn(&str) -> bool) -> bool {
    named(comm)
        || exe
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .is_some_and(named)
}

#[cfg(test)]
mod tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
    use super::*;

    #[test]
    fn this_process_is_airlock_when_it_runs_airlocks_executable() {
        let me = std::process::id().to_string();
        let mut unit = Unit::new("kill", 0, "");
        // The test binary is not named airlock, but it is the classifier's own executable.
        judge_signalled(&mut unit, &me, &[]);
        assert!(unit.tags.contains("airlock-self"), "{unit:?}");
    }

    #[test]
    fn another_process_is_not() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut unit = Unit::new("kill", 0, "");
        judge_signalled(&mut unit, &child.id().to_string(), &[]);
        child.kill().ok();
        child.wait().ok();
        assert!(!unit.tags.contains("airlock-self"), "{unit:?}");
        assert!(unit.classes.is_empty(), "{unit:?}");
    }

    #[test]
    fn a_group_with_airlock_in_it_is_airlock() {
        // This test process's group holds this process, which runs the classifier's binary.
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let pgrp = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_string();
        let mut unit = Unit::new("kill", 0, "");
        judge_signalled(&mut unit, &format!("-{pgrp}"), &[]);
        assert!(unit.tags.contains("airlock-self"), "{unit:?}");
        let mut other = Unit::new("kill", 0, "");
        judge_signalled(&mut other, "-999999", &[]);
        assert!(!other.tags.contains("airlock-self"));
    }

    #[test]
    fn jobs_are_not_seen() {
        for word in ["%1", "%+"] {
            let mut unit = Unit::new("kill", 0, "");
            judge_signalled(&mut unit, word, &[]);
            assert!(unit.classes.contains(&ActionClass::Unknown), "{word}");
        }
    }
}
