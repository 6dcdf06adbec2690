//! The notifier of system mode, in a process of the user's own (`airlock notify`, or the
//! desktop app): one per session, held by a lock in the user's runtime directory, so the app
//! and an autostarted `airlock notify` never show a request twice.

use crate::socket::Socket;
use crate::source::OnClick;
use airlock_client::home::AirlockHome;

/// How a run ended.
pub enum Ran {
    /// The session bus went away.
    BusGone,
    /// Another process of this session shows the notifications already.
    AlreadyRunning,
}

/// Show this user's requests until the session bus goes away (blocking: it runs its own async
/// runtime). `on_click` opens the approvals window, where there is one.
pub fn run(home: AirlockHome, on_click: Option<OnClick>) -> Result<Ran, PerUserError> {
    let _held = match one_per_session()? {
        Lock::Held(file) => Some(file),
        Lock::NoSessionDirectory => None,
        Lock::Taken => return Ok(Ran::AlreadyRunning),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("airlock-notify")
        .enable_all()
        .build()
        .map_err(PerUserError::Runtime)?;
    runtime.block_on(crate::run_for(Socket::new(home, on_click)));
    Ok(Ran::BusGone)
}

#[derive(Debug, thiserror::Error)]
pub enum PerUserError {
    #[error("cannot start the notifier's runtime: {0}")]
    Runtime(std::io::Error),
    #[error(
        "cannot take the session's notifier lock `{path}`: {source}; check that XDG_RUNTIME_DIR is this user's own directory"
    )]
    Lock {
        path: std::path::PathBuf,
        source: rustix::io::Errno,
    },
}

enum Lock {
    Held(std::fs::File),
    Taken,
    /// No `XDG_RUNTIME_DIR`: no session to share, so nothing to hold.
    NoSessionDirectory,
}

fn one_per_session() -> Result<Lock, PerUserError> {
    use std::os::unix::fs::MetadataExt;
    let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") else {
        return Ok(Lock::NoSessionDirectory);
    };
    // The session's own directory (the user's, closed to others), or no lock at all: a lock in
    // a shared place could be taken by someone else to silence this user's notifications.
    let dir = std::path::Path::new(&dir);
    let own = std::fs::symlink_metadata(dir).is_ok_and(|m| {
        m.is_dir() && m.uid() == rustix::process::geteuid().as_raw() && m.mode() & 0o077 == 0
    });
    if !own {
        return Ok(Lock::NoSessionDirectory);
    }
    let path = dir.join("airlock-notify.lock");
    let file = std::fs::File::from(
        rustix::fs::open(
            &path,
            rustix::fs::OFlags::CREATE
                | rustix::fs::OFlags::WRONLY
                | rustix::fs::OFlags::NOFOLLOW
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .map_err(|source| PerUserError::Lock {
            path: path.clone(),
            source,
        })?,
    );
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Lock::Held(file)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(Lock::Taken),
        Err(source) => Err(PerUserError::Lock { path, source }),
    }
}
