//! The stdio transport: the server as a child process speaking one JSON message per line.
//!
//! The child leads its own process group, so shutdown reaches what it started (`npx` → `sh` →
//! `node`: killing only `npx` left the other two running). Its stderr goes to the server's log,
//! never to the terminal; stdout lines that are not JSON (banners, stray prints) are skipped and
//! noted there; CRLF is fine. A line longer than [`MAX_LINE`] is dropped whole rather than
//! held. Shutdown: close stdin, wait 2 s, SIGTERM the group, wait 2 s, SIGKILL it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, watch};

use super::log::ServerLog;

/// The longest stdout line read: a larger message is dropped (and logged), never buffered.
pub const MAX_LINE: usize = 64 << 20;
/// How long the server gets after stdin closes, and again after SIGTERM.
pub const GRACE: Duration = Duration::from_secs(2);

/// A running server process.
pub struct StdioProcess {
    child: Mutex<Option<Child>>,
    pgid: Option<i32>,
    /// `true` closes stdin (the writer task drops it).
    close_stdin: watch::Sender<bool>,
}

/// What to start, and with which environment (already filtered by the caller).
pub struct Spawn<'a> {
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: &'a Path,
}

pub type Channels = (mpsc::UnboundedSender<Value>, mpsc::UnboundedReceiver<Value>);

impl StdioProcess {
    pub fn spawn(spec: &Spawn, log: Arc<ServerLog>) -> std::io::Result<(StdioProcess, Channels)> {
        let mut child = Command::new(spec.command)
            .args(spec.args)
            .env_clear()
            .envs(spec.env)
            .current_dir(spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let pgid = child.id().and_then(|id| i32::try_from(id).ok());
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (close_tx, close_rx) = watch::channel(false);
        if let Some(stdin) = child.stdin.take() {
            tokio::spawn(write_lines(stdin, out_rx, close_rx));
        }
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_messages(BufReader::new(stdout), in_tx, log.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr);
                let mut buf = Vec::new();
                // Raw bytes: a server's stderr need not be UTF-8.
                while let Ok(n) = read_bounded(&mut lines, &mut buf, 64 << 10).await {
                    if n == 0 {
                        break;
                    }
                    log.push(&String::from_utf8_lossy(&buf));
                }
            });
        }
        let process = StdioProcess {
            child: Mutex::new(Some(child)),
            pgid,
            close_stdin: close_tx,
        };
        Ok((process, (out_tx, in_rx)))
    }

    /// Close stdin, 2 s, SIGTERM the group, 2 s, SIGKILL it. Whatever is left of the group
    /// when the leader has gone is killed too.
    pub async fn shutdown(&self) {
        let _ = self.close_stdin.send(true);
        let child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut child) = child else {
            return;
        };
        let exited = tokio::time::timeout(GRACE, child.wait()).await.is_ok();
        if !exited {
            self.signal(libc::SIGTERM);
            if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
                self.signal(libc::SIGKILL);
                let _ = child.wait().await;
            }
        }
        if self.group_alive() {
            self.signal(libc::SIGKILL);
        }
    }

    fn signal(&self, sig: i32) {
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg only sends a signal; a group that no longer exists is ESRCH.
            unsafe {
                libc::killpg(pgid, sig);
            }
        }
    }

    fn group_alive(&self) -> bool {
        // SAFETY: signal 0 checks for existence without sending anything.
        self.pgid
            .is_some_and(|pgid| unsafe { libc::killpg(pgid, 0) } == 0)
    }
}

impl Drop for StdioProcess {
    /// A process not shut down (a panic, an early return) must not outlive corecoder.
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        if child.is_some() {
            self.signal(libc::SIGKILL);
        }
    }
}

async fn write_lines(
    mut stdin: ChildStdin,
    mut outgoing: mpsc::UnboundedReceiver<Value>,
    mut close: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            msg = outgoing.recv() => {
                let Some(msg) = msg else { break };
                let mut line = msg.to_string();
                line.push('\n');
                if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
            _ = close.changed() => break,
        }
    }
    // Dropping stdin here is the "close stdin" step of shutdown.
}

async fn read_messages(
    mut stdout: impl AsyncBufRead + Unpin,
    incoming: mpsc::UnboundedSender<Value>,
    log: Arc<ServerLog>,
) {
    let mut buf = Vec::new();
    loop {
        match read_bounded(&mut stdout, &mut buf, MAX_LINE).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if buf.len() > MAX_LINE {
            log.push(&format!("dropped a stdout line over {MAX_LINE} bytes"));
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Array(batch)) => batch.into_iter().for_each(|m| {
                let _ = incoming.send(m);
            }),
            Ok(msg) => {
                let _ = incoming.send(msg);
            }
            Err(_) => log.push(&format!("skipped a stdout line that is not JSON: {line}")),
        }
    }
}

/// Reads one line into `buf` (without its `\n`); past `limit` bytes the rest of the line is
/// consumed and thrown away, leaving `buf` at `limit + 1` bytes so the caller can tell.
/// Returns the bytes consumed (0 at end of stream).
async fn read_bounded(
    reader: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<usize> {
    buf.clear();
    let mut consumed = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(consumed);
        }
        let (chunk, found) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], Some(at + 1)),
            None => (available, None),
        };
        let room = (limit + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = found.unwrap_or(available.len());
        reader.consume(used);
        consumed += used;
        if found.is_some() {
            return Ok(consumed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn banners_crlf_batches_and_huge_lines_are_handled() {
        let input = format!(
            "Server starting...\r\n{{\"id\":1,\"result\":{{}}}}\r\n\n[{{\"id\":2}},{{\"id\":3}}]\n{}\n{{\"id\":4}}",
            "x".repeat(100)
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let log = Arc::new(ServerLog::default());
        // A tiny limit stands in for MAX_LINE: read_bounded is what enforces it.
        let mut reader = BufReader::with_capacity(16, input.as_bytes());
        let mut buf = Vec::new();
        let mut lens = Vec::new();
        while read_bounded(&mut reader, &mut buf, 50).await.unwrap() > 0 {
            lens.push(buf.len());
        }
        assert_eq!(lens, [19, 21, 0, 19, 51, 8]);
        read_messages(BufReader::new(input.as_bytes()), tx, log.clone()).await;
        let mut ids = Vec::new();
        while let Ok(m) = rx.try_recv() {
            ids.push(m["id"].as_u64().unwrap());
        }
        assert_eq!(ids, [1, 2, 3, 4]);
        let logged = log.tail(10).join("\n");
        assert!(logged.contains("not JSON: Server starting..."), "{logged}");
    }
}
