//! Reading JavaScript and TypeScript code: a walk over the tree-sitter syntax tree that finds
//! `require`/`import`, calls with their dotted names, the strings they are given, and constructs
//! Airlock cannot follow.

use super::analysis::{
    CallArgs, Effect, Import, Interp, Loaded, Loader, Report, Vals, Value, other, push_value,
    strings, union,
};
use super::knowledge::{Capability, Family, Known};
use std::collections::{HashMap, HashSet};
use tree_sitter::Node;

mod assignments;
mod bindings;

mod syntax;

use syntax::*;

/// Deeper syntax trees are not followed (the walk is recursive).
const MAX_DEPTH: usize = 200;

/// TypeScript nodes that only describe types: no code runs in them.
const TYPE_ONLY: &[&str] = &[
    "type_annotation",
    "type_arguments",
    "type_parameters",
    "interface_declaration",
    "type_alias_declaration",
    "ambient_declaration",
    "abstract_method_signature",
    "index_signature",
    "method_signature",
    "property_signature",
    "function_signature",
    "predefined_type",
    "type_identifier",
    "opting_type_annotation",
    "omitting_type_annotation",
    "asserts_annotation",
    "type_predicate_annotation",
    "accessibility_modifier",
    "override_modifier",
];

/// Where a name gets a value.
enum Site<'t> {
    Expr(Node<'t>),
    /// A property path of an expression's value (`const {a: {b}} = expr`).
    Path(Node<'t>, Vec<String>),
    Value(Vals),
}

pub(super) struct Walker<'t, 'k, 'l> {
    src: &'t str,
    pub i: Interp<'k>,
    loader: &'l mut dyn Loader,
    sites: HashMap<String, Vec<Site<'t>>>,
    /// Names declared with `let`, `const`, parameters, functions, classes, imports: assigning
    /// them creates no global property.
    declared: HashSet<String>,
    memo: HashMap<String, Vals>,
    resolving: HashSet<String>,
    depth: usize,
    too_deep: bool,
}

impl<'t, 'k, 'l> Walker<'t, 'k, 'l> {
    pub fn new(src: &'t str, i: Interp<'k>, loader: &'l mut dyn Loader) -> Self {
        Self {
            src,
            i,
            loader,
            sites: HashMap::new(),
            declared: HashSet::new(),
            memo: HashMap::new(),
            resolving: HashSet::new(),
            depth: 0,
            too_deep: false,
        }
    }

    pub fn run(mut self, root: Node<'t>) -> Report {
        self.collect(root);
        self.depth = 0;
        let _ = self.expr(root);
        if self.too_deep {
            self.i
                .dynamic("", "code nested deeper than Airlock follows");
        }
        self.i.report
    }

    fn text(&self, n: Node<'t>) -> &'t str {
        n.utf8_text(self.src.as_bytes()).unwrap_or("")
    }

    fn kids(n: Node<'t>) -> Vec<Node<'t>> {
        let mut c = n.walk();
        n.named_children(&mut c).collect()
    }

    fn bind(&mut self, name: &str, site: Site<'t>) {
        self.sites.entry(name.to_string()).or_default().push(site);
    }

    fn declare(&mut self, name: &str) {
        self.declared.insert(name.to_string());
    }

    /// Bind every name a pattern introduces to an unknown value.
    fn bind_all(&mut self, n: Node<'t>) {
        match n.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                let name = self.text(n).to_string();
                self.declare(&name);
                self.bind(&name, Site::Value(other()));
            }
            // Defaults and computed keys are values, not names bound.
            "assignment_pattern" | "object_assignment_pattern" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.bind_all(l);
                }
            }
            "pair_pattern" => {
                if let Some(v) = n.child_by_field_name("value") {
                    self.bind_all(v);
                }
            }
            "member_expression" | "subscript_expression" => {}
            k if TYPE_ONLY.contains(&k) => {}
            _ => {
                for ch in Self::kids(n) {
                    self.bind_all(ch);
                }
            }
        }
    }

    /// Bind the names of a destructuring pattern to property paths of `source`.
    fn destructure(&mut self, pattern: Node<'t>, source: Node<'t>, path: Vec<String>) {
        match pattern.kind() {
            "identifier" => {
                let name = self.text(pattern).to_string();
                self.bind(&name, Site::Path(source, path));
            }
            "object_pattern" => {
                for ch in Self::kids(pattern) {
                    match ch.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let name = self.text(ch).to_string();
                            let mut p = path.clone();
                            p.push(name.clone());
                            self.bind(&name, Site::Path(source, p));
                        }
                        "pair_pattern" => {
                            let key = ch.child_by_field_name("key");
                            let value = ch.child_by_field_name("value");
                            match (key.map(|k| (k.kind(), self.text(k))), value) {
                                (Some(("property_identifier", k)), Some(v)) => {
                                    let mut p = path.clone();
                                    p.push(k.to_string());
                                    self.destructure(v, source, p);
                                }
                                (Some(("string", k)), Some(v)) => {
                                    let mut p = path.clone();
                                    p.push(k.trim_matches(['"', '\'']).to_string());
                                    self.destructure(v, source, p);
                                }
                                (_, Some(v)) => self.bind_all(v),
                                _ => {}
                            }
                        }
                        "object_assignment_pattern" => {
                            if let Some(l) = ch.child_by_field_name("left") {
                                let name = self.text(l).to_string();
                                let mut p = path.clone();
                                p.push(name.clone());
                                self.bind(&name, Site::Path(source, p));
                                if let Some(r) = ch.child_by_field_name("right") {
                                    self.bind(&name, Site::Expr(r));
                                }
                            }
                        }
                        _ => self.bind_all(ch),
                    }
                }
            }
            "assignment_pattern" => {
                if let Some(l) = pattern.child_by_field_name("left") {
                    self.destructure(l, source, path);
                }
                if let (Some(l), Some(r)) = (
                    pattern.child_by_field_name("left"),
                    pattern.child_by_field_name("right"),
                ) && l.kind() == "identifier"
                {
                    let name = self.text(l).to_string();
                    self.bind(&name, Site::Expr(r));
                }
            }
            _ => self.bind_all(pattern),
        }
    }

    // ----- second pass: what the code does -------------------------------------------------

    fn name(&mut self, name: &str) -> Vals {
        if let Some(v) = self.memo.get(name) {
            return v.clone();
        }
        if !self.resolving.insert(name.to_string()) {
            return other();
        }
        let sites: Vec<Site<'t>> = match self.sites.get(name) {
            Some(s) => s
                .iter()
                .map(|s| match s {
                    Site::Expr(n) => Site::Expr(*n),
                    Site::Path(n, p) => Site::Path(*n, p.clone()),
                    Site::Value(v) => Site::Value(v.clone()),
                })
                .collect(),
            None => Vec::new(),
        };
        let mut vals = Vec::new();
        for site in sites {
            let v = match site {
                Site::Expr(n) => self.quiet_expr(n),
                Site::Path(n, path) => {
                    self.i.enter_quiet();
                    let mut v = self.expr(n);
                    for p in &path {
                        v = self.i.attribute(&v, p, "");
                    }
                    self.i.leave_quiet();
                    v
                }
                Site::Value(v) => v,
            };
            vals = union(vals, v);
        }
        self.resolving.remove(name);
        if let Some(g) = self.i.global(name) {
            push_value(&mut vals, g);
        }
        if vals.is_empty() {
            vals.push(Value::Undefined(name.to_string()));
        }
        self.memo.insert(name.to_string(), vals.clone());
        vals
    }

    fn quiet_expr(&mut self, n: Node<'t>) -> Vals {
        self.i.enter_quiet();
        let v = self.expr(n);
        self.i.leave_quiet();
        v
    }

    fn use_(&mut self, n: Node<'t>) {
        let v = self.expr(n);
        let at = self.text(n).to_string();
        self.i.escape(&v, &at);
    }

    fn children_used(&mut self, n: Node<'t>) {
        for ch in Self::kids(n) {
            self.use_(ch);
        }
    }

    fn expr(&mut self, n: Node<'t>) -> Vals {
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
            return other();
        }
        self.depth += 1;
        let v = self.expr_node(n);
        self.depth -= 1;
        v
    }

    fn expr_node(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let kind = n.kind();
        if TYPE_ONLY.contains(&kind) {
            return other();
        }
        match kind {
            "identifier" | "shorthand_property_identifier" => {
                let name = self.text(n).to_string();
                let vals = self.name(&name);
                vals.into_iter()
                    .map(|v| match &v {
                        Value::Member(full) => self.i.member_value(full).unwrap_or(v),
                        _ => v,
                    })
                    .collect()
            }
            "this" => {
                if this_is_global(n) {
                    vec![Value::Global]
                } else {
                    other()
                }
            }
            "string" => {
                let v = self.string_value(n);
                if let Some(ss) = strings(&v) {
                    for s in ss {
                        self.i.literal(&s);
                    }
                }
                v
            }
            "template_string" => self.template(n),
            "true" => vec![Value::Bool(true)],
            "false" => vec![Value::Bool(false)],
            "number"
            | "null"
            | "undefined"
            | "regex"
            | "comment"
            | "hash_bang_line"
            | "html_comment"
            | "empty_statement"
            | "debugger_statement"
            | "break_statement"
            | "continue_statement"
            | "statement_identifier"
            | "super"
            | "meta_property" => other(),
            "parenthesized_expression"
            | "await_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
            | "type_assertion"
            | "expression_statement" => {
                let mut last = other();
                for ch in Self::kids(n) {
                    if TYPE_ONLY.contains(&ch.kind()) {
                        continue;
                    }
                    last = self.expr(ch);
                }
                last
            }
            "sequence_expression" => {
                let kids = Self::kids(n);
                let mut last = other();
                for (idx, ch) in kids.iter().enumerate() {
                    if idx + 1 == kids.len() {
                        last = self.expr(*ch);
                    } else {
                        self.use_(*ch);
                    }
                }
                last
            }
            "ternary_expression" => {
                if let Some(c) = n.child_by_field_name("condition") {
                    self.use_(c);
                }
                let mut out = Vec::new();
                for f in ["consequence", "alternative"] {
                    if let Some(b) = n.child_by_field_name(f) {
                        out = union(out, self.expr(b));
                    }
                }
                out
            }
            "member_expression" => self.member(n),
            "subscript_expression" => {
                let object = match n.child_by_field_name("object") {
                    Some(o) => self.expr(o),
                    None => other(),
                };
                let key = match n.child_by_field_name("index") {
                    Some(k) => {
                        let v = self.expr(k);
                        self.i.escape(&v, at);
                        v
                    }
                    None => other(),
                };
                self.i.subscript(&object, &key, at)
            }
            "call_expression" | "new_expression" => self.call(n),
            "binary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let l = n.child_by_field_name("left").map(|x| self.expr(x));
                let r = n.child_by_field_name("right").map(|x| self.expr(x));
                let (Some(l), Some(r)) = (l, r) else {
                    return other();
                };
                self.i.escape(&l, at);
                self.i.escape(&r, at);
                if op == "+" { concat(&l, &r) } else { other() }
            }
            "array" => {
                let mut words = Some(Vec::new());
                for ch in Self::kids(n) {
                    let v = self.expr(ch);
                    self.i.escape(&v, at);
                    match (strings(&v).as_deref(), words.as_mut()) {
                        (Some([s]), Some(w)) if ch.kind() != "spread_element" => w.push(s.clone()),
                        _ => words = None,
                    }
                }
                match words {
                    Some(w) => vec![Value::List(w)],
                    None => other(),
                }
            }
            "pair" => {
                if let Some(k) = n.child_by_field_name("key")
                    && k.kind() == "computed_property_name"
                {
                    self.children_used(k);
                }
                if let Some(v) = n.child_by_field_name("value") {
                    self.use_(v);
                }
                other()
            }
            "variable_declarator" => {
                self.declarator(n);
                other()
            }
            "assignment_expression" => {
                self.assignment(n);
                other()
            }
            "augmented_assignment_expression" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.target(l, at);
                }
                if let Some(r) = n.child_by_field_name("right") {
                    self.use_(r);
                }
                other()
            }
            "unary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                if let Some(arg) = n.child_by_field_name("argument") {
                    if op == "delete" {
                        self.target(arg, at);
                    } else {
                        self.use_(arg);
                    }
                }
                other()
            }
            "import_statement" => other(),
            "export_statement" => {
                self.export(n);
                other()
            }
            "function_declaration"
            | "generator_function_declaration"
            | "function_expression"
            | "generator_function"
            | "arrow_function"
            | "method_definition" => {
                for ch in Self::kids(n) {
                    match ch.kind() {
                        "identifier" | "property_identifier" | "private_property_identifier" => {}
                        "formal_parameters" => self.parameters(ch),
                        "statement_block" => {
                            let _ = self.expr(ch);
                        }
                        k if TYPE_ONLY.contains(&k) => {}
                        "decorator" => self.children_used(ch),
                        "computed_property_name" => self.children_used(ch),
                        // An expression body is returned.
                        _ => self.use_(ch),
                    }
                }
                other()
            }
            "class_declaration" | "class" | "abstract_class_declaration" => {
                for ch in Self::kids(n) {
                    match ch.kind() {
                        "class_heritage" | "decorator" => self.children_used(ch),
                        "class_body" => {
                            for m in Self::kids(ch) {
                                match m.kind() {
                                    "field_definition" | "public_field_definition" => {
                                        for f in Self::kids(m) {
                                            match f.kind() {
                                                "property_identifier"
                                                | "private_property_identifier" => {}
                                                k if TYPE_ONLY.contains(&k) => {}
                                                _ => self.use_(f),
                                            }
                                        }
                                    }
                                    _ => {
                                        let _ = self.expr(m);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                other()
            }
            "enum_declaration" | "internal_module" | "module" => {
                if let Some(b) = n.child_by_field_name("body") {
                    let _ = self.expr(b);
                }
                other()
            }
            "enum_body" | "enum_assignment" => {
                for ch in Self::kids(n) {
                    if ch.kind() != "property_identifier" {
                        self.use_(ch);
                    }
                }
                other()
            }
            "object" => {
                for ch in Self::kids(n) {
                    match ch.kind() {
                        "method_definition" | "pair" => {
                            let _ = self.expr(ch);
                        }
                        _ => self.use_(ch),
                    }
                }
                other()
            }
            "for_in_statement" => {
                for f in ["right", "body"] {
                    if let Some(ch) = n.child_by_field_name(f) {
                        if f == "right" {
                            self.use_(ch);
                        } else {
                            let _ = self.expr(ch);
                        }
                    }
                }
                if let Some(l) = n.child_by_field_name("left") {
                    self.target(l, at);
                }
                other()
            }
            "with_statement" => {
                self.i.dynamic(at, "`with` changes what names mean");
                self.children_used(n);
                other()
            }
            "program"
            | "statement_block"
            | "if_statement"
            | "else_clause"
            | "for_statement"
            | "while_statement"
            | "do_statement"
            | "try_statement"
            | "catch_clause"
            | "finally_clause"
            | "switch_statement"
            | "switch_body"
            | "switch_case"
            | "switch_default"
            | "labeled_statement"
            | "lexical_declaration"
            | "variable_declaration"
            | "class_static_block"
            | "using_declaration" => {
                for ch in Self::kids(n) {
                    match ch.kind() {
                        "statement_block"
                        | "variable_declarator"
                        | "lexical_declaration"
                        | "variable_declaration"
                        | "expression_statement" => {
                            let _ = self.expr(ch);
                        }
                        "statement_identifier" => {}
                        _ if is_statement(ch.kind()) => {
                            let _ = self.expr(ch);
                        }
                        // Conditions and other expressions in statements.
                        _ => self.use_(ch),
                    }
                }
                other()
            }
            _ => {
                self.children_used(n);
                other()
            }
        }
    }

    fn member(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let (Some(obj), Some(prop)) = (
            n.child_by_field_name("object"),
            n.child_by_field_name("property"),
        ) else {
            self.children_used(n);
            return other();
        };
        let object = self.expr(obj);
        if prop.kind() == "private_property_identifier" {
            return other();
        }
        let name = self.text(prop).to_string();
        self.i.attribute(&object, &name, at)
    }

    fn call(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let callee_node = n
            .child_by_field_name("function")
            .or_else(|| n.child_by_field_name("constructor"));
        let mut args = CallArgs::default();
        let mut first_literal: Option<Vals> = None;
        if let Some(list) = n.child_by_field_name("arguments") {
            if list.kind() == "template_string" {
                // A tagged template: `` $`cmd` ``.
                let v = self.template(list);
                args.positional.push(v);
            } else {
                for (idx, a) in Self::kids(list).into_iter().enumerate() {
                    match a.kind() {
                        "spread_element" => {
                            self.use_(a);
                            args.opaque = true;
                        }
                        "comment" => {}
                        "object" => {
                            // An options object: its properties are keyword arguments.
                            for p in Self::kids(a) {
                                match p.kind() {
                                    "pair" => {
                                        let key = p.child_by_field_name("key");
                                        let value = p.child_by_field_name("value");
                                        let k = key.map(|k| {
                                            (k.kind(), self.text(k).trim_matches(['"', '\'']))
                                        });
                                        match (k, value) {
                                            (
                                                Some(("property_identifier" | "string", k)),
                                                Some(v),
                                            ) => {
                                                let vals = self.expr(v);
                                                self.i.escape(&vals, at);
                                                args.keywords.push((k.to_string(), vals));
                                            }
                                            _ => {
                                                let _ = self.expr(p);
                                                args.opaque = true;
                                            }
                                        }
                                    }
                                    "shorthand_property_identifier" => {
                                        let k = self.text(p).to_string();
                                        let vals = self.expr(p);
                                        self.i.escape(&vals, at);
                                        args.keywords.push((k, vals));
                                    }
                                    _ => {
                                        self.use_(p);
                                        args.opaque = true;
                                    }
                                }
                            }
                            args.positional.push(other());
                        }
                        _ => {
                            let vals = self.expr(a);
                            self.i.escape(&vals, at);
                            if idx == 0 {
                                first_literal = Some(vals.clone());
                            }
                            // An options object in a variable (`spawn(cmd, args, opts)`) may
                            // hold anything (`shell: true`, `cwd`).
                            if idx > 0 && !is_literal_value(a.kind()) {
                                args.opaque = true;
                            }
                            args.positional.push(vals);
                        }
                    }
                }
            }
        }
        let Some(callee_node) = callee_node else {
            return other();
        };
        if callee_node.kind() == "import" {
            // `import(x)`.
            return match first_literal.as_ref().and_then(strings).as_deref() {
                Some([s]) => self.load(s, at),
                _ => {
                    self.i.dynamic(at, "imports a module named at run time");
                    other()
                }
            };
        }
        let callee = self.expr(callee_node);
        // `require(x)`, `module.require(x)`, `process.getBuiltinModule(x)`.
        let loads = callee.iter().any(|v| {
            matches!(v, Value::Member(full)
                if matches!(self.i.kb.lookup(full), Some(Known::Member(s)) if s.module_arg.is_some()))
        });
        if loads {
            return match args.positional.first().and_then(strings).as_deref() {
                Some([s]) if !args.opaque => self.load(s, at),
                _ => {
                    self.i.dynamic(at, "loads a module named at run time");
                    other()
                }
            };
        }
        self.i.call(&callee, &args, at)
    }

    fn parameters(&mut self, params: Node<'t>) {
        for p in Self::kids(params) {
            self.defaults(p);
        }
    }

    /// Default values in parameters and patterns run when the function is called.
    fn defaults(&mut self, p: Node<'t>) {
        match p.kind() {
            "assignment_pattern" | "object_assignment_pattern" => {
                if let Some(r) = p.child_by_field_name("right") {
                    self.use_(r);
                }
                if let Some(l) = p.child_by_field_name("left") {
                    self.defaults(l);
                }
            }
            "required_parameter" | "optional_parameter" => {
                if let Some(v) = p.child_by_field_name("value") {
                    self.use_(v);
                }
                if let Some(pat) = p.child_by_field_name("pattern") {
                    self.defaults(pat);
                }
            }
            "computed_property_name" => self.children_used(p),
            k if TYPE_ONLY.contains(&k) => {}
            _ => {
                for ch in Self::kids(p) {
                    self.defaults(ch);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes() {
        assert_eq!(decode_escape(r"\x72").as_deref(), Some("r"));
        assert_eq!(decode_escape(r"\u0072").as_deref(), Some("r"));
        assert_eq!(decode_escape(r"\u{72}").as_deref(), Some("r"));
        assert_eq!(decode_escape(r"\'").as_deref(), Some("'"));
        assert_eq!(decode_escape(r"\n").as_deref(), Some("\n"));
    }
}
