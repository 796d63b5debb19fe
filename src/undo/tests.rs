use std::fs;
use std::path::PathBuf;

use super::*;
use crate::checkpoint::Limits;

fn setup() -> (tempfile::TempDir, PathBuf, Undo) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    fs::create_dir(&ws).unwrap();
    fs::write(ws.join("a.txt"), "one\n").unwrap();
    let store = Store::open(&dir.path().join("store"), Limits::default()).unwrap();
    let undo = Undo::open(store, "s1", &ws);
    // Waits for the first snapshot (the list needs the lock it holds).
    undo.checkpoints().unwrap();
    (dir, ws, undo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_checkpointed_before_its_first_change_and_undone() {
    let (_dir, ws, undo) = setup();
    undo.begin_turn("edit a", 0);
    assert!(undo.before_change().await.is_empty());
    fs::write(ws.join("a.txt"), "two\n").unwrap();
    fs::write(ws.join("b.txt"), "new\n").unwrap();
    // A second change in the same turn does not take another checkpoint.
    assert!(undo.before_change().await.is_empty());
    assert!(undo.round_done().await.is_empty());
    assert!(undo.end_turn().await.is_empty());
    let (turns, _) = undo.checkpoints().unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].prompt, "edit a");
    assert_eq!(turns[0].touched_count, 2);
    let preview = undo.preview(1).unwrap();
    assert_eq!(preview.plan.changes.len(), 2);
    let report = undo.apply(&preview, false).unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(fs::read_to_string(ws.join("a.txt")).unwrap(), "one\n");
    assert!(!ws.join("b.txt").exists());
    assert!(undo.checkpoints().unwrap().0.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_without_changes_is_a_checkpoint_too_and_a_stopped_round_is_snapshotted() {
    let (_dir, ws, undo) = setup();
    undo.begin_turn("change it", 0);
    undo.before_change().await;
    fs::write(ws.join("a.txt"), "changed\n").unwrap();
    // Stopped before `round_done`: `end_turn` records what the round left.
    undo.end_turn().await;
    undo.begin_turn("just a question", 2);
    undo.end_turn().await;
    let (turns, _) = undo.checkpoints().unwrap();
    let prompts: Vec<&str> = turns.iter().map(|t| t.prompt.as_str()).collect();
    assert_eq!(prompts, ["change it", "just a question"]);
    assert_eq!(turns[0].touched_count, 1);
    // Undoing the question changes no file; undoing both restores the file, no conflict.
    assert!(undo.preview(1).unwrap().plan.is_empty());
    let both = undo.preview(2).unwrap();
    assert_eq!(both.plan.conflicts().count(), 0);
    undo.apply(&both, false).unwrap();
    assert_eq!(fs::read_to_string(ws.join("a.txt")).unwrap(), "one\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_changes_wait_for_the_one_checkpoint() {
    let (_dir, ws, undo) = setup();
    let undo = Arc::new(undo);
    undo.begin_turn("many", 0);
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let (undo, ws) = (undo.clone(), ws.clone());
            tokio::spawn(async move {
                undo.before_change().await;
                // Runs only after the checkpoint: the state before holds none of these.
                fs::write(ws.join(format!("f{i}")), "x").unwrap();
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap();
    }
    undo.round_done().await;
    undo.end_turn().await;
    let (turns, _) = undo.checkpoints().unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].touched_count, 8);
    let preview = undo.preview(1).unwrap();
    undo.apply(&preview, false).unwrap();
    assert_eq!(fs::read_dir(&ws).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_says_why_and_records_nothing() {
    let undo = Undo::off("undo is off (test)");
    undo.begin_turn("x", 0);
    assert!(undo.before_change().await.is_empty());
    assert!(undo.end_turn().await.is_empty());
    assert_eq!(undo.preview(1).unwrap_err(), "undo is off (test)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_over_the_budget_switches_undo_off_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    fs::create_dir(&ws).unwrap();
    fs::write(ws.join("big"), vec![7u8; 64 << 10]).unwrap();
    let limits = Limits {
        max_file_size: 1 << 20,
        budget: 16 << 10,
    };
    let store = Store::open(&dir.path().join("store"), limits).unwrap();
    let undo = Undo::open(store, "s1", &ws);
    undo.begin_turn("t", 0);
    let notices = undo.before_change().await;
    let all: Vec<String> = undo.take_notices().into_iter().chain(notices).collect();
    assert!(
        all.iter()
            .any(|n| n.contains("undo is off for this session")),
        "{all:?}"
    );
    assert!(undo.preview(1).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_by_someone_else_during_a_question_is_never_undone_with_it() {
    let (_dir, ws, undo) = setup();
    undo.begin_turn("a question", 0);
    // The person edits a file while the model answers; the turn itself changes nothing.
    fs::write(ws.join("a.txt"), "the person's edit\n").unwrap();
    undo.end_turn().await;
    let preview = undo.preview(1).unwrap();
    assert!(preview.plan.is_empty(), "{:?}", preview.plan);
    assert_eq!(undo.checkpoints().unwrap().0[0].touched_count, 0);
}
