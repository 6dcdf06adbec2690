//! Airlock: mediates coding-agent tool calls by policy and keeps tamper-evident receipts.
//!
//! Map of the crate (see docs/ARCHITECTURE.md for the data flow and threat model):
//! - [`adapters`]: one module per coding agent's hook protocol.
//! - [`classify`]: what a request would do, as action classes (shell AST, knowledge base).
//! - [`policy`]: rules and baselines in TOML; strictest decision wins; examples checked at load.
//! - [`store`]: the hash-chained SQLite receipt log.
//! - [`daemon`]: the enforcement daemon (decision path, approvals, event bus).
//! - [`client`]: the blocking client used by the hook shim and the CLI.
//! - [`stepup`]: security-key approvals bound to one action (WebAuthn RP and CTAP2 client).
//! - [`notify`]: desktop notifications for requests that wait for a human.
//! - [`cli`]: the `airlock` command line.

pub use airlock_classify as classify;
pub use airlock_request::adapters;
pub mod cli;
pub use airlock_client as client;
pub mod daemon;
pub use airlock_client::home;
pub use airlock_client::identity;
pub mod notify;
pub use airlock_policy as policy;
pub mod preview;
pub mod printable;
pub use airlock_request as request;
pub use airlock_request::redact;
pub use airlock_retention as retention;
pub mod settings;
pub mod stepup;
pub use airlock_client::system;
pub use airlock_store as store;
pub use airlock_userfs as user_fs;
