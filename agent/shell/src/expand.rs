//! Words as written: their pieces, and the substitutions nested in them.

use crate::*;

impl Walker {
    /// Parses a word as written, extracting nested substitutions.
    pub(crate) fn word(&mut self, raw: &str, ctx: &Ctx) -> Result<ShellWord> {
        check_word_nesting(raw, false)?;
        check_tilde_number(raw)?;
        let parsed = bword::parse(raw, &self.opts).map_err(|e| brush_err("word", &e))?;
        let mut pieces = Vec::new();
        self.convert_pieces(&parsed, raw, false, ctx, &mut pieces)?;
        if pieces.is_empty() {
            pieces.push(WordPiece::Literal(String::new()));
        }
        expand_tilde_after_assignment(raw, &mut pieces);
        if has_brace_expansion(raw) {
            // `{a,b}` / `{1..3}` turn one word into several: not a static value. Mark the
            // unquoted pieces that carry the braces.
            for p in &mut pieces {
                if let WordPiece::Literal(t) | WordPiece::Glob(t) = p
                    && t.contains(['{', '}'])
                {
                    *p = WordPiece::Other(std::mem::take(t));
                }
            }
        }
        Ok(ShellWord {
            raw: raw.to_owned(),
            pieces,
        })
    }

    /// Parses arithmetic text as a word: only its substitutions matter, the result is an
    /// opaque `Other` word.
    pub(crate) fn arith_word(&mut self, text: &str, ctx: &Ctx) -> Result<ShellWord> {
        let mut pieces = vec![WordPiece::Other(text.to_owned())];
        if self.nested_text(text, ctx)? {
            pieces.push(WordPiece::CommandSubst);
        }
        Ok(ShellWord {
            raw: text.to_owned(),
            pieces,
        })
    }

    /// Extracts substitutions from text embedded in an expansion (parameter operands,
    /// arithmetic, array indices). Returns whether it contains a command substitution.
    pub(crate) fn nested_text(&mut self, text: &str, ctx: &Ctx) -> Result<bool> {
        if !text.contains(['$', '`']) {
            return Ok(false); // Nothing can run; don't risk a spurious word-parse error.
        }
        check_word_nesting(text, false)?;
        check_tilde_number(text)?;
        let parsed = bword::parse(text, &self.opts).map_err(|e| brush_err("word", &e))?;
        let mut scratch = Vec::new();
        self.convert_pieces(&parsed, text, false, ctx, &mut scratch)?;
        Ok(scratch.contains(&WordPiece::CommandSubst))
    }

    /// Runs the full parser on the text of a command substitution, at depth + 1.
    pub(crate) fn substitution(&mut self, text: &str, ctx: &Ctx) -> Result<()> {
        let mut c = ctx.deeper()?;
        c.src = Rc::from(text);
        // The outer command's redirects apply after expansion, not to the substitution.
        c.inherited_redirects = Rc::default();
        self.parse_source(text, &c)
    }

    pub(crate) fn convert_pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        raw: &str,
        quoted: bool,
        ctx: &Ctx,
        out: &mut Vec<WordPiece>,
    ) -> Result<()> {
        let ctx = &ctx.nested()?;
        for p in pieces {
            let src = raw.get(p.start_index..p.end_index).unwrap_or_default();
            match &p.piece {
                bword::WordPiece::Text(t) => {
                    if quoted {
                        push_literal(out, t);
                    } else {
                        split_globs(t, out);
                    }
                }
                bword::WordPiece::SingleQuotedText(t) => push_literal(out, t),
                bword::WordPiece::AnsiCQuotedText(t) => push_literal(out, &decode_ansi_c(t)),
                bword::WordPiece::DoubleQuotedSequence(inner)
                | bword::WordPiece::GettextDoubleQuotedSequence(inner) => {
                    if inner.is_empty() {
                        // Keeps `""` visible as an (empty) literal.
                        push_literal(out, "");
                    }
                    self.convert_pieces(inner, raw, true, ctx, out)?;
                }
                bword::WordPiece::TildeExpansion(t) => out.push(WordPiece::Tilde(tilde_text(t))),
                bword::WordPiece::ParameterExpansion(e) => self.parameter(e, ctx, out)?,
                bword::WordPiece::CommandSubstitution(cmd) => {
                    self.substitution(cmd, ctx)?;
                    out.push(WordPiece::CommandSubst);
                }
                bword::WordPiece::BackquotedCommandSubstitution(cmd) => {
                    // brush only unescapes "\`"; bash also unescapes `\$` and `\\` (and
                    // `\"` inside double quotes), so `\$(id)` inside backticks *does* run.
                    // Re-derive the body from the source text.
                    let body = src
                        .strip_prefix('`')
                        .and_then(|s| s.strip_suffix('`'))
                        .map_or_else(|| cmd.clone(), |s| unescape_backticks(s, quoted));
                    self.substitution(&body, ctx)?;
                    out.push(WordPiece::CommandSubst);
                }
                bword::WordPiece::EscapeSequence(e) => {
                    push_literal(out, e.strip_prefix('\\').unwrap_or(e));
                }
                bword::WordPiece::ArithmeticExpression(e) => {
                    // Wherever it appears (an argument, a `case` pattern, a `for` list, a
                    // here-string), `$(( … ))` is arithmetic: reported as an arithmetic
                    // command of its own, so the names it reads are checked like those of
                    // `(( … ))`.
                    let idx = self.begin_command(ctx);
                    let words = vec![
                        ShellWord::plain("(("),
                        ShellWord::plain(&e.value),
                        ShellWord::plain("))"),
                    ];
                    self.finish_command(idx, ctx, Vec::new(), words, Vec::new())?;
                    let runs = self.nested_text(&e.value, ctx)?;
                    let text = if src.is_empty() {
                        format!("$(({}))", e.value)
                    } else {
                        src.to_owned()
                    };
                    out.push(WordPiece::Other(text));
                    if runs {
                        out.push(WordPiece::CommandSubst);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn parameter(
        &mut self,
        e: &bword::ParameterExpr,
        ctx: &Ctx,
        out: &mut Vec<WordPiece>,
    ) -> Result<()> {
        use bword::ParameterExpr as P;
        let mut operands: Vec<&str> = Vec::new();
        // Only a plain `$X` / `${X}` keeps the variable's name, so that a value Airlock knows
        // for certain may stand in for it. Any operator (substring, `#`/`%` removal, `/`
        // replacement, case change, `@` transform, length, defaults, indirection, array
        // elements) computes a value Airlock does not: the piece is `Other`, never the
        // variable's whole value (`${PWD:0:0}rm` is not the program `…/projrm`).
        let plain = matches!(
            e,
            P::Parameter {
                indirect: false,
                parameter: bword::Parameter::Named(_)
                    | bword::Parameter::Positional(_)
                    | bword::Parameter::Special(_),
            }
        );
        let param = match e {
            P::Parameter { parameter, .. } | P::ParameterLength { parameter, .. } => parameter,
            P::UseDefaultValues {
                parameter,
                default_value: v,
                ..
            }
            | P::AssignDefaultValues {
                parameter,
                default_value: v,
                ..
            }
            | P::IndicateErrorIfNullOrUnset {
                parameter,
                error_message: v,
                ..
            }
            | P::UseAlternativeValue {
                parameter,
                alternative_value: v,
                ..
            }
            | P::RemoveSmallestSuffixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveLargestSuffixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveSmallestPrefixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveLargestPrefixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::UppercaseFirstChar {
                parameter,
                pattern: v,
                ..
            }
            | P::UppercasePattern {
                parameter,
                pattern: v,
                ..
            }
            | P::LowercaseFirstChar {
                parameter,
                pattern: v,
                ..
            }
            | P::LowercasePattern {
                parameter,
                pattern: v,
                ..
            } => {
                operands.extend(v.as_deref());
                parameter
            }
            P::Substring {
                parameter,
                offset,
                length,
                ..
            } => {
                operands.push(&offset.value);
                operands.extend(length.as_ref().map(|l| l.value.as_str()));
                parameter
            }
            P::Transform { parameter, .. } => parameter,
            P::ReplaceSubstring {
                parameter,
                pattern,
                replacement,
                ..
            } => {
                operands.push(pattern);
                operands.extend(replacement.as_deref());
                parameter
            }
            P::VariableNames { prefix, .. } => {
                out.push(WordPiece::Other(format!("${{!{prefix}…}}")));
                return Ok(());
            }
            P::MemberKeys { variable_name, .. } => {
                out.push(WordPiece::Other(format!("${{!{variable_name}[…]}}")));
                return Ok(());
            }
        };
        let name = match param {
            bword::Parameter::Positional(n) => n.to_string(),
            bword::Parameter::Special(s) => s.to_string(),
            bword::Parameter::Named(n) | bword::Parameter::NamedWithAllIndices { name: n, .. } => {
                n.clone()
            }
            bword::Parameter::NamedWithIndex { name, index } => {
                operands.push(index);
                name.clone()
            }
        };
        let array = matches!(
            e,
            P::Parameter {
                indirect: false,
                parameter: bword::Parameter::NamedWithIndex { .. }
                    | bword::Parameter::NamedWithAllIndices { .. },
            }
        );
        if plain {
            out.push(WordPiece::Param(name));
        } else if array {
            out.push(WordPiece::ArrayParam(name));
        } else {
            out.push(WordPiece::Other(format!("${{{name}…}}")));
        }
        let mut runs = false;
        for text in operands {
            runs |= self.nested_text(text, ctx)?;
        }
        if runs {
            out.push(WordPiece::CommandSubst);
        }
        Ok(())
    }
}
