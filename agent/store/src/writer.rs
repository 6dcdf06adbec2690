//! The single writer: one thread owns the write connection and the chain head, and commits
//! whatever is queued in one transaction (group commit). Callers wait for their commit before
//! answering anyone, so no answer ever leaves the daemon without its receipt on disk.

use super::checkpoint::{self, WalHealth};
use super::{Op, Prepared, Store, StoreError};
use airlock_protocol::ReceiptLogInfo;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// How many queued jobs one transaction may take.
const MAX_BATCH: usize = 512;

struct Job {
    rows: Vec<Prepared>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    wal: WalHealth,
}

impl Writer {
    /// Start the writer on `store`. With `checkpointer` (another connection to the same
    /// file), WAL checkpoints run on their own thread instead of inside the writer's commits,
    /// so no answer waits for a checkpoint's copying and `fsync`, and that thread keeps the log
    /// bounded (see [`checkpoint`]).
    pub fn spawn(mut store: Store, checkpointer: Option<Store>) -> std::io::Result<Self> {
        let wal = WalHealth::default();
        if let Some(checkpointer) = checkpointer {
            if let Err(e) = store.disable_autocheckpoint() {
                tracing::warn!(error = %e, "cannot move WAL checkpoints off the writer");
            } else {
                checkpoint::spawn(checkpointer, wal.clone())?;
            }
        }
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("airlock-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    commit(&mut store, batch);
                }
            })?;
        Ok(Self { jobs, wal })
    }

    /// The write-ahead log's size, peak and health, as the checkpointer last saw them.
    pub fn wal_report(&self) -> ReceiptLogInfo {
        self.wal.report()
    }

    /// Append `ops` atomically; returns once they are committed. Serialisation happens here,
    /// on the caller's thread, so the writer thread does as little as possible.
    pub async fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let rows = ops.iter().map(Prepared::from).collect();
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { rows, done })
            .map_err(|_| StoreError::WriterGone)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Write(message)),
            Err(_) => Err(StoreError::WriterGone),
        }
    }
}

fn commit(store: &mut Store, batch: Vec<Job>) {
    let all: Vec<Prepared> = batch.iter().flat_map(|j| j.rows.iter().cloned()).collect();
    match store.append_prepared(&all) {
        Ok(()) => {
            witness_head(store);
            for job in batch {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(_) => {
            // One bad job must not fail the others: retry each on its own.
            for job in batch {
                let result = store.append_prepared(&job.rows).map_err(|e| e.to_string());
                match &result {
                    Ok(()) => witness_head(store),
                    Err(message) => tracing::error!(%message, "receipt write failed"),
                }
                let _ = job.done.send(result);
            }
        }
    }
}

/// Keep the new head outside the database too (see [`super::witness`]).
fn witness_head(store: &Store) {
    let (seq, hash) = &store.head;
    if let Err(e) = super::witness::record(&store.path, *seq, hash) {
        tracing::warn!(error = %e, "cannot record the chain head outside the database");
    }
}
