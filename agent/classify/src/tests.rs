use super::*;
use std::path::Path;

fn classifier() -> Classifier {
    Classifier::new(Env::example()).unwrap()
}

fn classes_of(command: &str) -> BTreeSet<ActionClass> {
    classifier()
        .classify_command(command, Path::new(EXAMPLE_CWD))
        .classes()
}

#[test]
fn plain_reads_are_read() {
    assert_eq!(classes_of("ls -la"), BTreeSet::from([ActionClass::Read]));
}
