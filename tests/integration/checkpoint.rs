//! Undo checkpoints against real directories changed by real shell commands: a turn's `rm`,
//! `mv`, `sed -i`, new trees, binaries and `chmod` are undone byte for byte, modes included,
//! in a plain directory and in a git repository; ignored files are never touched; conflicts,
//! several turns, a new process, the budget and a `kill -9` mid-snapshot.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use corecoder::checkpoint::{ChangeKind, Limits, SessionHistory, Store, TurnStart};

mod budget;
mod kill;

/// One path's state: kind, mode bits, and bytes (content or link target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    kind: char,
    mode: u32,
    bytes: Vec<u8>,
}

/// Every path under `root` except `.git`, ignored files included.
pub fn fingerprint(root: &Path) -> BTreeMap<PathBuf, State> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            let mode = meta.permissions().mode() & 0o7777;
            let state = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("readlink");
                State {
                    kind: 'l',
                    mode: 0,
                    bytes: target.into_os_string().into_encoded_bytes(),
                }
            } else if meta.is_dir() {
                stack.push(path.clone());
                State {
                    kind: 'd',
                    mode,
                    bytes: Vec::new(),
                }
            } else {
                State {
                    kind: 'f',
                    mode,
                    bytes: std::fs::read(&path).expect("read"),
                }
            };
            out.insert(rel, state);
        }
    }
    out
}

pub fn sh(dir: &Path, script: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .status()
        .expect("sh");
    assert!(status.success(), "{script} failed");
}

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub ws: PathBuf,
    pub store_dir: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path().join("ws");
        std::fs::create_dir(&ws).expect("ws");
        let store_dir = tmp.path().join("store");
        Fixture {
            _tmp: tmp,
            ws,
            store_dir,
        }
    }

    pub fn store(&self, limits: Limits) -> Store {
        Store::open(&self.store_dir, limits).expect("store")
    }
}

/// A project with text, a script, a hidden file, a symlink, a nested tree, and ignored files.
fn populate(ws: &Path) {
    sh(
        ws,
        "mkdir -p src/deep keep ignored && \
         printf 'fn main() {}\\n' > src/main.rs && \
         printf 'old line\\nsecond\\n' > src/deep/lib.rs && \
         printf 'to be removed\\n' > remove-me.txt && \
         printf 'to be moved\\n' > move-me.txt && \
         printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 755 run.sh && \
         printf 'SECRET=1\\n' > .env && chmod 600 .env && \
         ln -s src/main.rs link-to-main && \
         printf 'ignored/\\n*.log\\n' > .gitignore && \
         printf 'build output\\n' > ignored/out.bin && \
         printf 'log\\n' > app.log",
    );
}

/// The turn: shell `rm`, `mv`, `sed -i`, a new tree, a binary, `chmod`, a relinked symlink,
/// then direct writes (as `write_file`/`edit_file` would), and changes to ignored files.
fn run_turn(ws: &Path) {
    sh(
        ws,
        "rm remove-me.txt && mv move-me.txt moved.txt && sed -i 's/old/new/' src/deep/lib.rs && \
         mkdir -p gen/a/b gen/empty && printf 'generated\\n' > gen/a/b/c.txt && \
         head -c 5000 /dev/urandom > gen/blob.bin && chmod 600 run.sh && chmod 700 src && \
         ln -sfn src/deep/lib.rs link-to-main && rm -r keep",
    );
    std::fs::write(
        ws.join("src/main.rs"),
        "fn main() { println!(\"edited\"); }\n",
    )
    .unwrap();
    std::fs::write(ws.join("NEW.md"), "# written by write_file\n").unwrap();
    std::fs::write(ws.join("ignored/out.bin"), "rebuilt\n").unwrap();
    std::fs::write(ws.join("app.log"), "log\nmore log\n").unwrap();
}

fn turn(hist: &mut SessionHistory, prompt: &str, change: impl FnOnce()) {
    hist.begin_turn(TurnStart {
        prompt,
        history_len: 0,
    })
    .expect("begin_turn");
    change();
    hist.after_round().expect("after_round");
}

fn without_ignored(mut fp: BTreeMap<PathBuf, State>) -> BTreeMap<PathBuf, State> {
    fp.retain(|p, _| {
        !p.starts_with("ignored")
            && p != Path::new("excluded.txt")
            && p.extension().is_none_or(|e| e != "log")
    });
    fp
}

fn undo_everything_a_turn_did(git: bool) {
    let fx = Fixture::new();
    if git {
        sh(
            &fx.ws,
            "git init -q . && printf 'excluded.txt\\n' >> .git/info/exclude",
        );
        std::fs::write(fx.ws.join("excluded.txt"), "excluded\n").unwrap();
    }
    populate(&fx.ws);
    std::fs::create_dir(fx.ws.join("keep/inner")).unwrap();
    std::fs::write(fx.ws.join("keep/inner/x"), "x").unwrap();
    let store = fx.store(Limits::default());
    let mut hist = store.session("s1", &fx.ws).expect("session");
    hist.snapshot().expect("first snapshot");
    let before = fingerprint(&fx.ws);
    turn(&mut hist, "change everything", || {
        run_turn(&fx.ws);
        if git {
            std::fs::write(fx.ws.join("excluded.txt"), "changed by the turn\n").unwrap();
        }
    });
    let after_turn = fingerprint(&fx.ws);
    let checkpoints = hist.checkpoints().expect("checkpoints");
    assert_eq!(checkpoints.len(), 1);
    assert!(checkpoints[0].touched.contains(&"gen/blob.bin".to_string()));
    assert!(!checkpoints[0].touched.iter().any(|p| p.contains("ignored")));

    let preview = hist.preview_undo(1).expect("preview");
    let text = preview.to_string();
    for expected in [
        "remove-me.txt",
        "moved.txt",
        "gen/blob.bin",
        "run.sh",
        "600 -> 755",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        !text.contains("app.log") && !text.contains("ignored/"),
        "{text}"
    );
    assert_eq!(preview.plan.conflicts().count(), 0, "{text}");
    let report = hist.undo(&preview, false).expect("undo");
    assert!(report.failed.is_empty(), "{report:?}");

    let now = fingerprint(&fx.ws);
    assert_eq!(
        without_ignored(now.clone()),
        without_ignored(before.clone())
    );
    // Ignored files keep what the turn wrote: undo never touches them.
    for ignored in ["ignored/out.bin", "app.log"] {
        assert_eq!(now[Path::new(ignored)], after_turn[Path::new(ignored)]);
        assert_ne!(now[Path::new(ignored)], before[Path::new(ignored)]);
    }
    if git {
        assert_eq!(
            now[Path::new("excluded.txt")].bytes,
            b"changed by the turn\n"
        );
        assert!(fx.ws.join(".git/HEAD").exists());
    }
    assert!(hist.checkpoints().expect("checkpoints").is_empty());
}

#[test]
fn a_turn_of_shell_commands_and_writes_is_undone_exactly_outside_git() {
    undo_everything_a_turn_did(false);
}

#[test]
fn a_turn_of_shell_commands_and_writes_is_undone_exactly_in_a_git_repository() {
    undo_everything_a_turn_did(true);
}

/// A project, one turn that edits `a` and `b`, then someone edits `b` after the turn ended.
fn conflicted() -> (Fixture, Store) {
    let fx = Fixture::new();
    std::fs::write(fx.ws.join("a"), "a0\n").unwrap();
    std::fs::write(fx.ws.join("b"), "b0\n").unwrap();
    let store = fx.store(Limits::default());
    let mut hist = store.session("s1", &fx.ws).expect("session");
    turn(&mut hist, "edit a and b", || {
        sh(&fx.ws, "echo a1 > a && echo b1 > b")
    });
    drop(hist);
    std::fs::write(fx.ws.join("b"), "b2 by the user\n").unwrap();
    (fx, store)
}

#[test]
fn a_file_changed_after_the_turn_is_a_conflict_skipped_unless_forced() {
    let (fx, store) = conflicted();
    let mut hist = store.session("s1", &fx.ws).expect("session");
    let preview = hist.preview_undo(1).expect("preview");
    let conflicts: Vec<_> = preview.plan.conflicts().map(|c| c.path.clone()).collect();
    assert_eq!(conflicts, [PathBuf::from("b")]);
    assert!(preview.to_string().contains("CONFLICT"), "{preview}");
    let report = hist.undo(&preview, false).expect("undo");
    assert_eq!(report.conflicts, [PathBuf::from("b")]);
    assert_eq!(std::fs::read_to_string(fx.ws.join("a")).unwrap(), "a0\n");
    assert_eq!(
        std::fs::read_to_string(fx.ws.join("b")).unwrap(),
        "b2 by the user\n"
    );

    let (fx, store) = conflicted();
    let mut hist = store.session("s1", &fx.ws).expect("session");
    let preview = hist.preview_undo(1).expect("preview");
    let report = hist.undo(&preview, true).expect("forced undo");
    assert!(
        report.conflicts.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!(std::fs::read_to_string(fx.ws.join("b")).unwrap(), "b0\n");
}

#[test]
fn a_change_between_preview_and_undo_is_refused() {
    let (fx, store) = conflicted();
    let mut hist = store.session("s1", &fx.ws).expect("session");
    let preview = hist.preview_undo(1).expect("preview");
    std::fs::write(fx.ws.join("c"), "new\n").unwrap();
    let err = hist.undo(&preview, false).expect_err("stale preview");
    assert!(err.to_string().contains("preview again"), "{err}");
    assert_eq!(std::fs::read_to_string(fx.ws.join("a")).unwrap(), "a1\n");
}

#[test]
fn two_turns_are_undone_together_and_a_new_process_sees_them() {
    let fx = Fixture::new();
    std::fs::write(fx.ws.join("x"), "x0\n").unwrap();
    let initial = fingerprint(&fx.ws);
    {
        let store = fx.store(Limits::default());
        let mut hist = store.session("s1", &fx.ws).expect("session");
        turn(&mut hist, "first", || sh(&fx.ws, "echo x1 > x"));
        turn(&mut hist, "second", || {
            sh(&fx.ws, "echo x2 > x && mkdir d && echo y > d/y")
        });
    }
    // As a new process would: a new store value, the session opened by id.
    let store = fx.store(Limits::default());
    let sessions = store.sessions_for(&fx.ws).expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (sessions[0].id.as_str(), sessions[0].checkpoints),
        ("s1", 2)
    );
    let mut hist = store.session("s1", &fx.ws).expect("session");
    let prompts: Vec<_> = hist
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|c| c.prompt)
        .collect();
    assert_eq!(prompts, ["first", "second"]);
    assert!(hist.preview_undo(3).is_err());
    let preview = hist.preview_undo(2).expect("preview");
    assert_eq!(preview.turns[0].prompt, "first");
    let kinds: Vec<_> = preview.plan.changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::Created,
            ChangeKind::Created,
            ChangeKind::Modified
        ]
    );
    let report = hist.undo(&preview, false).expect("undo");
    assert_eq!(report.removed, [PathBuf::from("d/y"), PathBuf::from("d")]);
    assert_eq!(fingerprint(&fx.ws), initial);
}

#[test]
fn a_directory_swapped_for_a_symlink_outside_is_undone_without_writing_outside() {
    let fx = Fixture::new();
    let outside = fx.ws.parent().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("f.txt"), "outside\n").unwrap();
    std::fs::create_dir(fx.ws.join("sub")).unwrap();
    std::fs::write(fx.ws.join("sub/f.txt"), "inside\n").unwrap();
    let initial = fingerprint(&fx.ws);
    let store = fx.store(Limits::default());
    let mut hist = store.session("s1", &fx.ws).expect("session");
    turn(&mut hist, "swap", || {
        sh(
            &fx.ws,
            &format!("rm -r sub && ln -s {} sub", outside.display()),
        );
    });
    let preview = hist.preview_undo(1).expect("preview");
    let report = hist.undo(&preview, true).expect("undo");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(fingerprint(&fx.ws), initial);
    assert_eq!(
        std::fs::read_to_string(outside.join("f.txt")).unwrap(),
        "outside\n"
    );
}
