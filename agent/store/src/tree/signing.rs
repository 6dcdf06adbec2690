//! The checkpoint signing key, and checking a signed checkpoint.
//!
//! The key is an Ed25519 key in the C2SP signed-note key format, named after this machine. In
//! user mode it lives in the OS keyring (the Secret Service, item `airlock-checkpoint` for the
//! database's path); when no Secret Service answers (none running, locked, no session bus) it
//! falls back to a file beside the database (`checkpoint.key`, mode 0600), and says so: the
//! daemon's start record and `airlock status` name where the key is and why. A key file left
//! from an earlier fallback moves into the keyring once one answers. The public half is always
//! written beside the database (`checkpoint.pub`).
//!
//! What that bounds: a process of the same user can read the keyring item as well as the file,
//! so it can sign a rewritten log too — unless the public key and the checkpoints were copied
//! somewhere it cannot write (`airlock verify --public-key FILE` checks against a pinned copy; a
//! re-keyed log fails that). System mode keeps the key under the daemon's own account.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use tlog_tiles::Checkpoint;

/// The signature algorithm byte of an Ed25519 key in a signed note.
const ALG_ED25519: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read or write the checkpoint key `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the checkpoint key `{path}` is not a signed-note Ed25519 key ({message}); move it away and restart the daemon to make a new one (old checkpoints then verify only against the old public key)"
    )]
    BadKey { path: PathBuf, message: String },
    #[error("cannot sign a checkpoint: {0}")]
    Sign(String),
}

/// Where the key and its public half live, beside the database.
pub fn key_path(database: &Path) -> PathBuf {
    database.with_file_name("checkpoint.key")
}

pub fn public_key_path(database: &Path) -> PathBuf {
    database.with_file_name("checkpoint.pub")
}

/// The Secret Service item's service attribute (its username is the database's path).
pub const KEYRING_SERVICE: &str = "airlock-checkpoint";
/// How long the Secret Service may take to answer before the file is used instead (a locked
/// keyring may wait for a password prompt nobody sees).
const KEYRING_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The daemon's signer.
pub struct TreeSigner {
    signer: StandardSigner,
    /// The key's name, also the checkpoints' origin line.
    pub origin: String,
    /// The public key in signed-note verifier form (`name+id+base64`).
    pub verifier_key: String,
    /// Where the private key is kept, and why there.
    pub location: String,
}

impl TreeSigner {
    /// The key for `database` from the keyring (or the fallback file), made the first time,
    /// its public half written beside the database.
    pub fn load_or_create(database: &Path) -> Result<Self, SigningError> {
        let path = key_path(database);
        let (skey, location) = match in_keyring(database, &path) {
            Ok(skey) => (
                skey,
                format!(
                    "the OS keyring (Secret Service item `{KEYRING_SERVICE}` for `{}`)",
                    database.display()
                ),
            ),
            Err(why) => {
                tracing::warn!(%why, file = %path.display(), "the checkpoint key is kept in a file, not the OS keyring");
                let skey = match std::fs::read_to_string(&path) {
                    Ok(text) => text.trim().to_string(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let skey = generate()?;
                        write_key_file(&path, &skey)?;
                        skey
                    }
                    Err(source) => return Err(SigningError::Io { path, source }),
                };
                (
                    skey,
                    format!(
                        "the file `{}` (0600), because the OS keyring is not usable: {why}",
                        path.display()
                    ),
                )
            }
        };
        let (origin, verifier_key) =
            public_half(&skey).map_err(|message| SigningError::BadKey {
                path: path.clone(),
                message,
            })?;
        let signer = StandardSigner::new(&skey).map_err(|e| SigningError::BadKey {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let public = public_key_path(database);
        if std::fs::read_to_string(&public)
            .ok()
            .as_deref()
            .map(str::trim)
            != Some(verifier_key.as_str())
        {
            std::fs::write(&public, format!("{verifier_key}\n")).map_err(|source| {
                SigningError::Io {
                    path: public,
                    source,
                }
            })?;
        }
        Ok(Self {
            signer,
            origin,
            verifier_key,
            location,
        })
    }

    /// The signed note of a checkpoint text.
    pub fn sign(&self, text: &[u8]) -> Result<String, SigningError> {
        let mut note = Note::new(text, &[]).map_err(|e| SigningError::Sign(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| SigningError::Sign(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| SigningError::Sign(e.to_string()))
    }
}

/// The key from the Secret Service; made there (or moved there from a fallback file) when it
/// has none. `Err` says why the keyring is not usable.
fn in_keyring(database: &Path, file: &Path) -> Result<String, String> {
    let account = database.display().to_string();
    let file = file.to_path_buf();
    // On a thread of its own: a locked keyring can wait for a prompt indefinitely.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("airlock-keyring".into())
        .spawn(move || {
            let _ = tx.send(keyring_key(&account, &file));
        })
        .map_err(|e| e.to_string())?;
    rx.recv_timeout(KEYRING_WAIT).unwrap_or_else(|_| {
        Err(format!(
            "the Secret Service did not answer within {} s (locked, waiting for a password prompt?)",
            KEYRING_WAIT.as_secs()
        ))
    })
}

fn keyring_key(account: &str, file: &Path) -> Result<String, String> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| e.to_string())?;
    match entry.get_password() {
        Ok(skey) => return Ok(skey.trim().to_string()),
        Err(keyring::Error::NoEntry) => {}
        Err(e) => return Err(e.to_string()),
    }
    // Reachable and empty: keep the fallback file's key if there is one (old checkpoints
    // stay verifiable), else a new one.
    let existing = std::fs::read_to_string(file)
        .ok()
        .map(|t| t.trim().to_string());
    let skey = match &existing {
        Some(skey) => skey.clone(),
        None => generate().map_err(|e| e.to_string())?,
    };
    entry.set_password(&skey).map_err(|e| e.to_string())?;
    if existing.is_some() {
        let _ = std::fs::remove_file(file);
        tracing::info!(file = %file.display(), "moved the checkpoint key into the OS keyring");
    }
    Ok(skey)
}

/// A new key in signed-note form.
fn generate() -> Result<String, SigningError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| SigningError::Sign(format!("no randomness: {e}")))?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let name = key_name();
    let public = [&[ALG_ED25519][..], signing.verifying_key().as_bytes()].concat();
    let private = [&[ALG_ED25519][..], &seed[..]].concat();
    Ok(format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        signed_note::key_id(&name, &public),
        BASE64.encode(private)
    ))
}

/// Write a key file (0600, never overwriting one).
fn write_key_file(path: &Path, skey: &str) -> Result<(), SigningError> {
    let io = |source| SigningError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(format!("{skey}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// The key's name: this machine's, as a signed-note name allows (no spaces or `+`).
fn key_name() -> String {
    let host =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    let host: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("airlock.local/{host}")
}

/// The name and verifier key of a private key in signed-note form.
fn public_half(skey: &str) -> Result<(String, String), String> {
    // The key itself is base64, which may hold `+` too.
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let [_, _, name, _, key] = parts[..] else {
        return Err("expected PRIVATE+KEY+name+id+key".into());
    };
    let bytes = BASE64.decode(key).map_err(|e| e.to_string())?;
    let seed: [u8; 32] = match bytes.split_first() {
        Some((&ALG_ED25519, seed)) => seed.try_into().map_err(|_| "wrong key length")?,
        _ => return Err("not an Ed25519 key".into()),
    };
    let verifying = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    Ok((
        name.to_string(),
        signed_note::new_ed25519_verifier_key(name, &verifying),
    ))
}

/// Whether a note carries a signature line of `verifier_key` (valid or not): another log's
/// checkpoints in the same syslog file are not this log's business.
pub fn names_key(note: &str, verifier_key: &str) -> bool {
    let (Ok(verifier), Ok(note)) = (
        StandardVerifier::new(verifier_key.trim()),
        Note::from_bytes(note.as_bytes()),
    ) else {
        return false;
    };
    !matches!(
        note.verify(&VerifierList::new(vec![Box::new(verifier)])),
        Err(signed_note::NoteError::UnverifiedNote)
    )
}

/// Check a signed checkpoint against `verifier_key`; returns the checkpoint it signs.
pub fn open(note: &str, verifier_key: &str) -> Result<Checkpoint, String> {
    let verifier = StandardVerifier::new(verifier_key.trim())
        .map_err(|e| format!("the public key is not a signed-note verifier key ({e})"))?;
    let note = Note::from_bytes(note.as_bytes()).map_err(|e| format!("malformed note ({e})"))?;
    let name = signed_note::Verifier::name(&verifier).to_string();
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| format!("its signature does not verify with the public key ({e})"))?;
    let checkpoint =
        Checkpoint::from_bytes(note.text()).map_err(|e| format!("malformed checkpoint ({e})"))?;
    // The origin line names the log; the key is named after it. A note of another log signed
    // with this key (or an origin edited before signing) is not this log's checkpoint.
    if checkpoint.origin() != name {
        return Err(format!(
            "its origin `{}` is not the key's name `{name}`: it is another log's checkpoint",
            checkpoint.origin()
        ));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_its_signatures_verify_only_with_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("receipts.sqlite3");
        let signer = TreeSigner::load_or_create(&db).unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(key_path(&db))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600);
        let again = TreeSigner::load_or_create(&db).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.verifier_key, signer.verifier_key);
        assert_eq!(
            std::fs::read_to_string(public_key_path(&db))
                .unwrap_or_default()
                .trim(),
            signer.verifier_key
        );

        let text = super::super::checkpoint_text(&signer.origin, 7, tlog_tiles::EMPTY_HASH)
            .unwrap_or_else(|e| panic!("{e}"));
        let note = signer.sign(&text).unwrap_or_else(|e| panic!("{e}"));
        let checkpoint = open(&note, &signer.verifier_key).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checkpoint.size(), 7);

        let other_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let other = TreeSigner::load_or_create(&other_dir.path().join("receipts.sqlite3"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(open(&note, &other.verifier_key).is_err());
        let forged = note.replace("\n7\n", "\n8\n");
        assert!(open(&forged, &signer.verifier_key).is_err());

        // Signed with this key, but naming another log.
        let text =
            super::super::checkpoint_text("airlock.local/elsewhere", 7, tlog_tiles::EMPTY_HASH)
                .unwrap_or_else(|e| panic!("{e}"));
        let note = signer.sign(&text).unwrap_or_else(|e| panic!("{e}"));
        let err = open(&note, &signer.verifier_key).err().unwrap_or_default();
        assert!(err.contains("is not the key's name"), "{err}");
    }
}
