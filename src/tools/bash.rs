//! `bash`: run a shell command in the session's working directory.
//!
//! The command runs in its own process group with stdin closed; a timeout or a cancelled turn
//! kills the whole group. The directory the shell ends in is learned from the shell itself (an
//! EXIT trap writes `pwd -P` to a file), so `cd a && cd b`, `pushd`, `cd -` and subshells behave
//! exactly as bash does. Whether a command may run at all is `command_safety`'s decision,
//! asked before anything starts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::command_safety::{self, Verdict};

const DEFAULT_TIMEOUT: u64 = 120;
const MAX_TIMEOUT: u64 = 600;
const MAX_OUTPUT: usize = 15_000;
const HEAD: usize = 6_000;
const TAIL: usize = 3_000;
/// How long to keep reading after the shell exits, for output of processes it left behind.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

pub struct Bash;

#[async_trait]
impl Tool for Bash {
    fn name(&self) -> &'static str {
        "bash"
    }

    fn description(&self) -> &'static str {
        "Execute a shell command. Returns stdout, stderr, and exit code. Use this for running \
         tests, installing packages, git operations, etc. A `cd` persists between calls."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The shell command to run"},
                "timeout": {"type": "integer", "description": "Timeout in seconds (default 120, max 600)"}
            },
            "required": ["command"]
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        if let Verdict::Blocked(reason) = command_safety::check(&args.command) {
            return Err(ToolError::failed(format!(
                "blocked by the safety gate: {reason}"
            )));
        }
        let timeout = args
            .timeout
            .unwrap_or(DEFAULT_TIMEOUT)
            .clamp(1, MAX_TIMEOUT);
        let cwd = ctx.cwd();
        let run = run_command(&args.command, &cwd, Duration::from_secs(timeout)).await?;
        if let Some(dir) = run.final_dir.filter(|d| d.is_dir() && *d != cwd) {
            ctx.set_cwd(dir);
        }
        let mut reply = format_output(&run.stdout, &run.stderr, run.status);
        if run.timed_out {
            reply.push_str(&format!(
                "\n[timed out after {timeout}s; the command and its child processes were killed]"
            ));
        }
        Ok(truncate_output(reply))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    command: String,
    timeout: Option<u64>,
}

struct CommandRun {
    stdout: String,
    stderr: String,
    status: Option<i32>,
    timed_out: bool,
    final_dir: Option<PathBuf>,
}

/// Kills the process group when dropped: covers timeouts and cancelled turns alike.
struct GroupKiller(Option<i32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: kill(2) with a negative pid signals the group we created; it has no
            // memory-safety preconditions.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

fn shell() -> &'static str {
    if Path::new("/bin/bash").exists() || Path::new("/usr/bin/bash").exists() {
        "bash"
    } else {
        "sh"
    }
}

async fn run_command(
    command: &str,
    cwd: &Path,
    timeout: Duration,
) -> Result<CommandRun, ToolError> {
    let cwd_file = tempfile::NamedTempFile::new()
        .map_err(|e| ToolError::failed(format!("cannot create a temp file: {e}")))?;
    let script = format!("trap 'pwd -P >\"$__CORECODER_CWD_FILE\" 2>/dev/null' EXIT\n{command}");
    let mut child = Command::new(shell())
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("__CORECODER_CWD_FILE", cwd_file.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ToolError::failed(format!("cannot start the shell: {e}")))?;
    let mut killer = GroupKiller(child.id().map(|p| p as i32));
    let out = tokio::spawn(read_all(child.stdout.take()));
    let err = tokio::spawn(read_all(child.stderr.take()));
    let (status, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (status.ok().and_then(|s| s.code()), false),
        Err(_) => (None, true),
    };
    // Background processes the command started may hold the pipes open; stop waiting for
    // them shortly after the shell is done, and kill the group on timeout.
    if timed_out {
        drop(killer);
        killer = GroupKiller(None);
    }
    let collect = async { (out.await.unwrap_or_default(), err.await.unwrap_or_default()) };
    let (stdout, stderr) = tokio::time::timeout(DRAIN_GRACE, collect)
        .await
        .unwrap_or_default();
    drop(killer);
    let final_dir = std::fs::read_to_string(cwd_file.path())
        .ok()
        .map(|s| PathBuf::from(s.trim_end_matches('\n')))
        .filter(|p| p.is_absolute());
    Ok(CommandRun {
        stdout,
        stderr,
        status,
        timed_out,
        final_dir,
    })
}

async fn read_all<R: AsyncRead + Unpin>(pipe: Option<R>) -> String {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_end(&mut buf).await;
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// stdout, then `[stderr]` and stderr, then `[exit code: N]` when non-zero, or `(no output)`.
pub fn format_output(stdout: &str, stderr: &str, status: Option<i32>) -> String {
    let mut out = stdout.trim_end().to_string();
    if !stderr.trim().is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("[stderr]\n");
        out.push_str(stderr.trim_end());
    }
    if let Some(code) = status.filter(|c| *c != 0) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[exit code: {code}]"));
    }
    if out.is_empty() {
        "(no output)".to_string()
    } else {
        out
    }
}

/// Over 15,000 characters: the first 6,000 and the last 3,000, with the full text saved to a
/// temp file the note names so the model can read the part it needs.
pub fn truncate_output(out: String) -> String {
    let total = out.chars().count();
    if total <= MAX_OUTPUT {
        return out;
    }
    let head: String = out.chars().take(HEAD).collect();
    let tail: String = out.chars().skip(total - TAIL).collect();
    let saved = tempfile::Builder::new()
        .prefix("corecoder-output-")
        .suffix(".txt")
        .tempfile()
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, out.as_bytes())?;
            f.keep().map_err(|e| e.error)
        })
        .map(|(_, path)| format!("; full output saved to {}", path.display()))
        .unwrap_or_default();
    format!("{head}\n\n... truncated ({total} chars total{saved}) ...\n\n{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ctx(dir: &Path) -> ToolContext {
        ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}))
    }

    async fn bash(ctx: &ToolContext, cmd: &str) -> String {
        Bash.run(json!({ "command": cmd }), ctx).await.unwrap()
    }

    #[tokio::test]
    async fn bash_reports_stdout_stderr_and_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        assert_eq!(
            bash(&c, "echo hi; echo oops >&2; exit 3").await,
            "hi\n[stderr]\noops\n[exit code: 3]"
        );
        assert_eq!(bash(&c, "true").await, "(no output)");
    }

    #[tokio::test]
    async fn bash_cd_persists_as_the_shell_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let c = ctx(dir.path());
        bash(&c, "cd a && cd b").await;
        assert!(c.cwd().ends_with("a/b"));
        bash(&c, "(cd /)").await;
        assert!(
            c.cwd().ends_with("a/b"),
            "a subshell must not move the session"
        );
        assert!(bash(&c, "pwd").await.ends_with("a/b"));
    }

    #[tokio::test]
    async fn bash_timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = Bash
            .run(
                json!({"command": "sleep 30 & sleep 30; echo never", "timeout": 1}),
                &c,
            )
            .await
            .unwrap();
        assert!(out.contains("timed out after 1s"), "{out}");
        assert!(!out.contains("never"));
    }

    #[tokio::test]
    async fn cancelling_a_command_kills_its_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let pidfile = dir.path().join("pid");
        let cmd = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let run = Bash.run(json!({ "command": cmd }), &c);
        // Dropping the future is what a cancelled turn does.
        assert!(
            tokio::time::timeout(Duration::from_millis(500), run)
                .await
                .is_err()
        );
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut alive = true;
        for _ in 0..50 {
            // SAFETY: signal 0 only checks that the process exists.
            alive = unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid);
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive, "the background child {pid} survived the cancel");
    }

    fn is_zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split_whitespace().nth(2) == Some("Z"))
            .unwrap_or(true)
    }

    #[tokio::test]
    async fn pushd_and_cd_dash_move_the_session_like_bash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x/y")).unwrap();
        let c = ctx(dir.path());
        bash(&c, "pushd x/y >/dev/null").await;
        assert!(c.cwd().ends_with("x/y"));
        bash(&c, "cd .. && cd - >/dev/null").await;
        assert!(c.cwd().ends_with("x/y"), "{}", c.cwd().display());
    }

    #[tokio::test]
    async fn dangerous_commands_are_blocked_before_they_run() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let marker = dir.path().join("ran");
        let cmd = format!("touch {} && rm -rf /", marker.display());
        let err = Bash.run(json!({ "command": cmd }), &c).await.unwrap_err();
        assert!(
            err.to_string().starts_with("blocked by the safety gate: "),
            "{err}"
        );
        assert!(!marker.exists(), "nothing of a blocked command runs");
    }

    #[tokio::test]
    async fn bash_rejects_arguments_that_do_not_fit() {
        let dir = tempfile::tempdir().unwrap();
        let err = Bash
            .run(json!({"cmd": "ls"}), &ctx(dir.path()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `cmd`"), "{err}");
    }

    #[test]
    fn long_output_keeps_head_and_tail_and_saves_the_rest() {
        let out: String = (0..3000).map(|i| format!("{i:07}\n")).collect();
        let cut = truncate_output(out);
        assert!(cut.starts_with("0000000\n"));
        assert!(cut.contains("truncated (24000 chars total; full output saved to "));
        assert!(cut.ends_with("0002999\n"));
        let path = cut
            .split("saved to ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap().len(), 24000);
        std::fs::remove_file(path).unwrap();
    }
}
