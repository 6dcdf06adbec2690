//! Signed checkpoints of the receipt log.
//!
//! The hash chain shows that rows were not edited in place, but whoever can write the database
//! can recompute every hash after an edit. A checkpoint fixes the log's state at a size with a
//! signature: an RFC 6962 Merkle tree over the rows (one leaf per row, the leaf's data being the
//! row's chain hash), its root at that size in the C2SP `tlog-checkpoint` text, signed as a
//! C2SP signed note with Ed25519. `airlock verify` recomputes each signed root from the rows;
//! a rewrite of the chain, however consistent, changes the roots of every checkpoint after the
//! first changed row — and cannot be signed again without the signing key.
//!
//! The tree's stored hashes (Go sumdb `tlog` layout) are kept in `tree_hashes`, so inclusion and
//! consistency proofs can be made from them (`tlog_tiles::prove_record` / `prove_tree`); verify
//! does not trust them and recomputes roots from the rows with an O(log n) frontier.
//!
//! Where the key lives and what that means per mode: [`signing`].

pub mod signing;

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;
use tlog_tiles::{Checkpoint, Hash, HashReader, node_hash, record_hash, stored_hash_index};

/// A signed checkpoint as stored: its size and the whole signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub time_ms: i64,
    pub note: String,
}

/// Stored hashes read from the database, with those computed in this pass on top.
struct StoredHashes<'a> {
    conn: &'a rusqlite::Connection,
    fresh: HashMap<u64, Hash>,
}

impl HashReader for StoredHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM tree_hashes WHERE idx = ?1")
            .map_err(|_| tlog_tiles::Error::MalformedHash)?;
        indexes
            .iter()
            .map(|idx| {
                if let Some(hash) = self.fresh.get(idx) {
                    return Ok(*hash);
                }
                let bytes: Vec<u8> = stmt
                    .query_row([*idx as i64], |r| r.get(0))
                    .map_err(|_| tlog_tiles::Error::MalformedHash)?;
                Ok(Hash(
                    bytes
                        .try_into()
                        .map_err(|_| tlog_tiles::Error::MalformedHash)?,
                ))
            })
            .collect()
    }
}

impl Store {
    /// How many rows the stored tree covers.
    pub fn tree_size(&self) -> Result<u64, StoreError> {
        // Stored hashes are written a whole record at a time, so their count is
        // `stored_hash_count(size)`, which grows with the size: search for it.
        let count: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM tree_hashes", [], |r| r.get(0))?;
        let count = count as u64;
        let (mut lo, mut hi) = (0u64, count);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if tlog_tiles::stored_hash_count(mid) <= count {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if tlog_tiles::stored_hash_count(lo) != count {
            return Err(StoreError::Write(format!(
                "the stored Merkle tree holds {count} hashes, which is no whole number of rows"
            )));
        }
        Ok(lo)
    }

    /// Add every row past the stored tree to it, in one transaction; returns the new size and
    /// its root.
    pub fn extend_tree(&self) -> Result<(u64, Hash), StoreError> {
        // Immediate: a transaction that reads first and writes later cannot take the write
        // lock once another connection committed in between (SQLite answers "locked" at once,
        // without waiting); taking it first waits like any writer.
        let tx = rusqlite::Transaction::new_unchecked(
            self.conn(),
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let size = self.tree_size()?;
        let mut stored = StoredHashes {
            conn: self.conn(),
            fresh: HashMap::new(),
        };
        let mut n = size;
        {
            let mut rows = self.conn().prepare(
                "SELECT seq, hash FROM receipts WHERE seq > ?1
                 UNION ALL SELECT seq, hash FROM events WHERE seq > ?1 ORDER BY seq",
            )?;
            let mut leaves = rows.query(params![size as i64])?;
            while let Some(row) = leaves.next()? {
                let seq: i64 = row.get(0)?;
                if seq as u64 != n + 1 {
                    return Err(StoreError::Write(format!(
                        "the chain has a gap at row {} (found row {seq}); run `airlock verify`",
                        n + 1
                    )));
                }
                let hash: String = row.get(1)?;
                let new = tlog_tiles::stored_hashes(n, hash.as_bytes(), &stored)
                    .map_err(|e| StoreError::Write(e.to_string()))?;
                let first = stored_hash_index(0, n);
                for (i, h) in new.into_iter().enumerate() {
                    stored.fresh.insert(first + i as u64, h);
                }
                n += 1;
            }
        }
        {
            let mut insert = self
                .conn()
                .prepare_cached("INSERT INTO tree_hashes (idx, hash) VALUES (?1, ?2)")?;
            for (idx, hash) in &stored.fresh {
                insert.execute(params![*idx as i64, hash.0.as_slice()])?;
            }
        }
        let root =
            tlog_tiles::tree_hash(n, &stored).map_err(|e| StoreError::Write(e.to_string()))?;
        drop(stored);
        tx.commit()?;
        Ok((n, root))
    }

    /// The root the stored tree gives at `size` (what the next checkpoint builds on).
    pub fn stored_root(&self, size: u64) -> Result<Hash, StoreError> {
        let stored = StoredHashes {
            conn: self.conn(),
            fresh: HashMap::new(),
        };
        tlog_tiles::tree_hash(size, &stored).map_err(|e| StoreError::Write(e.to_string()))
    }

    /// Store a signed checkpoint.
    pub fn add_tree_head(&self, head: &TreeHead) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO tree_heads (size, time_ms, note) VALUES (?1, ?2, ?3)",
            params![head.size as i64, head.time_ms, head.note],
        )?;
        Ok(())
    }

    /// Every signed checkpoint, smallest first.
    pub fn tree_heads(&self) -> Result<Vec<TreeHead>, StoreError> {
        self.tree_heads_after(0)
    }

    /// The signed checkpoints of more than `size` rows, smallest first.
    pub fn tree_heads_after(&self, size: u64) -> Result<Vec<TreeHead>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT size, time_ms, note FROM tree_heads WHERE size > ?1 ORDER BY size",
        )?;
        let rows = stmt.query_map([size as i64], |r| {
            Ok(TreeHead {
                size: r.get::<_, i64>(0)? as u64,
                time_ms: r.get(1)?,
                note: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest signed checkpoint's size, if any.
    pub fn last_tree_head_size(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT max(size) FROM tree_heads", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten()
            .map(|s| s as u64))
    }
}

/// The RFC 6962 root over leaves added one at a time, in O(log n) memory: the roots of the
/// complete subtrees on the right edge. Verify feeds it the rows' hashes and reads the root at
/// each checkpoint's size.
#[derive(Debug, Default)]
pub struct Frontier {
    /// (height, root of a complete subtree of 2^height leaves), left to right.
    subtrees: Vec<(u8, Hash)>,
    size: u64,
}

impl Frontier {
    pub fn push(&mut self, leaf_data: &[u8]) {
        let mut hash = record_hash(leaf_data);
        let mut height = 0u8;
        while let Some(&(h, left)) = self.subtrees.last() {
            if h != height {
                break;
            }
            self.subtrees.pop();
            hash = node_hash(left, hash);
            height += 1;
        }
        self.subtrees.push((height, hash));
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree hash of the leaves so far (RFC 6962 MTH): the right-edge subtrees folded from
    /// the right.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut hash)) = iter.next() else {
            return tlog_tiles::EMPTY_HASH;
        };
        for &(_, left) in iter {
            hash = node_hash(left, hash);
        }
        hash
    }
}

/// What `verify` found about the signed checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TreeReport {
    /// Checkpoints whose signature and root verified.
    pub verified: usize,
    /// The newest verified checkpoint's size (rows covered).
    pub newest: u64,
    /// Rows present past the newest checkpoint (not yet signed).
    pub unsigned_rows: u64,
    /// The public key used, and where it came from.
    pub public_key: String,
    pub problem: Option<String>,
}

/// Check every signed checkpoint against `verifier_key`: its signature, and its root against
/// the root the rows hash to at its size (recomputed here, not read from `tree_hashes`).
pub fn verify_tree_heads(
    store: &Store,
    heads: &[TreeHead],
    verifier_key: &str,
    key_source: &str,
) -> Result<TreeReport, StoreError> {
    let mut report = TreeReport {
        verified: 0,
        newest: 0,
        unsigned_rows: 0,
        public_key: format!("{} ({key_source})", verifier_key.trim()),
        problem: None,
    };
    let mut frontier = Frontier::default();
    let mut after = 0i64;
    let mut rows_done = false;
    for head in heads {
        let checkpoint = match signing::open(&head.note, verifier_key) {
            Ok(c) => c,
            Err(why) => {
                report.problem = Some(format!("the checkpoint at row {}: {why}", head.size));
                return Ok(report);
            }
        };
        if checkpoint.size() != head.size {
            report.problem = Some(format!(
                "the checkpoint stored for row {} signs size {}",
                head.size,
                checkpoint.size()
            ));
            return Ok(report);
        }
        // Feed rows up to this size, a window per read (long reads pin the write-ahead log).
        while frontier.size() < head.size && !rows_done {
            let upto = (head.size as i64).min(after + WINDOW);
            let hashes = row_hashes(store, after, upto)?;
            if hashes.is_empty() {
                rows_done = true;
            }
            for (seq, hash) in hashes {
                if seq as u64 != frontier.size() + 1 {
                    report.problem = Some(format!(
                        "row {} is missing under the checkpoint at row {}",
                        frontier.size() + 1,
                        head.size
                    ));
                    return Ok(report);
                }
                frontier.push(hash.as_bytes());
                after = seq;
            }
        }
        if frontier.size() < head.size {
            report.problem = Some(format!(
                "a checkpoint signed {} rows, but only {} exist: rows were deleted",
                head.size,
                frontier.size()
            ));
            return Ok(report);
        }
        if frontier.root() != *checkpoint.hash() {
            let when = if head.time_ms == 0 {
                "a retained copy".to_string()
            } else {
                format!("signed {}", crate::format_ms(head.time_ms))
            };
            report.problem = Some(format!(
                "the rows no longer hash to the root signed at row {} ({when}): the log was rewritten at or before that row",
                head.size
            ));
            return Ok(report);
        }
        report.verified += 1;
        report.newest = head.size;
    }
    let newest_row: i64 = store.conn().query_row(
        "SELECT coalesce(max(m), 0) FROM (SELECT max(seq) AS m FROM receipts UNION ALL SELECT max(seq) FROM events)",
        [],
        |r| r.get(0),
    )?;
    report.unsigned_rows = (newest_row as u64).saturating_sub(report.newest);
    Ok(report)
}

/// Rows read per query while recomputing roots.
const WINDOW: i64 = 2000;

fn row_hashes(store: &Store, after: i64, upto: i64) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT seq, hash FROM receipts WHERE seq > ?1 AND seq <= ?2
         UNION ALL SELECT seq, hash FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![after, upto], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A checkpoint's text for `origin` at `size` with `root`.
pub fn checkpoint_text(origin: &str, size: u64, root: Hash) -> Result<Vec<u8>, StoreError> {
    Checkpoint::new(origin, size, root, "")
        .map(|c| c.to_bytes())
        .map_err(|e| StoreError::Write(format!("checkpoint: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewEvent, Op};

    fn event(n: usize) -> Op {
        Op::Event(NewEvent {
            receipt_id: format!("r{n}"),
            time_ms: n as i64,
            outcome: "allowed".into(),
            actor: "test".into(),
            detail: serde_json::json!({}),
        })
    }

    #[test]
    fn the_stored_tree_and_the_frontier_agree_at_every_size() {
        let mut store = Store::in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut frontier = Frontier::default();
        for batch in [1usize, 2, 5, 1, 9, 16, 3] {
            let ops: Vec<Op> = (0..batch).map(event).collect();
            store.append(&ops).unwrap_or_else(|e| panic!("{e}"));
            let (size, root) = store.extend_tree().unwrap_or_else(|e| panic!("{e}"));
            let hashes: Vec<String> = store
                .conn()
                .prepare("SELECT hash FROM events ORDER BY seq")
                .and_then(|mut s| {
                    s.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap_or_else(|e| panic!("{e}"));
            for h in &hashes[frontier.size() as usize..] {
                frontier.push(h.as_bytes());
            }
            assert_eq!(size, hashes.len() as u64);
            assert_eq!(store.tree_size().unwrap_or_default(), size);
            assert_eq!(frontier.root(), root, "at size {size}");
        }
        // Extending with nothing new changes nothing.
        let again = store.extend_tree().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, (frontier.size(), frontier.root()));
    }

    #[test]
    fn known_roots_of_rfc_6962() {
        // Two leaves: MTH = SHA-256(0x01 || leaf(a) || leaf(b)).
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), tlog_tiles::EMPTY_HASH);
        frontier.push(b"a");
        assert_eq!(frontier.root(), record_hash(b"a"));
        frontier.push(b"b");
        assert_eq!(
            frontier.root(),
            node_hash(record_hash(b"a"), record_hash(b"b"))
        );
        frontier.push(b"c");
        assert_eq!(
            frontier.root(),
            node_hash(
                node_hash(record_hash(b"a"), record_hash(b"b")),
                record_hash(b"c")
            )
        );
    }
}
