//! Sessions shared between processes, through the binary: two corecoders continuing one
//! session both keep their conversation, a session held by a live process is forked with a
//! notice and freed when that process is killed, and `-c` reads only the headers of sessions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{command, corecoder};
use crate::support::{MockServer, Script, sse_text};

const SEEDED: &str = "session_20260101_120000_0000abcd";
const FORKED: &str = "is open in another corecoder process";

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

/// Every file in the sessions directory by name, with the texts of its messages when it is a
/// session file.
fn on_disk(home: &Path) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = std::fs::read_dir(sessions_dir(home))
        .expect("sessions dir")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let texts = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["messages"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|m| m["content"].as_str().unwrap_or_default().to_string())
                .collect();
            (name, texts)
        })
        .collect();
    found.sort();
    found
}

fn conversation(prompt: &str, answer: &str) -> Vec<String> {
    ["seed prompt", "seed answer", prompt, answer]
        .map(String::from)
        .to_vec()
}

/// The lost-conversation race, made certain: both processes have loaded the session before
/// either saves, because the server answers neither until both have asked. Before claims,
/// both wrote the same file and one conversation vanished every time.
#[tokio::test]
async fn two_processes_continuing_one_session_both_keep_their_conversation() {
    for round in 0..20 {
        let dir = tempfile::tempdir().expect("tempdir");
        seed(dir.path(), SEEDED, dir.path());
        let answers = vec![Script::Sse(sse_text("ok")), Script::Sse(sse_text("ok"))];
        let server = MockServer::gated(answers, 2).await;
        let env = [("OPENAI_BASE_URL", server.url.as_str())];
        let both = async {
            tokio::join!(
                corecoder(dir.path(), &env, &["-c", "-p", "prompt A"]),
                corecoder(dir.path(), &env, &["-c", "-p", "prompt B"]),
            )
        };
        let (a, b) = tokio::time::timeout(Duration::from_secs(30), both)
            .await
            .expect("both finish");
        assert_eq!(
            (a.code, b.code),
            (Some(0), Some(0)),
            "{}\n{}",
            a.stderr,
            b.stderr
        );
        let files = on_disk(dir.path());
        for prompt in ["prompt A", "prompt B"] {
            assert!(
                files.iter().any(|(_, t)| *t == conversation(prompt, "ok")),
                "round {round}: the conversation of {prompt:?} is lost: {files:?}"
            );
        }
        assert_eq!(
            files.len(),
            2,
            "the session and one copy, nothing else: {files:?}"
        );
        let notices = [&a, &b]
            .iter()
            .filter(|r| r.stderr.contains(FORKED))
            .count();
        assert_eq!(
            notices, 1,
            "exactly one forks and says so:\n{}\n{}",
            a.stderr, b.stderr
        );
    }
}

/// `-c` while another process is mid-turn in the session: a copy with a notice, the
/// original untouched. After a `kill -9` of the owner the session resumes in place.
#[tokio::test]
async fn a_live_session_is_forked_and_a_killed_owner_does_not_keep_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), SEEDED, dir.path());
    let server = MockServer::start(vec![
        Script::SseThenHang(Vec::new()),
        Script::Sse(sse_text("copy answer")),
        Script::Sse(sse_text("later answer")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let mut owner = command(dir.path(), &env, &["-r", SEEDED, "-p", "owner prompt"])
        .spawn()
        .expect("spawn");
    let owner_pid = owner.id().expect("pid");
    tokio::time::timeout(Duration::from_secs(10), async {
        while server.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the owner asks the model");

    let second = corecoder(dir.path(), &env, &["-c", "-p", "second prompt"]).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let said = format!(
        "session \"{SEEDED}\" is open in another corecoder process (pid {owner_pid}): continuing in a copy of it, session_"
    );
    assert!(second.stderr.contains(&said), "{}", second.stderr);
    let files = on_disk(dir.path());
    let seeded = format!("{SEEDED}.json");
    let original = files.iter().find(|(n, _)| *n == seeded).expect("original");
    assert_eq!(original.1, ["seed prompt", "seed answer"], "untouched");
    assert!(
        files
            .iter()
            .any(|(_, t)| *t == conversation("second prompt", "copy answer"))
    );

    owner.start_kill().expect("kill -9");
    owner.wait().await.expect("reaped");
    let later = corecoder(dir.path(), &env, &["-r", SEEDED, "-p", "later prompt"]).await;
    assert_eq!(later.code, Some(0), "{}", later.stderr);
    assert!(!later.stderr.contains(FORKED), "{}", later.stderr);
    let files = on_disk(dir.path());
    let original = files.iter().find(|(n, _)| *n == seeded).expect("original");
    assert_eq!(original.1, conversation("later prompt", "later answer"));
    // The lock file the killed owner left was reused and removed with its new owner.
    assert!(files.iter().all(|(n, _)| n.ends_with(".json")), "{files:?}");
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
        .skip(2)
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
