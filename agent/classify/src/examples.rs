//! The program knowledge base's examples, checked when a classifier is built, like policy
//! examples: each entry shows a command using it and the classes it must get, so an edit to the
//! data that changes what an entry means fails at load, naming the entry and its example. They
//! are judged as on a machine with no files (`airlock_userfs::with_no_files`): what they mean
//! cannot depend on the machine, so nothing planted on it can stop the daemon from starting.

use crate::kb::{KbExample, KnowledgeBase};
use crate::{Classifier, ClassifierError, EXAMPLE_CWD, Env};
use airlock_protocol::ActionClass;
use airlock_request::ActionRequest;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Why an example does not hold.
#[derive(Debug, thiserror::Error)]
#[error(
    "knowledge-base entry `{entry}`: its example `{command}` is classified as [{got}], not [{expected}]{tags}; fix the entry or its example"
)]
pub struct ExampleError {
    pub entry: String,
    pub command: String,
    pub expected: String,
    pub got: String,
    /// The tags it lacks, if any.
    pub tags: String,
}

fn named(names: &[String]) -> &str {
    names.first().map_or("", String::as_str)
}

/// Every entry's examples, each the entry's first name and the example.
pub fn all(kb: &KnowledgeBase) -> Vec<(&str, &KbExample)> {
    let mut out = Vec::new();
    for w in &kb.wrappers {
        out.extend(w.examples.iter().map(|e| (named(&w.names), e)));
    }
    for s in &kb.shells {
        out.extend(s.examples.iter().map(|e| (named(&s.names), e)));
    }
    for i in &kb.interpreters {
        out.extend(i.examples.iter().map(|e| (named(&i.names), e)));
    }
    for p in &kb.programs {
        out.extend(p.examples.iter().map(|e| (named(&p.names), e)));
        for sub in &p.subs {
            out.extend(sub.examples.iter().map(|e| (named(&p.names), e)));
        }
    }
    out
}

/// Classify every example in the examples' environment; the first that does not hold is the
/// error.
pub fn check(kb: &KnowledgeBase) -> Result<(), ClassifierError> {
    let examples = all(kb);
    if examples.is_empty() {
        return Ok(());
    }
    let classifier = Classifier::unchecked(kb.clone(), Env::example())?;
    for (entry, example) in examples {
        let request =
            ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), &example.command);
        let classification = airlock_userfs::with_no_files(|| classifier.classify(&request));
        let got = classification.classes();
        let expected: BTreeSet<ActionClass> = example.classes.iter().copied().collect();
        let tags: BTreeSet<&String> = classification
            .units
            .iter()
            .flat_map(|u| u.tags.iter())
            .collect();
        let missing: Vec<&str> = example
            .tags
            .iter()
            .filter(|t| !tags.contains(t))
            .map(String::as_str)
            .collect();
        if got != expected || !missing.is_empty() {
            let list = |classes: &BTreeSet<ActionClass>| {
                classes
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ExampleError {
                entry: entry.to_string(),
                command: example.command.clone(),
                expected: list(&expected),
                got: list(&got),
                tags: if missing.is_empty() {
                    String::new()
                } else {
                    format!(" and lacks the tags {}", missing.join(", "))
                },
            }
            .into());
        }
    }
    Ok(())
}
