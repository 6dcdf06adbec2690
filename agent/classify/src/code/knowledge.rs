//! The code knowledge base (`agent/kb/code.toml`): what the modules, functions and types that
//! Python and JavaScript/TypeScript code use can do, as data.
//!
//! Members of a module are an allow-list: a member the knowledge base does not list is `unknown`
//! (a module's attributes include whatever it imported, `shutil.os.system` among them). Types'
//! methods are a deny-list: a method listed has the capabilities it says, others have none.
//! The schema is strict (`deny_unknown_fields`); examples are checked when the classifier is
//! built (see [`super::CodeAnalyzer::new`]).

use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The code knowledge base shipped with this build.
pub const BUILTIN_CODE_KB: &str = include_str!("../../../kb/code.toml");

/// Languages whose modules and names are shared (TypeScript is JavaScript's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Python,
    Javascript,
}

/// A language Airlock reads: with a tree-sitter grammar (Python, JavaScript, TypeScript), or
/// with a grammar of its own for a small language (awk, sed) or sub-language (Perl
/// substitutions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Javascript,
    Typescript,
    Tsx,
    Awk,
    Perl,
    Sed,
}

impl Language {
    /// The family whose modules the code uses; none for awk and Perl.
    pub fn family(self) -> Option<Family> {
        match self {
            Language::Python => Some(Family::Python),
            Language::Javascript | Language::Typescript | Language::Tsx => Some(Family::Javascript),
            Language::Awk | Language::Perl | Language::Sed => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Javascript => "javascript",
            Language::Typescript => "typescript",
            Language::Tsx => "tsx",
            Language::Awk => "awk",
            Language::Perl => "perl",
            Language::Sed => "sed",
        }
    }
}

/// What a piece of code can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum Capability {
    /// Starts a process (its command is classified as a shell command when it can be read).
    #[serde(rename = "process")]
    Process,
    /// Reaches the network.
    #[serde(rename = "network")]
    Network,
    /// Reads files (from the member's `read` arguments).
    #[serde(rename = "file.read")]
    FileRead,
    /// Creates or changes files (from `write`).
    #[serde(rename = "file.write")]
    FileWrite,
    /// Deletes files (from `delete`).
    #[serde(rename = "file.delete")]
    FileDelete,
    /// Changes permissions or ownership (from `chmod`).
    #[serde(rename = "file.chmod")]
    FileChmod,
    /// Changes the process's user or groups.
    #[serde(rename = "identity")]
    Identity,
    /// Changes the working directory, so relative paths after it mean something else.
    #[serde(rename = "chdir")]
    Chdir,
    /// Changes the environment processes started later inherit (`PATH`, `LD_PRELOAD`).
    #[serde(rename = "environment")]
    Environment,
    /// Loads code from the network (`import "https://…"`, `npm:` specifiers).
    #[serde(rename = "remote-code")]
    RemoteCode,
    /// Runs code Airlock cannot read: `eval`, `getattr`, computed imports, reflection.
    #[serde(rename = "dynamic")]
    Dynamic,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Process => "process",
            Capability::Network => "network",
            Capability::FileRead => "file.read",
            Capability::FileWrite => "file.write",
            Capability::FileDelete => "file.delete",
            Capability::FileChmod => "file.chmod",
            Capability::Identity => "identity",
            Capability::Chdir => "chdir",
            Capability::Environment => "environment",
            Capability::RemoteCode => "remote-code",
            Capability::Dynamic => "dynamic",
        }
    }

    /// Capabilities that come from a member's path arguments, not from `does`.
    fn is_file(self) -> bool {
        matches!(
            self,
            Capability::FileRead
                | Capability::FileWrite
                | Capability::FileDelete
                | Capability::FileChmod
        )
    }
}

/// An argument of a call: by position, or by keyword (Python keyword arguments, properties of a
/// JavaScript options object). A positional argument that is missing is unknown; a keyword
/// argument that is missing is simply not given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ArgRef {
    Index(usize),
    Keyword(String),
}

/// How a process-starting call gives its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandForm {
    /// A command line run by a shell (`os.system`, `execSync`).
    Shell,
    /// A list of strings (`["rm", "-rf", "x"]`), or one string naming the program; with the
    /// shell option a string is a shell command line.
    Argv,
    /// The program, then a list of its arguments (`spawn(cmd, args)`, `execFile`).
    Program,
    /// The program and its arguments as separate arguments (`os.execlp`,
    /// `create_subprocess_exec`).
    Varargs,
}

/// How a call computes a string Airlock can follow (a path built from literals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueRule {
    /// Its first argument (`os.path.expanduser`, `str`, `path.normalize`).
    Identity,
    /// Its arguments joined as path components (`os.path.join`, `path.resolve`, `Path(a, b)`).
    Join,
    /// The directory of its first argument.
    Dirname,
    /// The last component of its first argument.
    Basename,
    /// The home directory (`Path.home()`, `os.homedir()`).
    Home,
    /// The working directory (`os.getcwd()`, `process.cwd()`).
    Cwd,
    /// The environment as a mapping (`os.environ`, `process.env`): `HOME` is the home directory.
    Environ,
    /// One environment variable by name (`os.getenv("HOME")`).
    Getenv,
    /// The file the code is in (`__file__`, `__filename`).
    File,
    /// The directory of the file the code is in (`__dirname`).
    Dir,
    /// The global object (`globalThis`): its members are the global names.
    Global,
}

/// `open(path, mode)`: the path is written when the mode has one of `write` letters, or when
/// the mode is not a literal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSpec {
    pub arg: ArgRef,
    #[serde(default)]
    pub keyword: Option<String>,
    pub write: String,
}

/// How a call's path arguments are used, by capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathUse {
    Read,
    Write,
    Delete,
    Chmod,
}

/// A function, class or object of a module, or a method of a type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    /// Names relative to the module (`system`, `promises.rm`, `Path.home`).
    pub names: Vec<String>,
    /// What calling it does, besides the file capabilities of its path arguments.
    #[serde(default)]
    pub does: Vec<Capability>,
    /// Tags its effects carry (`recursive` for tree deletions).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Arguments that are paths read, written, deleted, or whose permissions change.
    #[serde(default)]
    pub read: Vec<ArgRef>,
    #[serde(default)]
    pub write: Vec<ArgRef>,
    #[serde(default)]
    pub delete: Vec<ArgRef>,
    #[serde(default)]
    pub chmod: Vec<ArgRef>,
    /// For methods of a type: how the receiver's own path is used (`Path.unlink`: delete).
    #[serde(default)]
    pub receiver: Option<PathUse>,
    /// The open mode that turns `read` paths into writes.
    #[serde(default)]
    pub mode: Option<ModeSpec>,
    /// For `process`: how the command is given, and where.
    #[serde(default)]
    pub command: Option<CommandForm>,
    #[serde(default)]
    pub command_arg: Option<ArgRef>,
    /// For `program`: the argument list.
    #[serde(default)]
    pub args_arg: Option<ArgRef>,
    /// The option that makes the command run by a shell (`shell=True`, `{shell: true}`).
    #[serde(default)]
    pub shell_option: Option<String>,
    /// The option naming the program that really runs (`executable=` of Python's
    /// `subprocess`): the shell with the shell option, else the program in place of the first
    /// word of the argument list. A shell option given a string names the shell too (Node's
    /// `{shell: "/bin/zsh"}`).
    #[serde(default)]
    pub program_option: Option<String>,
    /// For `program`: the argument list starts with the name the program sees as its own
    /// (`os.execv(path, [name, …])`), not an argument.
    #[serde(default)]
    pub args_start_with_name: bool,
    /// The option giving the process's working directory.
    #[serde(default)]
    pub cwd_option: Option<String>,
    /// The option giving the process's environment.
    #[serde(default)]
    pub env_option: Option<String>,
    /// For `network`: the argument holding the URL or host name.
    #[serde(default)]
    pub url_arg: Option<ArgRef>,
    /// For `chdir`: the argument holding the new directory.
    #[serde(default)]
    pub dir_arg: Option<ArgRef>,
    /// The call loads the module its argument names (`require(x)`): a literal name is followed,
    /// anything else is dynamic.
    #[serde(default)]
    pub module_arg: Option<ArgRef>,
    /// An argument that is code to evaluate when it is a string (`setTimeout("…")`).
    #[serde(default)]
    pub code_arg: Option<ArgRef>,
    /// The type of what calling it returns (its methods are then known), or of the object.
    #[serde(default)]
    pub returns: Option<String>,
    /// The string (path) a call returns, or the member stands for, computed from its arguments.
    #[serde(default)]
    pub value: Option<ValueRule>,
    /// Members not listed under this one (`console.x`) have no capabilities (default: unknown).
    #[serde(default)]
    pub open: bool,
    /// The member is another module (`fs.promises` is `fs/promises`).
    #[serde(default)]
    pub module: Option<String>,
    /// For methods: how many positional arguments the method takes, at least and at most, so a
    /// method of an unknown receiver is only taken for this one when the count fits
    /// (`Path.replace(target)` has one; `str.replace(old, new)` two).
    #[serde(default)]
    pub positional: Option<[usize; 2]>,
}

/// A module (or the globals of a language) and its members.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    pub family: Family,
    /// The canonical name first, then aliases (`node:fs`).
    pub names: Vec<String>,
    /// Members not listed have no capabilities (only for modules that import nothing else).
    #[serde(default)]
    pub open: bool,
    /// What importing the module does by itself (`antigravity` opens a web browser).
    #[serde(default)]
    pub on_import: Vec<Capability>,
    #[serde(default, rename = "member")]
    pub members: Vec<MemberSpec>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
}

/// A type whose objects code gets from calls (`pathlib.Path`), and its methods.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeSpec {
    pub family: Family,
    pub name: String,
    #[serde(rename = "method")]
    pub methods: Vec<MemberSpec>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
}

/// Code and the capabilities the analysis must find in it, exactly (`[]`: none).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default)]
    pub language: Option<Language>,
    pub code: String,
    pub does: Vec<Capability>,
}

/// Settings of a language family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySpec {
    pub name: Family,
    /// The module whose members are names in every scope (`builtins`, the JavaScript globals).
    pub globals: String,
    /// Attribute names that reach the interpreter's internals (frames, code objects, the
    /// prototype chain): any use is dynamic.
    #[serde(default)]
    pub dynamic_attributes: Vec<String>,
    /// Python: `__dunder__` attributes are dynamic, except these.
    #[serde(default)]
    pub ordinary_dunders: Vec<String>,
    /// Modules the interpreter imports from its own library, by top-level name: a file of that
    /// name where the interpreter looks first (`sys.path[0]`) runs instead.
    #[serde(default)]
    pub standard_modules: Vec<String>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
}

/// A grammar and the file extensions written in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageSpec {
    pub name: Language,
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeKbFile {
    #[serde(rename = "language")]
    languages: Vec<LanguageSpec>,
    #[serde(rename = "family")]
    families: Vec<FamilySpec>,
    #[serde(default, rename = "module")]
    modules: Vec<ModuleSpec>,
    #[serde(default, rename = "type")]
    types: Vec<TypeSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum CodeKbError {
    #[error("invalid code knowledge base: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("code knowledge base: {0}")]
    Invalid(String),
    #[error(
        "code knowledge base: example of `{owner}` `{code}`: expected [{expected}], found [{found}]"
    )]
    Example {
        owner: String,
        code: String,
        expected: String,
        found: String,
    },
}

/// One family's knowledge, indexed by full dotted name.
#[derive(Debug, Default)]
pub struct FamilyKnowledge {
    /// Module names (each its own module; entries may share a member list).
    modules: HashMap<String, String>,
    /// Module name → what importing it does.
    on_import: HashMap<String, Vec<Capability>>,
    /// Full name (`os.system`, `builtins.open`) → spec.
    members: HashMap<String, MemberSpec>,
    /// Names that have members listed under them (modules and namespaces): closed unless open.
    namespaces: HashSet<String>,
    open: HashSet<String>,
    /// Names under which something has capabilities: using one as a value gives them away.
    dangerous: HashSet<String>,
    /// Type name → methods by name.
    types: HashMap<String, HashMap<String, MemberSpec>>,
    /// Methods with capabilities by name, for receivers of unknown type.
    risky_methods: HashMap<String, Vec<MemberSpec>>,
    pub globals: String,
    dynamic_attributes: HashSet<String>,
    ordinary_dunders: HashSet<String>,
    pub standard_modules: HashSet<String>,
}

/// What a name refers to in the knowledge base.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// A module (canonical name).
    Module,
    /// A member with a spec.
    Member(&'a MemberSpec),
    /// A namespace without a call spec of its own (`console`, `os.environ`'s parent…).
    Namespace,
}

impl FamilyKnowledge {
    /// The name of a module, when the knowledge base lists it.
    pub fn module(&self, name: &str) -> Option<&str> {
        self.modules.get(name).map(String::as_str)
    }

    /// Whether the knowledge base lists modules under `name` (`http.client` under `http`).
    pub fn has_submodules(&self, name: &str) -> bool {
        let prefix = format!("{name}.");
        self.modules.keys().any(|m| m.starts_with(&prefix))
    }

    pub fn on_import(&self, module: &str) -> &[Capability] {
        self.on_import.get(module).map(Vec::as_slice).unwrap_or(&[])
    }

    /// What a full dotted name is.
    pub fn lookup(&self, full: &str) -> Option<Known<'_>> {
        if let Some(spec) = self.members.get(full) {
            return Some(Known::Member(spec));
        }
        if self.modules.values().any(|m| m == full) {
            return Some(Known::Module);
        }
        self.namespaces.contains(full).then_some(Known::Namespace)
    }

    /// Whether members of `owner` that are not listed are unknown.
    pub fn is_closed(&self, owner: &str) -> bool {
        self.namespaces.contains(owner) && !self.open.contains(owner)
    }

    /// Whether `name` or anything under it has capabilities.
    pub fn is_dangerous(&self, name: &str) -> bool {
        self.dangerous.contains(name)
    }

    pub fn method(&self, ty: &str, name: &str) -> Option<&MemberSpec> {
        self.types.get(ty)?.get(name)
    }

    /// Methods of any type with this name and capabilities, for a receiver of unknown type.
    pub fn risky_methods(&self, name: &str) -> &[MemberSpec] {
        self.risky_methods
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn is_dynamic_attribute(&self, name: &str) -> bool {
        self.dynamic_attributes.contains(name)
    }

    pub fn is_ordinary_dunder(&self, name: &str) -> bool {
        self.ordinary_dunders.contains(name)
    }
}

/// The whole code knowledge base, validated and indexed.
#[derive(Debug)]
pub struct CodeKnowledge {
    python: FamilyKnowledge,
    javascript: FamilyKnowledge,
    /// Extension (without dot) → language.
    extensions: HashMap<String, Language>,
    /// Examples to check once an analyzer exists: (owner, family, example).
    pub(super) examples: Vec<(String, Family, Example)>,
}

impl CodeKnowledge {
    pub fn builtin() -> Result<Self, CodeKbError> {
        Self::parse(BUILTIN_CODE_KB)
    }

    pub fn parse(text: &str) -> Result<Self, CodeKbError> {
        let file: CodeKbFile = toml::from_str(text)?;
        let mut kb = Self {
            python: FamilyKnowledge::default(),
            javascript: FamilyKnowledge::default(),
            extensions: HashMap::new(),
            examples: Vec::new(),
        };
        for lang in &file.languages {
            for ext in &lang.extensions {
                let ext = ext.trim_start_matches('.').to_ascii_lowercase();
                if kb.extensions.insert(ext.clone(), lang.name).is_some() {
                    return Err(CodeKbError::Invalid(format!(
                        "extension `{ext}` is listed twice"
                    )));
                }
            }
        }
        for family in file.families {
            let fk = kb.family_mut(family.name);
            fk.globals = family.globals;
            fk.dynamic_attributes = family.dynamic_attributes.into_iter().collect();
            fk.ordinary_dunders = family.ordinary_dunders.into_iter().collect();
            fk.standard_modules = family.standard_modules.into_iter().collect();
            for example in family.examples {
                kb.examples
                    .push((format!("{:?}", family.name), family.name, example));
            }
        }
        for module in file.modules {
            kb.add_module(module)?;
        }
        for ty in file.types {
            kb.add_type(ty)?;
        }
        for family in [Family::Python, Family::Javascript] {
            let fk = kb.family(family);
            if fk.globals.is_empty() || !fk.modules.contains_key(&fk.globals) {
                return Err(CodeKbError::Invalid(format!(
                    "{family:?}: the globals module must be listed"
                )));
            }
            for (name, spec) in &fk.members {
                if let Some(module) = &spec.module
                    && !fk.modules.contains_key(module)
                {
                    return Err(CodeKbError::Invalid(format!(
                        "`{name}` names module `{module}`, which is not listed"
                    )));
                }
                if let Some(ty) = &spec.returns
                    && !fk.types.contains_key(ty)
                {
                    return Err(CodeKbError::Invalid(format!(
                        "`{name}` returns type `{ty}`, which is not listed"
                    )));
                }
            }
        }
        Ok(kb)
    }

    pub fn family(&self, family: Family) -> &FamilyKnowledge {
        match family {
            Family::Python => &self.python,
            Family::Javascript => &self.javascript,
        }
    }

    fn family_mut(&mut self, family: Family) -> &mut FamilyKnowledge {
        match family {
            Family::Python => &mut self.python,
            Family::Javascript => &mut self.javascript,
        }
    }

    /// The language of a file with this extension (without the dot).
    pub fn language_of_extension(&self, ext: &str) -> Option<Language> {
        self.extensions.get(&ext.to_ascii_lowercase()).copied()
    }

    fn add_module(&mut self, module: ModuleSpec) -> Result<(), CodeKbError> {
        if module.names.is_empty() {
            return Err(CodeKbError::Invalid("a module without a name".into()));
        }
        for spec in &module.members {
            validate(&module.names.join("|"), spec)?;
        }
        let fk = self.family_mut(module.family);
        for canonical in &module.names {
            if fk
                .modules
                .insert(canonical.clone(), canonical.clone())
                .is_some()
            {
                return Err(CodeKbError::Invalid(format!(
                    "module `{canonical}` is listed twice"
                )));
            }
            fk.namespaces.insert(canonical.clone());
            if module.open {
                fk.open.insert(canonical.clone());
            } else {
                // A closed module hides what it imported: handing it around is dynamic.
                fk.dangerous.insert(canonical.clone());
            }
            if !module.on_import.is_empty() {
                fk.on_import
                    .insert(canonical.clone(), module.on_import.clone());
            }
            for member in &module.members {
                for name in &member.names {
                    let full = format!("{canonical}.{name}");
                    // `a.b.c` makes `a.b` a namespace of the module.
                    let mut owner = canonical.clone();
                    for part in name.split('.') {
                        fk.namespaces.insert(owner.clone());
                        owner = format!("{owner}.{part}");
                    }
                    if member.open {
                        fk.namespaces.insert(full.clone());
                        fk.open.insert(full.clone());
                    }
                    if !member.does.is_empty()
                        || has_paths(member)
                        || member.module_arg.is_some()
                        || member.code_arg.is_some()
                    {
                        // The member and what it is under give it away when used as a value.
                        let mut prefix = String::new();
                        for part in full.split('.') {
                            if !prefix.is_empty() {
                                prefix.push('.');
                            }
                            prefix.push_str(part);
                            fk.dangerous.insert(prefix.clone());
                        }
                    }
                    if fk.members.insert(full.clone(), member.clone()).is_some() {
                        return Err(CodeKbError::Invalid(format!("`{full}` is listed twice")));
                    }
                }
            }
        }
        let owner = module.names.join("|");
        for example in module.examples {
            self.examples.push((owner.clone(), module.family, example));
        }
        Ok(())
    }

    fn add_type(&mut self, ty: TypeSpec) -> Result<(), CodeKbError> {
        let fk = self.family_mut(ty.family);
        let mut methods = HashMap::new();
        for method in ty.methods {
            validate(&ty.name, &method)?;
            for name in &method.names {
                let risky = !method.does.is_empty()
                    || method.receiver.is_some_and(|r| r != PathUse::Read)
                    || has_paths(&method)
                    || method.mode.is_some();
                if risky {
                    fk.risky_methods
                        .entry(name.clone())
                        .or_default()
                        .push(method.clone());
                }
                if methods.insert(name.clone(), method.clone()).is_some() {
                    return Err(CodeKbError::Invalid(format!(
                        "`{}.{name}` is listed twice",
                        ty.name
                    )));
                }
            }
        }
        if fk.types.insert(ty.name.clone(), methods).is_some() {
            return Err(CodeKbError::Invalid(format!(
                "type `{}` is listed twice",
                ty.name
            )));
        }
        for example in ty.examples {
            self.examples.push((ty.name.clone(), ty.family, example));
        }
        Ok(())
    }
}

fn has_paths(spec: &MemberSpec) -> bool {
    !(spec.read.is_empty()
        && spec.write.is_empty()
        && spec.delete.is_empty()
        && spec.chmod.is_empty())
}

/// Fields that only mean something together must come together.
fn validate(owner: &str, spec: &MemberSpec) -> Result<(), CodeKbError> {
    let name = format!("{owner}.{}", spec.names.join("|"));
    let fail = |why: &str| Err(CodeKbError::Invalid(format!("`{name}`: {why}")));
    if spec.names.is_empty() {
        return fail("no names");
    }
    if spec.does.iter().any(|c| c.is_file()) {
        return fail("file capabilities come from `read`/`write`/`delete`/`chmod`, not `does`");
    }
    let process = spec.does.contains(&Capability::Process);
    if spec.command.is_some() && !process {
        return fail("`command` without `process`");
    }
    if (spec.args_arg.is_some() || spec.shell_option.is_some()) && spec.command.is_none() {
        return fail("`args_arg`/`shell_option` without `command`");
    }
    if spec.command == Some(CommandForm::Program) && spec.args_arg.is_none() {
        return fail("`command = \"program\"` needs `args_arg`");
    }
    if spec.url_arg.is_some() && !spec.does.contains(&Capability::Network) {
        return fail("`url_arg` without `network`");
    }
    if spec.dir_arg.is_some() != spec.does.contains(&Capability::Chdir) {
        return fail("`chdir` and `dir_arg` come together");
    }
    if spec.mode.is_some() && spec.read.is_empty() && spec.receiver != Some(PathUse::Read) {
        return fail("`mode` needs a `read` path (the one a write mode writes)");
    }
    if let Some([min, max]) = spec.positional
        && min > max
    {
        return fail("`positional` must be [least, most]");
    }
    Ok(())
}

/// Helpers for reading call arguments the way the knowledge base names them.
impl ArgRef {
    pub fn keyword(&self) -> Option<&str> {
        match self {
            ArgRef::Keyword(k) => Some(k),
            ArgRef::Index(_) => None,
        }
    }
}
