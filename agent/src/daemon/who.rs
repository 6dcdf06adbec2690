//! Who decided: what the kernel says about the client that sent a decision (`SO_PEERCRED`, then
//! `/proc` for the executable, the terminal and the start time), kept apart from what the client
//! claims about itself (its surface). A same-user process can claim to be the window; it cannot
//! change the uid, pid or executable the kernel reports. Recorded in `approved` and `rejected`
//! events, with whether a security key was touched.

use airlock_protocol::Surface;
use serde::Serialize;

/// The client at the other end of a connection, as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Peer {
    pub pid: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The connecting process's start time, read when the connection was accepted: a later
    /// request is believed to come from that process only while the pid still has that start
    /// time (a pid the kernel handed to a new process is not the one that connected).
    pub start_time: Option<u64>,
}

/// What the kernel says about a client process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelFacts {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<u32>,
    /// Clock ticks since boot: with the pid, names the process even after the pid is reused.
    pub start_time: Option<u64>,
    /// The executable (`/proc/PID/exe`).
    pub exe: Option<String>,
    /// The controlling terminal (`pts/3`), if any.
    pub tty: Option<String>,
}

/// A decision's author: the kernel's facts and the client's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Who {
    /// `None` when the decision did not come over the socket (a notification's button,
    /// answered inside the daemon from the session bus).
    pub kernel: Option<KernelFacts>,
    /// What the client said it is (`None`: it did not say).
    pub claimed_surface: Option<Surface>,
}

impl Who {
    /// A client on the socket.
    pub fn client(peer: Peer, claimed: Option<Surface>) -> Self {
        let facts = KernelFacts {
            uid: peer.uid,
            gid: peer.gid,
            pid: peer.pid,
            start_time: peer
                .pid
                .and_then(crate::daemon::controls::process_start_time),
            exe: peer.pid.and_then(|pid| {
                std::fs::read_link(format!("/proc/{pid}/exe"))
                    .ok()
                    .map(|p| p.display().to_string())
            }),
            tty: peer.pid.and_then(controlling_tty),
        };
        Self {
            kernel: Some(facts),
            claimed_surface: claimed,
        }
    }

    /// A desktop notification's button.
    pub fn notification() -> Self {
        Self {
            kernel: None,
            claimed_surface: Some(Surface::Notification),
        }
    }

    /// The short form for the event's actor column: "terminal: pid 4242 (airlock) uid 1000 pts/3".
    pub fn label(&self) -> String {
        let surface = match self.claimed_surface {
            Some(Surface::Terminal) => "terminal",
            Some(Surface::Window) => "window",
            Some(Surface::Notification) => "notification",
            None => "client",
        };
        let Some(k) = &self.kernel else {
            return surface.to_string();
        };
        let mut label = surface.to_string();
        if let Some(pid) = k.pid {
            label.push_str(&format!(": pid {pid}"));
        }
        if let Some(exe) = &k.exe {
            let name = exe.rsplit('/').next().unwrap_or(exe);
            label.push_str(&format!(" ({name})"));
        }
        if let Some(uid) = k.uid {
            label.push_str(&format!(" uid {uid}"));
        }
        if let Some(tty) = &k.tty {
            label.push_str(&format!(" {tty}"));
        }
        label
    }

    /// The JSON recorded in the event.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The controlling terminal of `pid` from `tty_nr` in `/proc/PID/stat` (field 7): pseudo
/// terminals are majors 136–143, virtual consoles major 4.
fn controlling_tty(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = text.rsplit_once(')')?.1;
    let tty_nr: u64 = after.split_whitespace().nth(4)?.parse().ok()?;
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("tty {major}:{minor}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_facts_of_this_process_are_read() {
        let me = std::process::id();
        let who = Who::client(
            Peer {
                pid: Some(me),
                uid: Some(rustix::process::getuid().as_raw()),
                gid: None,
                start_time: None,
            },
            Some(Surface::Terminal),
        );
        let facts = who.kernel.as_ref().unwrap_or_else(|| panic!("no facts"));
        assert_eq!(
            facts.start_time,
            crate::daemon::controls::process_start_time(me)
        );
        assert!(facts.exe.as_deref().is_some_and(|e| e.starts_with('/')));
        assert!(who.label().starts_with(&format!("terminal: pid {me} (")));
        let json = who.json();
        assert_eq!(json["claimed_surface"], "terminal");
        assert_eq!(json["kernel"]["pid"], me);
    }

    #[test]
    fn a_notification_has_no_socket_peer() {
        let who = Who::notification();
        assert_eq!(who.label(), "notification");
        assert!(who.json()["kernel"].is_null());
    }
}
