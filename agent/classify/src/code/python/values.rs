//! Helpers over Python values and syntax: string escapes, concatenation, list values, names.

use super::*;

pub(crate) fn innermost_right(mut n: Node<'_>) -> Node<'_> {
    while n.kind() == "assignment" {
        match n.child_by_field_name("right") {
            Some(r) => n = r,
            None => break,
        }
    }
    n
}

pub(crate) fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

pub(crate) fn lists(vals: &Vals) -> Option<Vec<String>> {
    match vals.as_slice() {
        [Value::List(l)] => Some(l.clone()),
        _ => None,
    }
}

/// Every concatenation of a string of `a` and one of `b`, capped.
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

/// The value of a Python string literal's body: escapes decoded unless raw. `None` for escapes
/// Airlock does not decode (`\N{…}`).
pub(crate) fn decode(text: &str, raw: bool) -> Option<String> {
    if raw {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v)?);
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..len).filter_map(|_| chars.next()).collect();
                if hex.len() != len {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            'N' => return None,
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Some(out)
}
