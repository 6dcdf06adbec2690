//! Files code runs: the program file an interpreter is given, and the local modules it imports
//! (`import helper` next to the script, `require('./lib')`), found the way the interpreter finds
//! them, read through the classifier's [`FileReader`] and analyzed in turn.
//!
//! A local module Airlock cannot read — compiled (`.so`, `.pyc`, `__pycache__`), binary, too
//! large, a package resolved through `package.json`, past the limits — makes the import `dynamic`.

use super::CodeAnalyzer;
use super::analysis::{Exports, Import, Loaded, Loader, Report};
use super::knowledge::{Family, Language};
use crate::files::{FileContent, FileReader};
use airlock_userfs::ForUser;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Local modules followed per request, at most, and how deep imports are followed.
const MAX_FILES: usize = 32;
const MAX_DEPTH: usize = 8;

/// Extensions Node-like runtimes try for `require('./x')`, in order.
const JS_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "ts", "mts", "cts", "tsx", "jsx", "json", "node",
];

/// A local file that was read, and what its code does.
#[derive(Debug)]
pub(crate) struct LocalFile {
    pub path: PathBuf,
    pub report: Report,
    /// How many imports away from the code the command runs (1: imported by it).
    pub depth: usize,
}

/// Finds, reads and analyzes local modules for one piece of code and what it imports.
pub(crate) struct FileLoader<'a> {
    analyzer: &'a CodeAnalyzer,
    files: &'a FileReader,
    /// Python's `sys.path[0]`: the main script's directory, or the working directory for inline
    /// code. `None` when it is only known at run time.
    root: Option<PathBuf>,
    /// The directory of the file being read (relative imports).
    current: Option<PathBuf>,
    /// The files read, in the order they were read.
    pub read: Vec<LocalFile>,
    seen: HashMap<PathBuf, Loaded>,
    depth: usize,
}

impl<'a> FileLoader<'a> {
    pub fn new(analyzer: &'a CodeAnalyzer, files: &'a FileReader, root: Option<PathBuf>) -> Self {
        Self {
            analyzer,
            files,
            current: root.clone(),
            root,
            read: Vec::new(),
            seen: HashMap::new(),
            depth: 0,
        }
    }

    /// Read and analyze the program file an interpreter runs, or say why it cannot be read.
    pub fn run_file(&mut self, path: &Path, language: Language) -> Result<Report, String> {
        let text = match self.files.read(path) {
            FileContent::Text(text) => text,
            FileContent::Unreadable(why) => return Err(why),
        };
        let saved = self.current.replace(parent_dir(path));
        self.seen
            .insert(path.to_path_buf(), Loaded::Local(Arc::new(Exports::new())));
        let file = path.to_string_lossy().into_owned();
        let analyzer = self.analyzer;
        let report = analyzer.analyze(language, &text, Some(&file), self);
        self.current = saved;
        Ok(report)
    }

    /// Read and analyze a local module; the language is its extension's, else `fallback`'s.
    fn load_file(&mut self, path: &Path, fallback: Language) -> Loaded {
        if let Some(done) = self.seen.get(path) {
            return done.clone();
        }
        if self.read.len() >= MAX_FILES || self.depth >= MAX_DEPTH {
            return Loaded::Unreadable("is beyond how many files Airlock follows".into());
        }
        let language = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(|e| self.analyzer.knowledge().language_of_extension(e))
            .filter(|l| l.family().is_some() && l.family() == fallback.family())
            .unwrap_or(fallback);
        let text = match self.files.read(path) {
            FileContent::Text(text) => text,
            FileContent::Unreadable(why) => {
                let loaded = Loaded::Unreadable(why);
                self.seen.insert(path.to_path_buf(), loaded.clone());
                return loaded;
            }
        };
        // A module importing itself (or a cycle) sees what is known so far: nothing yet.
        self.seen
            .insert(path.to_path_buf(), Loaded::Local(Arc::new(Exports::new())));
        let saved = self.current.replace(parent_dir(path));
        self.depth += 1;
        let file = path.to_string_lossy().into_owned();
        let analyzer = self.analyzer;
        let report = analyzer.analyze(language, &text, Some(&file), self);
        self.depth -= 1;
        self.current = saved;
        let loaded = Loaded::Local(Arc::new(report.exports.clone()));
        self.seen.insert(path.to_path_buf(), loaded.clone());
        self.read.push(LocalFile {
            path: path.to_path_buf(),
            report,
            depth: self.depth + 1,
        });
        loaded
    }

    /// `import a.b.c` (or `from .. import x` with `level`): the files Python would run, each
    /// package's `__init__.py` on the way.
    fn python(&mut self, import: &Import) -> Loaded {
        let base = if import.level == 0 {
            self.root.clone()
        } else {
            let mut dir = self.current.clone();
            for _ in 1..import.level {
                dir = dir.map(|d| parent_dir(&d));
            }
            dir
        };
        let Some(mut dir) = base else {
            // Where imports come from is only known at run time.
            return Loaded::Unreadable("is looked up in a directory only known at run time".into());
        };
        let parts: Vec<&str> = import.spec.split('.').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            // `from . import x`: the package itself.
            let init = dir.join("__init__.py");
            return if init.is_file_for_user() {
                self.load_python_file(&init)
            } else {
                Loaded::Local(Arc::new(Exports::new()))
            };
        }
        let mut last = Loaded::NotLocal;
        for (idx, part) in parts.iter().enumerate() {
            match python_entry(&dir, part) {
                PyEntry::Missing if idx == 0 => return Loaded::NotLocal,
                // A submodule that is not there: an import error, or a name in `__init__`.
                PyEntry::Missing => return last,
                PyEntry::Compiled(path) => {
                    return Loaded::Unreadable(format!(
                        "is compiled code Airlock cannot read ({})",
                        path.display()
                    ));
                }
                PyEntry::Source(path) => {
                    last = self.load_python_file(&path);
                    if idx + 1 < parts.len() {
                        // `a.b` where `a` is a plain module: an error at run time.
                        return last;
                    }
                }
                PyEntry::Package(pkg) => {
                    let init = pkg.join("__init__.py");
                    last = if init.is_file_for_user() {
                        self.load_python_file(&init)
                    } else {
                        Loaded::Local(Arc::new(Exports::new()))
                    };
                    if matches!(last, Loaded::Unreadable(_)) {
                        return last;
                    }
                    dir = pkg;
                }
            }
        }
        last
    }

    fn load_python_file(&mut self, path: &Path) -> Loaded {
        if let Some(cache) = compiled_cache(path) {
            return Loaded::Unreadable(format!(
                "has a compiled cache Python may run instead ({})",
                cache.display()
            ));
        }
        self.load_file(path, Language::Python)
    }

    /// `require("./x")`, `import "./x.js"`: the file Node would load.
    fn javascript(&mut self, import: &Import) -> Loaded {
        let spec = import
            .spec
            .strip_prefix("file://")
            .unwrap_or(&import.spec)
            .to_string();
        let base = if spec.starts_with('/') {
            Some(PathBuf::new())
        } else {
            self.current.clone()
        };
        let Some(base) = base else {
            return Loaded::Unreadable("is looked up in a directory only known at run time".into());
        };
        let path = crate::lexical_normalize(&if spec.starts_with('/') {
            PathBuf::from(&spec)
        } else {
            base.join(&spec)
        });
        let mut candidates = vec![path.clone()];
        for ext in JS_EXTENSIONS {
            let mut with = path.clone().into_os_string();
            with.push(format!(".{ext}"));
            candidates.push(PathBuf::from(with));
        }
        for candidate in candidates {
            if candidate.is_file_for_user() {
                return self.javascript_file(&candidate);
            }
        }
        if path.is_dir_for_user() {
            if path.join("package.json").exists_for_user() {
                return Loaded::Unreadable(format!(
                    "is a package whose entry point Airlock does not follow ({})",
                    path.display()
                ));
            }
            for ext in JS_EXTENSIONS {
                let index = path.join(format!("index.{ext}"));
                if index.is_file_for_user() {
                    return self.javascript_file(&index);
                }
            }
        }
        // Nothing there: the import fails when it runs.
        Loaded::NotLocal
    }

    fn javascript_file(&mut self, path: &Path) -> Loaded {
        match path.extension().and_then(|e| e.to_str()) {
            // Data, parsed as JSON: nothing runs.
            Some("json") => Loaded::Local(Arc::new(Exports::new())),
            Some("node") => Loaded::Unreadable(format!(
                "is a compiled addon Airlock cannot read ({})",
                path.display()
            )),
            _ => self.load_file(path, Language::Javascript),
        }
    }
}

impl Loader for FileLoader<'_> {
    fn load(&mut self, import: &Import) -> Loaded {
        match import.family {
            Family::Python => self.python(import),
            Family::Javascript => self.javascript(import),
        }
    }
}

/// A file in `dir` that Python imports in place of one of its own modules (`textwrap.py`
/// beside a script shadows the standard one): its name, if any.
pub(crate) fn shadowed_standard_module(
    dir: &Path,
    standard: &std::collections::HashSet<String>,
) -> Option<String> {
    let entries = airlock_userfs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let stem = file.split('.').next().unwrap_or("");
        if !standard.contains(stem) {
            continue;
        }
        let shadows = match entry.file_type() {
            Ok(t) if t.is_dir() => entry.path().join("__init__.py").exists_for_user(),
            _ => file.ends_with(".py") || file.ends_with(".pyc") || file.ends_with(".so"),
        };
        if shadows {
            return Some(file.into_owned());
        }
    }
    None
}

/// What a directory holds for a Python module name.
enum PyEntry {
    Missing,
    Package(PathBuf),
    Source(PathBuf),
    Compiled(PathBuf),
}

/// The way CPython's path finder looks in one directory: a package directory, then extension
/// modules, then source, then sourceless bytecode.
fn python_entry(dir: &Path, name: &str) -> PyEntry {
    let pkg = dir.join(name);
    if pkg.is_dir_for_user() {
        return PyEntry::Package(pkg);
    }
    if let Ok(entries) = airlock_userfs::read_dir(dir) {
        for entry in entries.flatten() {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            let Some(rest) = file.strip_prefix(name) else {
                continue;
            };
            if rest.starts_with('.') && (rest.ends_with(".so") || rest.ends_with(".pyd")) {
                return PyEntry::Compiled(entry.path());
            }
        }
    }
    let source = dir.join(format!("{name}.py"));
    if source.is_file_for_user() {
        return PyEntry::Source(source);
    }
    let compiled = dir.join(format!("{name}.pyc"));
    if compiled.exists_for_user() {
        return PyEntry::Compiled(compiled);
    }
    PyEntry::Missing
}

/// `__pycache__/NAME.*.pyc` next to a source module: CPython runs it instead of the source when
/// its header matches the source's size and modification time, which anyone who can write the
/// file can arrange.
fn compiled_cache(source: &Path) -> Option<PathBuf> {
    let stem = source.file_stem()?.to_str()?;
    let cache = source.parent()?.join("__pycache__");
    let entries = airlock_userfs::read_dir(&cache).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&format!("{stem}.")) && name.ends_with(".pyc") {
            return Some(entry.path());
        }
    }
    None
}

fn parent_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::code::Capability;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn import(family: Family, spec: &str) -> Import {
        Import {
            family,
            spec: spec.into(),
            level: 0,
        }
    }

    #[test]
    fn python_modules_are_found_like_cpython_finds_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "helper.py", "import os\nos.system('id')\n");
        write(root, "pkg/__init__.py", "");
        write(root, "pkg/sub.py", "import shutil\nshutil.rmtree('x')\n");
        write(root, "ns/mod.py", "print(1)\n");
        write(root, "fast.cpython-312-x86_64-linux-gnu.so", "\x7fELF");
        write(root, "cached.py", "VALUE = 1\n");
        write(root, "__pycache__/cached.cpython-312.pyc", "x");
        let analyzer = CodeAnalyzer::builtin().unwrap();
        let files = FileReader::default();
        let mut loader = FileLoader::new(&analyzer, &files, Some(root.to_path_buf()));

        assert!(matches!(
            loader.load(&import(Family::Python, "json")),
            Loaded::NotLocal
        ));
        assert!(matches!(
            loader.load(&import(Family::Python, "helper")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Python, "pkg.sub")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Python, "ns.mod")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Python, "fast")),
            Loaded::Unreadable(why) if why.contains("compiled")
        ));
        assert!(matches!(
            loader.load(&import(Family::Python, "cached")),
            Loaded::Unreadable(why) if why.contains("cache")
        ));
        let read: Vec<String> = loader
            .read
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            read,
            ["helper.py", "pkg/__init__.py", "pkg/sub.py", "ns/mod.py"]
        );
        let helper = &loader.read[0].report;
        assert!(helper.capabilities().contains(&Capability::Process));
    }

    #[test]
    fn javascript_relative_requires_are_read_and_packages_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "lib/run.js",
            "require('child_process').execSync('id')\n",
        );
        write(root, "lib/index.js", "module.exports = 1\n");
        write(root, "data.json", "{}");
        write(root, "addon.node", "\x7fELF");
        write(root, "pkg/package.json", "{\"main\": \"x.js\"}");
        let analyzer = CodeAnalyzer::builtin().unwrap();
        let files = FileReader::default();
        let mut loader = FileLoader::new(&analyzer, &files, Some(root.to_path_buf()));

        assert!(matches!(
            loader.load(&import(Family::Javascript, "./lib/run")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Javascript, "./lib")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Javascript, "./data.json")),
            Loaded::Local(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Javascript, "./addon")),
            Loaded::Unreadable(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Javascript, "./pkg")),
            Loaded::Unreadable(_)
        ));
        assert!(matches!(
            loader.load(&import(Family::Javascript, "./missing")),
            Loaded::NotLocal
        ));
        assert_eq!(loader.read.len(), 2);
        assert!(
            loader.read[0]
                .report
                .capabilities()
                .contains(&Capability::Process)
        );
    }

    #[test]
    fn import_cycles_and_limits_end() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a.py", "import b\n");
        write(root, "b.py", "import a\n");
        for i in 0..40 {
            write(root, &format!("m{i}.py"), &format!("import m{}\n", i + 1));
        }
        let analyzer = CodeAnalyzer::builtin().unwrap();
        let files = FileReader::default();
        let mut loader = FileLoader::new(&analyzer, &files, Some(root.to_path_buf()));
        assert!(matches!(
            loader.load(&import(Family::Python, "a")),
            Loaded::Local(_)
        ));
        let report = analyzer.analyze(Language::Python, "import m0", None, &mut loader);
        assert!(
            loader
                .read
                .iter()
                .map(|f| &f.report)
                .chain([&report])
                .any(|r| r.capabilities().contains(&Capability::Dynamic)),
            "a chain of imports past the limits is dynamic somewhere"
        );
    }
}
