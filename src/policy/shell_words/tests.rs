use super::*;

fn simple(src: &str) -> Vec<Vec<String>> {
    let script = parse(src, 0).unwrap();
    script
        .pipelines
        .iter()
        .flat_map(|p| &p.commands)
        .filter_map(|c| match c {
            Command::Simple { words, .. } => Some(
                words
                    .iter()
                    .map(|w| w.literal().unwrap_or_else(|| "<expansion>".into()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[test]
fn quotes_and_escapes_are_removed_from_words() {
    assert_eq!(
        simple(r#"r\m -rf "/a b" 'c'd"#),
        vec![vec!["rm", "-rf", "/a b", "cd"]]
    );
    assert_eq!(simple(r"$'\x72\x6d' \/"), vec![vec!["rm", "/"]]);
    assert_eq!(
        simple(r#"echo "a\"b" 'x\y'"#),
        vec![vec!["echo", "a\"b", "x\\y"]]
    );
}

#[test]
fn separators_split_commands_and_comments_are_dropped() {
    let cmds = simple("a; b && c || d | e & f\ng # h; i");
    assert_eq!(
        cmds.iter().map(|c| c[0].as_str()).collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e", "f", "g"]
    );
}

#[test]
fn variables_and_substitutions_are_kept_as_parts() {
    let script = parse("rm $X \"${HOME}\" $(echo /) `ls`", 0).unwrap();
    let Command::Simple { words, .. } = &script.pipelines[0].commands[0] else {
        panic!("not a simple command");
    };
    assert!(matches!(&words[1].parts[0], Part::Var { name, .. } if name == "X"));
    assert!(matches!(&words[2].parts[0], Part::Var { name, .. } if name == "HOME"));
    assert!(matches!(&words[3].parts[0], Part::Sub(SubKind::Command, _)));
    assert!(matches!(&words[4].parts[0], Part::Sub(SubKind::Command, _)));
}

#[test]
fn assignments_are_recognised_only_when_unquoted() {
    let script = parse("X=/ \"Y\"=1", 0).unwrap();
    let Command::Simple { words, .. } = &script.pipelines[0].commands[0] else {
        panic!("not a simple command");
    };
    assert_eq!(words[0].assign.as_deref(), Some("X"));
    assert_eq!(words[1].assign, None);
}

#[test]
fn subshells_groups_and_functions_are_structured() {
    let script = parse("(a; b) | { c; }; f() { f | f & }", 0).unwrap();
    assert!(matches!(
        script.pipelines[0].commands[0],
        Command::Group { .. }
    ));
    assert!(matches!(
        script.pipelines[0].commands[1],
        Command::Group { .. }
    ));
    assert!(
        matches!(&script.pipelines[1].commands[0], Command::Function { name, .. } if name == "f")
    );
}

#[test]
fn heredoc_bodies_are_attached_to_their_redirect_and_not_parsed_as_commands() {
    let script = parse("cat <<EOF > out\nrm -rf /\nEOF\necho after", 0).unwrap();
    let Command::Simple { redirects, .. } = &script.pipelines[0].commands[0] else {
        panic!("not a simple command");
    };
    assert_eq!(redirects[0].kind, RedirKind::HereDoc("rm -rf /\n".into()));
    assert_eq!(
        simple("cat <<EOF > out\nrm -rf /\nEOF\necho after")[1],
        ["echo", "after"]
    );
}

#[test]
fn unbalanced_quotes_run_to_the_end_instead_of_failing() {
    assert_eq!(simple("echo 'abc"), vec![vec!["echo", "abc"]]);
    assert_eq!(simple("echo \"abc"), vec![vec!["echo", "abc"]]);
}

#[test]
fn an_unclosed_single_quote_at_the_end_never_reads_past_the_input() {
    assert!(parse("<<'", 0).is_ok());
    assert!(parse("cat <<'EOF", 0).is_ok());
    assert_eq!(simple("echo 'a"), vec![vec!["echo", "a"]]);
}

#[test]
fn nesting_beyond_the_limit_is_an_error() {
    let deep = "$(".repeat(MAX_DEPTH + 5);
    assert_eq!(parse(&deep, 0), Err(TooDeep));
    assert!(parse("$($(ls))", 0).is_ok());
}

#[test]
fn a_function_defined_after_a_keyword_is_a_function() {
    for src in [
        "if true; then f() { :; }; fi",
        "while x; do function g { :; }; done",
    ] {
        let script = parse(src, 0).unwrap();
        let functions = script
            .pipelines
            .iter()
            .flat_map(|p| &p.commands)
            .filter(|c| matches!(c, Command::Function { .. }))
            .count();
        assert_eq!(functions, 1, "{src}");
    }
}
