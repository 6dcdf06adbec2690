//! Declarations, assignments, destructuring, exports and literals in JavaScript: what a value
//! bound, stored or exported gives away, and the strings literals are.

use super::*;

impl<'t, 'k, 'l> Walker<'t, 'k, 'l> {
    pub(super) fn declarator(&mut self, n: Node<'t>) {
        let at = self.text(n);
        let Some(name) = n.child_by_field_name("name") else {
            return;
        };
        let Some(value) = n.child_by_field_name("value") else {
            return;
        };
        let var_at_top = n
            .parent()
            .is_some_and(|p| p.kind() == "variable_declaration")
            && enclosing_function(n).is_none();
        let exported = n
            .parent()
            .and_then(|p| p.parent())
            .is_some_and(|p| p.kind() == "export_statement");
        let vals = self.expr(value);
        // A top-level `var` is a property of the global object; an exported one is handed to
        // whoever imports the module.
        if var_at_top || exported {
            self.i.escape(&vals, at);
        }
        self.pattern(name, &vals, at);
    }

    /// Walk a destructuring pattern over a value: members named are looked up (an unknown one
    /// of a library is dynamic), rest and array patterns give the value away.
    pub(super) fn pattern(&mut self, pat: Node<'t>, vals: &Vals, at: &str) {
        match pat.kind() {
            "identifier" => {}
            "object_pattern" => {
                for ch in Self::kids(pat) {
                    match ch.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let k = self.text(ch).to_string();
                            let _ = self.i.attribute(vals, &k, at);
                        }
                        "pair_pattern" => {
                            let key = ch.child_by_field_name("key");
                            let value = ch.child_by_field_name("value");
                            match key.map(|k| (k.kind(), self.text(k))) {
                                Some(("property_identifier" | "string", k)) => {
                                    let k = k.trim_matches(['"', '\'']).to_string();
                                    let inner = self.i.attribute(vals, &k, at);
                                    if let Some(v) = value {
                                        self.pattern(v, &inner, at);
                                    }
                                }
                                _ => {
                                    self.i.escape(vals, at);
                                    if let Some(k) = key {
                                        self.children_used(k);
                                    }
                                }
                            }
                        }
                        "object_assignment_pattern" => {
                            if let Some(l) = ch.child_by_field_name("left") {
                                let k = self.text(l).to_string();
                                let _ = self.i.attribute(vals, &k, at);
                            }
                            if let Some(r) = ch.child_by_field_name("right") {
                                self.use_(r);
                            }
                        }
                        _ => self.i.escape(vals, at),
                    }
                }
            }
            "assignment_pattern" => {
                if let Some(r) = pat.child_by_field_name("right") {
                    self.use_(r);
                }
                if let Some(l) = pat.child_by_field_name("left") {
                    self.pattern(l, vals, at);
                }
            }
            _ => self.i.escape(vals, at),
        }
    }

    pub(super) fn assignment(&mut self, n: Node<'t>) {
        let at = self.text(n);
        let (Some(l), Some(r)) = (
            n.child_by_field_name("left"),
            n.child_by_field_name("right"),
        ) else {
            self.children_used(n);
            return;
        };
        match l.kind() {
            "identifier" => {
                let name = self.text(l).to_string();
                let vals = self.expr(r);
                // Assigning a name never declared creates a global property.
                if !self.declared.contains(&name) {
                    self.i.escape(&vals, at);
                }
            }
            "object_pattern" | "array_pattern" => {
                let vals = self.expr(r);
                self.pattern(l, &vals, at);
            }
            _ => {
                self.target(l, at);
                self.use_(r);
            }
        }
    }

    /// An assignment or `delete` target: setting a member of a library changes it.
    pub(super) fn target(&mut self, t: Node<'t>, at: &str) {
        match t.kind() {
            "member_expression" | "subscript_expression" => {
                if let Some(o) = t.child_by_field_name("object") {
                    let vals = self.expr(o);
                    self.i.changes(&vals, at);
                }
                if let Some(k) = t.child_by_field_name("index") {
                    self.use_(k);
                }
            }
            "parenthesized_expression" | "non_null_expression" | "as_expression" => {
                for ch in Self::kids(t) {
                    self.target(ch, at);
                }
            }
            _ => {}
        }
    }

    pub(super) fn export(&mut self, n: Node<'t>) {
        let at = self.text(n);
        if let Some(source) = n.child_by_field_name("source") {
            // `export … from "m"`: re-exports hand the module to importers.
            let v = self.string_value(source);
            let module = match strings(&v).as_deref() {
                Some([s]) => self.load(s, at),
                _ => other(),
            };
            self.i.escape(&module, at);
            return;
        }
        for ch in Self::kids(n) {
            match ch.kind() {
                "export_clause" => {
                    for spec in Self::kids(ch) {
                        if let Some(name) = spec.child_by_field_name("name") {
                            self.use_(name);
                        }
                    }
                }
                "lexical_declaration" | "variable_declaration" => {
                    let _ = self.expr(ch);
                }
                "decorator" => self.children_used(ch),
                _ => self.use_(ch),
            }
        }
    }

    /// The value of a string literal.
    pub(super) fn string_value(&self, n: Node<'t>) -> Vals {
        let mut out = String::new();
        for ch in Self::kids(n) {
            match ch.kind() {
                "string_fragment" => out.push_str(self.text(ch)),
                "escape_sequence" => match decode_escape(self.text(ch)) {
                    Some(s) => out.push_str(&s),
                    None => return other(),
                },
                // JSX character references and the like.
                _ => return other(),
            }
        }
        vec![Value::Str(out)]
    }

    /// A template literal: its text when every substitution is a known string.
    pub(super) fn template(&mut self, n: Node<'t>) -> Vals {
        let at = self.text(n);
        let mut acc = vec![Value::Str(String::new())];
        let mut known = true;
        for ch in Self::kids(n) {
            match ch.kind() {
                "string_fragment" => {
                    let t = self.text(ch).to_string();
                    acc = concat(&acc, &vec![Value::Str(t)]);
                }
                "escape_sequence" => match decode_escape(self.text(ch)) {
                    Some(s) => acc = concat(&acc, &vec![Value::Str(s)]),
                    None => known = false,
                },
                "template_substitution" => {
                    let mut v = other();
                    for e in Self::kids(ch) {
                        v = self.expr(e);
                        self.i.escape(&v, at);
                    }
                    if strings(&v).is_some() {
                        acc = concat(&acc, &v);
                    } else {
                        known = false;
                    }
                }
                _ => known = false,
            }
        }
        if !known {
            return other();
        }
        if let Some(ss) = strings(&acc) {
            for s in ss {
                self.i.literal(&s);
            }
        }
        acc
    }
}
