//! Signed checkpoints sent to syslog as they are made: a copy of the log's state kept where the
//! agent's user cannot rewrite it (the system log is root's), which `airlock verify --retained
//! FILE` checks the receipts against — a log cut back together with its witness and checkpoints
//! still fails there.
//!
//! One RFC 3164 line per checkpoint over the syslog Unix datagram socket: `<86>airlock[PID]:
//! airlock-checkpoint BASE64`, the signed note base64-encoded so it stays one line (authpriv.info:
//! logs of that facility are readable by root only on most systems). Written by hand: one
//! `send` of one formatted line, nothing a logging crate would add.
//!
//! Sent by the daemon's shipper (`daemon/shipper.rs`) from the durable outbox: a checkpoint
//! made while syslog is down is sent when it answers again, in order.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// The marker before each checkpoint in the log line.
pub const MARKER: &str = "airlock-checkpoint ";

/// authpriv (10) × 8 + info (6).
const PRIORITY: u8 = 86;

/// Send one signed checkpoint note.
pub fn send(socket: &Path, note: &str) -> std::io::Result<()> {
    let line = format!(
        "<{PRIORITY}>airlock[{}]: {MARKER}{}",
        std::process::id(),
        BASE64.encode(note.as_bytes())
    );
    let sock = UnixDatagram::unbound()?;
    sock.send_to(line.as_bytes(), socket)?;
    Ok(())
}

/// The checkpoint notes in a log file's text (lines holding [`MARKER`]).
pub fn notes_in(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let encoded = line.split_once(MARKER)?.1.trim();
            let bytes = BASE64.decode(encoded).ok()?;
            String::from_utf8(bytes).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_sent_is_found_again_in_the_log_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("log.sock");
        let server = UnixDatagram::bind(&path).unwrap_or_else(|e| panic!("{e}"));
        let note = "airlock.local/x\n7\nAAAA\n\n— airlock.local/x abc=\n";
        send(&path, note).unwrap_or_else(|e| panic!("{e}"));
        let mut buf = [0u8; 4096];
        let n = server.recv(&mut buf).unwrap_or_else(|e| panic!("{e}"));
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(line.starts_with("<86>airlock["), "{line}");
        assert!(!line.contains('\n'));
        let logged = format!("Dec  1 12:00:00 host {}\nother line\n", &line[4..]);
        assert_eq!(notes_in(&logged), [note]);
    }
}
