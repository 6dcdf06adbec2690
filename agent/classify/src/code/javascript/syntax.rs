//! Helpers over JavaScript syntax: literal values, enclosing functions, statements, escapes.

use super::*;

/// Arguments whose value is written out in the call: not an options object in disguise.
pub(crate) fn is_literal_value(kind: &str) -> bool {
    matches!(
        kind,
        "string"
            | "template_string"
            | "number"
            | "true"
            | "false"
            | "null"
            | "undefined"
            | "array"
            | "arrow_function"
            | "function_expression"
            | "regex"
    )
}

/// The function (not arrow) a node is in, if any.
pub(crate) fn enclosing_function(n: Node<'_>) -> Option<Node<'_>> {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if matches!(
            p.kind(),
            "function_declaration"
                | "function_expression"
                | "generator_function"
                | "generator_function_declaration"
                | "method_definition"
                | "arrow_function"
                | "class_static_block"
        ) {
            return Some(p);
        }
        cur = p.parent();
    }
    None
}

/// `this` is the global object at top level and in plain functions (sloppy mode); inside
/// classes (strict mode) it is an instance or undefined.
pub(crate) fn this_is_global(n: Node<'_>) -> bool {
    let mut cur = n.parent();
    while let Some(p) = cur {
        match p.kind() {
            "class_body" | "class_static_block" => return false,
            "method_definition" => {
                return p.parent().is_none_or(|b| b.kind() != "class_body");
            }
            "function_declaration"
            | "function_expression"
            | "generator_function"
            | "generator_function_declaration" => return true,
            _ => {}
        }
        cur = p.parent();
    }
    true
}

pub(crate) fn is_statement(kind: &str) -> bool {
    kind.ends_with("_statement")
        || kind.ends_with("_declaration")
        || matches!(kind, "statement_block" | "class" | "function_expression")
}

pub(crate) fn concat(a: &Vals, b: &Vals) -> Vals {
    let (Some(xs), Some(ys)) = (strings(a), strings(b)) else {
        return other();
    };
    let mut out = Vec::new();
    for x in &xs {
        for y in &ys {
            push_value(&mut out, Value::Str(format!("{x}{y}")));
        }
    }
    out
}

/// The text of one JavaScript escape sequence, or `None` for one Airlock does not decode.
pub(crate) fn decode_escape(esc: &str) -> Option<String> {
    let body = esc.strip_prefix('\\')?;
    let mut chars = body.chars();
    let first = chars.next()?;
    let rest: String = chars.collect();
    let c = match first {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        '\n' | '\r' | '\u{2028}' | '\u{2029}' => return Some(String::new()),
        '0'..='7' => {
            let digits: String = std::iter::once(first).chain(rest.chars()).collect();
            char::from_u32(u32::from_str_radix(&digits, 8).ok()?)?
        }
        'x' => char::from_u32(u32::from_str_radix(&rest, 16).ok()?)?,
        'u' => {
            let hex = rest.trim_start_matches('{').trim_end_matches('}');
            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
        }
        other if rest.is_empty() => other,
        _ => return None,
    };
    Some(c.to_string())
}
