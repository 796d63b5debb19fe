//! Running one hook command: `bash -c COMMAND` (or `sh`) in its own process group, the event's
//! JSON on stdin, corecoder's environment minus the secrets the shell does not get either.
//!
//! The hook's whole process group is killed when it times out, when the call that waits for it
//! is dropped (Ctrl-C), and right after it exits: a hook that leaves a background process
//! holding its pipes does not hold the agent. Output beyond [`MAX_OUTPUT`] bytes per stream is
//! read and dropped, so a chatty hook cannot fill memory.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::task::JoinSet;

use crate::tools::bash::{GroupKiller, shell};

/// Bytes kept of each of a hook's stdout and stderr.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// How long the pipes may stay open after the hook exited (a background child holds them).
const DRAIN_GRACE: Duration = Duration::from_millis(100);

/// How one run ended.
#[derive(Debug, Default)]
pub struct Finished {
    /// `None` when a signal ended it (or it timed out).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// What a hook runs with besides its command.
pub struct Spawn<'a> {
    pub cwd: &'a Path,
    /// Variables removed from the inherited environment.
    pub hidden: &'a [String],
    /// Variables added (`CORECODER_PROJECT_DIR`).
    pub extra: &'a [(&'a str, String)],
    pub stdin: Vec<u8>,
    pub timeout: Duration,
}

pub async fn run(command: &str, spawn: Spawn<'_>) -> std::io::Result<Finished> {
    let mut cmd = Command::new(shell());
    for name in spawn.hidden {
        cmd.env_remove(name);
    }
    for (k, v) in spawn.extra {
        cmd.env(k, v);
    }
    let mut child = cmd
        .arg("-c")
        .arg(command)
        .current_dir(spawn.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    // Killed on timeout, on exit and when the caller's future is dropped alike.
    let killer = GroupKiller(child.id().map(|p| p as i32));
    let stdin = child.stdin.take();
    let input = spawn.stdin;
    let (out, err) = (Captured::default(), Captured::default());
    let mut tasks = JoinSet::new();
    // A hook that never reads its stdin must not block us: the write runs beside the wait,
    // and a closed pipe is not an error.
    tasks.spawn(async move {
        if let Some(mut pipe) = stdin {
            let _ = pipe.write_all(&input).await;
        }
    });
    let mut readers = JoinSet::new();
    readers.spawn(out.clone().fill(child.stdout.take()));
    readers.spawn(err.clone().fill(child.stderr.take()));
    let (code, timed_out) = match tokio::time::timeout(spawn.timeout, child.wait()).await {
        Ok(status) => (status.ok().and_then(|s| s.code()), false),
        Err(_) => (None, true),
    };
    tasks.abort_all();
    if !timed_out {
        // Normally both pipes close with the hook; a background child may hold them.
        let _ = tokio::time::timeout(DRAIN_GRACE, async {
            while readers.join_next().await.is_some() {}
        })
        .await;
    }
    drop(killer);
    // Killing the group closed the pipes; what was read before is kept either way.
    let _ = tokio::time::timeout(DRAIN_GRACE, async {
        while readers.join_next().await.is_some() {}
    })
    .await;
    readers.abort_all();
    Ok(Finished {
        code,
        stdout: out.text(),
        stderr: err.text(),
        timed_out,
    })
}

/// What one pipe delivered so far, shared with its reader so nothing read is lost when the
/// reader is stopped.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    async fn fill(self, pipe: Option<impl AsyncRead + Unpin>) {
        let Some(mut pipe) = pipe else {
            return;
        };
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let room = MAX_OUTPUT.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
    }

    fn text(&self) -> String {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&kept).into_owned()
    }
}
