//! The held-out permission corpus (`tests/data/permissions/heldout.txt`): written from the
//! README's specification alone by someone who had not seen the policy's code, after the
//! attack table's fixes, and never used to tune the policy. Each line says whether a command
//! should run without asking (`allow`) or must not (`block`).
//!
//! The test measures both error kinds and fails unless the misses and false asks are exactly
//! the known ones listed below (so fixing one while opening another cannot pass); its report
//! lists every miss so a reader can judge them.

use crate::policy::decide::{Action, Decision, PolicyInput, decide};
use crate::policy::mode::Mode;
use crate::policy::rules::{Rule, RuleKind, Rules, Source};
use crate::policy::workspace::Workspace;

/// The first run (168 block cases, 85 allow cases) missed two block cases and asked for no
/// allow case. The misses: line 103, `tar -xf a.tar -C ~` under `bash(tar:*)` (tar's
/// extraction directory is not read as a write), left as it is so the set stays held out; and
/// line 116, `>> ~/.profile` under `Edit(~/**)`, fixed afterwards because a code review found
/// the same mechanism on its own (a glob over all of home counted as naming a protected file).
/// The known misses are listed exactly, so fixing one and opening another cannot pass.
const KNOWN_MISSES: &[usize] = &[103];
const KNOWN_FALSE_ASKS: &[usize] = &[];

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('p') => out.push('|'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A temporary directory outside /tmp: the workspace includes /tmp, so a project and home
/// must live elsewhere, or every write to home would count as inside (/var/tmp, or the
/// build's temp directory). `None` when neither can be used.
pub(super) fn outside_tmp() -> Option<tempfile::TempDir> {
    let build = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tmp");
    let _ = std::fs::create_dir_all(build);
    ["/var/tmp", build].iter().find_map(|c| {
        let d = tempfile::tempdir_in(c).ok()?;
        let real = d.path().canonicalize().ok()?;
        (!real.starts_with("/tmp")).then_some(d)
    })
}

#[test]
#[allow(clippy::print_stderr)]
fn the_held_out_corpus_is_measured() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/permissions/heldout.txt"
    );
    let text = std::fs::read_to_string(path).expect("the held-out corpus");
    let Some(dir) = outside_tmp() else {
        eprintln!("skipped: no writable directory outside /tmp for the held-out fixture");
        return;
    };
    let (root, home) = (dir.path().join("proj"), dir.path().join("home"));
    for d in ["src", ".git/hooks", ".git/info"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    for d in [".ssh", ".config"] {
        std::fs::create_dir_all(home.join(d)).expect("mkdir");
    }
    let ws = Workspace::new(&root, Some(&home));
    let (mut misses, mut false_asks, mut cases) = (Vec::new(), Vec::new(), [0usize; 2]);
    let (mut missed_lines, mut asked_lines) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(4, '|').map(str::trim).collect();
        let [mode, rules, command, expect] = fields[..] else {
            panic!("line {}: four fields expected: {line}", n + 1);
        };
        let mode = match mode {
            "bypass" => Mode::BypassPermissions,
            m => Mode::parse(m).unwrap_or_else(|| panic!("line {}: mode {m}", n + 1)),
        };
        let mut set = Rules::default();
        for r in rules
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty() && *r != "-")
        {
            let rule = Rule::parse(r).unwrap_or_else(|e| panic!("line {}: {r}: {e}", n + 1));
            set.add(RuleKind::Allow, rule, Source::CommandLine);
        }
        let action = Action::Exec {
            command: unescape(command),
            cwd: ws.root.clone(),
        };
        let input = PolicyInput {
            mode,
            rules: &set,
            workspace: &ws,
        };
        let got = decide("bash", &action, &input);
        let allowed = got == Decision::Allow;
        let shown = format!("line {}: {mode:?} [{rules}] {command} -> {got:?}", n + 1);
        match expect {
            "block" => {
                cases[0] += 1;
                if allowed {
                    misses.push(shown);
                    missed_lines.push(n + 1);
                }
            }
            "allow" => {
                cases[1] += 1;
                if !allowed {
                    false_asks.push(shown);
                    asked_lines.push(n + 1);
                }
            }
            other => panic!("line {}: expect must be allow or block, got {other}", n + 1),
        }
    }
    let report = format!(
        "held-out: {} block cases, {} allowed (missed); {} allow cases, {} not allowed\nmisses:\n{}\nfalse asks:\n{}",
        cases[0],
        misses.len(),
        cases[1],
        false_asks.len(),
        misses.join("\n"),
        false_asks.join("\n"),
    );
    assert!(
        missed_lines == KNOWN_MISSES && asked_lines == KNOWN_FALSE_ASKS,
        "{report}"
    );
    assert!(cases[0] > 0 && cases[1] > 0, "{report}");
    // The figures, for `cargo test held_out -- --nocapture`.
    eprintln!("{report}");
}
