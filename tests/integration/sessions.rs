//! Sessions through the binary: `-c` reads only the headers of sessions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::binary::command;
use crate::support::{MockServer, Script, sse_text};

const SEEDED: &str = "session_20260101_120000_0000abcd";

fn sessions_dir(home: &Path) -> PathBuf {
    home.join(".corecoder/sessions")
}

/// A saved two-message conversation `id` that ran in `cwd`.
fn seed(home: &Path, id: &str, cwd: &Path) {
    let file = json!({
        "id": id,
        "model": "m",
        "saved_at": "2026-01-01 12:00:00",
        "cwd": cwd.canonicalize().expect("canon").display().to_string(),
        "messages": [
            {"role": "user", "content": "seed prompt"},
            {"role": "assistant", "content": "seed answer"}
        ]
    });
    std::fs::create_dir_all(sessions_dir(home)).expect("mkdir");
    let path = sessions_dir(home).join(format!("{id}.json"));
    std::fs::write(path, file.to_string()).expect("write");
}

/// A newer 1 GiB session of another project (sparse: its header, then nothing valid): `-c`
/// still picks this directory's session, without reading the other file. Reading it whole
/// (as before) takes more than 1 GiB of memory; the bound here is generous.
#[tokio::test]
async fn continue_reads_only_the_header_of_a_huge_session_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), SEEDED, dir.path());
    let huge_path = sessions_dir(dir.path()).join("session_20260102_120000_0000ffff.json");
    let header = br#"{"id": "session_20260102_120000_0000ffff", "model": "m", "saved_at": "2026-01-02 12:00:00", "cwd": "/another/project", "messages": ["#;
    std::fs::write(&huge_path, header).expect("write");
    let huge = std::fs::File::options()
        .write(true)
        .open(&huge_path)
        .expect("open");
    huge.set_len(1 << 30).expect("sparse");
    let newer = std::time::SystemTime::now() + Duration::from_secs(60);
    huge.set_modified(newer).expect("mtime");
    drop(huge);

    let server = MockServer::start(vec![Script::Sse(sse_text("resumed"))]).await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let mut cmd = command(dir.path(), &env, &["-c", "-p", "next"]).into_std();
    let child = cmd.spawn().expect("spawn");
    let (code, peak_kib, stderr) = tokio::task::spawn_blocking(move || wait_with_peak_rss(child))
        .await
        .expect("join");
    assert_eq!(code, 0, "{stderr}");
    let texts: Vec<String> = server.requests()[0]
        .messages()
        .iter()
        .skip(1)
        .map(|m| m.text().to_string())
        .collect();
    assert_eq!(texts, ["seed prompt", "seed answer", "next"]);
    assert!(peak_kib < 256 * 1024, "peak RSS {peak_kib} KiB");
}

/// Waits for `child` with `wait4`, which reports the peak RSS of that child alone; returns the
/// exit code, the peak in KiB and what it wrote to stderr.
fn wait_with_peak_rss(mut child: std::process::Child) -> (i32, i64, String) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it and the status for our own
    // child, which std has not reaped (we never call its wait).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("stderr");
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss, stderr)
}
