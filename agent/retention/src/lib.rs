//! Copies of the receipt log kept where the log's writer cannot rewrite them: every row and
//! signed checkpoint in PostgreSQL ([`postgres`]), signed checkpoints in syslog ([`syslog`]),
//! and the comparison of a local log with a retained copy ([`compare`]). The daemon ships to
//! them from its own thread (`daemon/shipper.rs`); the database is the durable outbox
//! (`store/outbox.rs`).

pub mod compare;
pub mod postgres;
pub mod syslog;
