//! A `kill -9` in the middle of a snapshot (a child process writing contents into the store)
//! loses at most that snapshot: every older checkpoint still previews and restores exactly.

use std::time::{Duration, Instant};

use super::*;

const STORE_VAR: &str = "CORECODER_CHECKPOINT_CHILD_STORE";
const WS_VAR: &str = "CORECODER_CHECKPOINT_CHILD_WS";
const KILLS: usize = 4;
const FILES: usize = 200;

fn rewrite_all(ws: &Path, round: usize) {
    for i in 0..FILES {
        let line = format!("file {i} round {round}\n");
        std::fs::write(ws.join(format!("f{i:03}.txt")), line.repeat(20 << 10 >> 5)).unwrap();
    }
}

/// The child: turns that rewrite every file, forever, until killed. Not a test of its own.
#[test]
#[ignore = "the child process of kill_9_during_a_snapshot_leaves_older_checkpoints_usable"]
fn snapshot_child() {
    let (Ok(store), Ok(ws)) = (std::env::var(STORE_VAR), std::env::var(WS_VAR)) else {
        return;
    };
    let ws = PathBuf::from(ws);
    let store = Store::open(Path::new(&store), Limits::default()).unwrap();
    let mut hist = store.session("s1", &ws).unwrap();
    for round in 1000.. {
        turn(&mut hist, "child turn", || rewrite_all(&ws, round));
    }
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

#[test]
fn kill_9_during_a_snapshot_leaves_older_checkpoints_usable() {
    let fx = Fixture::new();
    rewrite_all(&fx.ws, 0);
    let initial = fingerprint(&fx.ws);
    {
        let store = fx.store(Limits::default());
        let mut hist = store.session("s1", &fx.ws).unwrap();
        turn(&mut hist, "parent turn", || {
            sh(&fx.ws, "echo changed > f000.txt")
        });
    }
    let exe = std::env::current_exe().unwrap();
    let mut caught = 0;
    for _ in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "checkpoint::kill::snapshot_child",
                "--ignored",
                "--nocapture",
            ])
            .env(STORE_VAR, &fx.store_dir)
            .env(WS_VAR, &fx.ws)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && !has_entries(&fx.store_dir.join("tmp")) {
            std::hint::spin_loop();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        caught += usize::from(has_entries(&fx.store_dir.join("tmp")));

        // A new process's view: every checkpoint, the parent's first, previews.
        let store = fx.store(Limits::default());
        let mut hist = store.session("s1", &fx.ws).unwrap();
        let checkpoints = hist.checkpoints().unwrap();
        assert_eq!(checkpoints[0].prompt, "parent turn");
        for n in 1..=checkpoints.len() {
            hist.preview_undo(n).expect("an older checkpoint is usable");
        }
    }
    assert!(
        caught >= 1,
        "no kill landed while a content was being written"
    );
    let store = fx.store(Limits::default());
    let mut hist = store.session("s1", &fx.ws).unwrap();
    let all = hist.checkpoints().unwrap().len();
    let preview = hist.preview_undo(all).unwrap();
    let report = hist.undo(&preview, true).unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(fingerprint(&fx.ws), initial);
    drop(hist);
    store.gc().unwrap();
    assert!(
        !has_entries(&fx.store_dir.join("tmp")),
        "gc leaves no temp file"
    );
}
