//! The classifier corpus (`tests/corpus/commands.toml`): hundreds of shell commands with the exact
//! set of action classes the classifier must find and the decision the shipped policy must reach.
//!
//! Half are bypass attempts (wrappers, nesting, quoting, interpreters, exfiltration, agent hooks,
//! Airlock's own state); half are ordinary development work, including dangerous-looking text that
//! is only data. Every failing entry is reported at once, with what was expected and what came
//! out, so one run shows everything that regressed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use airlock_classify::{Classifier, EXAMPLE_CWD, Env};
use airlock_policy::Policy;
use airlock_protocol::{ActionClass, Decision};
use airlock_request::ActionRequest;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CORPUS: &str = include_str!("corpus/commands.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// `bypass` or `ordinary`.
    kind: String,
    family: String,
    command: String,
    classes: Vec<String>,
    decision: String,
}

fn parse_decision(text: &str) -> Option<Decision> {
    [
        Decision::Allow,
        Decision::Ask,
        Decision::StepUp,
        Decision::Deny,
    ]
    .into_iter()
    .find(|d| d.as_str() == text)
}

fn corpus() -> Corpus {
    toml::from_str(CORPUS).expect("tests/corpus/commands.toml is not a valid corpus")
}

fn show(classes: &BTreeSet<ActionClass>) -> String {
    let names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
    format!("[{}]", names.join(", "))
}

#[test]
fn corpus_is_well_formed() {
    let corpus = corpus();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, case) in corpus.case.iter().enumerate() {
        let at = format!("case #{} `{}`", i + 1, case.command);
        if !seen.insert(case.command.as_str()) {
            problems.push(format!("{at}: listed twice"));
        }
        if !matches!(case.kind.as_str(), "bypass" | "ordinary") {
            problems.push(format!("{at}: kind must be `bypass` or `ordinary`"));
        }
        if case.family.trim().is_empty() {
            problems.push(format!("{at}: empty family"));
        }
        if parse_decision(&case.decision).is_none() {
            problems.push(format!("{at}: unknown decision `{}`", case.decision));
        }
        for class in &case.classes {
            if ActionClass::parse(class).is_none() {
                problems.push(format!("{at}: unknown class `{class}`"));
            }
        }
        if case.kind == "ordinary" && case.decision != "allow" {
            problems.push(format!("{at}: ordinary work must be allowed"));
        }
    }
    let total = corpus.case.len();
    let bypass = corpus.case.iter().filter(|c| c.kind == "bypass").count();
    assert!(total >= 400, "the corpus has only {total} commands");
    assert!(
        bypass * 2 >= total && (total - bypass) >= 200,
        "the corpus must be at least half bypass attempts and have 200 ordinary commands: {bypass} of {total} are bypass attempts"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_classes_and_decisions() {
    let corpus = corpus();
    let classifier = Classifier::new(Env::example()).unwrap();
    let policy =
        Policy::load(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")])
            .unwrap();
    let cwd = Path::new(EXAMPLE_CWD);

    let mut failures = Vec::new();
    let mut per_family: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for case in &corpus.case {
        let expected_classes: BTreeSet<ActionClass> = case
            .classes
            .iter()
            .filter_map(|c| ActionClass::parse(c))
            .collect();
        let expected_decision = parse_decision(&case.decision);

        let classification = classifier.classify_command(&case.command, cwd);
        let request =
            ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), &case.command);
        let evaluation = policy.evaluate(&request, &classification);
        let classes = classification.classes();

        let entry = per_family
            .entry((case.kind.as_str(), case.family.as_str()))
            .or_default();
        entry.0 += 1;
        let classes_ok = classes == expected_classes;
        let decision_ok = Some(evaluation.decision) == expected_decision;
        if classes_ok && decision_ok {
            continue;
        }
        entry.1 += 1;
        let mut report = format!(
            "[{} / {}] {}\n",
            case.kind,
            case.family,
            case.command.replace('\n', "\n        ")
        );
        if !decision_ok {
            let _ = writeln!(
                report,
                "    decision: expected {}, got {} ({})",
                case.decision, evaluation.decision, evaluation.reason
            );
        }
        if !classes_ok {
            let missing: BTreeSet<ActionClass> =
                expected_classes.difference(&classes).copied().collect();
            let extra: BTreeSet<ActionClass> =
                classes.difference(&expected_classes).copied().collect();
            let _ = writeln!(
                report,
                "    classes: expected {}, got {} (missing {}, unexpected {})",
                show(&expected_classes),
                show(&classes),
                show(&missing),
                show(&extra)
            );
        }
        for unit in &classification.units {
            let _ = writeln!(
                report,
                "      unit [{}] {:?}: {} (source: {})",
                unit.depth,
                unit.text,
                show(&unit.classes),
                unit.source
            );
        }
        failures.push(report);
    }

    if !failures.is_empty() {
        let mut summary = String::new();
        for ((kind, family), (count, failed)) in &per_family {
            if *failed > 0 {
                let _ = writeln!(summary, "  {kind}/{family}: {failed} of {count} failed");
            }
        }
        panic!(
            "{} of {} corpus entries failed:\n{summary}\n{}",
            failures.len(),
            corpus.case.len(),
            failures.join("\n")
        );
    }
}
