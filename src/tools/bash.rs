//! `bash`: run a shell command in the session's working directory.
//!
//! The command runs in its own process group with stdin closed; a timeout or a cancelled turn
//! kills the whole group. The directory the shell ends in is learned from the shell itself (an
//! EXIT trap writes `pwd -P` to a file), so `cd a && cd b`, `pushd`, `cd -` and subshells behave
//! exactly as bash does. Whether a command may run at all is decided before it gets here (the
//! dispatcher asks the policy, which includes the dangerous-command gate); this file only runs.
//!
//! Output is read as it comes and kept in bounded memory (`capture`): only what a reply can
//! show stays in memory, the rest goes to a file in the session's spill directory (`spill`),
//! cut at 64 MiB; `reply` puts the reply together and names that file when it cut the output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinSet;

use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;
use crate::sandbox::Confinement;
use capture::Capture;
pub use spill::SpillDir;

mod blocked;
mod capture;
mod reply;
mod spill;

const DEFAULT_TIMEOUT: u64 = 120;
const MAX_TIMEOUT: u64 = 600;
const MAX_OUTPUT: usize = 15_000;
const HEAD: usize = 6_000;
const TAIL: usize = 3_000;
/// How long to wait for more output after the shell exits before giving up on processes it
/// left holding the pipes.
const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// The longest output may keep flowing after the shell exits.
const MAX_DRAIN: Duration = Duration::from_secs(5);

/// The provider key variables corecoder itself reads: never passed to a shell by default.
const PROVIDER_KEYS: &[&str] = &["CORECODER_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY"];
/// Name fragments of variables that usually hold credentials (matched case-insensitively).
const SECRET_WORDS: &[&str] = &["KEY", "SECRET", "TOKEN", "PASSWORD"];

pub struct Bash {
    /// Variables of corecoder's environment the shell does not get.
    hidden: Vec<String>,
    /// Where outputs too long for a reply are saved; shared with the session, which removes
    /// it at its end.
    spill: Arc<SpillDir>,
}

impl Default for Bash {
    /// Hides the process environment's secrets, keeping none; saves long outputs in a spill
    /// directory of its own under the temp directory, removed when the tool is dropped.
    fn default() -> Self {
        Bash::new(&[], Arc::new(SpillDir::new(std::env::temp_dir())))
    }
}

impl Bash {
    /// A shell whose environment lacks corecoder's secrets, except the names in `keep`
    /// (`[shell_env] keep`), saving long outputs in `spill`.
    pub fn new(keep: &[String], spill: Arc<SpillDir>) -> Self {
        let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
        Bash {
            hidden: hidden_vars(names, keep),
            spill,
        }
    }
}

/// Which of `names` a shell must not see: the provider keys and every name containing KEY,
/// SECRET, TOKEN or PASSWORD, less the ones the user chose to keep.
pub fn hidden_vars(names: impl Iterator<Item = String>, keep: &[String]) -> Vec<String> {
    names
        .filter(|name| {
            let upper = name.to_ascii_uppercase();
            (PROVIDER_KEYS.contains(&name.as_str())
                || SECRET_WORDS.iter().any(|w| upper.contains(w)))
                && !keep.contains(name)
        })
        .collect()
}

#[async_trait]
impl Tool for Bash {
    fn name(&self) -> &str {
        "bash"
    }

    fn description(&self) -> &str {
        "Execute a shell command. Returns stdout, stderr, and exit code. Use this for running \
         tests, installing packages, git operations, etc. A `cd` persists between calls."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The shell command to run"},
                "timeout": {"type": "integer", "description": "Timeout in seconds (default 120, max 600)"},
                "unsandboxed": {"type": "boolean", "description": "Run outside the sandbox (only when a command failed because of it and truly needs more; the user is always asked)"},
                "justification": {"type": "string", "description": "With unsandboxed: why the command needs to run outside the sandbox, shown to the user"}
            },
            "required": ["command"]
        })
    }

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Exec {
            command: args.command,
            cwd: ctx.cwd(),
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let timeout = args
            .timeout
            .unwrap_or(DEFAULT_TIMEOUT)
            .clamp(1, MAX_TIMEOUT);
        let cwd = ctx.cwd();
        let run = run_command(
            &args.command,
            &cwd,
            &self.hidden,
            Duration::from_secs(timeout),
            &self.spill,
            &ctx.sandbox,
        )
        .await?;
        if let Some(dir) = run.final_dir.filter(|d| d.is_dir() && *d != cwd) {
            ctx.set_cwd(dir);
        }
        let timed_out = run.timed_out.then_some(timeout);
        // Errors often go to stdout too (`2>&1`): look at the end of both.
        let blocked = match &ctx.sandbox {
            Confinement::Sandboxed(prepared) if run.status != Some(0) => {
                let tail = format!("{}\n{}", run.stdout.last(4000), run.stderr.last(4000));
                blocked::note(&tail, prepared)
            }
            _ => None,
        };
        let text = reply::reply(run.stdout, run.stderr, run.status, timed_out, &self.spill);
        Ok(match blocked {
            Some(note) => format!("{text}\n{note}"),
            None => text,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    command: String,
    timeout: Option<u64>,
    /// Read by the dispatcher, which asks the person and runs the call outside the sandbox
    /// only with their yes; the tool itself just runs under what it is given.
    #[allow(dead_code)]
    unsandboxed: Option<bool>,
    #[allow(dead_code)]
    justification: Option<String>,
}

struct CommandRun {
    stdout: Capture,
    stderr: Capture,
    status: Option<i32>,
    timed_out: bool,
    final_dir: Option<PathBuf>,
}

/// Kills the process group when dropped: covers timeouts and cancelled turns alike (hooks use
/// it too).
pub(crate) struct GroupKiller(pub(crate) Option<i32>);

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

/// `bash` when there is one, else `sh` (hooks run their commands with it too).
pub(crate) fn shell() -> &'static str {
    if Path::new("/bin/bash").exists() || Path::new("/usr/bin/bash").exists() {
        "bash"
    } else {
        "sh"
    }
}

async fn run_command(
    command: &str,
    cwd: &Path,
    hidden: &[String],
    timeout: Duration,
    spill: &Arc<SpillDir>,
    sandbox: &Confinement,
) -> Result<CommandRun, ToolError> {
    if let Confinement::Refused(why) = sandbox {
        return Err(ToolError::failed(why.clone()));
    }
    // In the spill directory, so a killed corecoder leaves it where the next start looks.
    let cwd_file = spill
        .file()
        .map_err(|e| ToolError::failed(format!("cannot create a temp file: {e}")))?;
    let script = format!("trap 'pwd -P >\"$__CORECODER_CWD_FILE\" 2>/dev/null' EXIT\n{command}");
    let mut shell = Command::new(shell());
    for name in hidden {
        shell.env_remove(name);
    }
    if let Confinement::Sandboxed(prepared) = sandbox {
        // Applied in the child between fork and exec: the shell and everything it starts
        // inherit it.
        prepared.install_tokio(&mut shell);
    }
    let mut child = shell
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
    let (out_buf, err_buf) = (Captured::default(), Captured::default());
    let mut readers = JoinSet::new();
    readers.spawn(read_into(
        child.stdout.take(),
        out_buf.clone(),
        spill.clone(),
    ));
    readers.spawn(read_into(
        child.stderr.take(),
        err_buf.clone(),
        spill.clone(),
    ));
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
    // Read on while output still flows (a big output drains after the shell exits); stop once
    // both pipes are closed, or nothing arrived for a grace period (a background process holds
    // them). What was read is kept either way.
    let read = || out_buf.bytes_read() + err_buf.bytes_read();
    // A background process that never stops printing must not keep the call open forever.
    let deadline = tokio::time::Instant::now() + MAX_DRAIN;
    while tokio::time::Instant::now() < deadline {
        let before = read();
        match tokio::time::timeout(DRAIN_GRACE, readers.join_next()).await {
            Ok(None) => break,
            Err(_) if read() == before => break,
            Ok(Some(_)) | Err(_) => {}
        }
    }
    readers.abort_all();
    // An aborted reader stops at its next read; after this none feeds its capture any more.
    while readers.join_next().await.is_some() {}
    drop(killer);
    let (stdout, stderr) = (out_buf.take(spill), err_buf.take(spill));
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

/// What a pipe delivered so far, shared between its reader and the collector, so nothing read
/// is lost when the collector stops waiting.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Capture>>);

impl Captured {
    fn bytes_read(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes_read()
    }

    /// The capture, its unfinished last character (if any) counted.
    fn take(&self, spill: &SpillDir) -> Capture {
        let mut capture =
            std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        capture.finish(spill);
        capture
    }
}

async fn read_into<R: AsyncRead + Unpin>(pipe: Option<R>, into: Captured, spill: Arc<SpillDir>) {
    let Some(mut pipe) = pipe else {
        return;
    };
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        let mut capture = into.0.lock().unwrap_or_else(PoisonError::into_inner);
        capture.feed(&chunk[..n], &spill);
    }
}

#[cfg(test)]
mod tests;
