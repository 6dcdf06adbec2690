//! Rollback of file changes: pre-images are taken before a file-writing tool call (or a
//! human-approved shell deletion) runs, content-addressed under `data/blobs/`; `airlock rollback`
//! restores them, refusing when a file changed again since (later work would be lost) unless
//! forced, and never writing through a symbolic link (`nofollow.rs`).

use super::state::Daemon;
use crate::classify::{Access, Classification};
use crate::request::ActionRequest;
use crate::store::{NewEvent, Op, Snapshot, now_ms};
use airlock_protocol::{ErrorCode, Outcome, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Files larger than this are not snapshotted (the receipt says so).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// At most this many files, and bytes, per request (a deleted directory is walked).
const MAX_FILES: usize = 2_000;
const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

impl Daemon {
    fn blob_path(&self, hash: &str) -> PathBuf {
        self.home.data_dir.join("blobs").join(&hash[..2]).join(hash)
    }

    /// Take pre-images of the files this permitted request is about to change. `approved` says
    /// whether a person approved it (shell deletions are snapshotted only then). Returns the
    /// snapshot rows to write and their manifest (path, existed, pre-image hash, mode) for the
    /// chained record the caller writes with them — the receipt, or the approval event — since
    /// the `snapshots` table itself is not chained: a rollback restores only what a manifest
    /// vouches for.
    pub fn take_snapshots(
        &self,
        receipt_id: &str,
        request: &ActionRequest,
        classification: &Classification,
        approved: bool,
    ) -> (Vec<Op>, Option<serde_json::Value>) {
        // System mode: rollback would write users' files, which the daemon never does, so it
        // is refused there, and pre-images nobody can restore are not kept either — they would
        // only let a user fill the daemon's disk (review round 16, R16-3).
        if self.users.is_some() {
            return (Vec::new(), None);
        }
        let mut targets: Vec<PathBuf> = Vec::new();
        for unit in &classification.units {
            for p in &unit.paths {
                let wanted = match p.access {
                    // The file a file tool replaces or edits.
                    Access::Write => request.call.kind().changes_a_file(),
                    Access::Delete => approved && request.call.is_shell(),
                    _ => false,
                };
                if wanted && !targets.contains(&p.path) {
                    targets.push(p.path.clone());
                }
            }
        }
        if targets.is_empty() {
            return (Vec::new(), None);
        }
        // Read for the request's user (system mode): a pre-image of a file they may not read
        // is never taken, so neither its content nor its hash is kept for them.
        let reader = self.reader_for_session(request.session.as_deref());
        let files = crate::user_fs::as_user(reader.clone(), || {
            let mut files = Vec::new();
            for target in targets {
                collect_files(&target, &mut files);
            }
            files
        });
        let mut ops = Vec::new();
        let mut total = 0u64;
        let mut skipped = Vec::new();
        for path in files.into_iter().take(MAX_FILES) {
            let taken =
                crate::user_fs::as_user(reader.clone(), || self.snapshot_file(&path, &mut total));
            match taken {
                Ok(Some(PreImage {
                    existed,
                    hash: pre_hash,
                    mode,
                    size,
                })) => ops.push(Op::Snapshot(Snapshot {
                    id: 0,
                    receipt_id: receipt_id.to_string(),
                    session: Some(super::decide::session_name(request)),
                    time_ms: now_ms(),
                    path: path.display().to_string(),
                    existed,
                    pre_hash,
                    mode,
                    size,
                    post_hash: None,
                    post_known: false,
                    restored: false,
                })),
                Ok(None) => skipped.push(path.display().to_string()),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot snapshot");
                    skipped.push(path.display().to_string());
                }
            }
        }
        if !skipped.is_empty() {
            tracing::warn!(?skipped, "files not snapshotted (too large or unreadable)");
        }
        let manifest: Vec<serde_json::Value> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Snapshot(s) => Some(manifest_entry(&s.path, s.existed, &s.pre_hash, s.mode)),
                _ => None,
            })
            .collect();
        let manifest = (!manifest.is_empty()).then(|| json!(manifest));
        (ops, manifest)
    }

    /// Returns (existed, hash, mode, size), or `None` when over the size limits.
    fn snapshot_file(&self, path: &Path, total: &mut u64) -> std::io::Result<Option<PreImage>> {
        let meta = match crate::user_fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(PreImage {
                    existed: false,
                    hash: None,
                    mode: None,
                    size: 0,
                }));
            }
            Err(e) => return Err(e),
        };
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES || *total + meta.len() > MAX_TOTAL_BYTES {
            return Ok(None);
        }
        let bytes = crate::user_fs::read(path)?;
        *total += bytes.len() as u64;
        let hash = hex::encode(Sha256::digest(&bytes));
        let blob = self.blob_path(&hash);
        if !blob.exists() {
            if let Some(dir) = blob.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = blob.with_extension("tmp");
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &blob)?;
        }
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            Some(meta.permissions().mode())
        };
        #[cfg(not(unix))]
        let mode = None;
        Ok(Some(PreImage {
            existed: true,
            hash: Some(hash),
            mode,
            size: bytes.len() as u64,
        }))
    }

    /// After the tool ran: remember what each snapshotted file looks like now, so a rollback can
    /// tell the tool's change from later work.
    pub async fn snapshot_after(&self, receipt_id: &str) {
        let snapshots = match self.lock_reader().snapshots(receipt_id) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read snapshots");
                return;
            }
        };
        let ops: Vec<Op> = snapshots
            .iter()
            .map(|s| {
                let reader = self.reader_for_session(s.session.as_deref());
                Op::SnapshotAfter {
                    receipt_id: receipt_id.to_string(),
                    path: s.path.clone(),
                    post_hash: crate::user_fs::as_user(reader, || file_hash(Path::new(&s.path))),
                }
            })
            .collect();
        if !ops.is_empty()
            && let Err(e) = self.writer.write(ops).await
        {
            tracing::error!(error = %e, "cannot record post-execution file state");
        }
    }

    pub async fn rollback(&self, id: &str, session: bool, force: bool, actor: &str) -> Response {
        let receipts = if session {
            match self.lock_reader().snapshot_receipts(id) {
                Ok(r) => r,
                Err(e) => return error(ErrorCode::Internal, e.to_string()),
            }
        } else {
            vec![id.to_string()]
        };
        if receipts.is_empty() {
            return error(
                ErrorCode::NotFound,
                format!("session `{id}` has no file changes to roll back"),
            );
        }
        let mut done = Vec::new();
        for receipt in &receipts {
            match self.rollback_receipt(receipt, force, actor).await {
                Ok(files) => done.push(format!("{receipt}: {}", files.join(", "))),
                Err(message) => {
                    let so_far = if done.is_empty() {
                        String::new()
                    } else {
                        format!(" (already rolled back: {})", done.join("; "))
                    };
                    let message = format!("{message}{so_far}");
                    // A refused rollback is on the record too (a planted link, later work).
                    let input = json!({"receipt": receipt, "session": session, "force": force});
                    if let Err(e) = self
                        .record_control("rollback", input, Outcome::Denied, actor, &message)
                        .await
                    {
                        tracing::error!(error = %e, "cannot record a refused rollback");
                    }
                    return error(ErrorCode::Forbidden, message);
                }
            }
        }
        Response::Done {
            message: format!("rolled back {}", done.join("; ")),
        }
    }

    /// The snapshot manifests in a receipt's chained record (its own detail, and the approval
    /// event's for a held request). The snapshots table is not chained: a row no manifest
    /// vouches for — another path, another pre-image, another mode — is an edit.
    fn chained_manifest(&self, receipt: &str) -> Result<Vec<serde_json::Value>, String> {
        let found = self.lock_reader().get(receipt).map_err(|e| e.to_string())?;
        let mut entries: Vec<serde_json::Value> = Vec::new();
        for detail in std::iter::once(&found.detail).chain(found.timeline.iter().map(|t| &t.detail))
        {
            if let Some(list) = detail["snapshots"].as_array() {
                entries.extend(list.iter().cloned());
            }
        }
        Ok(entries)
    }

    /// Restore one receipt's snapshots; returns the files changed.
    async fn rollback_receipt(
        &self,
        receipt: &str,
        force: bool,
        actor: &str,
    ) -> Result<Vec<String>, String> {
        let snapshots: Vec<Snapshot> = self
            .lock_reader()
            .snapshots(receipt)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|s| !s.restored)
            .collect();
        if snapshots.is_empty() {
            return Err(format!(
                "receipt `{receipt}` has no file changes to roll back (nothing was snapshotted, or it was already rolled back)"
            ));
        }
        let manifest = self.chained_manifest(receipt)?;
        if let Some(stray) = snapshots
            .iter()
            .find(|s| !manifest.contains(&manifest_entry(&s.path, s.existed, &s.pre_hash, s.mode)))
        {
            return Err(format!(
                "refusing to roll back `{receipt}`: its snapshot of `{}` is not one the receipt's chained record vouches for (the snapshot table was changed); nothing was restored",
                stray.path
            ));
        }
        let mut conflicts = Vec::new();
        for s in &snapshots {
            let reader = self.reader_for_session(s.session.as_deref());
            let now = crate::user_fs::as_user(reader, || file_hash(Path::new(&s.path)));
            if now == s.pre_hash {
                continue;
            }
            if !s.post_known {
                conflicts.push(format!("`{}` (no report of what the tool wrote, so later changes cannot be told apart)", s.path));
            } else if now != s.post_hash {
                conflicts.push(format!("`{}` changed again after the tool ran", s.path));
            }
        }
        if !conflicts.is_empty() && !force {
            return Err(format!(
                "refusing to roll back `{receipt}`: {}; restoring would lose that later work. Use `--force` to restore anyway.",
                conflicts.join(", ")
            ));
        }
        let mut files = Vec::new();
        let mut ops = Vec::new();
        for s in &snapshots {
            let path = Path::new(&s.path);
            let action = self
                .restore(s, path)
                .map_err(|e| format!("cannot restore `{}`: {e}", s.path))?;
            files.push(json!({"path": s.path, "action": action, "pre_hash": s.pre_hash}));
            ops.push(Op::SnapshotRestored { id: s.id });
        }
        let restored: Vec<String> = snapshots.iter().map(|s| s.path.clone()).collect();
        ops.push(Op::Event(NewEvent {
            receipt_id: receipt.to_string(),
            time_ms: now_ms(),
            outcome: Outcome::RolledBack.as_str().to_string(),
            actor: actor.to_string(),
            detail: json!({"files": files, "forced": force && !conflicts.is_empty()}),
        }));
        self.writer.write(ops).await.map_err(|e| e.to_string())?;
        Ok(restored)
    }

    fn restore(&self, s: &Snapshot, path: &Path) -> std::io::Result<&'static str> {
        // Never through a link: a directory on the way replaced by one is refused, a link at
        // the name is replaced itself (see `nofollow`).
        let Some(hash) = &s.pre_hash else {
            // The tool created the file: rolling back removes it.
            return Ok(if super::nofollow::remove(path)? {
                "removed"
            } else {
                "absent"
            });
        };
        let bytes = std::fs::read(self.blob_path(hash))?;
        if hex::encode(Sha256::digest(&bytes)) != *hash {
            return Err(std::io::Error::other("the stored pre-image is corrupt"));
        }
        // Never set-user or set-group id: the mode comes from the (unchained) snapshot row.
        super::nofollow::replace(path, &bytes, s.mode.map(|m| m & 0o1777))?;
        Ok("restored")
    }
}

/// One file of a snapshot manifest, as chained.
fn manifest_entry(
    path: &str,
    existed: bool,
    pre_hash: &Option<String>,
    mode: Option<u32>,
) -> serde_json::Value {
    json!({"path": path, "existed": existed, "pre_hash": pre_hash, "mode": mode})
}

/// What a file was before the tool ran.
struct PreImage {
    existed: bool,
    hash: Option<String>,
    mode: Option<u32>,
    size: u64,
}

/// SHA-256 of a regular file's content; `None` if it does not exist or is not a file.
fn file_hash(path: &Path) -> Option<String> {
    let meta = crate::user_fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    crate::user_fs::read(path)
        .ok()
        .map(|b| hex::encode(Sha256::digest(&b)))
}

/// The files under `target` (itself if a file or missing), without following symlinks.
fn collect_files(target: &Path, out: &mut Vec<PathBuf>) {
    match crate::user_fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => {
            if let Ok(entries) = crate::user_fs::read_dir(target) {
                for entry in entries.flatten() {
                    if out.len() >= MAX_FILES {
                        return;
                    }
                    collect_files(&entry.path(), out);
                }
            }
        }
        Ok(meta) if meta.is_file() => out.push(target.to_path_buf()),
        Ok(_) => {}
        Err(_) => out.push(target.to_path_buf()),
    }
}

fn error(code: ErrorCode, message: String) -> Response {
    Response::Error { code, message }
}
