//! What the language walkers share: the values code handles as far as Airlock follows them, and
//! turning calls into effects through the code knowledge base.
//!
//! The analysis is flow-insensitive: every call anywhere in the code counts as made (a function
//! body as if called), and a name has every value it is ever given. A module or a function with
//! capabilities used as a value (passed, stored, returned) is given away: Airlock cannot see
//! what is done with it, so that use is `dynamic`, or the function's capabilities with unknown
//! arguments.

use super::knowledge::{
    ArgRef, Capability, CommandForm, Family, FamilyKnowledge, Known, MemberSpec, PathUse, ValueRule,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

mod calls;

/// At most this many possible values per expression.
const MAX_VALUES: usize = 8;
/// Excerpts of code in effects are cut to this many characters.
const MAX_EXCERPT: usize = 160;
/// Effects and string literals kept per piece of code: past these, the code is `dynamic` (a file
/// of thousands of calls is not something to allow without reading it whole).
const MAX_EFFECTS: usize = 256;
const MAX_LITERALS: usize = 4096;

/// What an expression is, as far as Airlock follows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A module the knowledge base lists (canonical name).
    Module(String),
    /// A function, class or object of the knowledge base, by full dotted name.
    Member(String),
    /// Something from a module the knowledge base does not list: any use is unknown.
    Foreign(String),
    /// A name defined nowhere in the code and not a builtin: any use is unknown.
    Undefined(String),
    /// The global object (`globalThis`, `this` outside classes): its members are the globals.
    Global,
    /// A module read from a local file: its top-level names (Python).
    Local(Arc<Exports>),
    Str(String),
    /// A list of strings (an argument vector).
    List(Vec<String>),
    Bool(bool),
    /// An object of a knowledge-base type, and the path it stands for when known.
    Object {
        ty: String,
        path: Option<String>,
    },
    /// A method taken from an object (`p.unlink`): of a known type, or of an unknown receiver
    /// (`ty` = None: matched by name against every type's risky methods).
    Method {
        ty: Option<String>,
        name: String,
        path: Option<String>,
    },
    /// A string method waiting for its call (`" ".join`, `[…].join`).
    StrMethod {
        recv: Box<Value>,
        name: String,
    },
    /// Anything else: numbers, user functions and objects, results of pure calls.
    Other,
}

pub(crate) type Vals = Vec<Value>;
pub(crate) type Exports = HashMap<String, Vals>;

pub(crate) fn other() -> Vals {
    vec![Value::Other]
}

/// Add `v` to `into` unless present; past the cap, `Other` stands for the rest.
pub(crate) fn push_value(into: &mut Vals, v: Value) {
    if into.contains(&v) {
        return;
    }
    if into.len() >= MAX_VALUES {
        if !into.contains(&Value::Other) {
            into.push(Value::Other);
        }
        return;
    }
    into.push(v);
}

pub(crate) fn union(a: Vals, b: Vals) -> Vals {
    let mut out = a;
    for v in b {
        push_value(&mut out, v);
    }
    out
}

/// The strings a value may be, or `None` when any possibility is not a known string.
pub(crate) fn strings(vals: &Vals) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for v in vals {
        match v {
            Value::Str(s) => out.push(s.clone()),
            Value::Object { path: Some(p), .. } => out.push(p.clone()),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A call's arguments, evaluated.
#[derive(Debug, Default)]
pub(crate) struct CallArgs {
    pub positional: Vec<Vals>,
    /// Keyword arguments, and the properties of object literals passed (JavaScript options).
    pub keywords: Vec<(String, Vals)>,
    /// `*args`, `**kwargs`, spreads or an options object that is not a literal: any argument
    /// may be anything.
    pub opaque: bool,
}

impl CallArgs {
    fn get(&self, r: &ArgRef) -> Option<&Vals> {
        match r {
            ArgRef::Index(i) => self.positional.get(*i),
            ArgRef::Keyword(k) => self.keyword(k),
        }
    }

    fn keyword(&self, name: &str) -> Option<&Vals> {
        self.keywords
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// One thing code does: a call with capabilities, or a construct Airlock cannot follow.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Effect {
    /// The code, cut short.
    pub at: String,
    /// What it is: a knowledge-base name (`os.system`) or why it is dynamic.
    pub what: String,
    pub caps: BTreeSet<Capability>,
    pub tags: Vec<String>,
    /// Shell command lines the code runs, as far as known.
    pub commands: Vec<String>,
    /// A process whose command Airlock cannot read.
    pub command_unknown: bool,
    /// The working directory of started processes: `None` inherited, `Some(None)` unknown.
    pub cwd: Option<Option<String>>,
    pub paths: Vec<(String, PathUse)>,
    /// Uses of paths Airlock cannot compute.
    pub paths_unknown: Vec<PathUse>,
    pub hosts: Vec<String>,
    /// The URLs given, as written (a local service is told by its port).
    pub urls: Vec<String>,
    pub hosts_unknown: bool,
    /// Directories changed to (`None`: unknown).
    pub dirs: Vec<Option<String>>,
}

impl Effect {
    pub fn new(at: &str, what: impl Into<String>) -> Self {
        Self {
            at: excerpt(at),
            what: what.into(),
            ..Self::default()
        }
    }
}

/// What the analysis of one piece of code found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub effects: Vec<Effect>,
    /// Every string literal, decoded: any may be a path the code reads.
    pub literals: Vec<String>,
    /// Top-level names and their values, for code that imports this code as a module.
    pub exports: Exports,
}

impl Report {
    pub fn capabilities(&self) -> BTreeSet<Capability> {
        let mut caps = BTreeSet::new();
        for e in &self.effects {
            caps.extend(e.caps.iter().copied());
            for (_, u) in &e.paths {
                caps.insert(path_capability(*u));
            }
            for u in &e.paths_unknown {
                caps.insert(path_capability(*u));
            }
        }
        caps
    }
}

pub(crate) fn path_capability(u: PathUse) -> Capability {
    match u {
        PathUse::Read => Capability::FileRead,
        PathUse::Write => Capability::FileWrite,
        PathUse::Delete => Capability::FileDelete,
        PathUse::Chmod => Capability::FileChmod,
    }
}

/// A module code imports, for the loader to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    pub family: Family,
    /// As written: `a.b` (Python), `./x`, `fs`, `https://…` (JavaScript).
    pub spec: String,
    /// Python relative imports: how many leading dots.
    pub level: usize,
}

/// What the loader found for an import.
#[derive(Debug, Clone)]
pub(crate) enum Loaded {
    /// Not a file of the project: an installed or built-in module.
    NotLocal,
    /// A local file, read and classified by the loader; its top-level names.
    Local(Arc<Exports>),
    /// A local module Airlock cannot read (binary, compiled cache, too large, too deep).
    Unreadable(String),
}

/// Finds and reads the local modules code imports. The classifier's loader reads files and adds
/// their units; tests use [`NoFiles`].
pub(crate) trait Loader {
    fn load(&mut self, import: &Import) -> Loaded;
}

/// A loader for code that runs where no local module exists.
pub(crate) struct NoFiles;

impl Loader for NoFiles {
    fn load(&mut self, _: &Import) -> Loaded {
        Loaded::NotLocal
    }
}

/// The state one analysis shares between the language walker and the knowledge base.
pub(crate) struct Interp<'k> {
    pub kb: &'k FamilyKnowledge,
    pub family: Family,
    pub report: Report,
    /// Above zero while values are computed for a name: nothing is recorded then.
    quiet: usize,
    /// The file the code is in, when it is a file.
    pub file: Option<String>,
    /// What was recorded already: the same call is one effect, the same literal one literal.
    seen_effects: HashSet<(String, String)>,
    seen_literals: HashSet<String>,
    overflowed: bool,
}

impl<'k> Interp<'k> {
    pub fn new(kb: &'k FamilyKnowledge, family: Family, file: Option<String>) -> Self {
        Self {
            kb,
            family,
            report: Report::default(),
            quiet: 0,
            file,
            seen_effects: HashSet::new(),
            seen_literals: HashSet::new(),
            overflowed: false,
        }
    }

    /// While values are computed for a name, nothing is recorded: the walk records effects
    /// where it meets the code itself.
    pub fn enter_quiet(&mut self) {
        self.quiet += 1;
    }

    pub fn leave_quiet(&mut self) {
        self.quiet = self.quiet.saturating_sub(1);
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet > 0
    }

    pub fn record(&mut self, effect: Effect) {
        if self.quiet > 0
            || !self
                .seen_effects
                .insert((effect.at.clone(), effect.what.clone()))
        {
            return;
        }
        if self.report.effects.len() >= MAX_EFFECTS {
            if !self.overflowed {
                self.overflowed = true;
                let mut e = Effect::new("", "more calls with effects than Airlock lists");
                e.caps.insert(Capability::Dynamic);
                self.report.effects.push(e);
            }
            return;
        }
        self.report.effects.push(effect);
    }

    pub fn literal(&mut self, s: &str) {
        if self.quiet == 0
            && self.report.literals.len() < MAX_LITERALS
            && self.seen_literals.insert(s.to_string())
        {
            self.report.literals.push(s.to_string());
        }
    }

    /// Record code Airlock cannot follow.
    pub fn dynamic(&mut self, at: &str, why: impl Into<String>) {
        let mut e = Effect::new(at, why);
        e.caps.insert(Capability::Dynamic);
        self.record(e);
    }

    /// The value of a name no binding in the code gives.
    pub fn global(&self, name: &str) -> Option<Value> {
        let full = format!("{}.{name}", self.kb.globals);
        match self.kb.lookup(&full)? {
            Known::Member(spec) if spec.value == Some(ValueRule::Global) => Some(Value::Global),
            Known::Member(spec) if spec.module.is_some() => {
                spec.module.as_ref().map(|m| Value::Module(m.clone()))
            }
            _ => Some(Value::Member(full)),
        }
    }

    /// The value of a module imported by name, for modules that are not local files.
    pub fn module_value(&mut self, name: &str, at: &str) -> Value {
        match self.kb.module(name) {
            Some(canonical) => {
                let canonical = canonical.to_string();
                let caps = self.kb.on_import(&canonical).to_vec();
                if !caps.is_empty() {
                    let mut e = Effect::new(at, format!("importing `{canonical}`"));
                    e.caps.extend(caps);
                    e.command_unknown = true;
                    e.hosts_unknown = true;
                    self.record(e);
                }
                Value::Module(canonical)
            }
            // `import http.client` binds `http`, a package Airlock knows only parts of.
            None if self.kb.has_submodules(name) => Value::Module(name.to_string()),
            None => Value::Foreign(name.to_string()),
        }
    }

    /// `object.name`, read (and maybe then called).
    pub fn attribute(&mut self, object: &Vals, name: &str, at: &str) -> Vals {
        if self.kb.is_dynamic_attribute(name) {
            self.dynamic(
                at,
                format!("reaches interpreter internals through `.{name}`"),
            );
            return other();
        }
        let mut out = Vec::new();
        for v in object {
            let value = match v {
                Value::Module(owner) | Value::Member(owner) => self.member(owner, name, at),
                Value::Global => {
                    let full = format!("{}.{name}", self.kb.globals);
                    match self.kb.lookup(&full) {
                        Some(_) => self.global(name).unwrap_or(Value::Other),
                        // Properties code set on the global object: whatever was stored there
                        // was given away when stored.
                        None => Value::Other,
                    }
                }
                Value::Foreign(owner) => Value::Foreign(format!("{owner}.{name}")),
                Value::Undefined(n) => {
                    self.dynamic(at, format!("`{n}` is not defined in the code"));
                    Value::Other
                }
                Value::Local(exports) => match exports.get(name) {
                    Some(vals) => {
                        for inner in vals.clone() {
                            push_value(&mut out, inner);
                        }
                        continue;
                    }
                    None => Value::Other,
                },
                Value::Object { ty, path } => Value::Method {
                    ty: Some(ty.clone()),
                    name: name.to_string(),
                    path: path.clone(),
                },
                Value::Str(_) | Value::List(_) => Value::StrMethod {
                    recv: Box::new(v.clone()),
                    name: name.to_string(),
                },
                Value::Method { .. } => {
                    // `f.call(…)`, `f.bind(…)`: the method is handed on with unknown arguments.
                    self.escape(&vec![v.clone()], at);
                    Value::Other
                }
                Value::Other | Value::StrMethod { .. } | Value::Bool(_) => {
                    if self.kb.risky_methods(name).is_empty() {
                        Value::Other
                    } else {
                        Value::Method {
                            ty: None,
                            name: name.to_string(),
                            path: None,
                        }
                    }
                }
            };
            push_value(&mut out, value);
        }
        if out.is_empty() { other() } else { out }
    }

    /// `owner.name` where `owner` is a module or a knowledge-base member.
    fn member(&mut self, owner: &str, name: &str, at: &str) -> Value {
        let full = format!("{owner}.{name}");
        if let Some(canonical) = self.kb.module(&full) {
            return Value::Module(canonical.to_string());
        }
        match self.kb.lookup(&full) {
            Some(Known::Member(spec)) => match &spec.module {
                Some(m) => Value::Module(m.clone()),
                None => Value::Member(full),
            },
            Some(Known::Module) => Value::Module(full),
            Some(Known::Namespace) => Value::Member(full),
            None if self.kb.module(owner).is_none() && self.kb.lookup(owner).is_none() => {
                Value::Foreign(full)
            }
            None => {
                if let Some(Known::Member(spec)) = self.kb.lookup(owner) {
                    // `os.environ.HOME`, `process.env.HOME`.
                    if spec.value == Some(ValueRule::Environ) {
                        return env_value(name);
                    }
                    // `Path.write_text`: a method taken from the class, receiver unknown.
                    if let Some(ty) = &spec.returns
                        && self.kb.method(ty, name).is_some()
                    {
                        return Value::Method {
                            ty: Some(ty.clone()),
                            name: name.to_string(),
                            path: None,
                        };
                    }
                }
                if self.kb.is_dangerous(owner)
                    && !self.kb.is_closed(owner)
                    && matches!(self.kb.lookup(owner), Some(Known::Member(_)))
                {
                    // `execSync.call(…)`, `fetch.bind(…)`: the function is handed on.
                    self.escape(&vec![Value::Member(owner.to_string())], at);
                    return Value::Other;
                }
                if self.kb.is_closed(owner) {
                    self.dynamic(
                        at,
                        format!("`{full}` is not in Airlock's code knowledge base"),
                    );
                }
                Value::Other
            }
        }
    }

    /// `object.x = …` or `object[k] = …`: setting the environment, or changing a library.
    pub fn changes(&mut self, object: &Vals, at: &str) {
        for v in object {
            match v {
                Value::Member(full) => {
                    let environ = matches!(
                        self.kb.lookup(full),
                        Some(Known::Member(spec)) if spec.value == Some(ValueRule::Environ)
                    );
                    // Other members (`module.exports`, `console.log`) are the code's own to
                    // set; what is stored there is handed away and checked as such.
                    if environ {
                        let mut e = Effect::new(at, format!("sets `{full}`"));
                        e.caps.insert(Capability::Environment);
                        self.record(e);
                    }
                }
                Value::Module(m) => self.dynamic(at, format!("changes module `{m}`")),
                Value::Undefined(n) => {
                    self.dynamic(at, format!("`{n}` is not defined in the code"))
                }
                _ => {}
            }
        }
    }

    /// `object[key]`.
    pub fn subscript(&mut self, object: &Vals, key: &Vals, at: &str) -> Vals {
        let mut out = Vec::new();
        for v in object {
            let value = match v {
                Value::Module(_) | Value::Member(_) | Value::Global | Value::Local(_) => {
                    if let Value::Member(full) = v
                        && let Some(Known::Member(spec)) = self.kb.lookup(full)
                        && spec.value == Some(ValueRule::Environ)
                    {
                        match strings(key).as_deref() {
                            Some([k]) => env_value(k),
                            _ => Value::Other,
                        }
                    } else if let Value::Member(full) = v
                        && !self.kb.is_closed(full)
                        && !self.kb.is_dangerous(full)
                    {
                        Value::Other
                    } else {
                        match strings(key) {
                            // `mod["name"]` is `mod.name` (JavaScript).
                            Some(keys) if self.family == Family::Javascript => {
                                let mut vals = Vec::new();
                                for k in keys {
                                    vals = union(vals, self.attribute(&vec![v.clone()], &k, at));
                                }
                                for inner in vals {
                                    push_value(&mut out, inner);
                                }
                                continue;
                            }
                            _ => {
                                self.dynamic(at, "looks a member up by a computed name");
                                Value::Other
                            }
                        }
                    }
                }
                Value::Foreign(_) => v.clone(),
                Value::Undefined(n) => {
                    self.dynamic(at, format!("`{n}` is not defined in the code"));
                    Value::Other
                }
                _ => Value::Other,
            };
            push_value(&mut out, value);
        }
        if out.is_empty() { other() } else { out }
    }

    /// A value used where Airlock cannot follow it (an argument, an element, a return value).
    pub fn escape(&mut self, vals: &Vals, at: &str) {
        for v in vals {
            match v {
                Value::Module(m) if self.kb.is_dangerous(m) => {
                    self.dynamic(at, format!("hands module `{m}` to other code"));
                }
                Value::Member(full) => {
                    if matches!(
                        self.kb.lookup(full),
                        Some(Known::Member(spec)) if spec.value == Some(ValueRule::Environ)
                    ) {
                        // `print(os.environ)`, `JSON.stringify(process.env)`: every variable,
                        // tokens included, as `env` prints them.
                        let mut e =
                            Effect::new(at, format!("hands the whole environment (`{full}`) on"));
                        e.tags.push("environment-dump".into());
                        self.record(e);
                        continue;
                    }
                    if !self.kb.is_dangerous(full) {
                        continue;
                    }
                    match self.kb.lookup(full) {
                        Some(Known::Member(spec)) if spec.value.is_none() => {
                            let spec = spec.clone();
                            let args = CallArgs {
                                opaque: true,
                                ..CallArgs::default()
                            };
                            self.apply(full, &spec, &args, None, at);
                            if self.kb.is_closed(full) {
                                self.dynamic(at, format!("hands `{full}` to other code"));
                            }
                        }
                        _ => self.dynamic(at, format!("hands `{full}` to other code")),
                    }
                }
                Value::Foreign(f) => self.dynamic(
                    at,
                    format!("uses `{f}`, from a module Airlock does not know"),
                ),
                Value::Undefined(n) => {
                    self.dynamic(at, format!("`{n}` is not defined in the code"))
                }
                Value::Global => self.dynamic(at, "hands the global object to other code"),
                Value::Local(exports) => {
                    let exports = exports.clone();
                    for vals in exports.values() {
                        if vals.iter().any(|x| self.gives_away(x)) {
                            self.dynamic(at, "hands a local module that holds libraries around");
                            break;
                        }
                    }
                }
                Value::Method { .. } => {
                    let args = CallArgs {
                        opaque: true,
                        ..CallArgs::default()
                    };
                    self.call(&vec![v.clone()], &args, at);
                }
                _ => {}
            }
        }
    }

    /// Whether using `v` as a value would give capabilities away.
    fn gives_away(&self, v: &Value) -> bool {
        match v {
            Value::Module(m) | Value::Member(m) => self.kb.is_dangerous(m),
            Value::Foreign(_) | Value::Global | Value::Undefined(_) => true,
            _ => false,
        }
    }

    /// `callee(args)`.
    pub fn call(&mut self, callee: &Vals, args: &CallArgs, at: &str) -> Vals {
        let mut out = Vec::new();
        for v in callee {
            let result = match v {
                Value::Member(full) => match self.kb.lookup(full) {
                    Some(Known::Member(spec)) => {
                        let spec = spec.clone();
                        self.apply(full, &spec, args, None, at)
                    }
                    _ => other(),
                },
                Value::Module(m) => {
                    // `require('x')(…)`: a module whose export is a function.
                    let full = format!("{m}.default");
                    match self.kb.lookup(&full) {
                        Some(Known::Member(spec)) => {
                            let spec = spec.clone();
                            self.apply(&full, &spec, args, None, at)
                        }
                        _ => {
                            if self.family == Family::Javascript && self.kb.is_dangerous(m) {
                                self.dynamic(at, format!("calls module `{m}` itself"));
                            }
                            other()
                        }
                    }
                }
                Value::Foreign(f) => {
                    self.dynamic(
                        at,
                        format!("calls `{f}`, from a module Airlock does not know"),
                    );
                    other()
                }
                Value::Undefined(n) => {
                    self.dynamic(at, format!("calls `{n}`, which is not defined in the code"));
                    other()
                }
                Value::Global => other(),
                Value::Method {
                    ty: Some(ty),
                    name,
                    path,
                } => match self.kb.method(ty, name) {
                    Some(spec) => {
                        let spec = spec.clone();
                        let what = format!("{ty}.{name}");
                        self.apply(&what, &spec, args, Some(path.clone()), at)
                    }
                    None => other(),
                },
                Value::Method {
                    ty: None,
                    name,
                    path,
                } => {
                    let count = args.positional.len();
                    let specs: Vec<MemberSpec> = self
                        .kb
                        .risky_methods(name)
                        .iter()
                        .filter(|s| {
                            args.opaque
                                || s.positional
                                    .is_none_or(|[lo, hi]| (lo..=hi).contains(&count))
                        })
                        .cloned()
                        .collect();
                    let mut vals = other();
                    for spec in specs {
                        let what = format!("`.{name}()` of an object of unknown type");
                        vals = union(vals, self.apply(&what, &spec, args, Some(path.clone()), at));
                    }
                    vals
                }
                Value::StrMethod { recv, name } => str_method(recv, name, args),
                _ => other(),
            };
            for r in result {
                push_value(&mut out, r);
            }
        }
        if out.is_empty() { other() } else { out }
    }
}

/// `os.environ["HOME"]`: the home directory; other variables are unknown strings.
fn env_value(name: &str) -> Value {
    if name == "HOME" {
        Value::Str("~".into())
    } else {
        Value::Other
    }
}

/// `" ".join([...])` (Python), `[...].join(" ")` (JavaScript), `"a".concat(b)`.
fn str_method(recv: &Value, name: &str, args: &CallArgs) -> Vals {
    let arg_strings = |i: usize| -> Option<Vec<String>> { strings(args.positional.get(i)?) };
    let list_arg = |i: usize| -> Option<Vec<String>> {
        match args.positional.get(i)?.as_slice() {
            [Value::List(l)] => Some(l.clone()),
            _ => None,
        }
    };
    let joined = match (recv, name) {
        (Value::Str(sep), "join") => list_arg(0).map(|l| l.join(sep)),
        (Value::List(l), "join") => match args.positional.first() {
            None => Some(l.join(",")),
            Some(_) => arg_strings(0).and_then(|s| match s.as_slice() {
                [sep] => Some(l.join(sep)),
                _ => None,
            }),
        },
        (Value::Str(s), "concat") => {
            let mut out = Some(s.clone());
            for i in 0..args.positional.len() {
                match (arg_strings(i).as_deref(), out.as_mut()) {
                    (Some([p]), Some(o)) => o.push_str(p),
                    _ => out = None,
                }
            }
            out
        }
        (Value::Str(s), "strip" | "trim" | "rstrip" | "lstrip" | "toString") => {
            Some(s.trim().to_string())
        }
        _ => None,
    };
    match joined {
        Some(s) => vec![Value::Str(s)],
        None => other(),
    }
}

/// Whether a literal is an `open()` mode (`"w"`, `"rb+"`), not some other string.
fn is_mode(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| "rwxabtU+s".contains(c))
}

/// Path components joined the way `os.path.join` does: an absolute part starts over.
pub(crate) fn join_paths(parts: &[String]) -> String {
    let mut out = String::new();
    for p in parts {
        if p.starts_with('/') || out.is_empty() {
            out = p.clone();
        } else if p.is_empty() {
            continue;
        } else {
            if !out.ends_with('/') {
                out.push('/');
            }
            out.push_str(p);
        }
    }
    out
}

/// An argument vector as a shell command line with every word quoted.
pub(crate) fn quote_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A short excerpt of code for reasons and unit texts.
pub(crate) fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_EXCERPT {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX_EXCERPT).collect();
        format!("{cut}…")
    }
}
