//! What task runners run, read from their files: `package.json` scripts (`npm run X`, lifecycle
//! scripts of `npm install`), Makefile recipes (`make X`) and justfile recipes (`just X`).
//!
//! Each function turns a file's text into the shell command lines that would run, or says why
//! it cannot tell. It never guesses: what cannot be followed exactly (an `include`, a pattern
//! rule, a `{{…}}` interpolation, a shebang recipe) is an error, and the caller makes the
//! command `unknown`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

/// How deep prerequisites and variable references are followed.
const MAX_DEPTH: usize = 16;

/// How many parsed files each memo keeps (each at most the file reader's size cap).
const MEMO_ENTRIES: usize = 16;

/// Files parsed once for every command that runs one of their targets: a project's Makefile or
/// package.json, keyed by the whole text (so a changed file is parsed again; no hash to collide).
struct Memo<T> {
    parsed: Mutex<HashMap<String, Arc<T>>>,
}

impl<T> Memo<T> {
    fn new() -> Self {
        Self {
            parsed: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, text: &str, parse: impl FnOnce(&str) -> T) -> Arc<T> {
        let lock = || self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().get(text) {
            return Arc::clone(found);
        }
        let value = Arc::new(parse(text));
        let mut parsed = lock();
        if parsed.len() >= MEMO_ENTRIES {
            parsed.clear();
        }
        parsed.insert(text.to_owned(), Arc::clone(&value));
        value
    }
}

type Scripts = Result<serde_json::Map<String, serde_json::Value>, String>;

static PACKAGE_SCRIPTS: LazyLock<Memo<Scripts>> = LazyLock::new(Memo::new);
static MAKEFILES: LazyLock<Memo<Makefile>> = LazyLock::new(Memo::new);

/// The `scripts` object of a package.json (empty when it has none).
fn parse_package_scripts(json: &str) -> Scripts {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("is not valid JSON ({e})"))?;
    match value.get("scripts") {
        None => Ok(serde_json::Map::new()),
        Some(serde_json::Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err("has a `scripts` field that is not an object".into()),
    }
}

/// The scripts `names` of a package.json, in order, for those it defines. Missing names are
/// skipped: npm runs only the lifecycle scripts a package has.
pub fn package_scripts(json: &str, names: &[String]) -> Result<Vec<String>, String> {
    let parsed = PACKAGE_SCRIPTS.get(json, parse_package_scripts);
    let scripts = parsed.as_ref().as_ref().map_err(Clone::clone)?;
    let mut out = Vec::new();
    for name in names {
        match scripts.get(name) {
            None => {}
            Some(serde_json::Value::String(s)) => out.push(s.clone()),
            Some(_) => return Err(format!("has a script `{name}` that is not a string")),
        }
    }
    Ok(out)
}

/// The script `name` with npm's `pre`/`post` hooks. A missing script is an error: `npm run X`
/// fails, but `yarn X` and `pnpm X` then run a program named X, which Airlock cannot read.
pub fn package_script(json: &str, name: &str) -> Result<Vec<String>, String> {
    let names = [
        format!("pre{name}"),
        name.to_string(),
        format!("post{name}"),
    ];
    let found = package_scripts(json, &names)?;
    let has_main = package_scripts(json, &names[1..2])?;
    if has_main.is_empty() {
        return Err(format!("has no script `{name}`"));
    }
    Ok(found)
}

/// A parsed Makefile: simple variables and explicit rules.
#[derive(Debug, Default, Clone)]
struct Makefile {
    vars: HashMap<String, String>,
    /// target → (prerequisites, recipe lines)
    rules: HashMap<String, (Vec<String>, Vec<String>)>,
    /// The first target that is not special (`.PHONY`) or a pattern: what `make` alone builds.
    default_goal: Option<String>,
    /// Something Airlock cannot follow (`include`, conditionals, pattern rules): why.
    opaque: Option<String>,
    /// An `include` of a file not inlined: nothing about the makefile is known then.
    unread_include: Option<String>,
    /// `$(shell …)` commands anywhere in the file: they run when make reads it.
    shell_calls: Vec<String>,
    /// Something make does while reading the file, whatever the goal, that Airlock does not
    /// follow (`$(file …)`, `$(eval …)`, `load`, a rule that remakes the makefile): why.
    fatal: Option<String>,
    /// Pattern rules' targets (`%.o`, `%`): make may use them for any file without a rule.
    patterns: Vec<String>,
    /// Variables `export`ed to every recipe's environment (all of them with a bare `export`
    /// or `.EXPORT_ALL_VARIABLES`).
    exported: Vec<String>,
    export_all: bool,
}

/// GNU make's built-in rules and their variables (`agent/kb/make.toml`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Builtins {
    variables: HashMap<String, String>,
    rule: Vec<BuiltinRule>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinRule {
    target: String,
    from: String,
    recipe: Vec<String>,
}

#[allow(clippy::expect_used)] // the built-in file is checked by the tests below
static BUILTINS: LazyLock<Builtins> = LazyLock::new(|| {
    toml::from_str(include_str!("../../kb/make.toml")).expect("agent/kb/make.toml parses")
});

/// Functions that act while make reads the file (write files, define rules from computed
/// text, run Guile code): what they do is not followed.
const PARSE_TIME_FUNCTIONS: [&str; 3] = ["file", "eval", "guile"];

/// How make is run: what `make_recipes` needs besides the makefile's text.
pub struct MakeRun<'a> {
    /// The targets named (none: the default goal).
    pub targets: &'a [String],
    /// `NAME=value` arguments: they override the Makefile's own definitions.
    pub overrides: &'a [(String, String)],
    /// What the command sets in make's environment: make takes those as variables too, below
    /// the Makefile's own definitions.
    pub environment: &'a [(String, String)],
    /// The names of the makefiles read (`Makefile`, `-f` files): make remakes them first.
    pub makefiles: &'a [String],
    /// Whether a file exists where make runs: built-in rules apply to files they can be made
    /// from.
    pub exists: &'a dyn Fn(&str) -> bool,
}

/// The recipe lines `make TARGETS…` runs (every target's prerequisites first), after
/// substituting variables, plus every `$(shell …)` the Makefile runs while being read.
pub fn make_recipes(text: &str, run: &MakeRun<'_>) -> Result<Vec<String>, String> {
    let MakeRun {
        targets,
        overrides,
        environment,
        makefiles,
        exists,
    } = *run;
    let parsed = MAKEFILES.get(text, parse_makefile);
    if let Some(why) = &parsed.fatal {
        return Err(why.clone());
    }
    let mut makefile = Cow::Borrowed(parsed.as_ref());
    for (name, value) in environment {
        if !makefile.vars.contains_key(name) {
            makefile.to_mut().vars.insert(name.clone(), value.clone());
        }
    }
    // `make X=v` overrides the Makefile's own definition of X.
    for (name, value) in overrides {
        makefile.to_mut().vars.insert(name.clone(), value.clone());
    }
    if let Some(why) = &makefile.unread_include {
        return Err(why.clone());
    }
    // The shell make runs every recipe with: anything but the default runs recipes through a
    // program Airlock does not read.
    for shell_var in ["SHELL", ".SHELLFLAGS"] {
        if let Some(value) = makefile.vars.get(shell_var) {
            return Err(format!(
                "runs its recipes with `{shell_var} = {value}`, which Airlock does not follow"
            ));
        }
    }
    let goals: Vec<String> = if targets.is_empty() {
        // `.DEFAULT_GOAL := x` chooses the goal, wherever it is set.
        let chosen = match makefile.vars.get(".DEFAULT_GOAL") {
            Some(value) => Some(
                expand(value, &makefile.vars, "", &[], 0)?
                    .trim()
                    .to_string(),
            ),
            None => None,
        };
        match chosen.filter(|g| !g.is_empty()) {
            Some(goal) => goal
                .split_whitespace()
                .map(|g| same_file(g).to_string())
                .collect(),
            None => vec![
                makefile
                    .default_goal
                    .clone()
                    .ok_or("has no target to build")?,
            ],
        }
    } else {
        targets.iter().map(|t| same_file(t).to_string()).collect()
    };
    let mut lines: Vec<String> = makefile
        .shell_calls
        .iter()
        .map(|c| expand(c, &makefile.vars, "", &[], 0))
        .collect::<Result<_, _>>()?;
    let mut seen = HashSet::new();
    let mut recipes = Vec::new();
    let mut without_rule = Vec::new();
    // make first remakes the makefile itself when a rule says how (a `Makefile:` rule, or a
    // pattern such as `%:` that matches its name), whatever the goal.
    for name in makefiles.iter().map(String::as_str) {
        let name = same_file(name);
        if let Some(pattern) = makefile.patterns.iter().find(|p| matches(p, name)) {
            return Err(format!(
                "has a pattern rule (`{pattern}`) that make uses to remake the makefile itself, which Airlock does not follow"
            ));
        }
        if makefile.rules.contains_key(name) {
            collect_recipe(
                &makefile,
                name,
                1,
                &mut seen,
                &mut recipes,
                &mut without_rule,
            )?;
        } else {
            without_rule.push(name.to_string());
        }
    }
    for goal in &goals {
        collect_recipe(
            &makefile,
            goal,
            0,
            &mut seen,
            &mut recipes,
            &mut without_rule,
        )?;
    }
    recipes.extend(builtin_recipes(&makefile.vars, &without_rule, exists)?);
    // Exported variables are in every recipe's environment (`export BASH_ENV = ./x`).
    let mut exported: Vec<&String> = if makefile.export_all {
        makefile.vars.keys().collect()
    } else {
        makefile.exported.iter().collect()
    };
    exported.sort();
    exported.dedup();
    let mut environment = String::new();
    for name in exported {
        if let Some(value) = makefile.vars.get(name) {
            let value = expand(value, &makefile.vars, "", &[], 0)?;
            environment.push_str(&format!(
                "export {name}='{}'; ",
                value.replace('\'', "'\\''")
            ));
        }
    }
    lines.extend(
        recipes
            .into_iter()
            .map(|line| format!("{environment}{line}")),
    );
    Ok(lines)
}

/// Does the make pattern `pattern` (one `%`) match `name`?
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('%') {
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
        None => pattern == name,
    }
}

/// The built-in recipes make could run for files without a rule, where the Makefile, a
/// `make X=…` argument or the environment changed what they run. Recipes a setting does not
/// reach run the system's compilers and are left out.
fn builtin_recipes(
    vars: &HashMap<String, String>,
    without_rule: &[String],
    exists: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let builtins = &*BUILTINS;
    if !builtins
        .variables
        .keys()
        .any(|name| vars.contains_key(name))
    {
        return Ok(Vec::new());
    }
    let mut set = builtins.variables.clone();
    set.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut lines = Vec::new();
    for target in without_rule {
        builtin_chain(builtins, &set, target, exists, 0, &mut lines)?;
    }
    Ok(lines)
}

/// The built-in rules that can make `target`: those whose source exists, or can itself be
/// made by a built-in rule (`main.o` ← `main.c` ← `main.y`), up to a short chain.
fn builtin_chain(
    builtins: &Builtins,
    set: &HashMap<String, String>,
    target: &str,
    exists: &dyn Fn(&str) -> bool,
    depth: usize,
    lines: &mut Vec<String>,
) -> Result<bool, String> {
    if depth > 2 {
        return Ok(false);
    }
    let mut makes = false;
    for rule in &builtins.rule {
        if !matches(&rule.target, target) {
            continue;
        }
        let (prefix, suffix) = rule.target.split_once('%').unwrap_or(("", ""));
        let stem = &target[prefix.len()..target.len() - suffix.len()];
        let source = rule.from.replace('%', stem);
        if source == target
            || !(exists(&source)
                || builtin_chain(builtins, set, &source, exists, depth + 1, lines)?)
        {
            continue;
        }
        makes = true;
        let from = [source];
        for line in &rule.recipe {
            let usual = expand(line, &builtins.variables, target, &from, 0)?;
            let here = expand(line, set, target, &from, 0)?;
            if here != usual {
                lines.push(here);
            }
        }
    }
    Ok(makes)
}

fn collect_recipe(
    makefile: &Makefile,
    target: &str,
    depth: usize,
    seen: &mut HashSet<String>,
    lines: &mut Vec<String>,
    without_rule: &mut Vec<String>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("has prerequisites nested deeper than Airlock follows".into());
    }
    if !seen.insert(target.to_string()) {
        return Ok(());
    }
    let Some((prereqs, recipe)) = makefile.rules.get(target) else {
        without_rule.push(target.to_string());
        if depth > 0 {
            // A prerequisite with no rule is a file that must exist; nothing runs for it,
            // unless a rule Airlock did not follow makes it.
            return match &makefile.opaque {
                Some(why) => Err(why.clone()),
                None => Ok(()),
            };
        }
        return Err(match &makefile.opaque {
            Some(why) => why.clone(),
            None => format!("has no rule for `{target}`"),
        });
    };
    for prereq in prereqs {
        collect_recipe(makefile, prereq, depth + 1, seen, lines, without_rule)?;
    }
    for line in recipe {
        lines.push(expand(line, &makefile.vars, target, prereqs, 0)?);
    }
    Ok(())
}

fn parse_makefile(text: &str) -> Makefile {
    let mut makefile = Makefile::default();
    let mut current: Option<Vec<String>> = None;
    let mut in_define = false;
    let joined = text.replace("\\\n", " ");
    for function in PARSE_TIME_FUNCTIONS {
        if ["$(", "${"]
            .iter()
            .any(|open| joined.contains(&format!("{open}{function} ")))
        {
            makefile.fatal = Some(format!(
                "uses the make function `$({function} …)`, which acts while make reads the file and which Airlock does not follow"
            ));
            return makefile;
        }
    }
    for line in joined.lines() {
        let trimmed = line.trim();
        if in_define {
            // A multi-line variable: its text runs only where it is expanded, but a
            // `$(shell …)` in it may run while make reads the file.
            collect_shell_calls(trimmed, &mut makefile.shell_calls);
            in_define = trimmed.split_whitespace().next() != Some("endef");
            continue;
        }
        if let Some(body) = line.strip_prefix('\t') {
            if let Some(targets) = &current {
                let body = body.trim_start_matches(['@', '-', '+']).trim().to_string();
                for t in targets {
                    if let Some(rule) = makefile.rules.get_mut(t) {
                        rule.1.push(body.clone());
                    }
                }
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        collect_shell_calls(trimmed, &mut makefile.shell_calls);
        let first = trimmed.split_whitespace().next().unwrap_or("");
        if matches!(first, "include" | "-include" | "sinclude") {
            // Another makefile, read before anything runs: its `$(shell …)` calls and rules
            // (for any target) are unseen. The caller inlines the files it can read first.
            makefile.unread_include =
                Some(format!("includes `{trimmed}`, which Airlock does not read"));
            current = None;
            continue;
        }
        if matches!(first, "load" | "-load" | "sload") {
            makefile.fatal = Some(format!(
                "loads code into make (`{trimmed}`), which Airlock does not read"
            ));
            return makefile;
        }
        if first == "define" {
            makefile.opaque = Some("uses `define`, which Airlock does not follow".into());
            in_define = true;
            current = None;
            continue;
        }
        if matches!(first, "ifeq" | "ifneq" | "ifdef" | "ifndef") {
            makefile.opaque = Some(format!("uses `{first}`, which Airlock does not follow"));
            current = None;
            continue;
        }
        // `export X = v` and `override X = v` define X too; `export X` marks it for the
        // environment of every recipe.
        let (exported, definition) = match first {
            "export" | "override" | "unexport" | "private" => {
                let rest = trimmed[first.len()..].trim();
                let rest = rest.strip_prefix("override ").unwrap_or(rest).trim();
                if first == "export" {
                    if rest.is_empty() {
                        makefile.export_all = true;
                    } else if variable_definition(rest).is_none() {
                        makefile
                            .exported
                            .extend(rest.split_whitespace().map(str::to_string));
                    }
                }
                (first == "export", rest)
            }
            "else" | "endif" | "endef" | "vpath" => {
                current = None;
                continue;
            }
            _ => (false, trimmed),
        };
        if let Some((name, value, shell_assignment)) = variable_definition(definition) {
            if shell_assignment {
                // `X != command` runs the command while make reads the file.
                makefile.shell_calls.push(value.clone());
            }
            if exported {
                makefile.exported.push(name.clone());
            }
            makefile.vars.insert(name, value);
            current = None;
            continue;
        }
        if definition != trimmed {
            // `export NAME…` without a value: handled above.
            current = None;
            continue;
        }
        let Some((targets, rest)) = trimmed.split_once(':') else {
            // A line that is neither a rule, a variable nor a directive: a function call
            // such as `$(info …)` or a bare `$(VAR)` that expands to rules or code.
            makefile.fatal = Some(format!(
                "has the line `{trimmed}`, which Airlock does not follow"
            ));
            return makefile;
        };
        // `target: VAR = value` (also `+=`, `:=`, `?=`, with `override`/`export`/`private`)
        // gives the target and its prerequisites their own value of VAR; the value may hold
        // a `;` (`build: X+=;git`), which is no inline recipe.
        let assignment = rest.find('=');
        if assignment.is_some_and(|eq| rest.find(';').is_none_or(|semi| eq < semi)) {
            makefile.fatal = Some(format!(
                "has the target-specific variable `{trimmed}`, which Airlock does not follow"
            ));
            return makefile;
        }
        let (prereqs, inline) = match rest.split_once(';') {
            Some((p, r)) => (p, Some(r.trim().to_string())),
            None => (rest, None),
        };
        let targets: Vec<String> = targets.split_whitespace().map(str::to_string).collect();
        for special in [".SECONDEXPANSION", ".DEFAULT"] {
            if targets.iter().any(|t| t == special) {
                makefile.fatal = Some(format!("uses `{special}`, which Airlock does not follow"));
                return makefile;
            }
        }
        if targets.iter().any(|t| t == ".EXPORT_ALL_VARIABLES") {
            makefile.export_all = true;
        }
        let raw_targets: HashMap<String, String> = targets
            .iter()
            .map(|t| (same_file(t).to_string(), t.clone()))
            .collect();
        let prereqs: Vec<String> = prereqs
            .trim_start_matches(':')
            .split('|')
            .flat_map(str::split_whitespace)
            .map(|p| same_file(p).to_string())
            .collect();
        // make takes `./x` and `x` for the same file.
        let targets: Vec<String> = targets.iter().map(|t| same_file(t).to_string()).collect();
        for t in &targets {
            if t.contains('%') {
                makefile.opaque = Some(format!(
                    "has a pattern rule (`{t}`), which Airlock does not follow"
                ));
                makefile.patterns.push(t.clone());
                continue;
            }
            // The first target is the default goal unless it starts with `.` and has no
            // `/` (special targets like `.PHONY`).
            let special = raw_targets
                .get(t)
                .is_some_and(|r| r.starts_with('.') && !r.contains('/'));
            if makefile.default_goal.is_none() && !special {
                makefile.default_goal = Some(t.clone());
            }
            let rule = makefile.rules.entry(t.clone()).or_default();
            rule.0.extend(prereqs.iter().cloned());
            rule.1.extend(inline.clone());
        }
        current = Some(targets.into_iter().filter(|t| !t.contains('%')).collect());
    }
    makefile
}

/// A target as make names its file: `./x` is `x`.
fn same_file(name: &str) -> &str {
    let mut name = name;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest.trim_start_matches('/');
    }
    name
}

/// `NAME = value`, `NAME := value`, `NAME ?= value`, `NAME += value` (appended), and
/// `NAME != command` (true in the third place: the value is a command make runs).
fn variable_definition(line: &str) -> Option<(String, String, bool)> {
    let eq = line.find('=')?;
    let colon = line.find(':');
    if colon.is_some_and(|c| c < eq.saturating_sub(2)) {
        return None; // `target: X=y` is a target-specific variable or a rule.
    }
    let shell_assignment = line[..eq].ends_with('!');
    let name = line[..eq].trim_end_matches([':', '?', '+', '!']).trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return None;
    }
    Some((
        name.to_string(),
        line[eq + 1..].trim().to_string(),
        shell_assignment,
    ))
}

/// Every `$(shell …)` / `${shell …}` in a line.
fn collect_shell_calls(line: &str, out: &mut Vec<String>) {
    for open in ["$(shell ", "${shell "] {
        let close = if open.starts_with("$(") { ')' } else { '}' };
        let mut rest = line;
        while let Some(at) = rest.find(open) {
            let body = &rest[at + open.len()..];
            let mut level = 1;
            let mut end = None;
            for (i, c) in body.char_indices() {
                match c {
                    '(' | '{' => level += 1,
                    ')' | '}' => {
                        level -= 1;
                        if level == 0 && c == close {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            match end {
                Some(e) => {
                    out.push(body[..e].to_string());
                    rest = &body[e..];
                }
                None => {
                    out.push(body.to_string());
                    break;
                }
            }
        }
    }
}

/// Substitute make variables in a recipe line. `$$` is a literal `$` (for the shell); an
/// unknown variable or a make function is an error.
fn expand(
    line: &str,
    vars: &HashMap<String, String>,
    target: &str,
    prereqs: &[String],
    depth: usize,
) -> Result<String, String> {
    if depth > MAX_DEPTH {
        return Err("has variables nested deeper than Airlock follows".into());
    }
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('$') => out.push('$'),
            Some('@') => out.push_str(target),
            Some('<') => out.push_str(prereqs.first().map_or("", String::as_str)),
            Some('^') | Some('+') => out.push_str(&prereqs.join(" ")),
            Some(open @ ('(' | '{')) => {
                let close = if open == '(' { ')' } else { '}' };
                let mut name = String::new();
                let mut level = 1;
                for c in chars.by_ref() {
                    if c == open {
                        level += 1;
                    } else if c == close {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    name.push(c);
                }
                let value = match name.as_str() {
                    "MAKE" => "make".to_string(),
                    "CURDIR" | "PWD" => ".".to_string(),
                    _ => match vars.get(&name) {
                        Some(v) => expand(v, vars, target, prereqs, depth + 1)?,
                        None if name.starts_with("shell ") => {
                            return Err(format!("computes part of a recipe with `$({name})`"));
                        }
                        None if name.contains(' ') || name.contains(',') => {
                            return Err(format!(
                                "uses the make function `$({name})`, which Airlock does not evaluate"
                            ));
                        }
                        // An undefined variable expands to nothing, unless it comes from the
                        // environment or the command line: Airlock cannot know it.
                        None => {
                            return Err(format!(
                                "uses `$({name})`, which is not defined in the Makefile"
                            ));
                        }
                    },
                };
                out.push_str(&value);
            }
            Some(other) => {
                return Err(format!("uses the automatic variable `${other}`"));
            }
            None => out.push('$'),
        }
    }
    Ok(out)
}

/// The lines `just RECIPES…` runs (dependencies first). Interpolations (`{{…}}`), shebang
/// recipes and parameters are not evaluated: they are errors.
pub fn just_recipes(text: &str, recipes: &[String]) -> Result<Vec<String>, String> {
    let mut rules: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    let mut first: Option<String> = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(name) = &current
                && !line.trim().is_empty()
            {
                let body = line.trim().trim_start_matches(['@', '-']).to_string();
                if body.starts_with("#!") {
                    return Err(format!(
                        "has a recipe `{name}` run by `{body}`, which Airlock does not read"
                    ));
                }
                if let Some(rule) = rules.get_mut(name) {
                    rule.1.push(body);
                }
            }
            continue;
        }
        current = None;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('[') {
            continue;
        }
        let header = trimmed.trim_start_matches('@');
        if let Some((head, deps)) = header.split_once(':')
            && !deps.starts_with('=')
        {
            let mut words = head.split_whitespace();
            let Some(name) = words.next() else { continue };
            if words.next().is_some() {
                return Err(format!(
                    "has a recipe `{name}` with parameters, which Airlock does not evaluate"
                ));
            }
            let deps: Vec<String> = deps.split_whitespace().map(str::to_string).collect();
            first.get_or_insert_with(|| name.to_string());
            rules.insert(name.to_string(), (deps, Vec::new()));
            current = Some(name.to_string());
        } else if trimmed.starts_with("import") || trimmed.starts_with("mod ") {
            return Err("imports other justfiles, which Airlock does not follow".into());
        }
    }
    let goals: Vec<String> = if recipes.is_empty() {
        vec![first.ok_or("has no recipe")?]
    } else {
        recipes.to_vec()
    };
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(String, usize)> = goals.into_iter().rev().map(|g| (g, 0)).collect();
    // Depth-first, dependencies before the recipe itself.
    let mut order = Vec::new();
    while let Some((name, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err("has dependencies nested deeper than Airlock follows".into());
        }
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some((deps, _)) = rules.get(&name) else {
            return Err(format!("has no recipe `{name}`"));
        };
        order.push(name.clone());
        for dep in deps.iter().rev() {
            stack.push((dep.clone(), depth + 1));
        }
    }
    for name in order.iter().rev() {
        for line in &rules[name].1 {
            if line.contains("{{") {
                return Err(format!(
                    "has a recipe `{name}` with `{{{{…}}}}` interpolation, which Airlock does not evaluate"
                ));
            }
            lines.push(line.clone());
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests;
