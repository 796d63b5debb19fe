//! The terminal's approval prompt: shows exactly what would happen and reads one key.
//!
//! For `bash` the command and its directory; for `edit_file`/`write_file` the coloured diff
//! that would be applied (a new file: its first lines); for a path outside the workspace, the
//! policy's reason says so in words. Keys: `y` yes once, `a` yes and don't ask again (the
//! rules it adds are shown literally), `n` no with an optional sentence for the model, Esc no,
//! Ctrl-C stops the turn. The key is read from `/dev/tty` in raw mode (the editor is not
//! active during a turn), so piped stdin never answers a prompt.
#![allow(clippy::print_stderr, clippy::disallowed_methods)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;

use async_trait::async_trait;

use super::{BOLD, DIM, RESET, SpinnerHandle, YELLOW};
use crate::approval::{Answer, ApprovalRequest, Approver, Request};
use crate::markdown::render_diff;
use crate::policy::{Mode, Rule};

pub struct TerminalApprover {
    color: bool,
    spinner: SpinnerHandle,
}

impl TerminalApprover {
    pub fn new(color: bool, spinner: SpinnerHandle) -> Self {
        TerminalApprover { color, spinner }
    }
}

#[async_trait]
impl Approver for TerminalApprover {
    async fn ask(&self, request: &ApprovalRequest) -> Answer {
        self.spinner.stop();
        let _ = write!(std::io::stderr(), "{}", prompt_text(request, self.color));
        let request = request.clone();
        let color = self.color;
        let answer = tokio::task::spawn_blocking(move || read_answer(&request.request))
            .await
            .unwrap_or(Answer::Stop);
        let _ = writeln!(std::io::stderr(), "{}", paint(color, DIM, &said(&answer)));
        answer
    }
}

fn paint(color: bool, style: &str, text: &str) -> String {
    if color {
        format!("{style}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn rules_text(rules: &[Rule]) -> String {
    let shown: Vec<String> = rules.iter().map(|r| visible(&r.to_string())).collect();
    shown.join(", ")
}

/// The model's text as it will be shown, with nothing that moves the cursor, erases, hides or
/// reorders what is on screen: control characters (a `\r` then `ESC[K` would print a harmless
/// command over a dangerous one) and bidirectional overrides become `�`. Newlines and tabs stay.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if (c.is_control() && c != '\n' && c != '\t') || bidi {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// What the prompt shows, ending with the keys line (pure, for tests).
pub fn prompt_text(request: &ApprovalRequest, color: bool) -> String {
    let who = if request.subagent { "sub-agent: " } else { "" };
    let mut out = String::from("\n");
    match &request.request {
        Request::Tool {
            tool,
            subject,
            cwd,
            reason,
            preview,
            suggested,
        } => {
            let subject = visible(subject);
            let lines = subject.lines().count();
            let size = if lines > 20 {
                format!(" ({lines} lines)")
            } else {
                String::new()
            };
            let head = match tool.as_str() {
                "bash" => format!("{who}{tool} wants to run, in {}{size}:", cwd.display()),
                "write_file" | "edit_file" => format!("{who}{tool} wants to change {subject}:"),
                _ => format!("{who}{tool} wants to run:"),
            };
            out.push_str(&paint(color, BOLD, &head));
            out.push('\n');
            if tool == "bash" || preview.is_none() {
                for line in subject.lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            if let Some(diff) = preview {
                for line in render_diff(&visible(diff), color).lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            out.push_str(&paint(color, YELLOW, &format!("  ({})", visible(reason))));
            out.push('\n');
            let always = if suggested.is_empty() {
                String::new()
            } else {
                format!("  [a] always allow {}", rules_text(suggested))
            };
            out.push_str(&format!(
                "  [y] yes{always}  [n] no (Esc)  [Ctrl-C] stop the turn > "
            ));
        }
        Request::McpServer {
            name,
            target,
            origin,
        } => {
            let head = format!(
                "{} wants to start the MCP server {}:",
                origin.display(),
                visible(name)
            );
            out.push_str(&paint(color, BOLD, &head));
            out.push_str(&format!("\n    {}\n", visible(target)));
            let why = "  (a project's file chose this command; it runs with your permissions)";
            out.push_str(&paint(color, YELLOW, why));
            out.push_str("\n  [y] yes, this time  [a] always, in this project  [n] no (Esc) > ");
        }
        Request::Plan { plan } => {
            out.push_str(&paint(color, BOLD, &format!("{who}The plan:")));
            out.push('\n');
            for line in visible(plan).lines() {
                out.push_str(&format!("    {line}\n"));
            }
            out.push_str(
                "  Go on with it? [d] yes, asking before changes (default mode)  \
                 [a] yes, accepting edits (acceptEdits)  [n] keep planning (Esc) > ",
            );
        }
    }
    out
}

/// The answer in a few words, shown after the key.
fn said(answer: &Answer) -> String {
    match answer {
        Answer::Once => "yes".into(),
        Answer::Always(rules) if rules.is_empty() => "yes, always".into(),
        Answer::Always(rules) => format!("yes, and from now on: {}", rules_text(rules)),
        Answer::Deny(_) => "no".into(),
        Answer::Stop => "stopped".into(),
        Answer::SwitchMode(mode) => format!("switching to {mode} mode"),
    }
}

/// The terminal in raw mode for as long as this lives; cooked again when dropped.
struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    fn enter(tty: &File) -> Option<RawMode> {
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for a valid open descriptor and
        // fails (returning non-zero) otherwise, which we check.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        // No line editing, no echo, and Ctrl-C arrives as a byte rather than a signal.
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: fd is open and raw is a termios obtained from tcgetattr.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        // Keys typed before the question was on screen must not answer it: a `y` meant for
        // something else would approve a command nobody has read.
        // SAFETY: discards pending input of an open terminal; no memory is involved.
        unsafe {
            libc::tcflush(fd, libc::TCIFLUSH);
        }
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enter` on the same open descriptor.
        unsafe {
            libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
        }
    }
}

/// Whether another byte arrives within a few milliseconds (an escape sequence, not Esc).
fn more_within(tty: &File, ms: i32) -> bool {
    let mut fds = libc::pollfd {
        fd: tty.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fds, 1, ms) > 0 }
}

fn read_answer(request: &Request) -> Answer {
    let Ok(mut tty) = File::options().read(true).write(true).open("/dev/tty") else {
        return Answer::Deny(Some("no terminal to ask the user".into()));
    };
    let key = {
        let Some(_raw) = RawMode::enter(&tty) else {
            return Answer::Deny(Some("no terminal to ask the user".into()));
        };
        read_key(&mut tty, request)
    };
    match key {
        Key::Answer(a) => a,
        Key::No => {
            let _ = write!(tty, "\n  Tell the model why (Enter to skip): ");
            let mut line = String::new();
            let _ = BufReader::new(&tty).read_line(&mut line);
            let line = line.trim().to_string();
            Answer::Deny(Some(line).filter(|l| !l.is_empty()))
        }
    }
}

enum Key {
    Answer(Answer),
    /// `n`: a sentence for the model may follow.
    No,
}

fn read_key(tty: &mut File, request: &Request) -> Key {
    let mut byte = [0u8; 1];
    loop {
        if tty.read(&mut byte).unwrap_or(0) == 0 {
            return Key::Answer(Answer::Deny(None));
        }
        let suggested = match request {
            Request::Tool { suggested, .. } => Some(suggested),
            Request::Plan { .. } | Request::McpServer { .. } => None,
        };
        let server = matches!(request, Request::McpServer { .. });
        match (byte[0], suggested) {
            (3, _) => return Key::Answer(Answer::Stop),
            (b'n' | b'N', _) if server => return Key::Answer(Answer::Deny(None)),
            (b'n' | b'N', _) => return Key::No,
            (b'y' | b'Y', _) if server => return Key::Answer(Answer::Once),
            (b'a' | b'A', _) if server => return Key::Answer(Answer::Always(Vec::new())),
            (b, _) if server && b != 0x1b => {}
            (0x1b, _) => {
                if !more_within(tty, 30) {
                    return Key::Answer(Answer::Deny(None));
                }
                // An arrow or function key: drain its sequence and keep waiting.
                while more_within(tty, 5) {
                    let _ = tty.read(&mut byte);
                }
            }
            (b'y' | b'Y', Some(_)) => return Key::Answer(Answer::Once),
            (b'a' | b'A', Some(rules)) if !rules.is_empty() => {
                return Key::Answer(Answer::Always(rules.clone()));
            }
            (b'd' | b'D', None) => return Key::Answer(Answer::SwitchMode(Mode::Default)),
            (b'a' | b'A', None) => return Key::Answer(Answer::SwitchMode(Mode::AcceptEdits)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn model_text_cannot_redraw_the_prompt() {
        let request = ApprovalRequest {
            request: Request::Tool {
                tool: "bash".into(),
                subject: "git push --force origin main\r\x1b[K    git status \u{202E}x".into(),
                cwd: PathBuf::from("/p"),
                reason: "bash commands ask in default mode\x1b[8m".into(),
                preview: None,
                suggested: Vec::new(),
            },
            subagent: false,
        };
        let shown = prompt_text(&request, false);
        assert!(!shown.contains('\x1b') && !shown.contains('\r') && !shown.contains('\u{202E}'));
        assert!(
            shown.contains("git push --force origin main\u{FFFD}\u{FFFD}[K    git status"),
            "{shown}"
        );
        assert_eq!(visible("a\tb\nc"), "a\tb\nc");
    }
}
