//! Long `bash` outputs through the binary: the process's memory stays bounded, the saved copy
//! is capped at 64 MiB, the spill directory goes when the process ends (normally or on
//! Ctrl-C), and the next start removes what a killed process left. Each run gets its own
//! `TMPDIR`.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::binary::{Run, command};
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// The tool results of the server's `n`th request (from 0), in order.
fn tool_results(server: &MockServer, n: usize) -> Vec<String> {
    server.requests()[n]
        .messages()
        .iter()
        .filter(|m| m.role() == "tool")
        .map(|m| m.text().to_string())
        .collect()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the binary to its end (see `binary::command`) and reaps it with `wait4`, which also
/// gives its peak resident set size in KiB (its own, or a waited-for child's if larger).
async fn run_measured(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (Run, u64) {
    let out = tempfile::tempfile().expect("stdout file");
    let err = tempfile::tempfile().expect("stderr file");
    let mut cmd = command(dir, env, args);
    // Reaped below with wait4 (std's wait would not give the usage).
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .as_std_mut()
        .stdout(out.try_clone().expect("clone"))
        .stderr(err.try_clone().expect("clone"))
        .spawn()
        .expect("spawn");
    let pid = child.id() as i32;
    let (status, rusage) = tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        assert_eq!(rc, pid, "wait4");
        (status, rusage)
    })
    .await
    .expect("join");
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut s = String::new();
        f.rewind().expect("rewind");
        f.read_to_string(&mut s).expect("read");
        s
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let run = Run {
        code,
        stdout: read(out),
        stderr: read(err),
    };
    (run, rusage.ru_maxrss as u64)
}

#[tokio::test]
async fn a_huge_output_keeps_memory_bounded_and_its_saved_copy_capped_at_64_mib() {
    // Before: the process held the output about twice over (~200 MiB for these 70 MB), and
    // saved all of it to a file in $TMPDIR that stayed after the run.
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tmpdir");
    // Only the saved copy of the first call: the second call's own (empty) file is there too.
    let saved = format!(
        "find {}/corecoder-spill-* -name 'output-*.txt' -size +0 -exec wc -c {{}} +",
        tmp.path().display()
    );
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "head -c 70000000 /dev/zero | tr '\\0' a; echo; echo END"}),
        )])),
        Script::Sse(sse_tools(&[("c2", "bash", json!({"command": saved}))])),
        Script::Sse(sse_text("Done.")),
    ])
    .await;
    let tmpdir = tmp.path().to_str().expect("utf-8 path");
    let env = [("OPENAI_BASE_URL", server.url.as_str()), ("TMPDIR", tmpdir)];
    let (run, peak_kib) = run_measured(dir.path(), &env, &["-p", "go", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        peak_kib < 60 * 1024,
        "peak RSS {} MiB for a 70 MB output",
        peak_kib / 1024
    );
    let reply = &tool_results(&server, 1)[0];
    assert!(reply.starts_with(&"a".repeat(6000)), "{}", &reply[..100]);
    assert!(
        reply.ends_with("aaa\nEND"),
        "{}",
        &reply[reply.len() - 100..]
    );
    let note = reply.find("... truncated").expect("a note");
    let note = &reply[note..note + 200];
    let cut = format!(
        "... truncated (70000004 chars total; cut at 64 MiB, the first 64 MiB saved to {}/corecoder-spill-",
        tmp.path().display()
    );
    assert!(note.starts_with(&cut), "{note}");
    let size = &tool_results(&server, 2)[1];
    assert!(
        size.starts_with(&format!("{} {}", 64 << 20, tmp.path().display())),
        "the saved copy while the session ran: {size}"
    );
    assert_eq!(entries(tmp.path()), Vec::<String>::new(), "left in TMPDIR");
}

#[tokio::test]
async fn the_spill_directory_goes_when_the_process_ends_or_is_interrupted() {
    // Before: `corecoder-output-*.txt` stayed in $TMPDIR after every long output.
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tmpdir");
    let list = format!("ls {}/corecoder-spill-*/", tmp.path().display());
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "seq 1 30000"}),
        )])),
        Script::Sse(sse_tools(&[("c2", "bash", json!({ "command": list }))])),
        Script::Sse(sse_text("Done.")),
        Script::Sse(sse_tools(&[(
            "c3",
            "bash",
            json!({"command": "seq 1 30000; sleep 30"}),
        )])),
    ])
    .await;
    let tmpdir = tmp.path().to_str().expect("utf-8 path");
    let env = [("OPENAI_BASE_URL", server.url.as_str()), ("TMPDIR", tmpdir)];
    let (run, _) = run_measured(dir.path(), &env, &["-p", "go", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let listed = &tool_results(&server, 2)[1];
    assert!(
        listed.starts_with("output-") && listed.ends_with(".txt"),
        "the saved copy while the session ran: {listed}"
    );
    assert_eq!(entries(tmp.path()), Vec::<String>::new(), "left in TMPDIR");

    // Ctrl-C while a long output is being read: the directory exists, then goes.
    let mut child = command(dir.path(), &env, &["-p", "go", "--yes"])
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    wait_for_spill_dir(tmp.path()).await;
    let pid = child.id().expect("pid") as i32;
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits promptly")
        .expect("status");
    assert_eq!(status.code(), Some(130));
    assert_eq!(entries(tmp.path()), Vec::<String>::new(), "left in TMPDIR");
}

/// Waits (up to 20 s) until a spill directory appears in `tmp`.
async fn wait_for_spill_dir(tmp: &Path) {
    for _ in 0..400 {
        if entries(tmp)
            .iter()
            .any(|e| e.starts_with("corecoder-spill-"))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no spill directory appeared: {:?}", entries(tmp));
}

#[tokio::test]
async fn the_next_start_removes_what_a_killed_process_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tmpdir");
    let pidfile = dir.path().join("shell.pid");
    let script = format!("echo $$ > {}; seq 1 30000; sleep 30", pidfile.display());
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", json!({ "command": script }))])),
        Script::Sse(sse_text("Hello.")),
    ])
    .await;
    let tmpdir = tmp.path().to_str().expect("utf-8 path");
    let env = [("OPENAI_BASE_URL", server.url.as_str()), ("TMPDIR", tmpdir)];
    let mut child = command(dir.path(), &env, &["-p", "go", "--yes"])
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    wait_for_spill_dir(tmp.path()).await;
    // The spill directory comes before the shell runs: under load the kill could otherwise
    // land before the shell wrote its pid.
    for _ in 0..400 {
        if std::fs::read_to_string(&pidfile).is_ok_and(|p| p.ends_with('\n')) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().await.expect("kill -9");
    // The shell leads its own process group, which outlives a killed corecoder.
    let shell: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    // SAFETY: signals the process group of the shell this test's run started.
    unsafe { libc::kill(-shell, libc::SIGKILL) };
    let left = entries(tmp.path());
    assert!(
        left.iter().any(|e| e.starts_with("corecoder-spill-")),
        "a killed process leaves its directory: {left:?}"
    );
    // Not to be removed: a directory of a process that still runs (this test), and a link
    // named like a stale directory (it is not followed).
    let live = tmp
        .path()
        .join(format!("corecoder-spill-{}-live", std::process::id()));
    std::fs::create_dir(&live).expect("mkdir");
    let target = tempfile::tempdir().expect("target");
    std::fs::write(target.path().join("keep.txt"), "keep").expect("write");
    let link = tmp.path().join("corecoder-spill-999999999-link");
    std::os::unix::fs::symlink(target.path(), &link).expect("symlink");

    let run = crate::binary::corecoder(dir.path(), &env, &["-p", "hi"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut left = entries(tmp.path());
    left.sort();
    let mut kept = [
        "corecoder-spill-999999999-link".to_string(),
        format!("corecoder-spill-{}-live", std::process::id()),
    ];
    kept.sort();
    assert_eq!(left, kept);
    assert!(target.path().join("keep.txt").exists());
}
