//! The first pass over Python code: where each name gets its values (assignments, parameters,
//! loops, `with … as`, patterns), and the imports, resolved through the loader.

use super::*;

impl<'t, 'k, 'l> Walker<'t, 'k, 'l> {
    pub(super) fn collect(&mut self, n: Node<'t>, scope: Scope) {
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        self.collect_node(n, scope);
        self.depth -= 1;
    }

    pub(super) fn collect_node(&mut self, n: Node<'t>, scope: Scope) {
        match n.kind() {
            "identifier" => {
                if !self.text(n).is_ascii() {
                    // Python folds identifiers (NFKC): `ｅｘｅｃ` is `exec`.
                    let at = self.text(n).to_string();
                    self.i
                        .dynamic(&at, "non-ASCII identifier (Python normalizes it)");
                }
                return;
            }
            "import_statement" => return self.import(n, scope),
            "import_from_statement" => return self.import_from(n, scope),
            "assignment" => {
                if let Some(left) = n.child_by_field_name("left") {
                    match (left.kind(), n.child_by_field_name("right")) {
                        ("identifier", Some(right)) => {
                            let name = self.text(left).to_string();
                            let site = if right.kind() == "assignment" {
                                // `a = b = v`: the innermost right side.
                                Site::Expr(innermost_right(right))
                            } else {
                                Site::Expr(right)
                            };
                            self.bind(&name, site, scope);
                        }
                        ("identifier", None) => {}
                        _ => self.bind_all(left, scope),
                    }
                }
            }
            "augmented_assignment" => {
                if let Some(left) = n.child_by_field_name("left") {
                    self.bind_all(left, scope);
                }
            }
            "named_expression" => {
                if let (Some(name), Some(value)) = (
                    n.child_by_field_name("name"),
                    n.child_by_field_name("value"),
                ) {
                    let name = self.text(name).to_string();
                    self.bind(&name, Site::Expr(value), scope);
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = n.child_by_field_name("name") {
                    let name = self.text(name).to_string();
                    self.bind(&name, Site::Value(other()), scope);
                }
                if let Some(tp) = n.child_by_field_name("type_parameters") {
                    self.bind_all(tp, Scope::Local);
                }
                if let Some(params) = n.child_by_field_name("parameters") {
                    self.bind_params(params);
                }
                let inner = if n.kind() == "class_definition" {
                    Scope::Class
                } else {
                    Scope::Local
                };
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    if ch.kind() != "parameters" {
                        self.collect(ch, inner);
                    }
                }
                return;
            }
            "lambda" => {
                if let Some(params) = n.child_by_field_name("parameters") {
                    self.bind_params(params);
                }
            }
            "for_statement" | "for_in_clause" => {
                if let Some(left) = n.child_by_field_name("left") {
                    self.bind_all(left, scope);
                }
            }
            "as_pattern" => {
                // `with x as y`, `except E as e`, `case P as q`.
                let value = n.named_child(0);
                if let Some(alias) = n.child_by_field_name("alias") {
                    match (value, n.parent().map(|p| p.kind())) {
                        (Some(v), Some("with_item")) if alias.named_child_count() == 1 => {
                            if let Some(id) = alias.named_child(0)
                                && id.kind() == "identifier"
                            {
                                let name = self.text(id).to_string();
                                self.bind(&name, Site::Expr(v), scope);
                            } else {
                                self.bind_all(alias, scope);
                            }
                        }
                        _ => self.bind_all(alias, scope),
                    }
                } else if let Some(last) =
                    n.named_child((n.named_child_count() as u32).saturating_sub(1))
                    && last.kind() == "identifier"
                {
                    // `case P as name`
                    self.bind_all(last, scope);
                }
            }
            "case_pattern" | "splat_pattern" | "keyword_pattern" => {
                // Capture patterns bind names; dotted names are values (`case os.sep`).
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    match ch.kind() {
                        "dotted_name" if ch.named_child_count() == 1 => self.bind_all(ch, scope),
                        "identifier" => self.bind_all(ch, scope),
                        _ => {}
                    }
                }
            }
            "type_alias_statement" => {
                if let Some(left) = n.child_by_field_name("left") {
                    self.bind_all(left, scope);
                }
            }
            "global_statement" | "nonlocal_statement" => return,
            _ => {}
        }
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            self.collect(ch, scope);
        }
    }

    pub(super) fn bind_params(&mut self, params: Node<'t>) {
        let mut c = params.walk();
        for p in params.named_children(&mut c) {
            match p.kind() {
                "identifier" => self.bind_all(p, Scope::Local),
                "default_parameter" | "typed_default_parameter" => {
                    if let Some(name) = p.child_by_field_name("name") {
                        self.bind_all(name, Scope::Local);
                    }
                }
                "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                    if let Some(id) = p.named_child(0) {
                        self.bind_all(id, Scope::Local);
                    }
                }
                "tuple_pattern" => self.bind_all(p, Scope::Local),
                _ => {}
            }
        }
    }

    pub(super) fn load(&mut self, spec: &str, level: usize, at: &str) -> Loaded {
        let import = Import {
            family: Family::Python,
            spec: spec.to_string(),
            level,
        };
        let loaded = self.loader.load(&import);
        if let Loaded::Unreadable(why) = &loaded {
            self.i.dynamic(at, format!("imports `{spec}`, which {why}"));
        }
        loaded
    }

    /// The value `import a.b.c` gives `a`, or `import a.b.c as x` gives `x`.
    pub(super) fn import_value(&mut self, spec: &str, bound_whole: bool, at: &str) -> Vals {
        let target = if bound_whole {
            spec
        } else {
            spec.split('.').next().unwrap_or(spec)
        };
        match self.load(target, 0, at) {
            Loaded::Local(exports) => {
                // `import pkg.mod`: `pkg.mod` is the submodule's names.
                let mut merged = (*exports).clone();
                if !bound_whole && target != spec {
                    let rest = &spec[target.len() + 1..];
                    if let Loaded::Local(sub) = self.load(spec, 0, at) {
                        let first = rest.split('.').next().unwrap_or(rest).to_string();
                        merged.insert(first, vec![Value::Local(sub)]);
                    }
                }
                vec![Value::Local(Arc::new(merged))]
            }
            Loaded::Unreadable(_) => other(),
            Loaded::NotLocal => {
                if target != spec {
                    // Importing `a.b` runs `a.b` too: a local file there is read.
                    let _ = self.load(spec, 0, at);
                }
                vec![self.i.module_value(target, at)]
            }
        }
    }

    pub(super) fn import(&mut self, n: Node<'t>, scope: Scope) {
        let at = self.text(n).to_string();
        let mut c = n.walk();
        let names: Vec<Node<'t>> = n.children_by_field_name("name", &mut c).collect();
        for name in names {
            match name.kind() {
                "dotted_name" => {
                    let spec = self.text(name).to_string();
                    let vals = self.import_value(&spec, false, &at);
                    let first = spec.split('.').next().unwrap_or(&spec).to_string();
                    self.bind(&first, Site::Value(vals), scope);
                }
                "aliased_import" => {
                    let (Some(module), Some(alias)) = (
                        name.child_by_field_name("name"),
                        name.child_by_field_name("alias"),
                    ) else {
                        continue;
                    };
                    let spec = self.text(module).to_string();
                    let vals = self.import_value(&spec, true, &at);
                    let alias = self.text(alias).to_string();
                    self.bind(&alias, Site::Value(vals), scope);
                }
                _ => {}
            }
        }
    }

    pub(super) fn import_from(&mut self, n: Node<'t>, scope: Scope) {
        let at = self.text(n).to_string();
        let Some(module) = n.child_by_field_name("module_name") else {
            return;
        };
        let (spec, level) = if module.kind() == "relative_import" {
            let text = self.text(module);
            let level = text.chars().take_while(|c| *c == '.').count();
            (text[level..].to_string(), level)
        } else {
            (self.text(module).to_string(), 0)
        };
        let loaded = self.load(&spec, level, &at);
        let mut c = n.walk();
        let wildcard = n
            .named_children(&mut c)
            .any(|ch| ch.kind() == "wildcard_import");
        if wildcard {
            match &loaded {
                Loaded::Local(exports) => {
                    for (name, vals) in exports.iter() {
                        self.bind(name, Site::Value(vals.clone()), scope);
                    }
                }
                Loaded::Unreadable(_) => {}
                Loaded::NotLocal if level > 0 => {}
                Loaded::NotLocal => match self.i.kb.module(&spec) {
                    Some(m) => self.stars.push(m.to_string()),
                    None => self.i.dynamic(
                        &at,
                        format!("imports every name of `{spec}`, which Airlock does not know"),
                    ),
                },
            }
            return;
        }
        let mut c = n.walk();
        let names: Vec<Node<'t>> = n.children_by_field_name("name", &mut c).collect();
        for name in names {
            let (member, alias) = match name.kind() {
                "dotted_name" => (self.text(name).to_string(), self.text(name).to_string()),
                "aliased_import" => {
                    let (Some(m), Some(a)) = (
                        name.child_by_field_name("name"),
                        name.child_by_field_name("alias"),
                    ) else {
                        continue;
                    };
                    (self.text(m).to_string(), self.text(a).to_string())
                }
                _ => continue,
            };
            let vals = match &loaded {
                Loaded::Local(exports) => match exports.get(&member) {
                    Some(v) => v.clone(),
                    None => {
                        // `from pkg import mod`: a submodule file.
                        let sub = if spec.is_empty() {
                            member.clone()
                        } else {
                            format!("{spec}.{member}")
                        };
                        match self.load(&sub, level, &at) {
                            Loaded::Local(e) => vec![Value::Local(e)],
                            _ => other(),
                        }
                    }
                },
                Loaded::Unreadable(_) => other(),
                Loaded::NotLocal if level > 0 => other(),
                Loaded::NotLocal => {
                    let sub = format!("{spec}.{member}");
                    if let Loaded::Local(e) = self.load(&sub, 0, &at) {
                        vec![Value::Local(e)]
                    } else {
                        let module = vec![self.i.module_value(&spec, &at)];
                        self.i.attribute(&module, &member, &at)
                    }
                }
            };
            self.bind(&alias, Site::Value(vals), scope);
        }
    }
}
