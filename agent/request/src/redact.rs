//! Redacting secrets from tool inputs before they are stored in receipts or shown in
//! notifications. Receipts keep enough to review the action, never a usable credential.

use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// Largest string kept whole in a receipt; longer ones (file contents) are cut, with their
/// length and SHA-256 recorded so a reviewer can still match them.
const MAX_STRING: usize = 64 * 1024;

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Private key blocks.
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
        // Well-known token formats.
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",
        r"\bgithub_pat_[A-Za-z0-9_]{30,}\b",
        r"\bglpat-[A-Za-z0-9_\-]{20,}\b",
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b",
        r"\bsk-(ant-|proj-|live_|test_)?[A-Za-z0-9_\-]{20,}\b",
        r"\bAIza[0-9A-Za-z_\-]{35}\b",
        r"\bnpm_[A-Za-z0-9]{36}\b",
        r"\bpypi-[A-Za-z0-9_\-]{50,}\b",
        r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b",
        // Credentials in URLs: scheme://user:password@host
        r"(?i)(?P<keep>[a-z][a-z0-9+.\-]*://[^/\s:@]+:)[^@\s/]+(?P<keep2>@)",
        // Authorization headers.
        r"(?i)(?P<keep>authorization:\s*(bearer|basic|token)\s+)[^\s'\x22]+",
        // key=value and key: value assignments of secret-looking names.
        r#"(?i)(?P<keep>\b[a-z0-9_\-]*(password|passwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key)[a-z0-9_\-]*\s*[=:]\s*['"]?)[^\s'"&]{4,}"#,
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// Redact one string.
pub fn redact_str(text: &str) -> String {
    let mut out = text.to_string();
    for re in PATTERNS.iter() {
        if re.is_match(&out) {
            out = re
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let keep = caps.name("keep").map_or("", |m| m.as_str());
                    let keep2 = caps.name("keep2").map_or("", |m| m.as_str());
                    format!("{keep}[REDACTED]{keep2}")
                })
                .into_owned();
        }
    }
    out
}

/// Redact every string in a JSON value, cutting very long ones.
pub fn redact_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(clip(&redact_str(s))),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn clip(text: &str) -> String {
    if text.len() <= MAX_STRING {
        return text.to_string();
    }
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let mut end = MAX_STRING;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… cut by Airlock: {} bytes in all, sha256 {digest}]",
        &text[..end],
        text.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_common_secrets_and_keeps_context() {
        assert_eq!(
            redact_str("curl -H 'Authorization: Bearer abc.def.ghi' https://x"),
            "curl -H 'Authorization: Bearer [REDACTED]' https://x"
        );
        assert_eq!(
            redact_str("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            "export AWS_SECRET_ACCESS_KEY=[REDACTED]"
        );
        assert_eq!(
            redact_str("git clone https://bob:hunter2@example.com/r.git"),
            "git clone https://bob:[REDACTED]@example.com/r.git"
        );
        assert_eq!(
            redact_str("token ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
            "token [REDACTED]"
        );
        assert_eq!(
            redact_str("cargo test --workspace"),
            "cargo test --workspace"
        );
    }

    #[test]
    fn cuts_very_long_strings_with_their_digest() {
        let long = "a".repeat(MAX_STRING + 10);
        let out = redact_value(&Value::String(long));
        let text = out.as_str().unwrap();
        assert!(text.contains("cut by Airlock"));
        assert!(text.len() < MAX_STRING + 200);
    }
}
