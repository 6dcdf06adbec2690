//! End-to-end tests of the real binaries, in one test binary with one shared rig:
//! - `support`: a scratch `AIRLOCK_HOME`, the real `airlock` binary, a real daemon on a real
//!   socket, its receipts, a private session-bus configuration, PostgreSQL, `wait_for`;
//! - `desktop`: one desktop session rig for every test that needs one (the app's window, the
//!   notifications, system mode's per-user sessions): Xvfb, a session bus, a Secret Service,
//!   dunst, as this process's user or as another user;
//! - `softkey`: a software CTAP2 authenticator (with the `soft-authenticator` feature only).
//!
//! One module per area. System mode's tests (`system::`) install it on the machine, which
//! switches every Airlock client to it: scripts/test runs them alone, after everything else.

mod desktop;
#[cfg(feature = "soft-authenticator")]
mod softkey;
mod support;

mod cli;
mod controls;
#[cfg(all(feature = "desktop-e2e", feature = "soft-authenticator"))]
mod desktop_app;
mod hook;
mod links;
mod notify;
mod retention;
#[cfg(feature = "soft-authenticator")]
mod stepup;
mod system;
mod wal;
