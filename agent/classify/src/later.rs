//! Files that run later by themselves: writing one is judged by what it will run.
//!
//! direnv runs `.envrc` when a shell enters the directory; npm runs a package's lifecycle
//! scripts on the next install; pre-commit, devcontainers, user units and autostart entries run
//! what they name at some later moment, with no decision of Airlock's in between. Which files
//! these are is knowledge-base data (`[[runs_later]]`). When the content being written is known
//! (the Write and Edit tools) and is something Airlock reads (a shell script, package.json
//! lifecycle scripts), what it will run is classified as nested units; otherwise the write is at
//! least `access.change`.

use super::kb::{RunsLater, RunsLaterSpec};
use super::paths::compile_set;
use super::recipes;
use super::{ClassifierError, Env, Unit};
use airlock_protocol::ActionClass;
use globset::GlobSet;
use std::path::Path;

/// Tag on a unit that writes a file something runs later by itself.
pub const TAG_RUNS_LATER: &str = "runs-later";

#[derive(Debug)]
pub(crate) struct LaterKnowledge {
    specs: Vec<RunsLaterSpec>,
    sets: Vec<GlobSet>,
}

/// What writing a file that runs later needs classified.
pub(crate) enum Later {
    /// Shell command lines it will run, each to be classified as a nested unit.
    Runs(Vec<String>),
    /// What it will run cannot be read: an access change, with the reason.
    Opaque(String),
}

impl LaterKnowledge {
    pub fn compile(specs: &[RunsLaterSpec], env: &Env) -> Result<Self, ClassifierError> {
        // The same patterns as path knowledge: `~` expanded, and also where their fixed
        // directories resolve to (`~/.config` may be a link).
        let sets = specs
            .iter()
            .map(|spec| compile_set(&spec.paths, &env.home))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            specs: specs.to_vec(),
            sets,
        })
    }

    /// When writing `path` (with `content`, if known) sets up something that runs later: what.
    pub fn check(&self, path: &Path, content: Option<&str>) -> Option<Later> {
        let index = self.sets.iter().position(|set| set.is_match(path))?;
        let spec = &self.specs[index];
        let opaque = |why: &str| {
            Later::Opaque(format!(
                "{}: {} (what it will run cannot be read here)",
                path.display(),
                why
            ))
        };
        Some(match (spec.runs, content) {
            (RunsLater::Opaque, _) | (_, None) => opaque(&spec.why),
            (RunsLater::Shell, Some(text)) => Later::Runs(vec![text.to_string()]),
            (RunsLater::PackageLifecycle, Some(text)) => {
                match recipes::package_scripts(text, &spec.scripts) {
                    Ok(scripts) => Later::Runs(scripts),
                    Err(e) => opaque(&format!("{} — the new content {e}", spec.why)),
                }
            }
        })
    }
}

/// Mark `unit` as writing a file that runs later; returns the command lines to classify.
pub(crate) fn mark(unit: &mut Unit, later: Later) -> Vec<String> {
    unit.tags.insert(TAG_RUNS_LATER.to_string());
    match later {
        Later::Runs(lines) => lines,
        Later::Opaque(why) => {
            unit.classes.insert(ActionClass::AccessChange);
            unit.source = format!("writes a file that runs later by itself: {why}");
            Vec::new()
        }
    }
}
