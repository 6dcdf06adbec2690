//! Routes around classification: cases that only mean something against real files — scripts
//! that are run, package.json scripts, Makefiles, symlinks, a workspace at `~` — checked against
//! a fixture laid out on disk for the test (`tests/corpus/routes/fixture*.toml`), with the shipped
//! policy.
//!
//! Each other `tests/corpus/routes/*.toml` holds `[[case]]` entries:
//! - `kind`: `bypass` (an attempt to get something dangerous allowed) or `ordinary` (a harmless
//!   look-alike that must stay allowed);
//! - `family`: which route it belongs to;
//! - either `command` (a Bash tool call) or `tool` with `input` (any other tool call), where a
//!   path starting with `~/` is under the fixture's home and a relative one under `cwd`;
//! - `cwd`: the working directory, relative to the fixture's home (default `project`);
//! - `decision`: the exact decision the shipped policy must reach;
//! - `classes`: optional, the exact set of classes;
//! - `note`: optional, why (for instance where Airlock disagrees with a public corpus's label).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use airlock_classify::{Classifier, Env};
use airlock_policy::Policy;
use airlock_protocol::{ActionClass, Decision};
use airlock_request::ActionRequest;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/routes")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureSpec {
    #[serde(default)]
    dir: Vec<DirSpec>,
    #[serde(default)]
    file: Vec<FileSpec>,
    #[serde(default)]
    link: Vec<LinkSpec>,
    #[serde(default)]
    commit: Vec<CommitSpec>,
}

/// A commit in a real git repository of the fixture (made with the git CLI): on `main`, or on
/// a branch made from `main`, or kept as a stash.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitSpec {
    repo: String,
    branch: String,
    files: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    stash: bool,
    /// Written after the commit, left uncommitted: work git does not have.
    #[serde(default)]
    uncommitted: std::collections::BTreeMap<String, String>,
    /// The branch this commit starts from (default `main`).
    #[serde(default)]
    parent: Option<String>,
    /// Paths this commit deletes.
    #[serde(default)]
    removed: Vec<String>,
    /// Written and staged after the commit (before `uncommitted`): what the index holds.
    #[serde(default)]
    staged: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirSpec {
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    path: String,
    content: String,
    /// The content this many times over (large files without a large fixture).
    repeat: Option<usize>,
    #[serde(default)]
    executable: bool,
    /// Mode 0600, as keys and credential files are.
    #[serde(default)]
    private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkSpec {
    path: String,
    /// Where the link points; `~/` is the fixture's home. Written as given otherwise
    /// (relative targets stay relative).
    target: String,
    /// A hard link to the (existing) file `target` instead of a symbolic link.
    #[serde(default)]
    hard: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    kind: String,
    family: String,
    command: Option<String>,
    tool: Option<String>,
    input: Option<toml::Value>,
    cwd: Option<String>,
    decision: String,
    classes: Option<Vec<String>>,
    #[allow(dead_code)]
    note: Option<String>,
}

/// The fixture on disk: a home with a git workspace `project`, and Airlock's own directories.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub home: PathBuf,
}

impl Fixture {
    pub fn build() -> Self {
        // Not under /tmp: that is scratch space, where everything counts as the agent's own.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        // Canonical, so that the fixture's own paths never go through a link (`/tmp` may be one).
        let home = dir.path().canonicalize().unwrap().join("home");
        let mut spec = FixtureSpec {
            dir: Vec::new(),
            file: Vec::new(),
            link: Vec::new(),
            commit: Vec::new(),
        };
        for path in corpus_files(true) {
            let text = std::fs::read_to_string(&path).unwrap();
            let part: FixtureSpec =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            spec.dir.extend(part.dir);
            spec.file.extend(part.file);
            spec.link.extend(part.link);
            spec.commit.extend(part.commit);
        }
        let expand = |p: &str| -> PathBuf {
            match p.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => home.join(p),
            }
        };
        for d in &spec.dir {
            std::fs::create_dir_all(expand(&d.path)).unwrap();
        }
        for f in &spec.file {
            let path = expand(&f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, f.content.repeat(f.repeat.unwrap_or(1))).unwrap();
            use std::os::unix::fs::PermissionsExt;
            if f.executable {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            if f.private {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
        for l in &spec.link {
            let path = expand(&l.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let target = match l.target.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => PathBuf::from(&l.target),
            };
            if l.hard {
                std::fs::hard_link(target, &path).unwrap();
            } else {
                std::os::unix::fs::symlink(target, &path).unwrap();
            }
        }
        for c in &spec.commit {
            let repo = expand(&c.repo);
            if !repo.join(".git/HEAD").exists() {
                std::fs::create_dir_all(&repo).unwrap();
                git(&repo, &["init", "-q", "-b", "main"]);
                git(&repo, &["commit", "-q", "--allow-empty", "-m", "root"]);
            }
            let base = if c.branch == "main" || c.stash {
                "main"
            } else {
                &c.branch
            };
            let start = c.parent.as_deref().unwrap_or("main");
            git(&repo, &["checkout", "-q", "-B", base, start]);
            for (path, content) in &c.files {
                let file = repo.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, content).unwrap();
            }
            for path in &c.removed {
                std::fs::remove_file(repo.join(path)).unwrap();
            }
            git(&repo, &["add", "-A"]);
            if c.stash {
                git(&repo, &["stash", "-q"]);
            } else {
                git(&repo, &["commit", "-q", "-m", &c.branch]);
            }
            git(&repo, &["checkout", "-q", "main"]);
            for (path, content) in &c.staged {
                let file = repo.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, content).unwrap();
                git(&repo, &["add", "--", path]);
            }
            for (path, content) in &c.uncommitted {
                let file = repo.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, content).unwrap();
            }
        }
        Self { _dir: dir, home }
    }

    pub fn env(&self) -> Env {
        Env {
            home: self.home.clone(),
            protected: vec![
                self.home.join(".local/share/airlock"),
                self.home.join(".config/airlock"),
            ],
        }
    }

    fn path_in(&self, cwd: &Path, text: &str) -> String {
        let path = match text.strip_prefix("~/") {
            Some(rest) => self.home.join(rest),
            None if text.starts_with('/') => PathBuf::from(text),
            None => cwd.join(text),
        };
        path.to_string_lossy().into_owned()
    }

    /// The request a case describes.
    fn request(&self, case: &Case) -> ActionRequest {
        let cwd = self.home.join(case.cwd.as_deref().unwrap_or("project"));
        if let Some(command) = &case.command {
            return ActionRequest::shell("claude-code", cwd, command);
        }
        let tool = case.tool.clone().expect("a case needs `command` or `tool`");
        let mut input: serde_json::Value = serde_json::to_value(
            case.input
                .clone()
                .unwrap_or(toml::Value::Table(Default::default())),
        )
        .unwrap();
        for key in ["file_path", "path", "notebook_path"] {
            if let Some(p) = input.get(key).and_then(|v| v.as_str()).map(str::to_string) {
                input[key] = serde_json::Value::String(self.path_in(&cwd, &p));
            }
        }
        ActionRequest::tool_call("claude-code", cwd, &tool, input)
    }
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

fn show(classes: &BTreeSet<ActionClass>) -> String {
    let names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
    format!("[{}]", names.join(", "))
}

/// The fixture files (`fixture*.toml`) or the case files (every other `.toml`), sorted.
fn corpus_files(fixtures: bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("fixture") == fixtures)
        })
        .collect();
    files.sort();
    files
}

/// Runs the git CLI to build a fixture repository, with no user or system configuration and
/// no hooks.
fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=fixture",
            "-c",
            "user.email=fixture@example.com",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "commit.gpgSign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap_or_else(|e| panic!("the route fixture needs the git CLI: {e}"));
    assert!(status.success(), "git {args:?} in {}", dir.display());
}

/// Every case file, by name.
fn case_files() -> Vec<(String, Vec<Case>)> {
    corpus_files(false)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let cases: Cases =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                cases.case,
            )
        })
        .collect()
}

#[test]
fn route_cases_decide_as_expected() {
    let fixture = Fixture::build();
    let classifier = Classifier::new(fixture.env()).unwrap();
    let policy =
        Policy::load(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")])
            .unwrap();
    let mut failures = Vec::new();
    let mut per_family: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut total = 0;
    for (file, cases) in case_files() {
        for case in &cases {
            total += 1;
            let what = case.command.clone().unwrap_or_else(|| {
                format!("{} {:?}", case.tool.as_deref().unwrap_or("?"), case.input)
            });
            assert!(
                matches!(case.kind.as_str(), "bypass" | "ordinary"),
                "{file}: `{what}`: kind must be bypass or ordinary"
            );
            let expected = parse_decision(&case.decision)
                .unwrap_or_else(|| panic!("{file}: `{what}`: unknown decision"));
            assert!(
                case.kind != "ordinary" || expected == Decision::Allow,
                "{file}: `{what}`: an ordinary case must be allowed"
            );
            let request = fixture.request(case);
            let classification = classifier.classify(&request);
            let evaluation = policy.evaluate(&request, &classification);
            let classes = classification.classes();
            let entry = per_family
                .entry((case.kind.clone(), case.family.clone()))
                .or_default();
            entry.0 += 1;
            let decision_ok = evaluation.decision == expected;
            let expected_classes: Option<BTreeSet<ActionClass>> =
                case.classes.as_ref().map(|list| {
                    list.iter()
                        .map(|c| {
                            ActionClass::parse(c)
                                .unwrap_or_else(|| panic!("{file}: `{what}`: unknown class {c}"))
                        })
                        .collect()
                });
            let classes_ok = expected_classes.as_ref().is_none_or(|e| *e == classes);
            if decision_ok && classes_ok {
                continue;
            }
            entry.1 += 1;
            let mut report = format!("[{file} {} / {}] {what}\n", case.kind, case.family);
            if !decision_ok {
                let _ = writeln!(
                    report,
                    "    decision: expected {}, got {} ({})",
                    case.decision, evaluation.decision, evaluation.reason
                );
            }
            if let (false, Some(expected)) = (classes_ok, &expected_classes) {
                let _ = writeln!(
                    report,
                    "    classes: expected {}, got {}",
                    show(expected),
                    show(&classes)
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
    }
    assert!(total > 0, "no route cases found");
    if !failures.is_empty() {
        let mut summary = String::new();
        for ((kind, family), (count, failed)) in &per_family {
            if *failed > 0 {
                let _ = writeln!(summary, "  {kind}/{family}: {failed} of {count} failed");
            }
        }
        panic!(
            "{} of {total} route cases failed:\n{summary}\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    let mut counts = String::new();
    for ((kind, family), (count, _)) in &per_family {
        let _ = writeln!(counts, "  {kind}/{family}: {count}");
    }
    println!("{total} route cases passed:\n{counts}");
}
