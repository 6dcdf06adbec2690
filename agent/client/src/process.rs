//! Facts about processes from `/proc`: a process's parent and its start time (which, with the
//! pid, names one process even after the pid is reused).

/// The start time (clock ticks since boot) of a running process, from `/proc/PID/stat`; `None`
/// when it is gone or a zombie (exited, not yet reaped).
pub fn process_start_time(pid: u32) -> Option<u64> {
    let fields = stat_fields(pid)?;
    if matches!(fields.first().map(String::as_str), Some("Z" | "X" | "x")) {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// The parent of a process, from `/proc/PID/stat`.
pub fn parent_pid(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Fields of `/proc/PID/stat` after the command name (which may contain spaces and parens):
/// index 0 is the state, 1 the parent pid, 19 the start time.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = text.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_string).collect())
}
