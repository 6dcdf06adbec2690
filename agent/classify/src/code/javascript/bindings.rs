//! The first pass over JavaScript code: where each name gets its values (declarations,
//! destructuring, parameters, imports), and the modules loaded.

use super::*;

impl<'t, 'k, 'l> Walker<'t, 'k, 'l> {
    pub(super) fn collect(&mut self, n: Node<'t>) {
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        self.collect_node(n);
        self.depth -= 1;
    }

    pub(super) fn collect_node(&mut self, n: Node<'t>) {
        let kind = n.kind();
        if TYPE_ONLY.contains(&kind) {
            return;
        }
        match kind {
            "identifier"
            | "property_identifier"
            | "shorthand_property_identifier"
            | "shorthand_property_identifier_pattern" => {
                // `\u0065val` is `eval`: an escaped identifier is read as written by nobody.
                if self.text(n).contains('\\') {
                    let at = self.text(n).to_string();
                    self.i.dynamic(&at, "identifier written with escapes");
                }
                return;
            }
            "variable_declarator" => {
                let lexical = n
                    .parent()
                    .is_some_and(|p| p.kind() == "lexical_declaration");
                if let Some(name) = n.child_by_field_name("name") {
                    let value = n.child_by_field_name("value");
                    match (name.kind(), value) {
                        ("identifier", Some(v)) => {
                            let text = self.text(name).to_string();
                            self.bind(&text, Site::Expr(v));
                        }
                        ("object_pattern", Some(v)) => self.destructure(name, v, Vec::new()),
                        _ => self.bind_all(name),
                    }
                    if lexical || enclosing_function(n).is_some() {
                        self.declare_all(name);
                    }
                }
            }
            "assignment_expression" => {
                if let (Some(l), Some(r)) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                ) {
                    match l.kind() {
                        "identifier" => {
                            let name = self.text(l).to_string();
                            self.bind(&name, Site::Expr(r));
                        }
                        "object_pattern" => self.destructure(l, r, Vec::new()),
                        "array_pattern" => self.bind_all(l),
                        _ => {}
                    }
                }
            }
            "augmented_assignment_expression" => {
                if let Some(l) = n.child_by_field_name("left")
                    && l.kind() == "identifier"
                {
                    let name = self.text(l).to_string();
                    self.bind(&name, Site::Value(other()));
                }
            }
            "function_declaration"
            | "generator_function_declaration"
            | "class_declaration"
            | "abstract_class_declaration"
            | "function_expression"
            | "generator_function"
            | "class"
            | "enum_declaration"
            | "internal_module"
            | "module" => {
                if let Some(name) = n.child_by_field_name("name")
                    && matches!(name.kind(), "identifier" | "type_identifier")
                {
                    let text = self.text(name).to_string();
                    self.declare(&text);
                    self.bind(&text, Site::Value(other()));
                }
            }
            "formal_parameters" => {
                for p in Self::kids(n) {
                    match p.kind() {
                        "required_parameter" | "optional_parameter" => {
                            if let Some(pat) = p.child_by_field_name("pattern") {
                                self.bind_all(pat);
                            }
                        }
                        _ => self.bind_all(p),
                    }
                }
            }
            "arrow_function" => {
                if let Some(p) = n.child_by_field_name("parameter") {
                    self.bind_all(p);
                }
            }
            "catch_clause" => {
                if let Some(p) = n.child_by_field_name("parameter") {
                    self.bind_all(p);
                }
            }
            "for_in_statement" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.bind_all(l);
                }
            }
            "import_statement" => {
                self.import(n);
                return;
            }
            _ => {}
        }
        for ch in Self::kids(n) {
            self.collect(ch);
        }
    }

    pub(super) fn declare_all(&mut self, n: Node<'t>) {
        match n.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                let name = self.text(n).to_string();
                self.declare(&name);
            }
            _ => {
                for ch in Self::kids(n) {
                    self.declare_all(ch);
                }
            }
        }
    }

    /// The value of a module a specifier names, loading local files through the loader.
    pub(super) fn load(&mut self, spec: &str, at: &str) -> Vals {
        let lower = spec.to_ascii_lowercase();
        if lower.starts_with("http:")
            || lower.starts_with("https:")
            || lower.starts_with("npm:")
            || lower.starts_with("jsr:")
        {
            let mut e = Effect::new(at, format!("loads code from `{spec}`"));
            e.caps.insert(Capability::RemoteCode);
            e.caps.insert(Capability::Network);
            match crate::command::host_of(spec) {
                Some(h) => e.hosts.push(h),
                None => e.hosts_unknown = true,
            }
            self.i.record(e);
            return other();
        }
        if lower.starts_with("data:") || lower.starts_with("blob:") || spec.starts_with('#') {
            self.i
                .dynamic(at, format!("loads code Airlock cannot read from `{spec}`"));
            return other();
        }
        let local = spec.starts_with("./")
            || spec.starts_with("../")
            || spec.starts_with('/')
            || spec == "."
            || spec == ".."
            || lower.starts_with("file:");
        if local {
            let import = Import {
                family: Family::Javascript,
                spec: spec.to_string(),
                level: 0,
            };
            if self.i.is_quiet() {
                return other();
            }
            match self.loader.load(&import) {
                Loaded::Unreadable(why) => {
                    self.i.dynamic(at, format!("loads `{spec}`, which {why}"));
                }
                // A local module's own code is classified by the loader: what it exports was
                // given away there if it holds anything with capabilities.
                Loaded::Local(_) | Loaded::NotLocal => {}
            }
            return other();
        }
        vec![self.i.module_value(spec, at)]
    }

    pub(super) fn import(&mut self, n: Node<'t>) {
        let at = self.text(n).to_string();
        // `import type …` loads nothing.
        let mut c = n.walk();
        if n.children(&mut c)
            .any(|ch| !ch.is_named() && ch.kind() == "type")
        {
            return;
        }
        let source = n
            .child_by_field_name("source")
            .map(|s| self.string_value(s));
        for ch in Self::kids(n) {
            if ch.kind() == "import_require_clause" {
                // TypeScript `import x = require("m")`.
                let spec = ch
                    .child_by_field_name("source")
                    .map(|s| self.string_value(s));
                let vals = match spec.as_ref().and_then(strings).as_deref() {
                    Some([s]) => self.load(s, &at),
                    _ => other(),
                };
                if let Some(id) = ch.named_child(0)
                    && id.kind() == "identifier"
                {
                    let name = self.text(id).to_string();
                    self.declare(&name);
                    self.bind(&name, Site::Value(vals));
                }
                return;
            }
        }
        let Some(source) = source else { return };
        let module = match strings(&source).as_deref() {
            Some([s]) => self.load(s, &at),
            _ => {
                self.i.dynamic(&at, "imports a module named at run time");
                other()
            }
        };
        for clause in Self::kids(n) {
            if clause.kind() != "import_clause" {
                continue;
            }
            for part in Self::kids(clause) {
                match part.kind() {
                    // `import x from "m"`: the default export, the module itself for Node's
                    // built-in modules.
                    "identifier" => {
                        let name = self.text(part).to_string();
                        self.declare(&name);
                        let vals = self.default_export(&module, &at);
                        self.bind(&name, Site::Value(vals));
                    }
                    "namespace_import" => {
                        if let Some(id) = part.named_child(0) {
                            let name = self.text(id).to_string();
                            self.declare(&name);
                            self.bind(&name, Site::Value(module.clone()));
                        }
                    }
                    "named_imports" => {
                        for spec in Self::kids(part) {
                            if spec.kind() != "import_specifier" {
                                continue;
                            }
                            let Some(name) = spec.child_by_field_name("name") else {
                                continue;
                            };
                            let member = self.text(name).trim_matches(['"', '\'']).to_string();
                            let local = spec
                                .child_by_field_name("alias")
                                .map(|a| self.text(a).to_string())
                                .unwrap_or_else(|| member.clone());
                            self.declare(&local);
                            let vals = if member == "default" {
                                self.default_export(&module, &at)
                            } else {
                                self.i.attribute(&module, &member, &at)
                            };
                            self.bind(&local, Site::Value(vals));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    pub(super) fn default_export(&mut self, module: &Vals, at: &str) -> Vals {
        let mut out = Vec::new();
        for v in module {
            let d = match v {
                Value::Module(m) => {
                    let full = format!("{m}.default");
                    match self.i.kb.lookup(&full) {
                        Some(_) => Value::Member(full),
                        None => v.clone(),
                    }
                }
                Value::Foreign(f) => Value::Foreign(format!("{f}.default")),
                _ => v.clone(),
            };
            push_value(&mut out, d);
        }
        let _ = at;
        if out.is_empty() { other() } else { out }
    }
}
