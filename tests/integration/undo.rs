//! Undo through the binary: a `-p` turn whose shell commands and file tools changed the
//! workspace is undone exactly by `corecoder undo` (in a git repository and outside one),
//! conflicts are skipped unless forced, the budget drops the oldest sessions' turns, and the
//! REPL's `/undo N`, `/checkpoints` and Esc Esc work across processes (`-c`).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::binary::{Run, command, run_to_end};
use crate::repl::Tmux;
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// Every path under `root` but `.git` and `skip`: its mode and its bytes (a link's target).
fn fingerprint(root: &Path, skip: &[&str]) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("rel").to_path_buf();
            let first = rel.components().next().expect("component");
            let first = first.as_os_str().to_string_lossy();
            if first == ".git" || skip.contains(&first.as_ref()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            let mode = meta.permissions().mode() & 0o7777;
            let bytes = if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .expect("readlink")
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_dir() {
                stack.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).expect("read")
            };
            out.insert(rel, (mode, bytes));
        }
    }
    out
}

async fn run(dir: &Path, home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = command(dir, env, args);
    cmd.env("HOME", home);
    run_to_end(cmd).await
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write");
}

fn git(dir: &Path, args: &[&str]) -> bool {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .status()
        .is_ok_and(|s| s.success())
}

/// The shell command of the turn: delete, rename, edit in place, a new tree with a binary
/// file, a mode change, and writes to ignored files (which undo must leave alone).
const SHELL: &str = "rm del.txt && mv from.txt moved.txt && sed -i 's/beta/gamma/' sed.txt \
     && mkdir -p gen/a/b && printf '\\000\\001\\377' > gen/a/b/blob.bin && chmod 644 run.sh \
     && ln -s sed.txt link";
/// Writes to what `.gitignore` names.
const IGNORED: &str = "echo changed > ignored/cache.bin; echo more >> build.log";

async fn a_turn_of_every_kind_is_undone_exactly(with_git: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ws, home) = (dir.path().join("ws"), dir.path().join("home"));
    std::fs::create_dir_all(&home).expect("home");
    for (name, text) in [
        ("keep.txt", "keep\n"),
        ("del.txt", "to be deleted\n"),
        ("from.txt", "renamed\n"),
        ("sed.txt", "alpha\nbeta\n"),
        ("edit.txt", "old text\n"),
        ("write.txt", "before\n"),
        ("run.sh", "#!/bin/sh\necho hi\n"),
        (".gitignore", "ignored/\n*.log\n"),
        ("ignored/cache.bin", "cache\n"),
        ("build.log", "log\n"),
    ] {
        write(&ws.join(name), text.as_bytes());
    }
    std::fs::set_permissions(ws.join("run.sh"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    if with_git && !(git(&ws, &["init", "-q"]) && git(&ws, &["add", "-A"])) {
        eprintln!("skipped: git is not usable here");
        return;
    }
    let before = fingerprint(&ws, &["ignored", "build.log"]);
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[
            ("c1", "bash", json!({"command": SHELL})),
            ("c0", "bash", json!({"command": IGNORED})),
        ])),
        Script::Sse(sse_tools(&[
            (
                "c2",
                "edit_file",
                json!({"file_path": "edit.txt", "old_string": "old", "new_string": "new"}),
            ),
            (
                "c3",
                "write_file",
                json!({"file_path": "write.txt", "content": "after\n"}),
            ),
            (
                "c4",
                "write_file",
                json!({"file_path": "gen/new.txt", "content": "created\n"}),
            ),
        ])),
        Script::Sse(sse_text("Done.")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let turn = run(&ws, &home, &env, &["-p", "change everything", "--yes"]).await;
    assert_eq!(turn.code, Some(0), "{}", turn.stderr);
    assert!(
        !ws.join("del.txt").exists() && ws.join("gen/a/b/blob.bin").exists(),
        "{}",
        turn.stderr
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("edit.txt")).unwrap(),
        "new text\n"
    );

    // Nobody to ask and no --yes: the preview, exit 1, nothing touched.
    let asked = run(&ws, &home, &[], &["undo"]).await;
    assert_eq!(asked.code, Some(1), "{}{}", asked.stdout, asked.stderr);
    for shown in [
        "bring back del.txt",
        "remove     gen/",
        "restore    sed.txt",
        "--yes",
    ] {
        assert!(
            asked.stdout.contains(shown) || asked.stderr.contains(shown),
            "{shown:?} not in:\n{}\n{}",
            asked.stdout,
            asked.stderr
        );
    }
    assert!(ws.join("moved.txt").exists());

    let undone = run(&ws, &home, &[], &["undo", "--yes"]).await;
    assert_eq!(undone.code, Some(0), "{}{}", undone.stdout, undone.stderr);
    assert!(
        undone.stdout.contains("change everything"),
        "{}",
        undone.stdout
    );
    assert_eq!(fingerprint(&ws, &["ignored", "build.log"]), before);
    // Ignored files are not the undo's business: what the turn wrote there stays.
    assert_eq!(
        std::fs::read_to_string(ws.join("ignored/cache.bin")).unwrap(),
        "changed\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("build.log")).unwrap(),
        "log\nmore\n"
    );
    // The saved conversation is cut before the turn, and nothing is left to undo.
    let sessions = home.join(".corecoder/sessions");
    let saved: Vec<Value> = std::fs::read_dir(&sessions)
        .expect("sessions")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0]["messages"].as_array().map(Vec::len), Some(0));
    let list = run(&ws, &home, &[], &["undo", "--list"]).await;
    assert!(list.stdout.contains("No turns to undo"), "{}", list.stdout);
}

#[tokio::test]
async fn a_p_run_is_undone_exactly_outside_a_git_repository() {
    a_turn_of_every_kind_is_undone_exactly(false).await;
}

#[tokio::test]
async fn a_p_run_is_undone_exactly_in_a_git_repository() {
    a_turn_of_every_kind_is_undone_exactly(true).await;
}

/// Two files changed by a turn; the user edits one afterwards: undo restores the other and
/// leaves the user's edit, unless forced.
#[tokio::test]
async fn a_file_changed_after_the_turn_is_a_conflict_kept_unless_forced() {
    for force in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        write(&dir.path().join("a.txt"), b"a1\n");
        write(&dir.path().join("b.txt"), b"b1\n");
        let server = MockServer::start(vec![
            Script::Sse(sse_tools(&[(
                "c1",
                "bash",
                json!({"command": "echo a2 > a.txt && echo b2 > b.txt"}),
            )])),
            Script::Sse(sse_text("ok")),
        ])
        .await;
        let env = [("OPENAI_BASE_URL", server.url.as_str())];
        let turn = run(dir.path(), dir.path(), &env, &["-p", "edit both", "--yes"]).await;
        assert_eq!(turn.code, Some(0), "{}", turn.stderr);
        write(&dir.path().join("a.txt"), b"the user's edit\n");
        let mut args = vec!["undo", "--yes"];
        if force {
            args.push("--force");
        }
        let undone = run(dir.path(), dir.path(), &[], &args).await;
        assert_eq!(undone.code, Some(0), "{}{}", undone.stdout, undone.stderr);
        assert!(undone.stdout.contains("CONFLICT"), "{}", undone.stdout);
        if !force {
            assert!(
                undone.stdout.contains("the turn is undone all the same"),
                "{}",
                undone.stdout
            );
        }
        let a = std::fs::read_to_string(dir.path().join("a.txt")).unwrap();
        assert_eq!(a, if force { "a1\n" } else { "the user's edit\n" });
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.txt")).unwrap(),
            "b1\n"
        );
    }
}

/// The store over its budget: a later session's gc drops the oldest session's turns.
#[tokio::test]
async fn the_budget_drops_the_oldest_turns_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ws, home) = (dir.path().join("ws"), dir.path().join("home"));
    std::fs::create_dir_all(&ws).expect("ws");
    write(
        &home.join(".config/corecoder/config.toml"),
        b"[checkpoints]\nbudget_mb = 1\n",
    );
    let mut ids = Vec::new();
    for n in 1..=3 {
        let command = format!("head -c 700000 /dev/urandom > f{n}.bin");
        let server = MockServer::start(vec![
            Script::Sse(sse_tools(&[("c1", "bash", json!({"command": command}))])),
            Script::Sse(sse_text("ok")),
        ])
        .await;
        let env = [("OPENAI_BASE_URL", server.url.as_str())];
        let args = ["-p", "write a file", "--yes", "--output-format", "json"];
        let turn = run(&ws, &home, &env, &args).await;
        assert_eq!(turn.code, Some(0), "{}", turn.stderr);
        let result: Value = serde_json::from_str(&turn.stdout).expect("json");
        ids.push(result["session_id"].as_str().expect("id").to_string());
        // The user clears the file away, so only the store keeps its bytes.
        std::fs::remove_file(ws.join(format!("f{n}.bin"))).expect("rm");
    }
    let gc = run(&ws, &home, &[], &["undo", "--gc"]).await;
    assert_eq!(gc.code, Some(0), "{}", gc.stderr);
    assert!(gc.stdout.contains("of 1.0 MiB"), "{}", gc.stdout);
    let oldest = run(&ws, &home, &[], &["undo", "--list", "--session", &ids[0]]).await;
    assert_ne!(oldest.code, Some(0), "{}", oldest.stdout);
    assert!(
        oldest.stderr.contains("no checkpoints for session"),
        "{}",
        oldest.stderr
    );
    let newest = run(&ws, &home, &[], &["undo", "--list", "--session", &ids[2]]).await;
    assert!(newest.stdout.contains("write a file"), "{}", newest.stdout);
}

/// Two `-p` turns of one session (`-c`), then the REPL resumes it in a new process: the
/// list, `/undo 2` with its preview and question, the first prompt back in the input line.
#[tokio::test]
async fn the_repl_undoes_two_turns_of_a_resumed_session_and_gives_the_prompt_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("keep.txt"), b"keep\n");
    let make = |name: &str| {
        vec![
            Script::Sse(sse_tools(&[(
                "c1",
                "write_file",
                json!({"file_path": name, "content": "x\n"}),
            )])),
            Script::Sse(sse_text("made")),
        ]
    };
    for (n, args) in [
        ("one.txt", vec!["-p", "make one", "--yes"]),
        ("two.txt", vec!["-c", "-p", "make two", "--yes"]),
    ] {
        let server = MockServer::start(make(n)).await;
        let env = [("OPENAI_BASE_URL", server.url.as_str())];
        let turn = run(dir.path(), dir.path(), &env, &args).await;
        assert_eq!(turn.code, Some(0), "{}", turn.stderr);
    }
    assert!(dir.path().join("two.txt").exists());
    let server = MockServer::start(vec![]).await;
    let Some(t) = Tmux::start(dir.path(), &[("OPENAI_BASE_URL", &server.url)], "-c") else {
        return;
    };
    t.line_at(1, "/checkpoints").await;
    t.wait_for("\"make two\"").await;
    t.line_at(2, "/undo 2").await;
    let screen = t.wait_for("Undo? (files and conversation) [y/N]").await;
    assert!(screen.contains("remove     one.txt"), "{screen}");
    assert!(screen.contains("remove     two.txt"), "{screen}");
    assert!(
        dir.path().join("one.txt").exists(),
        "nothing before the answer"
    );
    t.keys(&["-l", "y"]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("You > make one").await;
    assert!(
        screen.contains("Undone: 0 path(s) restored, 2 removed."),
        "{screen}"
    );
    assert!(!dir.path().join("one.txt").exists() && !dir.path().join("two.txt").exists());
    assert!(dir.path().join("keep.txt").exists());
    assert!(server.requests().is_empty(), "undo never asks the model");
    // The emptied conversation is saved: the next `-c` does not bring the turns back.
    t.keys(&["C-u"]);
    t.line_at(2, "/quit").await;
    t.wait_for("EXITED=0").await;
    let sessions = dir.path().join(".corecoder/sessions");
    let saved: Vec<Value> = std::fs::read_dir(&sessions)
        .expect("sessions")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0]["messages"].as_array().map(Vec::len), Some(0));
}

/// The REPL in `dir`: the turn "rewrite a" (answered "changed it"), then Esc Esc at the
/// empty prompt, up to the question of how many turns to undo.
async fn rewrite_then_esc_esc(dir: &Path, server: &MockServer) -> Option<Tmux> {
    let t = Tmux::start(dir, &[("OPENAI_BASE_URL", &server.url)], "--yes")?;
    t.line_at(1, "rewrite a").await;
    t.wait_for("changed it").await;
    t.wait_for_n("You > ", 2).await;
    t.keys(&["Escape"]);
    t.keys(&["Escape"]);
    t.wait_for("Undo how many turns? [1-1").await;
    Some(t)
}

/// Esc Esc at an empty prompt lists the turns and undoes the one chosen.
#[tokio::test]
async fn esc_esc_lists_the_turns_and_undoes_the_chosen_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("a.txt"), b"first\n");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "edit_file",
            json!({"file_path": "a.txt", "old_string": "first", "new_string": "second"}),
        )])),
        Script::Sse(sse_text("changed it")),
    ])
    .await;
    let Some(t) = rewrite_then_esc_esc(dir.path(), &server).await else {
        return;
    };
    t.keys(&["-l", "1"]);
    t.keys(&["Enter"]);
    t.wait_for("Undo? (files and conversation) [y/N]").await;
    t.keys(&["-l", "y"]);
    t.keys(&["Enter"]);
    // The first one is the turn's own line; the second, the prompt given back.
    let screen = t.wait_for_n("You > rewrite a", 2).await;
    assert!(screen.contains("restore    a.txt"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "first\n"
    );
    // The change log agrees with the disk: nothing differs from the originals any more.
    t.keys(&["C-u"]);
    t.line_at(3, "/diff").await;
    t.wait_for("No files changed this session.").await;
}

/// Esc Esc at one of undo's questions cancels it and nothing else: the next prompt is sent.
#[tokio::test]
async fn esc_esc_at_an_undo_question_does_not_swallow_the_next_prompt() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("a.txt"), b"first\n");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "echo second > a.txt"}),
        )])),
        Script::Sse(sse_text("changed it")),
        Script::Sse(sse_text("hello to you")),
    ])
    .await;
    let Some(t) = rewrite_then_esc_esc(dir.path(), &server).await else {
        return;
    };
    t.keys(&["Escape"]);
    t.keys(&["Escape"]);
    t.wait_for("Nothing undone.").await;
    t.line_at(3, "hello again").await;
    t.wait_for("hello to you").await;
    assert_eq!(server.requests().len(), 3);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "second\n"
    );
}
