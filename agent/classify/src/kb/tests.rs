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
