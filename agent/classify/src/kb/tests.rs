use super::*;

#[test]
fn builtin_knowledge_base_loads() {
    let kb = KnowledgeBase::builtin().unwrap();
    assert!(matches!(kb.lookup("rm"), Some(Entry::Program(_))));
    assert!(matches!(kb.lookup("sudo"), Some(Entry::Wrapper(_))));
    assert!(matches!(kb.lookup("bash"), Some(Entry::Shell(_))));
    assert!(matches!(
        kb.lookup("python3.12"),
        Some(Entry::Interpreter(_))
    ));
    assert!(matches!(kb.lookup("mkfs.ext4"), Some(Entry::Program(_))));
    assert!(kb.lookup("definitely-not-a-program").is_none());
}

#[test]
fn short_flags_match_inside_clusters_only() {
    assert!(option_matches("-r", "-rf"));
    assert!(option_matches("-f", "-rf"));
    assert!(!option_matches("-r", "--recursive"));
    assert!(option_matches("--force", "--force=true"));
    assert!(!option_matches("--force", "--force-with-lease"));
    assert!(!option_matches("-r", "-"));
}

#[test]
fn long_options_match_by_unambiguous_prefix_and_globs_match_whole_arguments() {
    assert!(option_matches("--export-secret-keys", "--export-secret-k"));
    assert!(option_matches("--to-command", "--to-comm=sh"));
    assert!(option_matches("--to-command", "--t"));
    assert!(option_matches("--upload-pack", "--up=x"));
    assert!(!option_matches("--to-command", "--"));
    assert!(!option_matches("--export", "--exports"));
    assert!(option_matches("-fplugin=*", "-fplugin=./x.so"));
    assert!(option_matches("-i*", "-i.bak"));
    assert!(!option_matches("-i*", "--in-place"));
}

#[test]
fn unknown_fields_in_the_knowledge_base_are_errors() {
    let err = KnowledgeBase::parse("[[program]]\nnames=['x']\nclases=['read']\n").unwrap_err();
    assert!(err.to_string().contains("clases"), "{err}");
}

#[test]
fn every_entry_carries_an_example() {
    let kb = KnowledgeBase::builtin().unwrap();
    let bare: Vec<&String> = kb
        .wrappers
        .iter()
        .filter(|e| e.examples.is_empty())
        .map(|e| &e.names[0])
        .chain(
            kb.shells
                .iter()
                .filter(|e| e.examples.is_empty())
                .map(|e| &e.names[0]),
        )
        .chain(
            kb.interpreters
                .iter()
                .filter(|e| e.examples.is_empty())
                .map(|e| &e.names[0]),
        )
        .chain(
            kb.programs
                .iter()
                .filter(|e| e.examples.is_empty())
                .map(|e| &e.names[0]),
        )
        .collect();
    assert!(bare.is_empty(), "entries without an example: {bare:?}");
}

#[test]
fn an_example_that_does_not_hold_stops_the_load_and_names_the_entry() {
    let kb = KnowledgeBase::parse(
        "[[program]]\nnames = ['frobnicate']\nclasses = ['read']\n\n[[program.example]]\ncommand = 'frobnicate x'\nclasses = ['file.delete']\n",
    )
    .unwrap();
    let err = crate::Classifier::with_kb(kb, crate::Env::example()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`frobnicate`") && text.contains("`frobnicate x`") && text.contains("[read]"),
        "{text}"
    );
    // A tag the example asks for and the command lacks fails too.
    let kb = KnowledgeBase::parse(
        "[[program]]\nnames = ['frobnicate']\nclasses = ['read']\n\n[[program.example]]\ncommand = 'frobnicate x'\nclasses = ['read']\ntags = ['recursive']\n",
    )
    .unwrap();
    let err = crate::Classifier::with_kb(kb, crate::Env::example()).unwrap_err();
    assert!(
        err.to_string().contains("lacks the tags recursive"),
        "{err}"
    );
    // And one that holds loads.
    let kb = KnowledgeBase::parse(
        "[[program]]\nnames = ['frobnicate']\nclasses = ['read']\n\n[[program.example]]\ncommand = 'frobnicate x'\nclasses = ['read']\n",
    )
    .unwrap();
    crate::Classifier::with_kb(kb, crate::Env::example()).unwrap();
}

#[test]
fn file_values_name_files_in_curls_forms_only() {
    let kb = KnowledgeBase::builtin().unwrap();
    let forms = &kb.file_values;
    assert_eq!(forms.file_in("@.env"), Some(".env"));
    assert_eq!(
        forms.file_in("f=@notes.txt;type=text/plain"),
        Some("notes.txt")
    );
    assert_eq!(forms.file_in("f=<notes.txt"), Some("notes.txt"));
    assert_eq!(forms.file_in("k@secrets.txt"), Some("secrets.txt"));
    // Data, not files: an address, plain text, a name that is not plain.
    assert_eq!(forms.file_in("a=b"), None);
    assert_eq!(forms.file_in("user name@host"), None);
    assert_eq!(forms.file_in("@"), Some(""));
    // Quoted, the quotes are not part of the name, and `;` inside them does not end it.
    assert_eq!(
        forms.file_in(r#"f=@"/etc/pass;wd";type=x"#),
        Some("/etc/pass;wd")
    );
    assert_eq!(forms.file_in(r#"@"a b""#), Some("a b"));
    // The lead before a computed name.
    assert_eq!(forms.split_lead("@"), Some(("@", "")));
    assert_eq!(forms.split_lead("f=@"), Some(("f=@", "")));
    assert_eq!(forms.split_lead("f=<~/"), Some(("f=<", "~/")));
    assert_eq!(forms.split_lead("k@x"), Some(("k@", "x")));
    assert_eq!(forms.split_lead("a=b"), None);
}
