use super::*;

#[test]
fn shipped_policy_loads_and_its_examples_pass() {
    let dir = crate::home::default_policy_dir();
    let policy = Policy::load(&[dir]).unwrap();
    assert!(policy.rule_count() > 5);
}
