//! Reading Python code: a walk over the tree-sitter syntax tree that finds imports, calls with
//! their dotted names, the strings they are given, and constructs Airlock cannot follow.

use super::analysis::{
    CallArgs, Exports, Import, Interp, Loaded, Loader, Vals, Value, other, push_value, strings,
    union,
};
use super::knowledge::Family;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tree_sitter::Node;

mod bindings;

mod values;

use values::*;

/// Deeper syntax trees are not followed (the walk is recursive).
const MAX_DEPTH: usize = 200;

/// Where a name gets a value.
enum Site<'t> {
    Expr(Node<'t>),
    Value(Vals),
}

pub(super) struct Walker<'t, 'k, 'l> {
    src: &'t str,
    pub i: Interp<'k>,
    loader: &'l mut dyn Loader,
    sites: HashMap<String, Vec<Site<'t>>>,
    memo: HashMap<String, Vals>,
    resolving: HashSet<String>,
    /// Modules imported with `*`.
    stars: Vec<String>,
    /// Names bound at module level: what `import this_file` gives.
    top_level: Vec<String>,
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
            memo: HashMap::new(),
            resolving: HashSet::new(),
            stars: Vec::new(),
            top_level: Vec::new(),
            depth: 0,
            too_deep: false,
        }
    }

    pub fn run(mut self, root: Node<'t>) -> super::analysis::Report {
        self.collect(root, Scope::Module);
        self.stmt(root);
        if self.too_deep {
            self.i
                .dynamic("", "code nested deeper than Airlock follows");
        }
        let mut exports = Exports::new();
        for name in std::mem::take(&mut self.top_level) {
            let v = self.name_quiet(&name);
            exports.insert(name, v);
        }
        self.i.report.exports = exports;
        self.i.report
    }

    fn text(&self, n: Node<'t>) -> &'t str {
        n.utf8_text(self.src.as_bytes()).unwrap_or("")
    }

    fn bind(&mut self, name: &str, site: Site<'t>, scope: Scope) {
        if scope == Scope::Module && !self.top_level.iter().any(|n| n == name) {
            self.top_level.push(name.to_string());
        }
        self.sites.entry(name.to_string()).or_default().push(site);
    }

    /// Bind every identifier in a target or pattern to an unknown value.
    fn bind_all(&mut self, n: Node<'t>, scope: Scope) {
        if n.kind() == "identifier" {
            let name = self.text(n).to_string();
            self.bind(&name, Site::Value(other()), scope);
            return;
        }
        // Attribute and subscript targets bind no name; their parts are read.
        if matches!(n.kind(), "attribute" | "subscript") {
            return;
        }
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            self.bind_all(ch, scope);
        }
    }

    // ----- second pass: what the code does -------------------------------------------------

    /// The values of a name, computed once, recording nothing.
    fn name_quiet(&mut self, name: &str) -> Vals {
        if let Some(v) = self.memo.get(name) {
            return v.clone();
        }
        if !self.resolving.insert(name.to_string()) {
            return other();
        }
        let mut vals = Vec::new();
        let sites: Vec<Site<'t>> = match self.sites.get(name) {
            Some(s) => s
                .iter()
                .map(|s| match s {
                    Site::Expr(n) => Site::Expr(*n),
                    Site::Value(v) => Site::Value(v.clone()),
                })
                .collect(),
            None => Vec::new(),
        };
        for site in sites {
            let v = match site {
                Site::Expr(n) => self.quiet_expr(n),
                Site::Value(v) => v,
            };
            vals = union(vals, v);
        }
        self.resolving.remove(name);
        if let Some(g) = self.i.global(name) {
            push_value(&mut vals, g);
        }
        for m in self.stars.clone() {
            let full = format!("{m}.{name}");
            if self.i.kb.lookup(&full).is_some() {
                push_value(&mut vals, Value::Member(full));
            }
        }
        if vals.is_empty() {
            vals.push(Value::Undefined(name.to_string()));
        }
        self.memo.insert(name.to_string(), vals.clone());
        vals
    }

    /// Evaluate for the value only: effects are recorded where the walk meets the code.
    fn quiet_expr(&mut self, n: Node<'t>) -> Vals {
        self.i.enter_quiet();
        let v = self.expr(n);
        self.i.leave_quiet();
        v
    }

    /// A statement or any node whose value is not used.
    fn stmt(&mut self, n: Node<'t>) {
        let _ = self.expr(n);
    }

    /// Evaluate and give the value away (arguments, elements, returns).
    fn use_(&mut self, n: Node<'t>) {
        let v = self.expr(n);
        let at = self.text(n).to_string();
        self.i.escape(&v, &at);
    }

    fn children_used(&mut self, n: Node<'t>) {
        let mut c = n.walk();
        let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
        for ch in kids {
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
        match n.kind() {
            "identifier" => {
                let name = self.text(n).to_string();
                let vals = self.name_quiet(&name);
                vals.into_iter()
                    .map(|v| match &v {
                        Value::Member(full) => self.i.member_value(full).unwrap_or(v),
                        _ => v,
                    })
                    .collect()
            }
            "string" => self.string(n),
            "concatenated_string" => {
                let mut acc = vec![Value::Str(String::new())];
                let mut c = n.walk();
                let parts: Vec<Node<'t>> = n.named_children(&mut c).collect();
                for part in parts {
                    let v = self.string(part);
                    acc = concat(&acc, &v);
                }
                acc
            }
            "true" => vec![Value::Bool(true)],
            "false" => vec![Value::Bool(false)],
            "parenthesized_expression" | "expression_statement" | "await" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                let mut last = other();
                for ch in kids {
                    last = self.expr(ch);
                }
                last
            }
            "conditional_expression" => {
                // `a if cond else b`: either.
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                let mut out = Vec::new();
                for (idx, ch) in kids.into_iter().enumerate() {
                    if idx == 1 {
                        self.use_(ch);
                    } else {
                        out = union(out, self.expr(ch));
                    }
                }
                out
            }
            "attribute" => self.attribute(n),
            "subscript" => {
                let object = match n.child_by_field_name("value") {
                    Some(v) => self.expr(v),
                    None => other(),
                };
                let mut c = n.walk();
                let keys: Vec<Node<'t>> = n.children_by_field_name("subscript", &mut c).collect();
                let mut key = other();
                for k in &keys {
                    key = self.expr(*k);
                    self.i.escape(&key, at);
                }
                if keys.len() != 1 {
                    key = other();
                }
                self.i.subscript(&object, &key, at)
            }
            "call" => self.call(n),
            "binary_operator" => {
                let left = n.child_by_field_name("left");
                let right = n.child_by_field_name("right");
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let (Some(l), Some(r)) = (left, right) else {
                    self.children_used(n);
                    return other();
                };
                let lv = self.expr(l);
                let rv = self.expr(r);
                self.i.escape(&lv, at);
                self.i.escape(&rv, at);
                match op {
                    "+" => {
                        if let (Some(_), Some(_)) = (strings(&lv), strings(&rv)) {
                            concat(&lv, &rv)
                        } else if let (Some(a), Some(b)) = (lists(&lv), lists(&rv)) {
                            vec![Value::List([a, b].concat())]
                        } else {
                            other()
                        }
                    }
                    "/" => {
                        // `Path(p) / "x"`.
                        let mut out = Vec::new();
                        for v in &lv {
                            if let Value::Object { ty, path } = v {
                                let joined = match (path, strings(&rv).as_deref()) {
                                    (Some(p), Some([s])) => {
                                        Some(super::analysis::join_paths(&[p.clone(), s.clone()]))
                                    }
                                    _ => None,
                                };
                                push_value(
                                    &mut out,
                                    Value::Object {
                                        ty: ty.clone(),
                                        path: joined,
                                    },
                                );
                            }
                        }
                        if out.is_empty() { other() } else { out }
                    }
                    _ => other(),
                }
            }
            "list" | "tuple" | "expression_list" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                let mut words = Some(Vec::new());
                for ch in kids {
                    let v = self.expr(ch);
                    self.i.escape(&v, at);
                    match (strings(&v).as_deref(), words.as_mut()) {
                        (Some([s]), Some(w)) => w.push(s.clone()),
                        _ => words = None,
                    }
                }
                match words {
                    Some(w) => vec![Value::List(w)],
                    None => other(),
                }
            }
            "named_expression" => match n.child_by_field_name("value") {
                Some(v) => self.expr(v),
                None => other(),
            },
            "assignment" => {
                self.assignment(n);
                other()
            }
            "augmented_assignment" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.target(l, at);
                }
                if let Some(r) = n.child_by_field_name("right") {
                    self.use_(r);
                }
                other()
            }
            "exec_statement" => {
                self.i.dynamic(at, "Python 2 `exec` statement");
                self.children_used(n);
                other()
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => other(),
            "global_statement"
            | "nonlocal_statement"
            | "comment"
            | "pass_statement"
            | "break_statement"
            | "continue_statement"
            | "ellipsis"
            | "integer"
            | "float"
            | "none"
            | "keyword_separator"
            | "positional_separator" => other(),
            "function_definition" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                for ch in kids {
                    match ch.kind() {
                        "identifier" | "type_parameter" => {}
                        "parameters" => self.parameters(ch),
                        "type" => self.annotation(ch),
                        _ => self.stmt(ch),
                    }
                }
                other()
            }
            "lambda" => {
                if let Some(p) = n.child_by_field_name("parameters") {
                    self.parameters(p);
                }
                if let Some(b) = n.child_by_field_name("body") {
                    self.use_(b);
                }
                other()
            }
            "class_definition" => {
                if let Some(s) = n.child_by_field_name("superclasses") {
                    self.arguments_used(s);
                }
                if let Some(b) = n.child_by_field_name("body") {
                    self.class_body(b);
                }
                other()
            }
            "decorated_definition" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                for ch in kids {
                    if ch.kind() == "decorator" {
                        self.children_used(ch);
                    } else {
                        self.stmt(ch);
                    }
                }
                other()
            }
            "type" => {
                self.annotation(n);
                other()
            }
            "with_item" => {
                // The context manager is used by `with`, and bound by `as`: not given away.
                if let Some(v) = n.child_by_field_name("value") {
                    let inner = if v.kind() == "as_pattern" {
                        v.named_child(0)
                    } else {
                        Some(v)
                    };
                    if let Some(inner) = inner {
                        let _ = self.expr(inner);
                    }
                }
                other()
            }
            "for_statement" | "for_in_clause" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                let left = n.child_by_field_name("left").map(|l| l.id());
                for ch in kids {
                    if Some(ch.id()) == left {
                        self.target(ch, at);
                    } else {
                        self.use_(ch);
                    }
                }
                other()
            }
            "case_clause" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                for ch in kids {
                    if ch.kind() != "case_pattern" {
                        self.stmt(ch);
                    }
                }
                other()
            }
            "keyword_argument" => {
                if let Some(v) = n.child_by_field_name("value") {
                    self.use_(v);
                }
                other()
            }
            "delete_statement" => {
                let mut c = n.walk();
                let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
                for ch in kids {
                    let _ = self.expr(ch);
                }
                other()
            }
            "module"
            | "block"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "while_statement"
            | "try_statement"
            | "except_clause"
            | "finally_clause"
            | "with_statement"
            | "with_clause"
            | "match_statement"
            | "decorator"
            | "return_statement"
            | "yield"
            | "raise_statement"
            | "assert_statement"
            | "print_statement"
            | "if_clause"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression"
            | "dictionary"
            | "set"
            | "pair"
            | "list_splat"
            | "dictionary_splat"
            | "parenthesized_list_splat"
            | "boolean_operator"
            | "comparison_operator"
            | "not_operator"
            | "unary_operator"
            | "slice"
            | "type_alias_statement"
            | "as_pattern"
            | "chevron"
            | "format_expression"
            | "interpolation"
            | "ERROR"
            | "except_group_clause" => {
                self.children_used(n);
                other()
            }
            _ => {
                self.children_used(n);
                other()
            }
        }
    }

    fn attribute(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let (Some(obj), Some(name)) = (
            n.child_by_field_name("object"),
            n.child_by_field_name("attribute"),
        ) else {
            self.children_used(n);
            return other();
        };
        let name = self.text(name);
        let object = self.expr(obj);
        if is_dunder(name) && !self.i.kb.is_ordinary_dunder(name) {
            // `super().__init__(…)` is how classes call their parent; other dunders reach
            // internals (`().__class__.__bases__[0].__subclasses__()`).
            let super_call = obj.kind() == "call"
                && obj
                    .child_by_field_name("function")
                    .is_some_and(|f| self.text(f) == "super");
            if !super_call {
                self.i.dynamic(
                    at,
                    format!("reaches interpreter internals through `.{name}`"),
                );
                return other();
            }
            return other();
        }
        self.i.attribute(&object, name, at)
    }

    fn call(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let callee = match n.child_by_field_name("function") {
            Some(f) => self.expr(f),
            None => other(),
        };
        let mut args = CallArgs::default();
        if let Some(list) = n.child_by_field_name("arguments") {
            let mut c = list.walk();
            let kids: Vec<Node<'t>> = list.named_children(&mut c).collect();
            for a in kids {
                match a.kind() {
                    "keyword_argument" => {
                        let (Some(k), Some(v)) = (
                            a.child_by_field_name("name"),
                            a.child_by_field_name("value"),
                        ) else {
                            continue;
                        };
                        let key = self.text(k).to_string();
                        let vals = self.expr(v);
                        self.i.escape(&vals, at);
                        args.keywords.push((key, vals));
                    }
                    "list_splat" | "dictionary_splat" => {
                        self.children_used(a);
                        args.opaque = true;
                    }
                    "comment" => {}
                    _ => {
                        let vals = self.expr(a);
                        self.i.escape(&vals, at);
                        args.positional.push(vals);
                    }
                }
            }
        }
        self.i.call(&callee, &args, at)
    }

    fn arguments_used(&mut self, list: Node<'t>) {
        self.children_used(list);
    }

    fn parameters(&mut self, params: Node<'t>) {
        let mut c = params.walk();
        let kids: Vec<Node<'t>> = params.named_children(&mut c).collect();
        for p in kids {
            if let Some(v) = p.child_by_field_name("value") {
                self.use_(v);
            }
            if let Some(t) = p.child_by_field_name("type") {
                self.annotation(t);
            }
        }
    }

    /// Annotations are evaluated when the definition runs: their calls count. Names in them
    /// are types (and type parameters), not values handed around.
    fn annotation(&mut self, n: Node<'t>) {
        if n.kind() == "call" {
            let v = self.expr(n);
            let at = self.text(n).to_string();
            self.i.escape(&v, &at);
            return;
        }
        let mut c = n.walk();
        let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
        for ch in kids {
            self.annotation(ch);
        }
    }

    /// A class body: names bound there become attributes of the class, reachable as
    /// `Class.name`, so what they are given is given away.
    fn class_body(&mut self, body: Node<'t>) {
        let mut c = body.walk();
        let kids: Vec<Node<'t>> = body.named_children(&mut c).collect();
        for ch in kids {
            let inner = if ch.kind() == "expression_statement" {
                ch.named_child(0)
            } else {
                None
            };
            match inner {
                Some(a) if a.kind() == "assignment" => {
                    if let Some(r) = a.child_by_field_name("right") {
                        self.use_(r);
                    }
                    if let Some(t) = a.child_by_field_name("type") {
                        self.annotation(t);
                    }
                }
                _ => self.stmt(ch),
            }
        }
    }

    fn assignment(&mut self, n: Node<'t>) {
        let at = self.text(n);
        if let Some(t) = n.child_by_field_name("type") {
            self.annotation(t);
        }
        let Some(left) = n.child_by_field_name("left") else {
            return;
        };
        let right = n.child_by_field_name("right");
        match left.kind() {
            "identifier" => {
                if let Some(r) = right {
                    // Bound to a name the analysis follows: not given away.
                    let _ = self.expr(r);
                }
            }
            _ => {
                self.target(left, at);
                if let Some(r) = right {
                    self.use_(r);
                }
            }
        }
    }

    /// An assignment target: setting an attribute or item of a library changes it.
    fn target(&mut self, t: Node<'t>, at: &str) {
        match t.kind() {
            "attribute" | "subscript" => {
                let object = t
                    .child_by_field_name("object")
                    .or_else(|| t.child_by_field_name("value"));
                if let Some(o) = object {
                    let vals = self.expr(o);
                    self.changes(&vals, at);
                }
                if t.kind() == "subscript" {
                    let mut c = t.walk();
                    let keys: Vec<Node<'t>> =
                        t.children_by_field_name("subscript", &mut c).collect();
                    for k in keys {
                        self.use_(k);
                    }
                }
            }
            "identifier" => {}
            _ => {
                let mut c = t.walk();
                let kids: Vec<Node<'t>> = t.named_children(&mut c).collect();
                for ch in kids {
                    self.target(ch, at);
                }
            }
        }
    }

    /// `obj.x = …`, `obj[k] = …` where `obj` is a library: the environment, or a change to
    /// the library Airlock reads.
    fn changes(&mut self, vals: &Vals, at: &str) {
        self.i.changes(vals, at);
    }

    fn string(&mut self, n: Node<'t>) -> Vals {
        if n.kind() != "string" {
            return self.expr(n);
        }
        let mut prefix = String::new();
        let mut acc = vec![Value::Str(String::new())];
        let mut known = true;
        let mut c = n.walk();
        let kids: Vec<Node<'t>> = n.named_children(&mut c).collect();
        for ch in kids {
            match ch.kind() {
                "string_start" => {
                    prefix = self
                        .text(ch)
                        .trim_end_matches(['"', '\''])
                        .to_ascii_lowercase();
                }
                "string_content" => {
                    let raw = prefix.contains('r');
                    let mut text = self.text(ch).to_string();
                    if prefix.contains('f') || prefix.contains('t') {
                        text = text.replace("{{", "{").replace("}}", "}");
                    }
                    match decode(&text, raw) {
                        Some(s) => acc = concat(&acc, &vec![Value::Str(s)]),
                        None => known = false,
                    }
                }
                "interpolation" => {
                    let expr = ch.child_by_field_name("expression");
                    let plain = ch.child_by_field_name("type_conversion").is_none()
                        && ch.child_by_field_name("format_specifier").is_none();
                    let mut cc = ch.walk();
                    let parts: Vec<Node<'t>> = ch.named_children(&mut cc).collect();
                    for p in parts {
                        if Some(p.id()) != expr.map(|e| e.id()) {
                            self.use_(p);
                        }
                    }
                    match expr {
                        Some(e) => {
                            let v = self.expr(e);
                            self.i.escape(&v, self.text(ch));
                            if plain && strings(&v).is_some() {
                                acc = concat(&acc, &v);
                            } else {
                                known = false;
                            }
                        }
                        None => known = false,
                    }
                }
                _ => {}
            }
        }
        if !known || prefix.contains('t') {
            // Template strings (`t"…"`) are objects, not strings.
            return other();
        }
        for v in &acc {
            if let Value::Str(s) = v {
                self.i.literal(s);
            }
        }
        acc
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Module,
    Class,
    Local,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes() {
        assert_eq!(decode(r"\x72m \\ \'", false).as_deref(), Some("rm \\ '"));
        assert_eq!(decode(r"\162m", false).as_deref(), Some("rm"));
        assert_eq!(decode(r"\u0072m", false).as_deref(), Some("rm"));
        assert_eq!(decode(r"\x72", true).as_deref(), Some(r"\x72"));
        assert_eq!(decode(r"\N{DASH}", false), None);
        assert_eq!(decode(r"\d", false).as_deref(), Some(r"\d"));
    }
}
