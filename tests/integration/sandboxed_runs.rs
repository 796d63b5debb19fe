//! The sandbox through the binary: every shell command of a session runs in it, `--yes` does
//! not leave it, the model is told in a line when it blocked something, an escalation is
//! denied without a person, `read-only` stops workspace writes, and `danger-full-access`
//! turns it off. (Tests that need Landlock say "skipped: no Landlock" on stderr and pass.)

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::binary::{Run, corecoder};
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// A directory outside every writable root (`/tmp` and the workspace are writable): under
/// `/var/tmp`, else the build directory. `None` where no such place exists.
fn victim_dir() -> Option<tempfile::TempDir> {
    let build = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tmp");
    let _ = std::fs::create_dir_all(build);
    ["/var/tmp", build].iter().find_map(|c| {
        let d = tempfile::tempdir_in(c).ok()?;
        let real = d.path().canonicalize().ok()?;
        (!real.starts_with("/tmp")).then_some(d)
    })
}

fn landlock() -> bool {
    corecoder::sandbox::landlock_abi().is_ok_and(|abi| abi > 0)
}

async fn one_bash(args: Value) -> MockServer {
    MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", args)])),
        Script::Sse(sse_text("Done.")),
    ])
    .await
}

fn result_of(server: &MockServer) -> String {
    let requests = server.requests();
    let messages = requests.last().expect("request").messages();
    let tool = messages.iter().rev().find(|m| m.role() == "tool");
    tool.expect("a tool result").text().to_string()
}

/// The target's path is read at run time, so the permission policy cannot see the write and
/// only the kernel stands in its way (as with any command that hides what it touches).
async fn touch_via_file(work: &Path, target: &Path, flags: &[&str]) -> (Run, String) {
    std::fs::write(work.join("target.txt"), target.display().to_string()).expect("target");
    let server = one_bash(json!({"command": "touch \"$(cat target.txt)\""})).await;
    let mut args = vec!["-p", "go"];
    args.extend_from_slice(flags);
    let run = corecoder(work, &[("OPENAI_BASE_URL", &server.url)], &args).await;
    (run, result_of(&server))
}

fn skip() -> Option<(tempfile::TempDir, tempfile::TempDir, PathBuf)> {
    if !landlock() {
        eprintln!("skipped: no Landlock");
        return None;
    }
    let Some(victim) = victim_dir() else {
        eprintln!("skipped: no directory outside the writable roots");
        return None;
    };
    let work = tempfile::tempdir().expect("workspace");
    let target = victim.path().join("planted");
    Some((work, victim, target))
}

#[tokio::test]
async fn yes_does_not_leave_the_sandbox_and_the_model_is_told_what_it_blocked() {
    let Some((work, _victim, target)) = skip() else {
        return;
    };
    let (run, said) = touch_via_file(work.path(), &target, &["--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!target.exists(), "a write outside the workspace escaped");
    assert!(
        said.contains(&format!(
            "[sandbox] blocked: write outside the writable roots: {}",
            target.display()
        )),
        "{said}"
    );
}

#[tokio::test]
async fn danger_full_access_runs_commands_unsandboxed() {
    let Some((work, _victim, target)) = skip() else {
        return;
    };
    let flags = ["--yes", "--sandbox", "danger-full-access"];
    let (run, said) = touch_via_file(work.path(), &target, &flags).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(target.exists(), "not run unsandboxed: {said}");
}

#[tokio::test]
async fn an_escalation_is_denied_without_a_person_even_with_yes() {
    let Some((work, _victim, target)) = skip() else {
        return;
    };
    std::fs::write(work.path().join("target.txt"), target.display().to_string()).expect("t");
    let server = one_bash(json!({
        "command": "touch \"$(cat target.txt)\"",
        "unsandboxed": true,
        "justification": "needs to write outside"
    }))
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let run = corecoder(work.path(), &env, &["-p", "go", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!target.exists());
    let said = result_of(&server);
    assert!(said.contains("needs the user's yes"), "{said}");
}

#[tokio::test]
async fn read_only_stops_writes_in_the_workspace_too() {
    if !landlock() {
        eprintln!("skipped: no Landlock");
        return;
    }
    let work = tempfile::tempdir().expect("workspace");
    let server = one_bash(json!({"command": "echo hi > made.txt"})).await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let flags = ["-p", "go", "--yes", "--sandbox", "read-only"];
    let run = corecoder(work.path(), &env, &flags).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!work.path().join("made.txt").exists());
    let said = result_of(&server);
    assert!(
        said.contains("[sandbox] blocked: write in a read-only sandbox"),
        "{said}"
    );
}

#[tokio::test]
async fn a_project_file_cannot_switch_the_sandbox_off() {
    let Some((work, _victim, target)) = skip() else {
        return;
    };
    std::fs::write(
        work.path().join(".corecoder.toml"),
        "[sandbox]\nmode = \"danger-full-access\"\n",
    )
    .expect("project file");
    let (run, _) = touch_via_file(work.path(), &target, &["--yes"]).await;
    assert!(
        !target.exists(),
        "the project's file turned the sandbox off"
    );
    assert!(run.stderr.contains("ignored [sandbox]"), "{}", run.stderr);
}

#[tokio::test]
async fn sandbox_check_reports_the_tier_and_passes_its_probes() {
    if !landlock() {
        eprintln!("skipped: no Landlock");
        return;
    }
    let work = tempfile::tempdir().expect("workspace");
    let run = corecoder(work.path(), &[], &["sandbox-check"]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    for part in ["Landlock ABI:", "tier:", "network: off", "self-test: ok"] {
        assert!(run.stdout.contains(part), "{part}: {}", run.stdout);
    }
}

#[tokio::test]
async fn in_the_repl_an_escalation_is_asked_even_with_yes_and_shows_its_justification() {
    let Some((work, _victim, target)) = skip() else {
        return;
    };
    std::fs::write(work.path().join("target.txt"), target.display().to_string()).expect("t");
    let command = "touch \"$(cat target.txt)\"";
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", json!({"command": command}))])),
        Script::Sse(sse_tools(&[(
            "c2",
            "bash",
            json!({"command": command, "unsandboxed": true,
                   "justification": "the file lives outside the project"}),
        )])),
        Script::Sse(sse_text("All done.")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let Some(t) = crate::repl::Tmux::start(work.path(), &env, "--yes") else {
        return;
    };
    t.line_at(1, "plant it").await;
    // The sandboxed try ran without a prompt (--yes) and was blocked; the escalation asks.
    let screen = t
        .wait_for("OUTSIDE the sandbox: the file lives outside the project")
        .await;
    assert!(
        !target.exists(),
        "the first, sandboxed try escaped:\n{screen}"
    );
    assert!(
        !screen.contains("[a] always"),
        "no rule can allow an escalation:\n{screen}"
    );
    t.keys(&["y"]);
    t.wait_for("All done.").await;
    assert!(
        target.exists(),
        "the approved escalation did not run unsandboxed"
    );
}
