//! Tests of the policy's parts on their own: mode names, rule syntax, shell splitting and
//! path resolution. The decision itself is table-tested in `decide/tests.rs`.

use std::path::Path;

use super::mode::Mode;
use super::rules::{Rule, RuleKind, Rules, Source};
use super::split::{SimpleCommand, simple_commands};
use super::workspace::Workspace;

#[test]
fn mode_names_parse_in_every_spelling() {
    let cases = [
        ("default", Some(Mode::Default)),
        ("acceptEdits", Some(Mode::AcceptEdits)),
        ("accept-edits", Some(Mode::AcceptEdits)),
        ("ACCEPT_EDITS", Some(Mode::AcceptEdits)),
        ("plan", Some(Mode::Plan)),
        ("bypassPermissions", Some(Mode::BypassPermissions)),
        ("bypass", Some(Mode::BypassPermissions)),
        ("yolo", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(Mode::parse(text), want, "{text}");
    }
    for mode in [
        Mode::Default,
        Mode::AcceptEdits,
        Mode::Plan,
        Mode::BypassPermissions,
    ] {
        assert_eq!(Mode::parse(mode.name()), Some(mode));
    }
    assert_eq!(Mode::AcceptEdits.name(), "acceptEdits");
}

#[test]
fn shift_tab_cycles_without_reaching_bypass() {
    assert_eq!(Mode::Default.next(), Mode::AcceptEdits);
    assert_eq!(Mode::AcceptEdits.next(), Mode::Plan);
    assert_eq!(Mode::Plan.next(), Mode::Default);
    assert_eq!(Mode::BypassPermissions.next(), Mode::Default);
}

#[test]
fn rules_parse_with_aliases_and_round_trip() {
    let cases = [
        (
            "Bash(npm run test:*)",
            "bash",
            Some("npm run test:*"),
            "bash(npm run test:*)",
        ),
        ("bash", "bash", None, "bash"),
        (
            "Read(~/.ssh/**)",
            "Read",
            Some("~/.ssh/**"),
            "Read(~/.ssh/**)",
        ),
        ("Edit(src/**)", "Edit", Some("src/**"), "Edit(src/**)"),
        ("Write", "write_file", None, "write_file"),
        ("Glob", "glob", None, "glob"),
        ("Grep", "grep", None, "grep"),
        ("Task", "agent", None, "agent"),
        ("Agent", "agent", None, "agent"),
        (
            "edit_file( src/** )",
            "edit_file",
            Some("src/**"),
            "edit_file(src/**)",
        ),
        (
            "bash(echo $(date))",
            "bash",
            Some("echo $(date)"),
            "bash(echo $(date))",
        ),
        ("mcp__srv__*", "mcp__srv__*", None, "mcp__srv__*"),
    ];
    for (text, tool, spec, shown) in cases {
        let rule = Rule::parse(text).unwrap();
        assert_eq!(rule.tool, tool, "{text}");
        assert_eq!(rule.specifier.as_deref(), spec, "{text}");
        assert_eq!(rule.to_string(), shown, "{text}");
        assert_eq!(Rule::parse(&rule.to_string()).unwrap(), rule, "{text}");
    }
}

#[test]
fn bad_rules_say_what_is_wrong() {
    let cases = [
        ("bash(", "without a closing `)`"),
        ("(x)", "no tool name"),
        ("", "no tool name"),
        ("bash()", "empty specifier"),
        ("bash(a))", "unbalanced `)`"),
        ("bash((a)", "unbalanced `(`"),
        ("ba sh", "`  ` is not allowed"),
        ("bash)", "unbalanced `)`"),
        ("bash(x)y", "without a closing `)`"),
    ];
    for (text, want) in cases {
        let err = Rule::parse(text).unwrap_err();
        let want = want.replace("`  `", "` `");
        assert!(err.contains(&want), "{text}: {err}");
    }
}

#[test]
fn group_rules_cover_their_tools() {
    let read = Rule::parse("Read").unwrap();
    let edit = Rule::parse("Edit").unwrap();
    assert!(
        ["read_file", "glob", "grep"]
            .iter()
            .all(|t| read.covers_tool(t))
    );
    assert!(!read.covers_tool("write_file"));
    assert!(
        ["edit_file", "write_file"]
            .iter()
            .all(|t| edit.covers_tool(t))
    );
    assert!(!edit.covers_tool("bash"));
    assert!(Rule::parse("write_file").unwrap().covers_edits());
    assert!(!Rule::parse("mcp__a__*").unwrap().covers_tool("mcp__ab__x"));
}

#[test]
fn rules_keep_one_copy_and_remove_by_index() {
    let mut rules = Rules::default();
    let rule = Rule::parse("bash(ls:*)").unwrap();
    rules.add(RuleKind::Allow, rule.clone(), Source::CommandLine);
    rules.add(RuleKind::Allow, rule.clone(), Source::Session);
    rules.add(RuleKind::Deny, rule.clone(), Source::Session);
    assert_eq!(rules.entries().len(), 2);
    assert_eq!(rules.entries()[0].source, Source::CommandLine);
    assert_eq!(rules.remove(5), None);
    assert_eq!(rules.remove(0).map(|e| e.kind), Some(RuleKind::Allow));
    assert_eq!(rules.entries().len(), 1);
    assert_eq!(Source::CommandLine.to_string(), "--allow/--deny");
    let path = Source::UserConfig("/home/u/.config/corecoder/config.toml".into());
    assert_eq!(path.to_string(), "/home/u/.config/corecoder/config.toml");
}

fn words(command: &str) -> Vec<String> {
    simple_commands(command)
        .unwrap()
        .iter()
        .map(|c| c.words.join(" "))
        .collect()
}

#[test]
fn scripts_split_into_simple_commands() {
    let cases: &[(&str, &[&str])] = &[
        (
            "a && b || c; d | e & f\ng",
            &["a", "b", "c", "d", "e", "f", "g"],
        ),
        ("(cd x && make) && { ls; }", &["cd x", "make", "ls"]),
        ("f() { rm x; }; f", &["rm x", "f"]),
        (
            "echo $(date) `whoami`",
            &["date", "whoami", "echo $(…) $(…)"],
        ),
        ("diff <(ls a) >(wc)", &["ls a", "wc", "diff <(…) >(…)"]),
        ("A=1 B=$(id) make -j4", &["id", "A=1 B=$(…) make -j4"]),
        ("A=1", &[]),
        ("env -i FOO=1 BAR=2 cargo test", &["FOO=1 BAR=2 cargo test"]),
        ("env -i CI=1 RUST_LOG=debug cargo test", &["cargo test"]),
        ("timeout -s KILL 5 nice -n 3 nohup rm -rf b", &["rm -rf b"]),
        (
            "sudo -u root stdbuf -oL time exec command rg x",
            &["sudo -u root stdbuf -oL time exec command rg x", "rg x"],
        ),
        ("command -v rg", &["command -v rg"]),
        ("ls | xargs -n 1 -I {} rm {}", &["ls", "rm {}"]),
        ("bash -c 'a; sh -c \"b && c\"'", &["a", "b", "c"]),
        ("eval 'x' '&&' y", &["x", "y"]),
        (
            "find . -name '*.o' -exec rm {} \\; -print",
            &["rm {}", "find . -name *.o -exec rm {} ; -print"],
        ),
        (
            "python -c 'import os; os.remove(1)'",
            &["python -c import os; os.remove(1)"],
        ),
        ("cat <<EOF\nrm -rf x\nEOF\n", &["cat"]),
        ("echo $HOME ~/x", &["echo $HOME ~/x"]),
        ("if true; then rm x; fi", &["true", "rm x"]),
        // The downloaded text is itself run: an unknown command no prefix rule can cover.
        ("sh -c \"$(curl x)\"", &["curl x", "$(…)"]),
    ];
    for (command, want) in cases {
        assert_eq!(words(command), *want, "{command}");
    }
}

#[test]
fn output_redirects_are_writes() {
    let got = simple_commands("echo a > x 2>&1 >> y < in &> z; { ls; } > g; > bare").unwrap();
    let want = vec![
        SimpleCommand {
            words: vec!["echo".into(), "a".into()],
            writes: vec!["x".into(), "y".into(), "z".into()],
        },
        SimpleCommand {
            words: vec!["ls".into()],
            writes: vec!["g".into()],
        },
        SimpleCommand {
            words: vec![],
            writes: vec!["bare".into()],
        },
    ];
    assert_eq!(got, want);
    let sh = simple_commands("sh -c 'rm x' > log").unwrap();
    assert_eq!(sh[1].writes, vec!["log".to_string()]);
}

#[test]
fn too_deep_nesting_is_an_error() {
    let deep = "$(".repeat(200) + &")".repeat(200);
    assert!(simple_commands(&format!("echo {deep}")).is_err());
    // `eval eval … ls` re-parses once per `eval`, without quoting growing each level.
    let nested = "eval ".repeat(60) + "ls";
    assert!(simple_commands(&nested).is_err());
    assert_eq!(words(&("eval ".repeat(10) + "ls")), ["ls"]);
}

#[test]
fn workspace_resolves_through_symlinks_and_tilde() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let (root, home, out) = (base.join("p"), base.join("h"), base.join("out"));
    for d in [&root, &home, &out] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::os::unix::fs::symlink(&out, root.join("link")).unwrap();
    std::os::unix::fs::symlink(out.join("new"), root.join("dangling")).unwrap();
    let ws = Workspace::new(&root.join("."), Some(&home));
    assert_eq!(ws.root, root);
    let r = |p: &str| ws.resolve(&root, p);
    assert_eq!(r("a/../b/./c"), root.join("b/c"));
    assert_eq!(r("link/x/y"), out.join("x/y"));
    assert_eq!(r("dangling"), out.join("new"));
    assert_eq!(r("~/.ssh/config"), home.join(".ssh/config"));
    assert_eq!(r("~"), home);
    assert_eq!(r("/etc/../etc/hosts"), Path::new("/etc/hosts"));
    assert!(
        ws.extra
            .contains(&std::env::temp_dir().canonicalize().unwrap())
    );
    assert!(ws.is_protected(&home.join(".ssh/id_rsa")));
    assert!(ws.is_protected(&home.join(".bashrc")));
    assert!(!ws.is_protected(&home.join(".bashrc.bak")));
    assert!(ws.is_protected(&root.join(".git/hooks/pre-commit")));
    assert!(ws.is_protected(&root.join("sub/.git/config")));
    assert!(!ws.is_protected(&root.join(".git/info/exclude")));
    assert!(!ws.is_protected(&root.join(".github/workflows/ci.yml")));
    assert_eq!(ws.show(&home.join(".zshrc")), "~/.zshrc");
}
