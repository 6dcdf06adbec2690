//! Airlock: mediates coding-agent tool calls by policy and keeps tamper-evident receipts.
//!
//! This crate is the `airlock` binary's library: the daemon and the command line. The rest of the workspace is re-exported under the module names the code has
//! always used (see docs/ARCHITECTURE.md "Crate map" for the crates, the data flow and the
//! threat model):
//! - [`daemon`]: the enforcement daemon (decision path, approvals, event bus).
//! - [`cli`]: the `airlock` command line (`airlock hook` runs `airlock-hook`).

pub mod cli;
pub mod daemon;

pub use airlock_classify as classify;
pub use airlock_client as client;
pub use airlock_client::{home, identity, preview, printable, settings, system};
pub use airlock_notify as notify;
pub use airlock_policy as policy;
pub use airlock_request as request;
pub use airlock_request::{adapters, redact};
pub use airlock_retention as retention;
pub use airlock_stepup as stepup;
pub use airlock_store as store;
pub use airlock_userfs as user_fs;
