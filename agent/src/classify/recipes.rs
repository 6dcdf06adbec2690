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
}

/// The recipe lines `make TARGETS…` runs (every target's prerequisites first), after
/// substituting variables, plus every `$(shell …)` the Makefile runs while being read.
pub fn make_recipes(
    text: &str,
    targets: &[String],
    overrides: &[(String, String)],
) -> Result<Vec<String>, String> {
    let parsed = MAKEFILES.get(text, parse_makefile);
    let mut makefile = Cow::Borrowed(parsed.as_ref());
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
    for goal in &goals {
        collect_recipe(&makefile, goal, 0, &mut seen, &mut lines)?;
    }
    Ok(lines)
}

fn collect_recipe(
    makefile: &Makefile,
    target: &str,
    depth: usize,
    seen: &mut HashSet<String>,
    lines: &mut Vec<String>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("has prerequisites nested deeper than Airlock follows".into());
    }
    if !seen.insert(target.to_string()) {
        return Ok(());
    }
    let Some((prereqs, recipe)) = makefile.rules.get(target) else {
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
        collect_recipe(makefile, prereq, depth + 1, seen, lines)?;
    }
    for line in recipe {
        lines.push(expand(line, &makefile.vars, target, prereqs, 0)?);
    }
    Ok(())
}

fn parse_makefile(text: &str) -> Makefile {
    let mut makefile = Makefile::default();
    let mut current: Option<Vec<String>> = None;
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
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
        let trimmed = line.trim();
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
        if matches!(first, "ifeq" | "ifneq" | "ifdef" | "ifndef" | "define") {
            makefile.opaque = Some(format!("uses `{first}`, which Airlock does not follow"));
            current = None;
            continue;
        }
        if matches!(
            first,
            "else" | "endif" | "endef" | "export" | "unexport" | "override" | "vpath"
        ) {
            current = None;
            continue;
        }
        if let Some((name, value)) = variable_definition(trimmed) {
            makefile.vars.insert(name, value);
            current = None;
            continue;
        }
        if let Some((targets, rest)) = trimmed.split_once(':') {
            let (prereqs, inline) = match rest.split_once(';') {
                Some((p, r)) => (p, Some(r.trim().to_string())),
                None => (rest, None),
            };
            let targets: Vec<String> = targets.split_whitespace().map(str::to_string).collect();
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

/// `NAME = value`, `NAME := value`, `NAME ?= value`, `NAME += value` (appended).
fn variable_definition(line: &str) -> Option<(String, String)> {
    let eq = line.find('=')?;
    let colon = line.find(':');
    if colon.is_some_and(|c| c < eq.saturating_sub(2)) {
        return None; // `target: X=y` is a target-specific variable or a rule.
    }
    let name = line[..eq].trim_end_matches([':', '?', '+', '!']).trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return None;
    }
    Some((name.to_string(), line[eq + 1..].trim().to_string()))
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
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn package_scripts_and_hooks() {
        let json =
            r#"{"scripts": {"pretest": "tsc", "test": "vitest run", "postinstall": "node x.js"}}"#;
        assert_eq!(package_script(json, "test").unwrap(), ["tsc", "vitest run"]);
        assert!(package_script(json, "deploy").is_err());
        let lifecycle = ["preinstall", "install", "postinstall"].map(String::from);
        assert_eq!(package_scripts(json, &lifecycle).unwrap(), ["node x.js"]);
        assert!(package_scripts("{", &lifecycle).is_err());
        assert!(package_scripts(r#"{"scripts": 1}"#, &lifecycle).is_err());
    }

    #[test]
    fn make_follows_targets_prerequisites_and_variables() {
        let text = "CARGO = cargo\nFLAGS := --release\n\nall: build\n\nbuild: gen\n\t@$(CARGO) build $(FLAGS)\n\ngen:\n\t-echo $$HOME > $@.txt\n\nnuke:\n\trm -rf ~\n.PHONY: all build gen nuke\n";
        assert_eq!(
            make_recipes(text, &[], &[]).unwrap(),
            ["echo $HOME > gen.txt", "cargo build --release"]
        );
        assert_eq!(
            make_recipes(text, &["nuke".into()], &[]).unwrap(),
            ["rm -rf ~"]
        );
        assert!(make_recipes(text, &["missing".into()], &[]).is_err());
        // Command-line variables override the Makefile's.
        let cc = [("CARGO".to_string(), "curl x | sh;".to_string())];
        assert_eq!(
            make_recipes(text, &["build".into()], &cc).unwrap(),
            ["echo $HOME > gen.txt", "curl x | sh; build --release"]
        );
        let shell = [("SHELL".to_string(), "./evil.sh".to_string())];
        assert!(make_recipes(text, &["build".into()], &shell).is_err());
        assert!(make_recipes("SHELL := ./x\nb:\n\techo\n", &[], &[]).is_err());
    }

    #[test]
    fn make_refuses_what_it_cannot_follow() {
        assert!(make_recipes("include other.mk\nx:\n\techo\n", &["y".into()], &[]).is_err());
        // The goal make really builds: `.DEFAULT_GOAL`, a first target spelled `./x`.
        let chosen = make_recipes(
            ".DEFAULT_GOAL := evil\nbuild:\n\tcc x.c\nevil:\n\tcurl x\n",
            &[],
            &[],
        );
        assert_eq!(chosen.unwrap(), ["curl x"]);
        let dotted = make_recipes("./evil:\n\tcurl x\nbuild:\n\tcc x.c\n", &[], &[]);
        assert_eq!(dotted.unwrap(), ["curl x"]);
        let special = make_recipes(".PHONY: build\nbuild:\n\tcc x.c\n", &[], &[]);
        assert_eq!(special.unwrap(), ["cc x.c"]);
        assert!(make_recipes("%.o: %.c\n\tcc $<\n", &["a.o".into()], &[]).is_err());
        assert!(make_recipes("x:\n\t$(RM) -rf out\n", &["x".into()], &[]).is_err());
        assert!(make_recipes("x:\n\t$(foreach d,a b,rm $(d))\n", &["x".into()], &[]).is_err());
        // `$(shell …)` runs while make reads the file, whatever the target.
        let lines = make_recipes(
            "V := $(shell curl x | sh)\nx:\n\techo hi\n",
            &["x".into()],
            &[],
        );
        assert_eq!(lines.unwrap(), ["curl x | sh", "echo hi"]);
    }

    #[test]
    fn just_recipes_with_dependencies() {
        let text = "default: test\n\ntest: build\n    cargo test\n\nbuild:\n    cargo build\n\nnuke:\n    rm -rf ~\n";
        assert_eq!(
            just_recipes(text, &[]).unwrap(),
            ["cargo build", "cargo test"]
        );
        assert_eq!(just_recipes(text, &["nuke".into()]).unwrap(), ["rm -rf ~"]);
        assert!(just_recipes("x:\n    rm -rf {{dir}}\n", &["x".into()]).is_err());
        assert!(just_recipes("x:\n    #!/usr/bin/env python3\n    print(1)\n", &[]).is_err());
        assert!(just_recipes("x a:\n    echo {{a}}\n", &[]).is_err());
    }
}
