//! The module through its public calls, on real directories.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// Longer than the racy-clean margin, so the next walk trusts what the last one read.
const SETTLE: Duration = Duration::from_millis(120);

fn setup() -> (tempfile::TempDir, PathBuf, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    let store = Store::open(&tmp.path().join("store"), Limits::default()).unwrap();
    (tmp, ws, store)
}

fn sh(dir: &Path, script: &str) {
    let ok = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "{script}");
}

#[test]
fn an_unchanged_file_is_not_read_again_and_a_quiet_round_writes_nothing() {
    let (_tmp, ws, store) = setup();
    for i in 0..20 {
        std::fs::write(ws.join(format!("f{i}")), format!("content {i}")).unwrap();
    }
    std::thread::sleep(SETTLE);
    let mut hist = store.session("s", &ws).unwrap();
    let first = hist.snapshot().unwrap();
    assert_eq!((first.entries, first.read), (20, 20));
    assert!(first.stored_bytes > 0 && first.record_bytes > 0);
    let quiet = hist.snapshot().unwrap();
    assert_eq!(
        (quiet.read, quiet.stored_bytes, quiet.record_bytes),
        (0, 0, 0)
    );
    std::fs::write(ws.join("f3"), "changed").unwrap();
    let one = hist.snapshot().unwrap();
    assert_eq!((one.read, one.stored_bytes), (1, 7));
}

#[test]
fn a_same_size_rewrite_with_the_old_mtime_put_back_is_still_seen() {
    let (_tmp, ws, store) = setup();
    std::fs::write(ws.join("a"), "aaaa").unwrap();
    sh(&ws, "touch -d '2020-01-01 00:00:00' a");
    std::thread::sleep(SETTLE);
    let mut hist = store.session("s", &ws).unwrap();
    hist.snapshot().unwrap();
    let before = hist.head().unwrap().get(Path::new("a")).unwrap().clone();
    // Same size, mtime set back (as `cp -p` or `rsync -t` do): only the ctime moved, which
    // both the cache key and the racy-clean rule look at.
    std::fs::write(ws.join("a"), "bbbb").unwrap();
    sh(&ws, "touch -d '2020-01-01 00:00:00' a");
    let report = hist.snapshot().unwrap();
    let after = hist.head().unwrap().get(Path::new("a")).unwrap().clone();
    assert_eq!(report.read, 1);
    assert_eq!(before.mtime_ns, after.mtime_ns);
    assert_ne!(before.hash(), after.hash());
}

#[test]
fn a_file_over_the_limit_is_recorded_by_size_and_shown_as_not_restorable() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    let limits = Limits {
        max_file_size: 1000,
        ..Limits::default()
    };
    let store = Store::open(&tmp.path().join("store"), limits).unwrap();
    std::fs::write(ws.join("big.bin"), vec![1u8; 2048]).unwrap();
    std::fs::write(ws.join("small"), "s").unwrap();
    let mut hist = store.session("s", &ws).unwrap();
    let (_, report) = hist
        .begin_turn(TurnStart {
            prompt: "grow",
            history_len: 0,
        })
        .unwrap();
    assert_eq!(report.stored_bytes, 1, "only the small file is stored");
    let entry = hist.head().unwrap().get(Path::new("big.bin")).unwrap();
    assert_eq!(entry.kind, Kind::File(Content::TooBig));
    std::fs::write(ws.join("big.bin"), vec![2u8; 4096]).unwrap();
    std::fs::write(ws.join("small"), "t").unwrap();
    hist.after_round().unwrap();
    let preview = hist.preview_undo(1).unwrap();
    let text = preview.to_string();
    assert!(text.contains("not restorable: big.bin (2.0 KiB)"), "{text}");
    let report = hist.undo(&preview, false).unwrap();
    assert_eq!(report.not_restorable, [PathBuf::from("big.bin")]);
    assert_eq!(std::fs::read(ws.join("small")).unwrap(), b"s");
}

#[test]
fn the_store_inside_the_workspace_is_never_snapshotted() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().to_path_buf();
    std::fs::write(ws.join("a"), "a").unwrap();
    let store = Store::open(&ws.join(".corecoder/checkpoints"), Limits::default()).unwrap();
    let mut hist = store.session("s", &ws).unwrap();
    hist.snapshot().unwrap();
    hist.snapshot().unwrap();
    let paths: Vec<_> = hist
        .head()
        .unwrap()
        .entries()
        .map(|(p, _)| p.to_path_buf())
        .collect();
    assert_eq!(paths, [PathBuf::from(".corecoder"), PathBuf::from("a")]);
}

#[test]
fn a_damaged_stored_content_fails_that_file_only() {
    let (tmp, ws, store) = setup();
    std::fs::write(ws.join("a"), "a0").unwrap();
    std::fs::write(ws.join("b"), "b0").unwrap();
    let mut hist = store.session("s", &ws).unwrap();
    hist.begin_turn(TurnStart {
        prompt: "p",
        history_len: 0,
    })
    .unwrap();
    std::fs::write(ws.join("a"), "a1").unwrap();
    std::fs::write(ws.join("b"), "b1").unwrap();
    hist.after_round().unwrap();
    let objects = objects::Objects::new(&tmp.path().join("store"));
    std::fs::write(objects.path(&Hash::of(b"a0")), "xx").unwrap();
    let preview = hist.preview_undo(1).unwrap();
    let report = hist.undo(&preview, false).unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, PathBuf::from("a"));
    assert!(report.failed[0].1.contains("does not match its hash"));
    assert_eq!(std::fs::read(ws.join("a")).unwrap(), b"a1");
    assert_eq!(std::fs::read(ws.join("b")).unwrap(), b"b0");
    // Nothing failed silently: the turn stays, to retry.
    assert_eq!(hist.checkpoints().unwrap().len(), 1);
}

#[test]
fn a_symlinked_parent_is_never_written_through() {
    let (tmp, ws, _store) = setup();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("f"), "outside").unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("link")).unwrap();
    let objects = objects::Objects::new(&tmp.path().join("store"));
    let hash = Hash::of(b"evil");
    objects.put(&hash, b"evil").unwrap();
    let file = |content: Content| Entry {
        kind: Kind::File(content),
        mode: 0o644,
        size: 4,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 0,
    };
    let plan = Plan {
        changes: vec![Change {
            path: PathBuf::from("link/f"),
            kind: ChangeKind::Modified,
            target: Some(file(Content::Stored(hash))),
            current: Some(file(Content::Unreadable)),
            conflict: false,
        }],
    };
    let report = restore::restore(&ws, &objects, &plan, true);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].1.contains("is a symlink"), "{report:?}");
    assert_eq!(std::fs::read(outside.join("f")).unwrap(), b"outside");
}

#[test]
fn a_session_id_that_is_not_a_plain_name_is_refused() {
    let (_tmp, ws, store) = setup();
    for bad in ["../x", "a/b", "", ".hidden"] {
        assert!(matches!(
            store.session(bad, &ws),
            Err(CheckpointError::InvalidSession(_))
        ));
    }
}
