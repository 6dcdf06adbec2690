//! Unit tests of the code analysis: each construct, each capability, harmless code.
#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::LazyLock;

static ANALYZER: LazyLock<CodeAnalyzer> = LazyLock::new(|| CodeAnalyzer::builtin().unwrap());

fn caps(language: Language, code: &str) -> BTreeSet<Capability> {
    ANALYZER
        .analyze(language, code, None, &mut NoFiles)
        .capabilities()
}

fn py(code: &str) -> BTreeSet<Capability> {
    caps(Language::Python, code)
}

fn js(code: &str) -> BTreeSet<Capability> {
    caps(Language::Javascript, code)
}

#[test]
fn builtin_code_knowledge_loads_and_its_examples_hold() {
    CodeAnalyzer::builtin().unwrap();
}

/// `AIRLOCK_CODE='…' AIRLOCK_LANG=python cargo test … show_code -- --ignored --nocapture`
#[test]
#[ignore = "a tool for looking at what the analysis finds"]
fn show_code() {
    let code = std::env::var("AIRLOCK_CODE").unwrap_or_default();
    let language = match std::env::var("AIRLOCK_LANG").as_deref() {
        Ok("js") | Ok("javascript") => Language::Javascript,
        Ok("ts") | Ok("typescript") => Language::Typescript,
        _ => Language::Python,
    };
    let report = ANALYZER.analyze(language, &code, None, &mut NoFiles);
    for e in &report.effects {
        println!("{e:?}");
    }
    println!("literals: {:?}", report.literals);
}
