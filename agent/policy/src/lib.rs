//! Policy: rules and baselines from TOML files, evaluated per unit and class; the strictest
//! decision wins and every decision names the rules that made it.
//!
//! Per (unit, class): if any rule matches, the strictest matching rule decides (so an explicit
//! `deny` or `ask` can never be loosened by an `allow`); if none matches, the class's baseline
//! decides; a class with no baseline is `ask`. The request's decision is the strictest over all
//! its units and classes.

mod always;
pub mod amend;
pub mod file;
mod rule;
pub mod scopes;

use airlock_classify::{Classification, Classifier, EXAMPLE_CWD, Env, Unit};
use airlock_protocol::{ActionClass, Decision, RuleHit};
use airlock_request::ActionRequest;
use always::{AlwaysEntry, AlwaysError};
use file::{BaselineSpec, Example, PolicyFile};
use rule::{CompiledRule, RuleError};

pub mod mcp;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub use rule::expand_class_pattern;

mod limits;

pub use limits::{Breaker, BreakerTrigger, Budget};

mod check;
mod directory;

pub use check::check_each;
use directory::policy_files;

/// The id reported when no rule or baseline covers a class.
pub const FALLBACK_ID: &str = "builtin.no-baseline";

#[derive(Debug)]
pub struct Policy {
    rules: Vec<CompiledRule>,
    always: Vec<AlwaysEntry>,
    budgets: Vec<Budget>,
    breakers: Vec<Breaker>,
    mcp_tools: Vec<mcp::McpTool>,
    baselines: BTreeMap<ActionClass, (BaselineSpec, PathBuf)>,
    files: Vec<PathBuf>,
    /// SHA-256 (hex) of each file's text as loaded, in load order.
    file_hashes: Vec<String>,
    /// See [`Policy::bundle_sha256`].
    bundle_sha256: String,
    /// Things worth changing that do not stop the policy loading, per file.
    notes: Vec<(PathBuf, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy directory `{path}`: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read policy file `{path}`: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy file `{path}` is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("policy file `{path}`, rule `{rule}`: {source}")]
    Rule {
        path: PathBuf,
        rule: String,
        source: RuleError,
    },
    #[error(
        "policy file `{path}`: rule id `{rule}` is already used in `{first}`; rule ids must be unique"
    )]
    DuplicateRule {
        path: PathBuf,
        rule: String,
        first: PathBuf,
    },
    #[error("policy file `{path}`: class `{class}` has two baselines in the same directory")]
    DuplicateBaseline { path: PathBuf, class: ActionClass },
    #[error(
        "policy file `{path}`, rule `{rule}`: example {example} {expectation} (classified as: {classified}); fix the rule or the example"
    )]
    Example {
        path: PathBuf,
        rule: String,
        example: String,
        expectation: &'static str,
        classified: String,
    },
    #[error("policy file `{path}`, always entry `{entry}`: {source}")]
    Always {
        path: PathBuf,
        entry: String,
        source: AlwaysError,
    },
    #[error(
        "policy file `{path}`, rule `{rule}`: this is an \"Always allow\" rule in the old format, which matched its command as a word prefix (approving `pip install requests` also allowed `pip install requests --index-url …`), so Airlock no longer loads it. Delete it from `{path}` and approve the action again to get an exact `[[always]]` entry; if you do mean the prefix, move the rule to a policy file of your own"
    )]
    PrefixAmendment { path: PathBuf, rule: String },
    #[error("policy directory `{0}` has no policy files (*.toml)")]
    Empty(PathBuf),
    #[error(
        "policy file `{path}`, `{item}`: {why}. In system mode a user's own policy may only tighten what the machine's policy decides; ask an administrator to put it in /etc/airlock/policies"
    )]
    Loosening {
        path: PathBuf,
        item: String,
        why: String,
    },
    #[error(transparent)]
    Classifier(#[from] airlock_classify::ClassifierError),
}

/// The result of evaluating one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The rules (and baselines) that produced `decision`.
    pub hits: Vec<RuleHit>,
    /// Every (unit, class) decision, for explanations.
    pub details: Vec<UnitClassDecision>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnitClassDecision {
    pub unit: usize,
    pub class: ActionClass,
    pub decision: Decision,
    pub rules: Vec<String>,
}

impl Evaluation {
    pub fn rule_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.hits.iter().map(|h| h.id.clone()).collect();
        ids.dedup();
        ids
    }

    /// Whether only baselines (no explicit rule) made this decision stricter than allow: only
    /// then can an `always` approval loosen it.
    pub fn loosenable(&self) -> bool {
        self.hits
            .iter()
            .filter(|h| h.decision > Decision::Allow)
            .all(|h| h.id.starts_with("baseline."))
    }
}

impl Policy {
    /// Load every `*.toml` in each directory, in order (later directories may override
    /// baselines). The first directory must exist and hold at least one file; later ones (the
    /// user's) may be missing. Every rule's examples are checked; any error refuses the whole
    /// policy.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, PolicyError> {
        let home = dirs::home_dir().unwrap_or_else(|| PathBuf::from("/"));
        // The machine's directories, and their examples, are the daemon's own to read.
        airlock_userfs::as_daemon(|| Self::load_for(dirs, &home, None))
    }

    /// Load for the user whose home is `home`. Directories from index `tighten_from` on may
    /// only tighten what the ones before decide (a user's own policy in system mode): a rule
    /// looser than the baseline of a class it can match, a baseline looser than the one it
    /// replaces, and `always` entries are refused, naming the file and the rule.
    pub fn load_for(
        dirs: &[PathBuf],
        home: &Path,
        tighten_from: Option<usize>,
    ) -> Result<Self, PolicyError> {
        let example_classifier = Classifier::new(Env::example())?;
        let mut policy = Policy {
            rules: Vec::new(),
            always: Vec::new(),
            budgets: Vec::new(),
            breakers: Vec::new(),
            mcp_tools: Vec::new(),
            baselines: BTreeMap::new(),
            files: Vec::new(),
            file_hashes: Vec::new(),
            bundle_sha256: String::new(),
            notes: Vec::new(),
        };
        let mut ids: HashMap<String, PathBuf> = HashMap::new();
        // What the machine's directories decide, for judging the ones that may only tighten.
        let mut machine_baselines: Option<BTreeMap<ActionClass, Decision>> = None;
        for (index, dir) in dirs.iter().enumerate() {
            if tighten_from.is_some_and(|from| index >= from) && machine_baselines.is_none() {
                machine_baselines = Some(
                    policy
                        .baselines
                        .iter()
                        .map(|(class, (spec, _))| (*class, spec.decision))
                        .collect(),
                );
            }
            // A directory that may only tighten is a user's own: read as that user may (in
            // system mode the daemon would otherwise follow a link in it anywhere it can read).
            let users_own = tighten_from.is_some_and(|from| index >= from);
            let files = match policy_files(dir, users_own) {
                Ok(files) => files,
                Err(PolicyError::ReadDir { source, .. })
                    if index > 0 && source.kind() == std::io::ErrorKind::NotFound =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            if index == 0 && files.is_empty() {
                return Err(PolicyError::Empty(dir.clone()));
            }
            let mut baselines_here: BTreeMap<ActionClass, PathBuf> = BTreeMap::new();
            for path in files {
                let text = if users_own {
                    airlock_userfs::read_to_string(&path)
                } else {
                    std::fs::read_to_string(&path)
                }
                .map_err(|source| PolicyError::ReadFile {
                    path: path.clone(),
                    source,
                })?;
                let parsed: PolicyFile = toml::from_str(&text).map_err(|e| PolicyError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                if let Some(v) = parsed.version
                    && v != 1
                {
                    return Err(PolicyError::Parse {
                        path: path.clone(),
                        message: format!("unsupported version {v}; this build reads version 1"),
                    });
                }
                if let Some(machine) = &machine_baselines {
                    only_tightens(&parsed, machine, &path)?;
                }
                for note in agent_tool_names_in(&parsed) {
                    policy.notes.push((path.clone(), note));
                }
                for baseline in parsed.baselines {
                    if baselines_here
                        .insert(baseline.class, path.clone())
                        .is_some()
                    {
                        return Err(PolicyError::DuplicateBaseline {
                            path: path.clone(),
                            class: baseline.class,
                        });
                    }
                    policy
                        .baselines
                        .insert(baseline.class, (baseline, path.clone()));
                }
                for spec in parsed.budgets {
                    check_id(&mut ids, &spec.id, &path)?;
                    policy.budgets.push(Budget::compile(spec, &path)?);
                }
                for spec in parsed.breakers {
                    check_id(&mut ids, spec.id(), &path)?;
                    policy.breakers.push(Breaker::compile(spec, &path)?);
                }
                for spec in parsed.mcp_tools {
                    check_id(&mut ids, &spec.id, &path)?;
                    policy.mcp_tools.push(mcp::McpTool::compile(spec, &path)?);
                }
                // Rules in the file "Always allow" writes to are old amendments: refused rather
                // than kept, because kept they would go on allowing every command that starts
                // with the approved words, and any rewrite into an exact entry would have to
                // guess the workspace and environment it was approved with.
                if path.file_name().is_some_and(|f| f == amend::ALWAYS_FILE)
                    && let Some(old) = parsed.rules.first()
                {
                    return Err(PolicyError::PrefixAmendment {
                        path: path.clone(),
                        rule: old.id.clone(),
                    });
                }
                for spec in parsed.always {
                    check_id(&mut ids, &spec.id, &path)?;
                    let entry = spec.id.clone();
                    let compiled = AlwaysEntry::compile(spec, &path).map_err(|source| {
                        PolicyError::Always {
                            path: path.clone(),
                            entry,
                            source,
                        }
                    })?;
                    policy.always.push(compiled);
                }
                for spec in parsed.rules {
                    if let Some(first) = ids.get(&spec.id) {
                        return Err(PolicyError::DuplicateRule {
                            path: path.clone(),
                            rule: spec.id.clone(),
                            first: first.clone(),
                        });
                    }
                    ids.insert(spec.id.clone(), path.clone());
                    let rule_id = spec.id.clone();
                    let compiled =
                        CompiledRule::compile(spec, &path, &example_classifier.env().home)
                            .map_err(|source| PolicyError::Rule {
                                path: path.clone(),
                                rule: rule_id,
                                source,
                            })?;
                    policy.rules.push(compiled);
                }
                policy
                    .file_hashes
                    .push(hex::encode(Sha256::digest(text.as_bytes())));
                policy.files.push(path);
            }
        }
        policy.check_examples(&example_classifier)?;
        // Rules were compiled against the example home for their examples; recompile path
        // globs against the real home for live decisions.
        let home = home.to_path_buf();
        if home != example_classifier.env().home {
            policy.rules = policy
                .rules
                .into_iter()
                .map(|r| {
                    let (spec, source) = (r.spec.clone(), r.source.clone());
                    CompiledRule::compile(spec, &source, &home).map_err(|e| PolicyError::Rule {
                        path: source.clone(),
                        rule: r.id.clone(),
                        source: e,
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        policy.bundle_sha256 = policy.hash_bundle();
        Ok(policy)
    }

    fn check_examples(&self, classifier: &Classifier) -> Result<(), PolicyError> {
        for rule in &self.rules {
            let Some(examples) = &rule.spec.examples else {
                continue;
            };
            let cases = examples
                .matches
                .iter()
                .map(|e| (e, true))
                .chain(examples.not_match.iter().map(|e| (e, false)));
            for (example, expected) in cases {
                let request = example_request(example);
                // As on a machine with no files: an example means the same everywhere, and a
                // file planted where one looks cannot make the policy fail to load.
                let classification = airlock_userfs::with_no_files(|| {
                    let mut classification = classifier.classify(&request);
                    self.enrich(&request, &mut classification);
                    classification
                });
                let matched = classification
                    .units
                    .iter()
                    .any(|u| u.classes.iter().any(|c| rule.matches(&request, u, *c)));
                if matched != expected {
                    return Err(PolicyError::Example {
                        path: rule.source.clone(),
                        rule: rule.id.clone(),
                        example: example.describe(),
                        expectation: if expected {
                            "should match but does not"
                        } else {
                            "should not match but does"
                        },
                        classified: describe_classification(&classification),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Each loaded file with the SHA-256 (hex) of its text, in load order.
    pub fn file_hashes(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files
            .iter()
            .map(PathBuf::as_path)
            .zip(self.file_hashes.iter().map(String::as_str))
    }

    /// The SHA-256 (hex) of the whole bundle: every file's path and hash, in load order. Each
    /// receipt names the bundle it was decided under; the chained `policy load` records say
    /// which files that was.
    pub fn bundle_sha256(&self) -> &str {
        &self.bundle_sha256
    }

    fn hash_bundle(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, hash) in self.file_hashes() {
            hasher.update(path.display().to_string().as_bytes());
            hasher.update(b"\t");
            hasher.update(hash.as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }

    /// Rules and "always" entries.
    /// Notes on `file` that do not stop it loading (an agent's own tool name where a kind
    /// would cover every agent).
    pub fn notes(&self) -> &[(PathBuf, String)] {
        &self.notes
    }

    /// The notes on one file.
    pub fn notes_for(&self, file: &Path) -> Vec<&str> {
        self.notes
            .iter()
            .filter(|(path, _)| path == file)
            .map(|(_, note)| note.as_str())
            .collect()
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len() + self.always.len()
    }

    pub fn baseline_count(&self) -> usize {
        self.baselines.len()
    }

    /// Decide a classified request.
    pub fn evaluate(&self, request: &ActionRequest, classification: &Classification) -> Evaluation {
        let mut details = Vec::new();
        let mut candidates: Vec<(Decision, Vec<RuleHit>, usize)> = Vec::new();
        for (index, unit) in classification.units.iter().enumerate() {
            for &class in &unit.classes {
                let matching = self.matching(request, unit, class);
                let (decision, hits) = match matching.iter().map(|h| h.decision).max() {
                    Some(strictest) => (
                        strictest,
                        matching
                            .into_iter()
                            .filter(|h| h.decision == strictest)
                            .collect(),
                    ),
                    None => {
                        let hit = self.baseline_hit(class);
                        (hit.decision, vec![hit])
                    }
                };
                details.push(UnitClassDecision {
                    unit: index,
                    class,
                    decision,
                    rules: hits.iter().map(|h| h.id.clone()).collect(),
                });
                candidates.push((decision, hits, index));
            }
        }
        if candidates.is_empty() {
            let hit = self.baseline_hit(ActionClass::Unknown);
            candidates.push((hit.decision, vec![hit], 0));
        }
        let decision = candidates
            .iter()
            .map(|c| c.0)
            .max()
            .unwrap_or(Decision::Ask);
        let mut hits: Vec<RuleHit> = Vec::new();
        let mut first_unit = 0;
        for (d, unit_hits, unit) in candidates {
            if d != decision {
                continue;
            }
            if hits.is_empty() {
                first_unit = unit;
            }
            for hit in unit_hits {
                if !hits.iter().any(|h| h.id == hit.id && h.class == hit.class) {
                    hits.push(hit);
                }
            }
        }
        let reason = reason_for(decision, &hits, classification, first_unit);
        Evaluation {
            decision,
            hits,
            details,
            reason,
        }
    }

    /// Every rule and "always" entry that applies to `class` of `unit`.
    fn matching(&self, request: &ActionRequest, unit: &Unit, class: ActionClass) -> Vec<RuleHit> {
        let rules = self
            .rules
            .iter()
            .filter(|r| r.matches(request, unit, class))
            .map(|r| (&r.id, r.decision, &r.justification, &r.source));
        let always = self
            .always
            .iter()
            .filter(|a| a.matches(request, unit, class))
            .map(|a| (&a.id, Decision::Allow, &a.justification, &a.source));
        rules
            .chain(always)
            .map(|(id, decision, justification, source)| RuleHit {
                id: id.clone(),
                decision,
                justification: justification.clone(),
                class,
                source: source.display().to_string(),
            })
            .collect()
    }

    /// What happens to `class` when no rule matches it.
    pub fn baseline_decision(&self, class: ActionClass) -> Decision {
        self.baseline_hit(class).decision
    }

    fn baseline_hit(&self, class: ActionClass) -> RuleHit {
        match self.baselines.get(&class) {
            Some((spec, path)) => RuleHit {
                id: format!("baseline.{class}"),
                decision: spec.decision,
                justification: spec.justification.clone(),
                class,
                source: path.display().to_string(),
            },
            None => RuleHit {
                id: FALLBACK_ID.to_string(),
                decision: Decision::Ask,
                justification: format!("no rule or baseline covers `{class}`, so a human decides"),
                class,
                source: "builtin".to_string(),
            },
        }
    }

    /// Baselines as loaded, for `airlock policy check`.
    pub fn baselines(&self) -> impl Iterator<Item = (ActionClass, Decision, &Path)> {
        self.baselines
            .iter()
            .map(|(class, (spec, path))| (*class, spec.decision, path.as_path()))
    }

    /// Add what policy knows about MCP tools (`[[mcp_tool]]`) to a request's classification.
    /// Call between classifying and evaluating.
    pub fn enrich(&self, request: &ActionRequest, classification: &mut Classification) {
        if request.call.kind() == airlock_protocol::ToolKind::McpCall {
            // The typed name (`mcp__SERVER__TOOL`); a name the adapter could not split
            // (`mcp__prod_db`) as the agent sent it, so no `[[mcp_tool]]` entry is skipped.
            let name = request
                .call
                .mcp_name()
                .unwrap_or_else(|| request.tool.clone());
            mcp::enrich(&self.mcp_tools, &name, classification);
        }
    }

    pub fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    pub fn breakers(&self) -> &[Breaker] {
        &self.breakers
    }

    /// Rules and "always" entries (which allow).
    pub fn rules(&self) -> impl Iterator<Item = (&str, Decision, &Path)> {
        let rules = self
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.decision, r.source.as_path()));
        let always = self
            .always
            .iter()
            .map(|a| (a.id.as_str(), Decision::Allow, a.source.as_path()));
        rules.chain(always)
    }
}

/// A file of a directory that may only tighten: every rule at least as strict as the
/// machine's baseline of each class it can match (strictest wins among matching rules, so such
/// a rule can only make a decision stricter), every baseline at least as strict as the one it
/// replaces, and no `always` entries (approvals are kept by the daemon in system mode).
fn only_tightens(
    parsed: &PolicyFile,
    machine: &BTreeMap<ActionClass, Decision>,
    path: &Path,
) -> Result<(), PolicyError> {
    let baseline = |class: &ActionClass| machine.get(class).copied().unwrap_or(Decision::Ask);
    let refuse = |item: &str, why: String| PolicyError::Loosening {
        path: path.to_path_buf(),
        item: item.to_string(),
        why,
    };
    if let Some(entry) = parsed.always.first() {
        return Err(refuse(
            &entry.id,
            "an `always` entry allows an action without asking".into(),
        ));
    }
    for spec in &parsed.baselines {
        if spec.decision < baseline(&spec.class) {
            return Err(refuse(
                spec.class.as_str(),
                format!(
                    "the baseline `{}` is looser than the machine's `{}`",
                    spec.decision,
                    baseline(&spec.class)
                ),
            ));
        }
    }
    for rule in &parsed.rules {
        let classes: Vec<ActionClass> = if rule.classes.is_empty() {
            ActionClass::ALL.to_vec()
        } else {
            rule.classes
                .iter()
                .flat_map(|p| expand_class_pattern(p))
                .collect()
        };
        if let Some(class) = classes.iter().find(|c| rule.decision < baseline(c)) {
            return Err(refuse(
                &rule.id,
                format!(
                    "the rule says `{}` for class `{}`, whose machine baseline is `{}`",
                    rule.decision,
                    class.as_str(),
                    baseline(class)
                ),
            ));
        }
    }
    Ok(())
}

/// Rules that name a tool by an agent's own name (`Bash`), which keeps working for that agent
/// only, where the kind (`shell`) covers every agent. ("Always" entries name the agent's tool on
/// purpose: they allow exactly what was approved.)
fn agent_tool_names_in(file: &PolicyFile) -> Vec<String> {
    let named = file
        .rules
        .iter()
        .flat_map(|rule| rule.tools.iter().map(move |tool| ("rule", &rule.id, tool)));
    named
        .filter_map(|(what, id, tool)| {
            let (agent, _, kind) = airlock_request::adapters::agent_tool_names()
                .find(|(_, name, _)| name == tool)?;
            Some(format!(
                "{what} `{id}` names `{tool}`, {agent}'s name for a `{kind}` tool: it matches that agent's tool only; `{kind}` matches every agent's"
            ))
        })
        .collect()
}

fn check_id(ids: &mut HashMap<String, PathBuf>, id: &str, path: &Path) -> Result<(), PolicyError> {
    if let Some(first) = ids.get(id) {
        return Err(PolicyError::DuplicateRule {
            path: path.to_path_buf(),
            rule: id.to_string(),
            first: first.clone(),
        });
    }
    ids.insert(id.to_string(), path.to_path_buf());
    Ok(())
}

fn reason_for(decision: Decision, hits: &[RuleHit], cls: &Classification, unit: usize) -> String {
    let what = cls
        .units
        .get(unit)
        .map(|u| u.text.as_str())
        .unwrap_or("this request");
    let first = hits.first();
    let because = first.map_or_else(String::new, |h| {
        format!("{} [rule `{}`, class `{}`]", h.justification, h.id, h.class)
    });
    match decision {
        Decision::Allow => {
            let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
            format!("allowed by Airlock policy ({})", dedup(ids).join(", "))
        }
        Decision::Ask => format!(
            "needs a human's approval in Airlock: `{}`: {because}",
            clip(what)
        ),
        Decision::StepUp => format!(
            "needs approval with a security-key touch in Airlock: `{}`: {because}",
            clip(what)
        ),
        Decision::Deny => format!("denied by Airlock policy: `{}`: {because}", clip(what)),
    }
}

fn dedup(mut ids: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    ids
}

fn clip(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// The request a policy example stands for.
pub fn example_request(example: &Example) -> ActionRequest {
    match example {
        Example::Command(command) => {
            ActionRequest::shell("claude-code", PathBuf::from(EXAMPLE_CWD), command)
        }
        Example::Tool(t) => ActionRequest::tool_call(
            t.agent.as_deref().unwrap_or("claude-code"),
            PathBuf::from(t.cwd.as_deref().unwrap_or(EXAMPLE_CWD)),
            &t.tool,
            serde_json::to_value(&t.input).unwrap_or_default(),
        ),
    }
}

fn describe_classification(cls: &Classification) -> String {
    cls.units
        .iter()
        .map(|u| {
            let classes: Vec<&str> = u.classes.iter().map(|c| c.as_str()).collect();
            let tags: Vec<&str> = u.tags.iter().map(String::as_str).collect();
            format!(
                "`{}` → [{}] tags [{}]",
                u.text,
                classes.join(", "),
                tags.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
