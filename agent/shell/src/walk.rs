//! The AST walk: every construct of the script, in source order.

use crate::*;

/// Inherited context while walking.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) depth: usize,
    /// Recursion guard for the walker itself.
    pub(crate) nesting: usize,
    /// Source text of the (sub)script being walked; used to recover raw text from spans.
    pub(crate) src: Rc<str>,
    pub(crate) in_function: Option<String>,
    pub(crate) background: bool,
    /// Enclosing pipelines (id, pos), innermost last.
    pub(crate) pipelines: Vec<(usize, usize)>,
    /// Redirects of enclosing compound commands / function bodies.
    /// (Shared: cloned for every nested construct.)
    pub(crate) inherited_redirects: Rc<Vec<Redirect>>,
    /// stdin text provided by an enclosing compound command's heredoc / here-string.
    pub(crate) inherited_stdin: Option<Rc<str>>,
}

impl Ctx {
    pub(crate) fn nested(&self) -> Result<Self> {
        let nesting = self.nesting + 1;
        if nesting > MAX_WALK_NESTING {
            return Err(ShellParseError::new("script nested too deeply"));
        }
        Ok(Self {
            nesting,
            ..self.clone()
        })
    }

    /// Context for a subshell-like construct (`( .. )`, `$( .. )`, `<( .. )`).
    pub(crate) fn deeper(&self) -> Result<Self> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(ShellParseError::new(format!(
                "substitutions / subshells nested deeper than {MAX_DEPTH}"
            )));
        }
        let mut c = self.nested()?;
        c.depth = depth;
        Ok(c)
    }

    /// Adds a compound command's redirects to what nested commands inherit.
    pub(crate) fn with_redirects(&self, redirects: Vec<Redirect>) -> Self {
        let mut c = self.clone();
        if redirects.is_empty() {
            return c;
        }
        c.inherited_stdin = stdin_after(&redirects, c.inherited_stdin.take());
        let mut all = Vec::clone(&c.inherited_redirects);
        all.extend(redirects.into_iter().map(|mut r| {
            r.inherited = true;
            r
        }));
        c.inherited_redirects = Rc::new(all);
        c
    }
}

/// The stdin text after applying `redirects` (in order) to a command whose stdin text
/// would otherwise be `inherited`. Any other input redirect of fd 0 replaces it.
pub(crate) fn stdin_after(redirects: &[Redirect], inherited: Option<Rc<str>>) -> Option<Rc<str>> {
    let mut stdin = inherited;
    for r in redirects {
        if !matches!(r.fd, None | Some(0)) {
            continue;
        }
        match r.kind {
            RedirectKind::HereDoc => stdin = r.heredoc_body.as_deref().map(Rc::from),
            RedirectKind::HereString => stdin = Some(Rc::from(r.target.value_or_raw())),
            RedirectKind::Read | RedirectKind::ReadWrite | RedirectKind::DupIn => stdin = None,
            RedirectKind::Write | RedirectKind::Append | RedirectKind::DupOut => {}
        }
    }
    stdin
}

pub(crate) struct Walker {
    pub(crate) opts: ParserOptions,
    pub(crate) out: ParsedScript,
    pub(crate) next_pipeline_id: usize,
    /// Heredoc / stdin text copied into the output so far.
    pub(crate) copied_text_bytes: usize,
}

/// Formats a brush error without leaking its (possibly huge) input.
pub(crate) fn brush_err(what: &str, e: &dyn std::fmt::Display) -> ShellParseError {
    let mut msg = format!("{what}: {e}");
    if msg.len() > 300 {
        let mut cut = 300;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    ShellParseError::new(msg)
}

impl Walker {
    /// Tokenizes, checks and parses `text`, then walks it.
    pub(crate) fn parse_source(&mut self, text: &str, ctx: &Ctx) -> Result<()> {
        check_bracket_nesting(text)?;
        check_heredoc_delimiters(text)?;
        let tokens = brush_parser::uncached_tokenize_str(text, &self.opts.tokenizer_options())
            .map_err(|e| brush_err("tokenizer", &e))?;
        check_token_nesting(&tokens)?;
        check_fd_numbers(&tokens)?;
        let program =
            brush_parser::parse_tokens(&tokens, &self.opts).map_err(|e| brush_err("parser", &e))?;
        for list in &program.complete_commands {
            self.walk_list(list, ctx)?;
        }
        Ok(())
    }

    pub(crate) fn walk_list(&mut self, list: &ast::CompoundList, ctx: &Ctx) -> Result<()> {
        for ast::CompoundListItem(and_or, sep) in &list.0 {
            let mut c = ctx.nested()?;
            if matches!(sep, ast::SeparatorOperator::Async) {
                c.background = true;
            }
            self.walk_pipeline(&and_or.first, &c)?;
            for next in &and_or.additional {
                let (ast::AndOr::And(p) | ast::AndOr::Or(p)) = next;
                self.walk_pipeline(p, &c)?;
            }
        }
        Ok(())
    }

    pub(crate) fn walk_pipeline(&mut self, pipeline: &ast::Pipeline, ctx: &Ctx) -> Result<()> {
        let id = self.next_pipeline_id;
        self.next_pipeline_id += 1;
        for (pos, cmd) in pipeline.seq.iter().enumerate() {
            let mut c = ctx.nested()?;
            c.pipelines.push((id, pos));
            if pos > 0 {
                // stdin is the pipe, not an enclosing heredoc.
                c.inherited_stdin = None;
            }
            self.walk_command(cmd, &c)?;
        }
        Ok(())
    }

    pub(crate) fn walk_command(&mut self, cmd: &ast::Command, ctx: &Ctx) -> Result<()> {
        match cmd {
            ast::Command::Simple(sc) => self.simple_command(sc, ctx),
            ast::Command::Compound(cc, redirects) => {
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let c = ctx.with_redirects(reds);
                self.walk_compound(cc, &c)
            }
            ast::Command::Function(def) => {
                let name = def.fname.value.clone();
                self.out.functions.push(name.clone());
                let ast::FunctionBody(body, redirects) = &def.body;
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let mut c = ctx.with_redirects(reds);
                c.in_function = Some(name);
                self.walk_compound(body, &c)
            }
            ast::Command::ExtendedTest(test, redirects) => {
                let idx = self.begin_command(ctx);
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let mut words = vec![ShellWord::plain("[[")];
                self.extended_test(&test.expr, ctx, &mut words)?;
                words.push(ShellWord::plain("]]"));
                self.finish_command(idx, ctx, Vec::new(), words, reds)
            }
        }
    }

    pub(crate) fn walk_compound(&mut self, cc: &ast::CompoundCommand, ctx: &Ctx) -> Result<()> {
        let ctx = &ctx.nested()?;
        match cc {
            ast::CompoundCommand::Arithmetic(arith) => {
                // brush parses any two `(` tokens as an arithmetic command, so
                // `( (rm -rf /) )` would come out as `(( rm -rf / ))`. bash only reads
                // `((`..`))` written with adjacent parentheses as arithmetic; anything
                // else is nested subshells, so re-parse it as such.
                let text = slice_chars(&ctx.src, arith.loc.start.index, arith.loc.end.index);
                if let Some(t) = text.filter(|t| !(t.starts_with("((") && t.ends_with("))"))) {
                    let inner = t
                        .strip_prefix('(')
                        .and_then(|t| t.strip_suffix(')'))
                        .unwrap_or(t);
                    let mut c = ctx.deeper()?;
                    c.src = Rc::from(inner);
                    return self.parse_source(inner, &c);
                }
                let idx = self.begin_command(ctx);
                let expr = self.arith_word(&arith.expr.value, ctx)?;
                let words = vec![ShellWord::plain("(("), expr, ShellWord::plain("))")];
                self.finish_command(idx, ctx, Vec::new(), words, Vec::new())
            }
            ast::CompoundCommand::ArithmeticForClause(f) => {
                // Each expression of `for ((…; …; …))` is arithmetic, as `(( … ))` is: the
                // names it reads are checked like those of an arithmetic command.
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    let idx = self.begin_command(ctx);
                    let expr = self.arith_word(&e.value, ctx)?;
                    let words = vec![ShellWord::plain("(("), expr, ShellWord::plain("))")];
                    self.finish_command(idx, ctx, Vec::new(), words, Vec::new())?;
                }
                self.walk_list(&f.body.list, ctx)
            }
            ast::CompoundCommand::BraceGroup(b) => self.walk_list(&b.list, ctx),
            ast::CompoundCommand::Subshell(s) => self.walk_list(&s.list, &ctx.deeper()?),
            ast::CompoundCommand::ForClause(f) => {
                // The word list is expanded (and its substitutions run) before the loop.
                for w in f.values.iter().flatten() {
                    self.word(&w.value, ctx)?;
                }
                self.walk_list(&f.body.list, ctx)
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, ctx)?;
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, ctx)?;
                    }
                    if let Some(body) = &item.cmd {
                        self.walk_list(body, ctx)?;
                    }
                }
                Ok(())
            }
            ast::CompoundCommand::IfClause(i) => {
                self.walk_list(&i.condition, ctx)?;
                self.walk_list(&i.then, ctx)?;
                for e in i.elses.iter().flatten() {
                    if let Some(cond) = &e.condition {
                        self.walk_list(cond, ctx)?;
                    }
                    self.walk_list(&e.body, ctx)?;
                }
                Ok(())
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.walk_list(&w.0, ctx)?;
                self.walk_list(&w.1.list, ctx)
            }
            ast::CompoundCommand::Coprocess(co) => {
                let mut c = ctx.clone();
                c.background = true;
                self.walk_command(&co.body, &c)
            }
        }
    }

    /// Reserves the slot of a command so it precedes the commands nested in its words.
    pub(crate) fn begin_command(&mut self, ctx: &Ctx) -> usize {
        let (pipeline_id, pipeline_pos, enclosing) = match ctx.pipelines.split_last() {
            Some((&(id, pos), rest)) => (id, pos, rest.to_vec()),
            None => {
                // Not reachable (every command is inside a pipeline); keep ids unique anyway.
                let id = self.next_pipeline_id;
                self.next_pipeline_id += 1;
                (id, 0, Vec::new())
            }
        };
        self.out.commands.push(SimpleCommand {
            depth: ctx.depth,
            assignments: Vec::new(),
            words: Vec::new(),
            redirects: Vec::new(),
            stdin_text: None,
            pipeline_id,
            pipeline_pos,
            enclosing_pipelines: enclosing,
            in_function: ctx.in_function.clone(),
            background: ctx.background,
        });
        self.out.commands.len() - 1
    }

    pub(crate) fn finish_command(
        &mut self,
        idx: usize,
        ctx: &Ctx,
        assignments: Vec<(String, ShellWord)>,
        words: Vec<ShellWord>,
        mut redirects: Vec<Redirect>,
    ) -> Result<()> {
        let stdin_text =
            stdin_after(&redirects, ctx.inherited_stdin.clone()).map(|s| s.to_string());
        let copied = stdin_text.as_ref().map_or(0, String::len)
            + ctx
                .inherited_redirects
                .iter()
                .filter_map(|r| r.heredoc_body.as_ref().map(String::len))
                .sum::<usize>();
        self.copied_text_bytes = self.copied_text_bytes.saturating_add(copied);
        if self.copied_text_bytes > MAX_COPIED_TEXT_BYTES {
            return Err(ShellParseError::new(
                "too much heredoc text repeated across commands",
            ));
        }
        redirects.extend(ctx.inherited_redirects.iter().cloned());
        if let Some(cmd) = self.out.commands.get_mut(idx) {
            cmd.assignments = assignments;
            cmd.words = words;
            cmd.redirects = redirects;
            cmd.stdin_text = stdin_text;
        }
        Ok(())
    }

    pub(crate) fn simple_command(&mut self, sc: &ast::SimpleCommand, ctx: &Ctx) -> Result<()> {
        let idx = self.begin_command(ctx);
        let mut assignments = Vec::new();
        let mut words = Vec::new();
        let mut redirects = Vec::new();

        let prefix = sc.prefix.iter().flat_map(|p| p.0.iter());
        for item in prefix {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, whole) => {
                    assignments.push(self.assignment(a, &whole.value, ctx)?);
                }
                // Only assignments and redirects can occur in a prefix; handle the rest
                // like suffix items anyway rather than dropping anything.
                other => self.suffix_item(other, ctx, &mut words, &mut redirects)?,
            }
        }
        if let Some(name) = &sc.word_or_name {
            words.push(self.word(&name.value, ctx)?);
        }
        for item in sc.suffix.iter().flat_map(|s| s.0.iter()) {
            self.suffix_item(item, ctx, &mut words, &mut redirects)?;
        }
        self.finish_command(idx, ctx, assignments, words, redirects)
    }

    pub(crate) fn suffix_item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        ctx: &Ctx,
        words: &mut Vec<ShellWord>,
        redirects: &mut Vec<Redirect>,
    ) -> Result<()> {
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(self.redirect(r, ctx)?),
            ast::CommandPrefixOrSuffixItem::Word(w) => words.push(self.word(&w.value, ctx)?),
            // After the command name, `a=b` is just an argument (e.g. `env a=b`, `export`).
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, whole) => {
                words.push(self.word(&whole.value, ctx)?);
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                words.push(self.process_subst(kind, sub, ctx)?);
            }
        }
        Ok(())
    }

    pub(crate) fn assignment(
        &mut self,
        a: &ast::Assignment,
        whole: &str,
        ctx: &Ctx,
    ) -> Result<(String, ShellWord)> {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, index) => {
                self.arith_word(index, ctx)?;
                format!("{n}[{index}]")
            }
        };
        let value = match &a.value {
            ast::AssignmentValue::Scalar(w) => self.word(&w.value, ctx)?,
            ast::AssignmentValue::Array(elements) => {
                let mut pieces = Vec::new();
                for (i, (key, val)) in elements.iter().enumerate() {
                    if i > 0 {
                        push_literal(&mut pieces, " ");
                    }
                    if let Some(k) = key {
                        self.arith_word(&k.value, ctx)?;
                    }
                    let w = self.word(&val.value, ctx)?;
                    for p in w.pieces {
                        push_piece(&mut pieces, p);
                    }
                }
                let raw = whole
                    .split_once('=')
                    .map_or_else(|| whole.to_owned(), |(_, v)| v.to_owned());
                ShellWord { raw, pieces }
            }
        };
        Ok((name, value))
    }

    pub(crate) fn redirect_list(
        &mut self,
        list: Option<&ast::RedirectList>,
        ctx: &Ctx,
    ) -> Result<Vec<Redirect>> {
        let mut out = Vec::new();
        for r in list.iter().flat_map(|l| l.0.iter()) {
            out.push(self.redirect(r, ctx)?);
        }
        Ok(out)
    }

    pub(crate) fn redirect(&mut self, r: &ast::IoRedirect, ctx: &Ctx) -> Result<Redirect> {
        let mut heredoc_body = None;
        let (fd, kind, op, target) = match r {
            ast::IoRedirect::File(fd, kind, target) => {
                let (k, op) = match kind {
                    ast::IoFileRedirectKind::Read => (RedirectKind::Read, "<"),
                    ast::IoFileRedirectKind::Write => (RedirectKind::Write, ">"),
                    ast::IoFileRedirectKind::Append => (RedirectKind::Append, ">>"),
                    ast::IoFileRedirectKind::ReadAndWrite => (RedirectKind::ReadWrite, "<>"),
                    ast::IoFileRedirectKind::Clobber => (RedirectKind::Write, ">|"),
                    ast::IoFileRedirectKind::DuplicateInput => (RedirectKind::DupIn, "<&"),
                    ast::IoFileRedirectKind::DuplicateOutput => (RedirectKind::DupOut, ">&"),
                };
                let t = match target {
                    ast::IoFileRedirectTarget::Filename(w)
                    | ast::IoFileRedirectTarget::Duplicate(w) => self.word(&w.value, ctx)?,
                    ast::IoFileRedirectTarget::Fd(n) => ShellWord::plain(&n.to_string()),
                    ast::IoFileRedirectTarget::ProcessSubstitution(pk, sub) => {
                        self.process_subst(pk, sub, ctx)?
                    }
                };
                (*fd, k, op, t)
            }
            ast::IoRedirect::HereDocument(fd, doc) => {
                if doc.requires_expansion {
                    // Unquoted delimiter: `$(..)` and backticks in the body run.
                    let body = &doc.doc.value;
                    if body.contains(['$', '`']) {
                        check_word_nesting(body, true)?;
                        let pieces = bword::parse_heredoc(body, &self.opts)
                            .map_err(|e| brush_err("heredoc", &e))?;
                        let mut scratch = Vec::new();
                        self.convert_pieces(&pieces, body, true, ctx, &mut scratch)?;
                    }
                }
                heredoc_body = Some(doc.doc.value.clone());
                let op = if doc.remove_tabs { "<<-" } else { "<<" };
                let t = self.word(&doc.here_end.value, ctx)?;
                (*fd, RedirectKind::HereDoc, op, t)
            }
            ast::IoRedirect::HereString(fd, w) => (
                *fd,
                RedirectKind::HereString,
                "<<<",
                self.word(&w.value, ctx)?,
            ),
            ast::IoRedirect::OutputAndError(w, append) => {
                let t = self.word(&w.value, ctx)?;
                if *append {
                    (None, RedirectKind::Append, "&>>", t)
                } else {
                    (None, RedirectKind::Write, "&>", t)
                }
            }
        };
        Ok(Redirect {
            fd,
            kind,
            target,
            op: op.to_owned(),
            heredoc_body,
            inherited: false,
        })
    }

    /// Walks a process substitution (depth + 1) and returns its marker word.
    pub(crate) fn process_subst(
        &mut self,
        kind: &ast::ProcessSubstitutionKind,
        sub: &ast::SubshellCommand,
        ctx: &Ctx,
    ) -> Result<ShellWord> {
        self.walk_list(&sub.list, &ctx.deeper()?)?;
        let body = slice_chars(&ctx.src, sub.loc.start.index, sub.loc.end.index)
            .map_or_else(|| sub.to_string(), str::to_owned);
        Ok(ShellWord {
            raw: format!("{kind}{body}"),
            pieces: vec![WordPiece::CommandSubst],
        })
    }

    /// Flattens a `[[ .. ]]` expression into words, extracting substitutions.
    pub(crate) fn extended_test(
        &mut self,
        expr: &ast::ExtendedTestExpr,
        ctx: &Ctx,
        words: &mut Vec<ShellWord>,
    ) -> Result<()> {
        let ctx = &ctx.nested()?;
        match expr {
            ast::ExtendedTestExpr::And(l, r) | ast::ExtendedTestExpr::Or(l, r) => {
                self.extended_test(l, ctx, words)?;
                let op = if matches!(expr, ast::ExtendedTestExpr::And(..)) {
                    "&&"
                } else {
                    "||"
                };
                words.push(ShellWord::plain(op));
                self.extended_test(r, ctx, words)?;
            }
            ast::ExtendedTestExpr::Not(e) => {
                words.push(ShellWord::plain("!"));
                self.extended_test(e, ctx, words)?;
            }
            ast::ExtendedTestExpr::Parenthesized(e) => {
                words.push(ShellWord::plain("("));
                self.extended_test(e, ctx, words)?;
                words.push(ShellWord::plain(")"));
            }
            ast::ExtendedTestExpr::UnaryTest(pred, w) => {
                words.push(ShellWord::plain(&pred.to_string()));
                words.push(self.word(&w.value, ctx)?);
            }
            ast::ExtendedTestExpr::BinaryTest(pred, l, r) => {
                words.push(self.word(&l.value, ctx)?);
                words.push(ShellWord::plain(&pred.to_string()));
                words.push(self.word(&r.value, ctx)?);
            }
        }
        Ok(())
    }
}
