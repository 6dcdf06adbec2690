//! A rule compiled for matching: globs built once at load, never on the decision path.

use super::file::{PathScope, RuleSpec};
use airlock_classify::Unit;
use airlock_protocol::{ActionClass, Decision, ToolKind};
use airlock_request::ActionRequest;
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct CompiledRule {
    pub id: String,
    pub decision: Decision,
    pub justification: String,
    pub source: PathBuf,
    pub spec: RuleSpec,
    classes: Option<Vec<ActionClass>>,
    /// `tools` entries that are exactly a kind (`shell`, `web_fetch`): every agent's calls of it.
    tool_kinds: Vec<ToolKind>,
    /// The other `tools` entries: globs over the agent's own tool name and the MCP name, as
    /// before the shared vocabulary (a glob never matches a kind's name: `*fetch*` written for
    /// an MCP server must not start to cover web fetches).
    tools: Option<GlobSet>,
    agents: Vec<String>,
    programs: Option<GlobSet>,
    commands: Vec<Vec<GlobMatcher>>,
    paths: Option<GlobSet>,
    path_scope: Option<PathScope>,
    hosts: Vec<String>,
    tags: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("unknown action class `{0}` (run `airlock policy classes` for the list)")]
    UnknownClass(String),
    #[error("invalid glob `{pattern}`: {message}")]
    Glob { pattern: String, message: String },
    #[error("cannot split command `{0}` into words (check its quotes)")]
    Command(String),
    #[error("rule id must not be empty")]
    EmptyId,
    #[error("justification must not be empty: say why the rule exists")]
    EmptyJustification,
}

impl CompiledRule {
    pub fn compile(spec: RuleSpec, source: &Path, home: &Path) -> Result<Self, RuleError> {
        if spec.id.trim().is_empty() {
            return Err(RuleError::EmptyId);
        }
        if spec.justification.trim().is_empty() {
            return Err(RuleError::EmptyJustification);
        }
        let classes = if spec.classes.is_empty() {
            None
        } else {
            let mut out = Vec::new();
            for pattern in &spec.classes {
                let matched = expand_class_pattern(pattern);
                if matched.is_empty() {
                    return Err(RuleError::UnknownClass(pattern.clone()));
                }
                out.extend(matched);
            }
            Some(out)
        };
        let commands = spec
            .commands
            .iter()
            .map(|c| {
                let mut words = shell_words::split(c).map_err(|_| RuleError::Command(c.clone()))?;
                // Units name their program by file name (`/usr/bin/git` → `git`); so do patterns.
                if let Some(first) = words.first_mut()
                    && let Some(name) = first.rsplit('/').next()
                {
                    *first = name.to_string();
                }
                words
                    .iter()
                    .map(|w| glob(w, false).map(|g| g.compile_matcher()))
                    .collect()
            })
            .collect::<Result<Vec<Vec<GlobMatcher>>, RuleError>>()?;
        // Paths are matched where they really lead, so are the rule's own locations.
        let expanded_paths: Vec<String> = spec
            .paths
            .iter()
            .flat_map(|p| airlock_classify::pattern_forms(p, home))
            .collect();
        Ok(Self {
            id: spec.id.clone(),
            decision: spec.decision,
            justification: spec.justification.clone(),
            source: source.to_path_buf(),
            classes,
            tool_kinds: spec
                .tools
                .iter()
                .filter_map(|t| ToolKind::parse(t))
                .collect(),
            tools: glob_set(
                &spec
                    .tools
                    .iter()
                    .filter(|t| ToolKind::parse(t).is_none())
                    .cloned()
                    .collect::<Vec<_>>(),
                false,
            )?,
            agents: spec.agents.clone(),
            programs: glob_set(&spec.programs, false)?,
            commands,
            paths: glob_set(&expanded_paths, true)?,
            path_scope: spec.path_scope,
            hosts: spec.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            tags: spec.tags.clone(),
            spec,
        })
    }

    /// Does this rule apply to `class` of `unit` in `req`?
    pub fn matches(&self, req: &ActionRequest, unit: &Unit, class: ActionClass) -> bool {
        // Allow rules read set conditions strictly ("every path"), stricter rules loosely ("any").
        let every = self.decision == Decision::Allow;
        if let Some(classes) = &self.classes
            && !classes.contains(&class)
        {
            return false;
        }
        // A rule names kinds exactly (`shell`: every agent's), or globs over MCP tools and an
        // agent's own tool names (`Bash`: that tool only, as policies written before the shared
        // vocabulary do).
        if !self.spec.tools.is_empty() {
            let by_kind = self.tool_kinds.contains(&req.call.kind());
            let by_name = self.tools.as_ref().is_some_and(|tools| {
                tools.is_match(&req.tool)
                    || req.call.mcp_name().is_some_and(|name| tools.is_match(name))
            });
            if !by_kind && !by_name {
                return false;
            }
        }
        if !self.agents.is_empty() && !self.agents.iter().any(|a| a == &req.agent) {
            return false;
        }
        if let Some(programs) = &self.programs {
            match &unit.program {
                Some(p) if programs.is_match(p) => {}
                _ => return false,
            }
        }
        if !self.commands.is_empty() {
            let known = &unit.argv;
            let fits = |pattern: &Vec<GlobMatcher>| {
                pattern.len() <= known.len()
                    && pattern.iter().zip(known).all(|(g, w)| g.is_match(w))
            };
            // An allow rule needs the whole command known; a stricter rule may match on the
            // static prefix of a command whose later words are computed at run time.
            if (every && !unit.argv_complete) || !self.commands.iter().any(fits) {
                return false;
            }
        }
        if self.paths.is_some() || self.path_scope.is_some() {
            if every && (unit.paths.is_empty() || unit.paths_unknown()) {
                return false;
            }
            let path_ok = |p: &airlock_classify::PathRef| {
                let glob_ok = self.paths.as_ref().is_none_or(|g| g.is_match(&p.path));
                let scope_ok = match self.path_scope {
                    Some(PathScope::Inside) => p.inside,
                    Some(PathScope::Outside) => !p.inside,
                    None => true,
                };
                glob_ok && scope_ok
            };
            let ok = if every {
                unit.paths.iter().all(path_ok)
            } else {
                unit.paths.iter().any(path_ok)
            };
            if !ok {
                return false;
            }
        }
        if !self.hosts.is_empty() {
            if every && (unit.hosts.is_empty() || unit.tags.contains("hosts-unknown")) {
                return false;
            }
            let host_ok = |h: &String| self.hosts.iter().any(|p| host_matches(p, h));
            let ok = if every {
                unit.hosts.iter().all(host_ok)
            } else {
                unit.hosts.iter().any(host_ok)
            };
            if !ok {
                return false;
            }
        }
        self.tags.iter().all(|t| unit.tags.contains(t))
            && !self.spec.unless_tags.iter().any(|t| unit.tags.contains(t))
    }
}

/// `*.example.com` matches sub-domains (not the apex); other patterns match exactly.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(apex) => {
            host.len() > apex.len() + 1
                && host.ends_with(apex)
                && host[..host.len() - apex.len()].ends_with('.')
        }
        None => pattern == host || pattern == "*",
    }
}

/// `file.write` → itself; `file.*` → every class in that family; `*` → all.
pub fn expand_class_pattern(pattern: &str) -> Vec<ActionClass> {
    if pattern == "*" {
        return ActionClass::ALL.to_vec();
    }
    if let Some(prefix) = pattern.strip_suffix(".*") {
        return ActionClass::ALL
            .into_iter()
            .filter(|c| {
                let s = c.as_str();
                s == prefix || s.starts_with(&format!("{prefix}."))
            })
            .collect();
    }
    ActionClass::parse(pattern).into_iter().collect()
}

fn glob(pattern: &str, literal_separator: bool) -> Result<Glob, RuleError> {
    GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .backslash_escape(true)
        .build()
        .map_err(|e| RuleError::Glob {
            pattern: pattern.to_string(),
            message: e.kind().to_string(),
        })
}

pub(super) fn glob_set(
    patterns: &[String],
    literal_separator: bool,
) -> Result<Option<GlobSet>, RuleError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(glob(p, literal_separator)?);
    }
    builder.build().map(Some).map_err(|e| RuleError::Glob {
        pattern: patterns.join(", "),
        message: e.kind().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_wildcards_need_a_subdomain() {
        assert!(host_matches("*.github.com", "api.github.com"));
        assert!(!host_matches("*.github.com", "github.com"));
        assert!(!host_matches("*.github.com", "evilgithub.com"));
        assert!(host_matches("github.com", "github.com"));
    }

    #[test]
    fn class_patterns_expand_by_family() {
        assert_eq!(
            expand_class_pattern("file.*"),
            vec![
                ActionClass::FileWrite,
                ActionClass::FileWriteOutside,
                ActionClass::FileDelete
            ]
        );
        assert!(expand_class_pattern("files.write").is_empty());
        assert_eq!(expand_class_pattern("*").len(), ActionClass::ALL.len());
    }
}
