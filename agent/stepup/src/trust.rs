//! Which security keys may be registered: those whose attestation chains to a trusted vendor
//! root. Without this check any program can answer a registration ceremony with a key pair it
//! just made, and every later "touch" would prove nothing.

use airlock_client::settings::StepUpSettings;
use std::path::Path;
use webauthn_rs::prelude::AttestationCaList;

/// Vendor roots shipped with Airlock (see `agent/attestation/README.md`).
const SHIPPED: &[(&str, &str)] = &[
    (
        "yubico-u2f-root-ca-serial-457200631.pem",
        include_str!("../../attestation/yubico-u2f-root-ca-serial-457200631.pem"),
    ),
    (
        "nitrokey-fido2-root-ca.pem",
        include_str!("../../attestation/nitrokey-fido2-root-ca.pem"),
    ),
    (
        "nitrokey-u2f-root-ca.pem",
        include_str!("../../attestation/nitrokey-u2f-root-ca.pem"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(
        "cannot read attestation CA file `{path}` (listed in settings.toml [step_up] attestation_ca_files): {source}"
    )]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "attestation CA file `{path}` is not a PEM certificate ({message}); list PEM files in settings.toml [step_up] attestation_ca_files"
    )]
    Parse { path: String, message: String },
}

/// The CA list registrations are checked against, or `None` when attestation is off.
pub fn attestation_cas(settings: &StepUpSettings) -> Result<Option<AttestationCaList>, TrustError> {
    if !settings.require_attestation {
        return Ok(None);
    }
    let mut list = AttestationCaList::default();
    for (name, pem) in SHIPPED {
        list.union(&parse(name, pem.as_bytes())?);
    }
    for path in &settings.attestation_ca_files {
        let bytes = std::fs::read(path).map_err(|source| TrustError::Read {
            path: path.display().to_string(),
            source,
        })?;
        list.union(&parse(&path.display().to_string(), &bytes)?);
    }
    Ok(Some(list))
}

fn parse(name: &str, pem: &[u8]) -> Result<AttestationCaList, TrustError> {
    AttestationCaList::try_from(pem).map_err(|e| TrustError::Parse {
        path: name.to_string(),
        message: e.to_string(),
    })
}

/// For messages: where extra roots come from.
pub fn describe(settings: &StepUpSettings, settings_file: &Path) -> String {
    if settings.require_attestation {
        format!(
            "{} shipped vendor roots and {} from `{}`",
            SHIPPED.len(),
            settings.attestation_ca_files.len(),
            settings_file.display()
        )
    } else {
        "attestation is OFF: any authenticator is accepted".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_roots_parse() {
        let list = attestation_cas(&StepUpSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(list.len(), SHIPPED.len());
    }

    #[test]
    fn a_bad_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vendor.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let settings = StepUpSettings {
            attestation_ca_files: vec![path.clone()],
            ..Default::default()
        };
        let err = attestation_cas(&settings).unwrap_err().to_string();
        assert!(err.contains("vendor.pem"), "{err}");
    }
}
