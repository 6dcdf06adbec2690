//! The policy file format (TOML). Unknown fields are errors: a misspelt condition must never
//! silently widen a rule.

use airlock_protocol::{ActionClass, Decision};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Format version; 1 if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// What happens to each action class when no rule matches it.
    #[serde(default, rename = "baseline", skip_serializing_if = "Vec::is_empty")]
    pub baselines: Vec<BaselineSpec>,
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    /// Rate limits: at most `max` requests of some classes per window.
    #[serde(default, rename = "budget", skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<BudgetSpec>,
    /// Circuit breakers: patterns that contain a session.
    #[serde(default, rename = "breaker", skip_serializing_if = "Vec::is_empty")]
    pub breakers: Vec<BreakerSpec>,
    /// What MCP servers' tools really do, as classes (and their declared annotations).
    #[serde(default, rename = "mcp_tool", skip_serializing_if = "Vec::is_empty")]
    pub mcp_tools: Vec<McpToolSpec>,
    /// "Always allow" approvals: each allows exactly one approved action again.
    #[serde(default, rename = "always", skip_serializing_if = "Vec::is_empty")]
    pub always: Vec<AlwaysSpec>,
}

/// One "Always allow" approval, as `airlock approve --scope always` writes it. It allows
/// `classes` of one simple command (or tool call) again only when everything about it is the
/// same: the tool, the whole normalised argument vector word for word (after wrappers such as
/// `env`, `sudo` or `bash -c` are unwrapped), the environment assignments given to it, the
/// exact sets of paths and hosts it touches, and the workspace it runs in. Nothing here is a
/// pattern: an extra argument, another index URL, another host or another workspace is a
/// different action and is asked about again.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlwaysSpec {
    pub id: String,
    pub justification: String,
    /// The tool: a kind (`shell`, `write_file`: any agent's), one MCP tool
    /// (`mcp__SERVER__TOOL`), or an agent's own tool name (`Write`: that agent's tool only).
    pub tool: String,
    /// The classes allowed again (the ones a human was asked about).
    pub classes: Vec<ActionClass>,
    /// The workspace (git root, or the directory) the action ran in.
    pub workspace: String,
    /// The whole argument vector, program name first (as a file name: `/usr/bin/pip` → `pip`).
    /// Empty for tool calls that are not shell commands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// Environment assignments given to the command, `NAME=value`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Every path the action touches, absolute; no more, no fewer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Every host the action reaches; no more, no fewer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// What an MCP server's tools do. Every MCP call is `mcp.call`; an entry adds the classes of
/// what the tool really does (so class rules, budgets and breakers see it: posting to Slack is
/// `external.comm`), and records the server's tool annotations. Annotations only inform: they
/// add tags rules may match (`mcp-read-only`, `mcp-destructive`, `mcp-open-world`) and, for
/// destructive or open-world tools, classes; nothing here removes a class, so an annotation can
/// never loosen a decision on its own.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct McpToolSpec {
    pub id: String,
    pub justification: String,
    /// Tool names (globs): `mcp__github__create_issue`, `mcp__slack__*`.
    pub tools: Vec<String>,
    /// Classes the call adds to `mcp.call`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ActionClass>,
    /// The server's declared tool annotations (`readOnlyHint`, `destructiveHint`,
    /// `openWorldHint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<McpAnnotations>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct McpAnnotations {
    #[serde(
        default,
        rename = "readOnlyHint",
        skip_serializing_if = "Option::is_none"
    )]
    pub read_only: Option<bool>,
    #[serde(
        default,
        rename = "destructiveHint",
        skip_serializing_if = "Option::is_none"
    )]
    pub destructive: Option<bool>,
    #[serde(
        default,
        rename = "openWorldHint",
        skip_serializing_if = "Option::is_none"
    )]
    pub open_world: Option<bool>,
}

/// At most `max` permitted requests with one of `classes` per `window`, per session or across
/// all sessions. Over budget, a request is denied with outcome `rate_limited`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    pub id: String,
    pub justification: String,
    /// Classes counted (`*` for every request); same patterns as rules.
    pub classes: Vec<String>,
    pub max: u32,
    /// `30s`, `10m`, `1h`, `1d`.
    pub window: String,
    #[serde(default)]
    pub scope: BudgetScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetScope {
    #[default]
    Session,
    Global,
}

/// A circuit breaker. When it trips, the session is contained (only `read` is allowed) until a
/// person releases it, and the request that tripped it is denied.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BreakerSpec {
    /// `count` denials, rejections, expiries or rate limits in one session within `window`
    /// (an agent retrying a refused action with small variations).
    Denials {
        id: String,
        justification: String,
        count: u32,
        window: String,
    },
    /// A request with one of `then` classes after one with one of `first` classes in the same
    /// session within `window` (reading credentials, then reaching the network).
    Sequence {
        id: String,
        justification: String,
        first: Vec<String>,
        then: Vec<String>,
        window: String,
    },
    /// Any request carrying one of these classifier tags (editing agent or Airlock
    /// configuration).
    Tags {
        id: String,
        justification: String,
        tags: Vec<String>,
    },
}

impl BreakerSpec {
    pub fn id(&self) -> &str {
        match self {
            BreakerSpec::Denials { id, .. }
            | BreakerSpec::Sequence { id, .. }
            | BreakerSpec::Tags { id, .. } => id,
        }
    }
}

/// Parse a window like `30s`, `10m`, `1h`, `1d`.
pub fn parse_window(text: &str) -> Option<std::time::Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = text[..split].parse().ok()?;
    let secs = match &text[split..] {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    (secs > 0).then(|| std::time::Duration::from_secs(secs))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    pub class: ActionClass,
    pub decision: Decision,
    pub justification: String,
}

/// Which side of the workspace boundary a rule's paths must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathScope {
    Inside,
    Outside,
}

/// One rule. All given conditions must hold (AND); a list condition holds when any of its
/// entries matches. Set conditions over a unit's paths and hosts are read in the safe direction:
/// an `allow` rule needs EVERY path/host of the unit to match (and at least one to be known);
/// a stricter rule needs ANY.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub decision: Decision,
    pub justification: String,
    /// Action classes: exact (`file.write`), a family (`file.*`), or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Tools (globs), each matched against the call's kind (`shell`, `web_search`), its MCP
    /// name (`mcp__github__*`) and the agent's own tool name (`Bash`: that agent's only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Agent adapters: `claude-code`, `codex`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
    /// Effective program names (globs), after wrappers are unwrapped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// Command prefixes, shell-quoted; each token is a glob: `git push`, `npm run *`. The first
    /// word matches the program's file name (`./deploy.sh` and `/opt/x/deploy.sh` are `deploy.sh`),
    /// and sub-commands match whatever global options came before them (`git -C dir push`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Path globs; `~/` expands to the home directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_scope: Option<PathScope>,
    /// Host patterns: `github.com`, `*.github.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Classifier tags that must ALL be present (`recursive`, `critical-path`, `force-push`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Classifier tags of which NONE may be present: an allow rule for the routine form of a
    /// command that must not cover a riskier one (`git fetch` from a configured remote, not
    /// from an address typed into the command: `explicit-remote`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Examples>,
}

/// Requests the rule must (`match`) and must not (`not_match`) apply to, checked at load.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<Example>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_match: Vec<Example>,
}

/// A shell command (run by `Bash` in `/home/user/project`, home `/home/user`) or a tool call.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Example {
    Command(String),
    Tool(ToolExample),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolExample {
    pub tool: String,
    #[serde(default)]
    pub input: toml::Table,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl Example {
    pub fn describe(&self) -> String {
        match self {
            Example::Command(c) => format!("`{c}`"),
            Example::Tool(t) => format!(
                "{} {}",
                t.tool,
                serde_json::to_string(&t.input).unwrap_or_default()
            ),
        }
    }
}
