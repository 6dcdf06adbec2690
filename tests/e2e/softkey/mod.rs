//! Software security keys for tests (the `soft-authenticator` feature): a CTAP2 token saved in
//! a file the `airlock` binaries open through `AIRLOCK_SOFT_TOKEN`, and its attestation CA.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::support::Airlock;
use crypto_glue::traits::{EncodePem, LineEndingPem};
use std::path::{Path, PathBuf};
use webauthn_authenticator_rs::softtoken::SoftToken;

/// A software token saved in `dir/name.cbor`, and its attestation CA in `dir/name-ca.pem`.
pub fn soft_token(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (token, ca) = SoftToken::new(true).unwrap();
    let token_path = dir.join(format!("{name}.cbor"));
    std::fs::write(&token_path, token.to_cbor().unwrap()).unwrap();
    let ca_path = dir.join(format!("{name}-ca.pem"));
    std::fs::write(&ca_path, ca.to_pem(LineEndingPem::LF).unwrap()).unwrap();
    (token_path, ca_path)
}

/// Write `settings.toml` with these lines under `[step_up]`.
pub fn write_settings(airlock: &Airlock, step_up: &str) {
    let dir = airlock.home().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("settings.toml"), format!("[step_up]\n{step_up}\n")).unwrap();
}
