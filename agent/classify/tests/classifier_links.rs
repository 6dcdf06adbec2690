//! Properties of path resolution, on random symbolic-link layouts made on disk.
//!
//! 1. Links are judged where they lead: every path through a random chain of links (absolute or
//!    relative targets, links to links, links in subdirectories, `..` after a link) gets the
//!    classes and the decision of the path it really reaches. Where it reaches is computed by this
//!    test's own model of the layout — never by `canonicalize` or the classifier's resolver.
//! 2. Look-alikes stay allowed: the same shapes of layout whose links all stay inside the
//!    workspace are routine, so over-blocking fails as well.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use airlock_classify::{Classifier, Env};
use airlock_policy::Policy;
use airlock_protocol::{ActionClass, Decision};
use airlock_request::ActionRequest;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Real directories links may lead to, each with the decisions the shipped policy gives
/// (Write of a new file in it, `cat` of a file in it, Write of a new file in its parent).
#[derive(Debug, Clone, Copy)]
struct Place {
    /// Relative to the home.
    dir: &'static str,
    write: Decision,
    read: Decision,
    write_in_parent: Decision,
    /// Created on disk (or a dangling link's target, to be created by the write).
    exists: bool,
}

const SECRET: Place = Place {
    dir: ".ssh/keyring",
    write: Decision::StepUp,
    read: Decision::Ask,
    write_in_parent: Decision::StepUp,
    exists: true,
};
const SECRET_MISSING: Place = Place {
    dir: ".ssh/not-yet",
    write: Decision::StepUp,
    read: Decision::Ask,
    write_in_parent: Decision::StepUp,
    exists: false,
};
const AIRLOCK: Place = Place {
    dir: ".config/airlock/policies",
    write: Decision::Deny,
    read: Decision::Allow,
    write_in_parent: Decision::Deny,
    exists: true,
};
const OUTSIDE: Place = Place {
    dir: "Documents/reports",
    write: Decision::Ask,
    read: Decision::Allow,
    write_in_parent: Decision::Ask,
    exists: true,
};
const INSIDE_SRC: Place = Place {
    dir: "project/src",
    write: Decision::Allow,
    read: Decision::Allow,
    write_in_parent: Decision::Allow,
    exists: true,
};
const INSIDE_BUILD: Place = Place {
    dir: "project/build/out",
    write: Decision::Allow,
    read: Decision::Allow,
    write_in_parent: Decision::Allow,
    exists: true,
};
const INSIDE_MISSING: Place = Place {
    dir: "project/gen/new",
    write: Decision::Allow,
    read: Decision::Allow,
    write_in_parent: Decision::Allow,
    exists: false,
};

const LEAVING: &[Place] = &[SECRET, SECRET_MISSING, AIRLOCK, OUTSIDE, INSIDE_SRC];
const STAYING: &[Place] = &[INSIDE_SRC, INSIDE_BUILD, INSIDE_MISSING];

/// Where links are made: the project's `lk/` (emptied for each layout) and a real directory
/// below it. Each has a real subdirectory `d` for detours (`d/../`).
const LINK_DIRS: &[&str] = &["project/lk", "project/lk/nest"];

/// What a link points to, as generated.
#[derive(Debug, Clone)]
enum Target {
    /// A place (index into the place list), spelled absolute or relative, with or without a
    /// detour through a real directory (`src/../`).
    Place {
        place: usize,
        absolute: bool,
        detour: bool,
    },
    /// An earlier link (index), spelled relative.
    Link(usize),
}

#[derive(Debug, Clone)]
struct LinkSpec {
    /// Index into [`LINK_DIRS`].
    dir: usize,
    target: Target,
}

/// A decision and the classes behind it.
type Outcome = (Decision, BTreeSet<ActionClass>);

/// One machine: a home with a git project, the places, and a classifier for it.
struct Machine {
    _dir: tempfile::TempDir,
    home: PathBuf,
    classifier: Classifier,
    policy: Policy,
}

impl Machine {
    fn new() -> Self {
        // Not under /tmp: that is scratch space, where everything counts as inside.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let home = dir.path().canonicalize().unwrap().join("home");
        for place in LEAVING.iter().chain(STAYING).filter(|p| p.exists) {
            std::fs::create_dir_all(home.join(place.dir)).unwrap();
        }
        std::fs::create_dir_all(home.join("project")).unwrap();
        let initialised = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(home.join("project"))
            .status()
            .expect("git runs");
        assert!(initialised.success());
        let env = Env {
            home: home.clone(),
            protected: vec![home.join(".config/airlock")],
        };
        Self {
            _dir: dir,
            home,
            classifier: Classifier::new(env).unwrap(),
            policy: Policy::load(&[
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
            ])
            .unwrap(),
        }
    }

    fn link_path(&self, index: usize, spec: &LinkSpec) -> PathBuf {
        self.home
            .join(LINK_DIRS[spec.dir])
            .join(format!("l{index}"))
    }

    /// Make the layout on disk (replacing the last one).
    fn lay_out(&self, places: &[Place], links: &[LinkSpec]) {
        let lk = self.home.join(LINK_DIRS[0]);
        let _ = std::fs::remove_dir_all(&lk);
        for dir in LINK_DIRS {
            std::fs::create_dir_all(self.home.join(dir).join("d")).unwrap();
        }
        for (i, spec) in links.iter().enumerate() {
            let text = self.target_text(places, links, i);
            std::os::unix::fs::symlink(text, self.link_path(i, spec)).unwrap();
        }
    }

    /// How link `i`'s target is written.
    fn target_text(&self, places: &[Place], links: &[LinkSpec], i: usize) -> PathBuf {
        let from = LINK_DIRS[links[i].dir];
        match &links[i].target {
            Target::Place {
                place,
                absolute: true,
                ..
            } => self.home.join(places[*place].dir),
            Target::Place {
                place,
                absolute: false,
                detour,
            } => {
                let rel = relative(from, places[*place].dir);
                if *detour {
                    // Into a real directory and back out of it: the same place.
                    PathBuf::from("d/..").join(rel)
                } else {
                    rel
                }
            }
            Target::Link(j) => relative(from, &format!("{}/l{j}", LINK_DIRS[links[*j].dir])),
        }
    }

    /// The model: the place link `i` leads to, following the generated chain.
    fn model_target(&self, places: &[Place], links: &[LinkSpec], i: usize) -> Place {
        match &links[i].target {
            Target::Place { place, .. } => places[*place],
            Target::Link(j) => self.model_target(places, links, *j),
        }
    }

    fn decide(&self, request: &ActionRequest) -> Outcome {
        let classification = self.classifier.classify(request);
        let decision = self.policy.evaluate(request, &classification).decision;
        (decision, classification.classes())
    }

    fn project(&self) -> PathBuf {
        self.home.join("project")
    }

    fn write(&self, path: &Path) -> Outcome {
        let request = ActionRequest::tool_call(
            "claude-code",
            self.project(),
            "Write",
            serde_json::json!({"file_path": path, "content": "x\n"}),
        );
        self.decide(&request)
    }

    fn bash(&self, command: &str) -> Outcome {
        self.decide(&ActionRequest::shell(
            "claude-code",
            self.project(),
            command,
        ))
    }
}

/// `to` relative to the directory `from` (both relative to the home, neither through a link).
fn relative(from: &str, to: &str) -> PathBuf {
    let from: Vec<&str> = from.split('/').collect();
    let to: Vec<&str> = to.split('/').collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    out
}

fn layout(places: usize) -> impl Strategy<Value = Vec<LinkSpec>> {
    prop::collection::vec(
        (
            0..LINK_DIRS.len(),
            0..places,
            any::<bool>(),
            any::<bool>(),
            any::<Option<prop::sample::Index>>(),
        ),
        1..6,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (dir, place, absolute, detour, chain))| {
                let target = match chain {
                    // A link to an earlier link makes a chain (never a loop).
                    Some(j) if i > 0 => Target::Link(j.index(i)),
                    _ => Target::Place {
                        place,
                        absolute,
                        detour,
                    },
                };
                LinkSpec { dir, target }
            })
            .collect()
    })
}

/// Every way the test reaches through each link, with what it must decide: the decision for the
/// place the model says, and exactly the classes of the same action on that place directly.
fn check(machine: &Machine, places: &[Place], links: &[LinkSpec]) -> Result<(), TestCaseError> {
    machine.lay_out(places, links);
    for (i, spec) in links.iter().enumerate() {
        let place = machine.model_target(places, links, i);
        let real = machine.home.join(place.dir);
        let link = machine.link_path(i, spec);
        let rel_link = link.strip_prefix(machine.project()).unwrap().to_path_buf();
        let layout = || {
            (0..links.len())
                .map(|k| {
                    format!(
                        "{} -> {}",
                        machine.link_path(k, &links[k]).display(),
                        machine.target_text(places, links, k).display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        // (what, through the link, on the model's target directly, the decision expected)
        let cases: [(String, Outcome, Outcome, Decision); 4] = [
            (
                format!("Write {}/data.txt", link.display()),
                machine.write(&link.join("data.txt")),
                machine.write(&real.join("data.txt")),
                place.write,
            ),
            (
                format!("cat {}/data.txt", rel_link.display()),
                machine.bash(&format!("cat {}/data.txt", rel_link.display())),
                machine.bash(&format!("cat {}/data.txt", real.display())),
                place.read,
            ),
            (
                // `..` after a link is the parent of where it leads, not of the link.
                format!("echo x > {}/../probe.txt", rel_link.display()),
                machine.bash(&format!("echo x > {}/../probe.txt", rel_link.display())),
                machine.bash(&format!(
                    "echo x > {}/probe.txt",
                    real.parent().unwrap().display()
                )),
                place.write_in_parent,
            ),
            (
                // A directory that does not exist yet, and `..` out of it: still where the
                // link leads.
                format!("Write {}/sub/../new.txt", link.display()),
                machine.write(&link.join("sub/../new.txt")),
                machine.write(&real.join("new.txt")),
                place.write,
            ),
        ];
        for (what, got, direct, expected) in cases {
            prop_assert_eq!(
                got.0,
                expected,
                "{} (model: {}) got {:?}\nlayout:\n{}",
                what,
                real.display(),
                got.1,
                layout()
            );
            prop_assert_eq!(
                &got.1,
                &direct.1,
                "{}: classes differ from the same action on {}\nlayout:\n{}",
                what,
                real.display(),
                layout()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn paths_through_links_are_judged_where_they_lead(links in layout(LEAVING.len())) {
        static MACHINE: std::sync::LazyLock<Machine> = std::sync::LazyLock::new(Machine::new);
        check(&MACHINE, LEAVING, &links)?;
    }

    #[test]
    fn links_that_stay_inside_stay_routine(links in layout(STAYING.len())) {
        static MACHINE: std::sync::LazyLock<Machine> = std::sync::LazyLock::new(Machine::new);
        check(&MACHINE, STAYING, &links)?;
        // Removing the links themselves is routine too, wherever they lead.
        for (i, spec) in links.iter().enumerate() {
            let rel = MACHINE
                .link_path(i, spec)
                .strip_prefix(MACHINE.project())
                .unwrap()
                .to_path_buf();
            let (decision, classes) = MACHINE.bash(&format!("rm {}", rel.display()));
            prop_assert_eq!(decision, Decision::Allow, "rm {}: {:?}", rel.display(), classes);
        }
    }
}

#[test]
fn removing_a_link_that_leaves_is_routine_and_following_it_is_not() {
    let machine = Machine::new();
    let links = [LinkSpec {
        dir: 0,
        target: Target::Place {
            place: 0,
            absolute: true,
            detour: false,
        },
    }];
    machine.lay_out(&[SECRET], &links);
    assert_eq!(machine.bash("rm lk/l0").0, Decision::Allow);
    assert_eq!(machine.bash("rm -rf lk/l0").0, Decision::Allow);
    assert_ne!(machine.bash("rm -rf lk/l0/").0, Decision::Allow);
}
