//! Crashes and odd files through the binary: a `kill -9` in the middle of a write leaves the
//! old file or the new one and nothing else beside it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::binary::command;
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// Runs that must catch the binary in the middle of writing the file.
const CAUGHT_RUNS: usize = 20;
const MAX_ATTEMPTS: usize = 60;

/// Whether `pid` holds open a file in `dir` other than `keep`: the edit's new content on its
/// way to disk (a named temp file, or an unnamed one that shows as `#inode (deleted)`).
fn writing_in(pid: u32, dir: &Path, keep: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p.starts_with(dir) && p != keep))
}

#[tokio::test]
async fn kill_9_during_an_edit_leaves_no_stray_file_and_no_partial_target() {
    let root = tempfile::tempdir().expect("tempdir");
    let (home, proj) = (root.path().join("home"), root.path().join("proj"));
    std::fs::create_dir_all(&home).expect("home");
    std::fs::create_dir_all(&proj).expect("proj");
    let target = proj.join("big.txt");
    let line = "a line of ordinary text that makes the file big enough to take a while\n";
    let original = format!("MARKER\n{}", line.repeat((16 << 20) / line.len()));
    let edited = original.replacen("MARKER", "EDITED", 1);
    let (mut caught, mut attempts) = (0, 0);
    while caught < CAUGHT_RUNS && attempts < MAX_ATTEMPTS {
        attempts += 1;
        std::fs::write(&target, &original).expect("write original");
        let server = MockServer::start(vec![
            Script::Sse(sse_tools(&[(
                "c1",
                "edit_file",
                json!({"file_path": "big.txt", "old_string": "MARKER", "new_string": "EDITED"}),
            )])),
            Script::Sse(sse_text("Edited.")),
        ])
        .await;
        let home_s = home.to_string_lossy().into_owned();
        let mut child = command(
            &proj,
            &[("OPENAI_BASE_URL", &server.url), ("HOME", &home_s)],
            &["-p", "edit", "--permission-mode", "acceptEdits"],
        )
        .spawn()
        .expect("spawn");
        let pid = child.id().expect("pid");
        let (dir, keep) = (proj.clone(), target.clone());
        // Busy-wait for the write: it lasts milliseconds.
        let hit = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if writing_in(pid, &dir, &keep) {
                    // SAFETY: killing our own child process.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                    return true;
                }
                if std::fs::metadata(format!("/proc/{pid}/stat")).is_err() {
                    return false;
                }
            }
            false
        })
        .await
        .expect("poller");
        let _ = child.kill().await;
        let _ = child.wait().await;
        let mut names: Vec<String> = std::fs::read_dir(&proj)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["big.txt"],
            "attempt {attempts}: a stray file was left"
        );
        let now = std::fs::read_to_string(&target).expect("read target");
        assert!(
            now == original || now == edited,
            "attempt {attempts}: the target is partly written ({} bytes)",
            now.len()
        );
        caught += usize::from(hit);
    }
    assert_eq!(
        caught, CAUGHT_RUNS,
        "only {caught} of {attempts} runs were caught mid-write"
    );
}

#[tokio::test]
async fn sigterm_during_a_tool_stops_the_run_saves_the_session_and_kills_the_tool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![Script::Sse(sse_tools(&[(
        "c1",
        "bash",
        json!({"command": "echo $$ > shell.pid; sleep 60"}),
    )]))])
    .await;
    let tmp = tempfile::tempdir().expect("tmpdir");
    let tmp_s = tmp.path().to_string_lossy().into_owned();
    let mut child = command(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url), ("TMPDIR", &tmp_s)],
        &["-p", "wait", "--allow", "bash"],
    )
    .spawn()
    .expect("spawn");
    let pid_file = dir.path().join("shell.pid");
    let mut group = None;
    for _ in 0..500 {
        group = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        if group.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let group = group.expect("the command started");
    let pid = child.id().expect("pid") as i32;
    let asked = Instant::now();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits promptly")
        .expect("status");
    let took = asked.elapsed();
    assert_eq!(status.code(), Some(143), "exit code 128 + SIGTERM");
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = err.read_to_string(&mut stderr).await;
    }
    assert!(stderr.contains("Stopped by SIGTERM"), "{stderr}");
    // Killed processes stay visible as zombies until init reaps them: allow it a moment.
    let mut alive = true;
    for _ in 0..100 {
        // SAFETY: probing a process group with signal 0 sends nothing.
        alive = unsafe { libc::kill(-group, 0) } == 0;
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive, "the tool's process group outlived corecoder");
    let sessions = std::fs::read_dir(dir.path().join(".corecoder/sessions"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(sessions, 1, "the session was saved");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "the spill directory was left: {left:?}");
    assert!(took < Duration::from_secs(10));
}
