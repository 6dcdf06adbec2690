//! Properties of the routes around classification, each paired with a look-alike property so
//! that over-blocking fails as well as under-blocking:
//!
//! 1. Every executing form the knowledge base knows — environment variables that name a
//!    command or a shell file, options whose value is a command, shells and interpreters
//!    running a file, task runners running a recipe — generated from the knowledge-base tables
//!    (so a new entry is covered without touching this test), around a destructive command is
//!    never allowed; around a harmless one it is decided as the program is without it.
//! 2. Random parameter-expansion operators on a program or a path word are never allowed; on a
//!    plain argument (`echo …`) they stay allowed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use airlock_classify::kb::{ArgRole, EnvValue, KnowledgeBase, ProgramSpec, RunsFrom};
use airlock_classify::{Classifier, Env};
use airlock_policy::Policy;
use airlock_protocol::Decision;
use airlock_request::ActionRequest;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::LazyLock;

const DESTRUCTIVE: &str = "rm -rf ~";
const HARMLESS: &str = "cargo test";

/// A workspace on disk with one harmless and one destructive version of every file a command
/// may run: `ok/` holds the harmless ones, `bad/` the destructive ones.
struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    classifier: Classifier,
    policy: Policy,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // Not under /tmp, which is scratch space.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let home = dir.path().canonicalize().unwrap().join("home");
    for (sub, command) in [("ok", HARMLESS), ("bad", DESTRUCTIVE)] {
        let ws = home.join("project").join(sub);
        std::fs::create_dir_all(ws.join(".git")).unwrap();
        std::fs::write(ws.join("run.sh"), format!("#!/bin/sh\n{command}\n")).unwrap();
        std::fs::write(ws.join("Makefile"), format!("go:\n\t{command}\n")).unwrap();
        std::fs::write(ws.join("justfile"), format!("go:\n    {command}\n")).unwrap();
        let scripts: serde_json::Map<String, serde_json::Value> = lifecycle_names()
            .into_iter()
            .chain(["go".to_string()])
            .map(|n| (n, serde_json::Value::String(command.to_string())))
            .collect();
        std::fs::write(
            ws.join("package.json"),
            serde_json::json!({"name": "p", "scripts": scripts}).to_string(),
        )
        .unwrap();
    }
    let env = Env {
        home: home.clone(),
        protected: vec![home.join(".local/share/airlock")],
    };
    Fixture {
        _dir: dir,
        home,
        classifier: Classifier::new(env).unwrap(),
        policy: Policy::load(&[
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
        ])
        .unwrap(),
    }
});

fn kb() -> KnowledgeBase {
    KnowledgeBase::builtin().unwrap()
}

/// Every script name any `runs = "package-scripts"` entry runs.
fn lifecycle_names() -> Vec<String> {
    let mut names = Vec::new();
    walk_programs(&kb().programs, &mut |_, spec| {
        names.extend(spec.scripts.clone())
    });
    names.sort();
    names.dedup();
    names
}

/// Visit every program entry and sub-command with the words that reach it (`npm run`).
fn walk_programs(programs: &[ProgramSpec], visit: &mut dyn FnMut(&[String], &ProgramSpec)) {
    fn walk(prefix: &[String], spec: &ProgramSpec, visit: &mut dyn FnMut(&[String], &ProgramSpec)) {
        visit(prefix, spec);
        for sub in &spec.subs {
            let mut words = prefix.to_vec();
            words.push(sub.names[0].clone());
            walk(&words, sub, visit);
        }
    }
    for spec in programs {
        walk(std::slice::from_ref(&spec.names[0]), spec, visit);
    }
}

fn decide_in(sub: &str, command: &str) -> Decision {
    let fx = &*FIXTURE;
    let cwd = fx.home.join("project").join(sub);
    let request = ActionRequest::shell("claude-code", cwd, command);
    let classification = fx.classifier.classify(&request);
    fx.policy.evaluate(&request, &classification).decision
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// An executing form: a command line with `{}` where the command (or the file running it)
/// goes, and the form without it (how the program is decided on its own).
struct Form {
    with: String,
    without: String,
}

/// Every executing form, generated from the knowledge base.
fn executing_forms() -> Vec<Form> {
    let kb = kb();
    let mut forms = Vec::new();
    for var in &kb.env_vars {
        for name in &var.names {
            let name = name.replace('*', "X");
            match var.value {
                EnvValue::Command => forms.push(Form {
                    with: format!("{name}={{CMD}} true"),
                    without: "true".into(),
                }),
                EnvValue::ShellFile => forms.push(Form {
                    with: format!("{name}=run.sh bash -c true"),
                    without: "bash -c true".into(),
                }),
                EnvValue::ProgramPath | EnvValue::Unknown => {}
            }
        }
    }
    walk_programs(&kb.programs, &mut |words, spec| {
        let program = words.join(" ");
        for flag in &spec.flags {
            if flag.value != Some(ArgRole::Script) {
                continue;
            }
            // The value that reaches the command: each `values` pattern (its last `*` is the
            // command, the others any name), or just the separator before it.
            let prefixes: Vec<String> = if flag.values.is_empty() {
                vec![flag.value_after.clone().unwrap_or_default()]
            } else {
                flag.values
                    .iter()
                    .map(|glob| {
                        let cut = glob.rfind('*').unwrap_or(glob.len());
                        glob[..cut].replace('*', "x")
                    })
                    .collect()
            };
            let options = flag
                .flags
                .iter()
                .filter(|f| f.starts_with('-') && *f != "--");
            for option in options {
                for prefix in &prefixes {
                    forms.push(Form {
                        with: format!("{program} {option} {{CMD:{prefix}}}"),
                        without: program.clone(),
                    });
                }
            }
        }
        if let Some(n) = spec.command_positional {
            let args = vec!["host.example"; n + spec.skip_positionals].join(" ");
            forms.push(Form {
                with: format!("{program} {args} {{CMD}}"),
                without: format!("{program} {args}"),
            });
        }
        match spec.runs {
            Some(RunsFrom::PackageScript) => forms.push(Form {
                with: format!("{program} go"),
                without: String::new(),
            }),
            Some(RunsFrom::PackageScripts) | Some(RunsFrom::Make) | Some(RunsFrom::Just) => {
                let target = if spec.runs == Some(RunsFrom::PackageScripts) {
                    ""
                } else {
                    " go"
                };
                forms.push(Form {
                    with: format!("{program}{target}"),
                    without: String::new(),
                })
            }
            None => {}
        }
    });
    for shell in &kb.shells {
        for name in &shell.names {
            forms.push(Form {
                with: format!("{name} run.sh"),
                without: String::new(),
            });
            forms.push(Form {
                with: format!("{name} < run.sh"),
                without: String::new(),
            });
        }
    }
    forms.push(Form {
        with: "./run.sh".into(),
        without: String::new(),
    });
    forms
}

/// The form with `command` in place, in its workspace.
fn fill(form: &str, command: &str) -> String {
    let mut out = form.to_string();
    while let Some(start) = out.find("{CMD") {
        let end = start + out[start..].find('}').unwrap();
        let prefix = out[start + 4..end].trim_start_matches(':').to_string();
        out.replace_range(start..=end, &quote(&format!("{prefix}{command}")));
    }
    out
}

#[test]
fn the_knowledge_base_has_executing_forms_of_every_kind() {
    let forms = executing_forms();
    assert!(forms.len() > 60, "only {} executing forms", forms.len());
    for needle in [
        "GIT_SSH_COMMAND=",
        "BASH_ENV=",
        "--checkpoint-action",
        "trap",
        "make go",
    ] {
        assert!(
            forms.iter().any(|f| f.with.contains(needle)),
            "no form with {needle}"
        );
    }
}

#[test]
fn every_executing_form_around_a_destructive_command_is_never_allowed() {
    let mut failures = Vec::new();
    for form in executing_forms() {
        let command = fill(&form.with, DESTRUCTIVE);
        let decision = decide_in("bad", &command);
        if decision == Decision::Allow {
            failures.push(command);
        }
    }
    assert!(
        failures.is_empty(),
        "{} executing forms allowed a destructive command:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_executing_form_around_a_harmless_command_is_decided_as_the_program_alone() {
    let mut failures = Vec::new();
    for form in executing_forms() {
        let command = fill(&form.with, HARMLESS);
        let got = decide_in("ok", &command);
        // A form that is only its runner (`npm run go`) must be allowed; one with a program of
        // its own is decided as that program is without the command.
        let expected = if form.without.is_empty() {
            Decision::Allow
        } else {
            decide_in("ok", &form.without).max(decide_in("ok", HARMLESS))
        };
        if got != expected {
            failures.push(format!("{command}: {got}, expected {expected}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} executing forms over-block a harmless command:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Parameter-expansion operators, with `X` for the variable.
fn expansion() -> impl Strategy<Value = String> {
    prop_oneof![
        operator_expansion(),
        variable().prop_map(|v| format!("${{!{v}}}")),
    ]
}

fn variable() -> impl Strategy<Value = &'static str> + Clone {
    prop::sample::select(vec!["PWD", "HOME", "X", "PATH", "USER", "1"])
}

/// Expansions with an operator, and lengths; not indirections (`${!X}`), which read X's value
/// as a name — a name such as `a[$(cmd)]` runs the substitution, so an unknown X is unknown even
/// in a plain argument.
fn operator_expansion() -> impl Strategy<Value = String> {
    let var = variable();
    let operand = "[a-z/~.*]{0,6}";
    let op = prop_oneof![
        (0u8..5, 0u8..5).prop_map(|(a, b)| format!(":{a}:{b}")),
        (0u8..5).prop_map(|a| format!(":{a}")),
        operand.prop_map(|o| format!("#{o}")),
        operand.prop_map(|o| format!("##{o}")),
        operand.prop_map(|o| format!("%{o}")),
        operand.prop_map(|o| format!("%%{o}")),
        (operand, operand).prop_map(|(a, b)| format!("/{a}/{b}")),
        (operand, operand).prop_map(|(a, b)| format!("//{a}/{b}")),
        Just("^".to_string()),
        Just("^^".to_string()),
        Just(",".to_string()),
        Just(",,".to_string()),
        // (Not `@P`: prompt expansion runs command substitutions in the value, so it is
        // unknown even in a plain argument.)
        prop::sample::select(vec!["@Q", "@E", "@U", "@L"]).prop_map(str::to_string),
        operand.prop_map(|o| format!(":-{o}")),
        operand.prop_map(|o| format!(":={o}")),
        operand.prop_map(|o| format!(":+{o}")),
        operand.prop_map(|o| format!(":?{o}")),
        operand.prop_map(|o| format!("-{o}")),
    ];
    prop_oneof![
        (var.clone(), op).prop_map(|(v, o)| format!("${{{v}{o}}}")),
        var.prop_map(|v| format!("${{#{v}}}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("AIRLOCK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    /// In a program or a path position, an expansion with an operator is never allowed.
    #[test]
    fn expansion_operators_in_program_or_path_words_are_never_allowed(
        e in expansion(),
        form in prop::sample::select(vec![
            "{E}rm -rf ~", "{E} -rf ~", "rm -rf {E}", "rm -rf {E}/x", "cat {E}/.ssh/id_rsa",
            "chmod -R 777 {E}", "echo x > {E}/.bashrc", "bash {E}/run.sh", "cp -r {E} /tmp/k",
            "{E}/run.sh",
        ]),
    ) {
        let command = form.replace("{E}", &e);
        prop_assert_ne!(decide_in("ok", &command), Decision::Allow, "{}", command);
    }

    /// As a plain argument (text, not a program or a path) the same expansions stay allowed.
    #[test]
    fn expansion_operators_in_plain_arguments_stay_allowed(
        e in operator_expansion(),
        form in prop::sample::select(vec![
            "echo {E}", "echo \"{E}\"", "printf '%s\\n' \"{E}\"", "echo \"value: {E}\"",
            "git commit -m \"{E}\"", "test -n \"{E}\"",
        ]),
    ) {
        let command = form.replace("{E}", &e);
        prop_assert_eq!(decide_in("ok", &command), Decision::Allow, "{}", command);
    }
}
