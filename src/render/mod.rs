//! The only place that prints: turns `AgentEvent`s into terminal output.
//!
//! Model text goes to stdout; tool lines, reasoning, retries and notices go to stderr, so
//! `corecoder -p … > answer.md` captures only the answer. When stdout is not a terminal each
//! reply is held until it is complete: the final reply goes to stdout, intermediate ones (the
//! text before tool calls) to stderr, and a reply discarded by a stream retry never reaches
//! stdout at all. Write errors (a closed pipe) are ignored, never a panic.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

pub mod approval;
pub mod json;
mod todos;

use todos::todo_lines;
pub use todos::todos;

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::event::{AgentEvent, EventSink};
use crate::llm::usage::UsageTotals;
use crate::markdown::{MarkdownStream, render_diff};

const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

pub struct Renderer {
    color: bool,
    /// What we are waiting for, and since when: drives the spinner.
    busy: Option<(String, Instant)>,
    spinner_shown: bool,
    stream_stdout: bool,
    held: String,
    /// Where the cursor is after the last stdout write: mid-line or not.
    stdout_mid_line: bool,
    reasoning_open: bool,
    /// Renders the streamed answer as Markdown on a terminal (plain pass-through otherwise).
    markdown: MarkdownStream,
}

/// Stops the spinner while a person is asked something (it would draw over the prompt).
#[derive(Clone, Default)]
pub struct SpinnerHandle(std::sync::Weak<Mutex<Renderer>>);

impl SpinnerHandle {
    pub fn stop(&self) {
        if let Some(r) = self.0.upgrade() {
            let mut r = r.lock().unwrap_or_else(PoisonError::into_inner);
            r.clear_spinner();
            r.busy = None;
        }
    }
}

/// Colours only on a terminal, and never with `NO_COLOR` set or `TERM=dumb`.
pub fn use_color(env: &dyn Fn(&str) -> Option<String>) -> bool {
    std::io::stderr().is_terminal()
        && env("NO_COLOR").is_none_or(|v| v.is_empty())
        && env("TERM").as_deref() != Some("dumb")
}

impl Renderer {
    pub fn new(color: bool) -> Self {
        let stream_stdout = std::io::stdout().is_terminal();
        Renderer {
            color,
            busy: None,
            spinner_shown: false,
            stream_stdout,
            markdown: MarkdownStream::new(color && stream_stdout),
            held: String::new(),
            stdout_mid_line: false,
            reasoning_open: false,
        }
    }

    /// A sink that feeds this renderer from any task. On a colour terminal a small thread
    /// redraws the spinner; it only ever writes the line the spinner owns.
    pub fn into_sink(self) -> EventSink {
        self.into_parts().0
    }

    /// [`Renderer::into_sink`], plus a handle the approval prompt stops the spinner with.
    pub fn into_parts(self) -> (EventSink, SpinnerHandle) {
        let spin = self.color;
        let shared = Arc::new(Mutex::new(self));
        if spin {
            let ticker = Arc::downgrade(&shared);
            std::thread::spawn(move || {
                while let Some(r) = ticker.upgrade() {
                    r.lock().unwrap_or_else(PoisonError::into_inner).tick();
                    drop(r);
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let handle = SpinnerHandle(Arc::downgrade(&shared));
        let sink: EventSink = Arc::new(move |ev| {
            shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .handle(&ev, 0)
        });
        (sink, handle)
    }

    /// Redraws the spinner line when something has been pending for half a second.
    fn tick(&mut self) {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        let Some((label, since)) = &self.busy else {
            return;
        };
        let elapsed = since.elapsed();
        if elapsed < Duration::from_millis(500) {
            return;
        }
        let frame = FRAMES[(elapsed.as_millis() / 100) as usize % FRAMES.len()];
        let line = format!("{frame} {label} {}s", elapsed.as_secs());
        let _ = write!(std::io::stderr(), "\r\x1b[2K{}", self.paint(DIM, &line));
        self.spinner_shown = true;
    }

    fn clear_spinner(&mut self) {
        if self.spinner_shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.spinner_shown = false;
        }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn write_stdout(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        self.stdout_mid_line = !text.ends_with('\n');
    }

    fn close_reasoning(&mut self) {
        if self.reasoning_open {
            self.reasoning_open = false;
            let _ = writeln!(std::io::stderr());
        }
    }

    pub fn handle(&mut self, ev: &AgentEvent, depth: usize) {
        let indent = "  ".repeat(depth);
        self.clear_spinner();
        match ev {
            AgentEvent::Thinking if depth == 0 => {
                self.busy = Some(("thinking".to_string(), Instant::now()));
            }
            AgentEvent::Text(t) if depth == 0 => {
                self.busy = None;
                self.close_reasoning();
                if self.stream_stdout {
                    let shown = self.markdown.push(t);
                    self.write_stdout(&shown);
                } else {
                    self.held.push_str(t);
                }
            }
            AgentEvent::Reasoning(r) if depth == 0 => {
                self.busy = None;
                self.reasoning_open = true;
                let _ = write!(std::io::stderr(), "{}", self.paint(DIM, r));
            }
            AgentEvent::Discarded if depth == 0 => {
                self.close_reasoning();
                self.held.clear();
                let partial = self.markdown.finish();
                self.write_stdout(&partial);
                if self.stdout_mid_line {
                    let _ = writeln!(std::io::stdout());
                    self.stdout_mid_line = false;
                }
                let note =
                    "[stream broke: the partial reply above is discarded and will be repeated]";
                let _ = writeln!(std::io::stderr(), "{}", self.paint(YELLOW, note));
            }
            AgentEvent::ReplyDone { has_tool_calls } if depth == 0 => {
                self.busy = None;
                self.close_reasoning();
                let rest = self.markdown.finish();
                self.write_stdout(&rest);
                let held = std::mem::take(&mut self.held);
                if *has_tool_calls {
                    if !held.trim().is_empty() {
                        let _ = writeln!(std::io::stderr(), "{}", held.trim_end());
                    }
                } else if !held.is_empty() {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(held.as_bytes());
                    self.stdout_mid_line = !held.ends_with('\n');
                }
                if self.stdout_mid_line {
                    let _ = writeln!(std::io::stdout());
                    self.stdout_mid_line = false;
                }
                let _ = std::io::stdout().flush();
            }
            AgentEvent::ToolStarted {
                name, arguments, ..
            } => {
                let summary = crate::dispatch::summarize_args(arguments);
                self.close_reasoning();
                let line = format!("{indent}⏺ {name}({summary})");
                let _ = writeln!(std::io::stderr(), "{}", self.paint(DIM, &line));
                if depth == 0 {
                    self.busy = Some((format!("running {name}"), Instant::now()));
                }
            }
            AgentEvent::ToolFinished {
                name,
                output,
                is_error,
                ..
            } => {
                if depth == 0 {
                    self.busy = None;
                }
                let text = if name == "edit_file" && !*is_error {
                    // An edit is shown as its coloured diff (at most 40 lines of it).
                    let diff: Vec<&str> = output.lines().take(40).collect();
                    let body = render_diff(&(diff.join("\n") + "\n"), self.color);
                    body.lines()
                        .map(|l| format!("{indent}  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    let style = if *is_error { RED } else { DIM };
                    self.paint(style, &tool_summary(output, &indent))
                };
                let _ = writeln!(std::io::stderr(), "{text}");
            }
            AgentEvent::Compacted {
                layer,
                before,
                after,
            } => {
                let line =
                    format!("{indent}context compacted ({layer}): ~{before} → ~{after} tokens");
                let _ = writeln!(std::io::stderr(), "{}", self.paint(DIM, &line));
            }
            AgentEvent::Retrying { wait, reason } => {
                self.close_reasoning();
                let line = format!("{indent}{reason}; retrying in {:.1} s", wait.as_secs_f64());
                let _ = writeln!(std::io::stderr(), "{}", self.paint(YELLOW, &line));
            }
            AgentEvent::PermissionDenied { tool, reason, .. } => {
                self.close_reasoning();
                let line = format!("{indent}✗ {tool} denied: {reason}");
                let _ = writeln!(std::io::stderr(), "{}", self.paint(YELLOW, &line));
            }
            AgentEvent::ModeChanged(mode) => {
                let line = format!("{indent}permission mode: {mode}");
                let _ = writeln!(std::io::stderr(), "{}", self.paint(DIM, &line));
            }
            AgentEvent::Notice(text) => {
                let _ = writeln!(std::io::stderr(), "{}", self.paint(YELLOW, text));
            }
            AgentEvent::Todos(items) => {
                self.close_reasoning();
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    todo_lines(items, &indent, self.color)
                );
            }
            AgentEvent::SubAgent(inner) => self.handle(inner, depth + 1),
            // A sub-agent's own text and reasoning stay out of the parent's answer; usage is
            // summed by the agent, not shown per request.
            AgentEvent::Text(_)
            | AgentEvent::Reasoning(_)
            | AgentEvent::Discarded
            | AgentEvent::ReplyDone { .. }
            | AgentEvent::Thinking
            | AgentEvent::Usage(_) => {}
        }
    }
}

/// The first three lines of a tool's output and how many more there are.
fn tool_summary(output: &str, indent: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut shown: Vec<String> = lines
        .iter()
        .take(3)
        .map(|l| format!("{indent}  ⎿ {}", cut(l, 120)))
        .collect();
    if lines.len() > 3 {
        shown.push(format!("{indent}    … +{} lines", lines.len() - 3));
    }
    shown.join("\n")
}

fn cut(line: &str, max: usize) -> String {
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line.to_string()
    }
}

/// A message for the person, on stderr.
pub fn error(color: bool, message: &str) {
    let text = format!("Error: {message}");
    let text = if color {
        format!("{RED}{text}{RESET}")
    } else {
        text
    };
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// A neutral notice on stderr (dim on a terminal).
pub fn notice(color: bool, message: &str) {
    let text = if color {
        format!("{DIM}{message}{RESET}")
    } else {
        message.to_string()
    };
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// One dim stderr line: running token totals, and the cost when the model's price is known.
pub fn usage_summary(color: bool, totals: &UsageTotals, model: &str) {
    if totals.requests > 0 {
        notice(color, &totals_line(totals, model));
    }
}

fn totals_line(totals: &UsageTotals, model: &str) -> String {
    let mut line = format!(
        "tokens: {} prompt + {} completion = {}",
        totals.prompt_tokens,
        totals.completion_tokens,
        totals.total()
    );
    if let Some(cost) = totals.cost(model) {
        line.push_str(&format!(" (~${cost:.4})"));
    }
    line
}

/// `/tokens`: the running totals (and cost) on stdout.
pub fn totals(totals: &UsageTotals, model: &str) {
    plain(&format!("{}\n", totals_line(totals, model)));
}

/// After a REPL turn: this turn's tokens, the running total, the cost so far when known.
pub fn turn_usage(color: bool, before: &UsageTotals, after: &UsageTotals, model: &str) {
    if after.requests == before.requests {
        return;
    }
    let turn = after.total().saturating_sub(before.total());
    let mut line = format!("{turn} tokens this turn · {} in total", after.total());
    if let Some(cost) = after.cost(model) {
        line.push_str(&format!(" · ~${cost:.4}"));
    }
    notice(color, &line);
}

/// What the REPL's greeting shows.
pub struct Banner<'a> {
    pub model: &'a str,
    pub base_url: &'a str,
    pub session_id: String,
    pub resumed: usize,
    /// The permission mode's name when it is not `default`.
    pub mode: Option<&'static str>,
    /// Shown unless it is the default `workspace-write`.
    pub sandbox: crate::sandbox::SandboxMode,
}

/// The REPL's greeting.
pub fn banner(color: bool, b: &Banner) {
    let mut line = format!(
        "corecoder {} · model {}",
        env!("CARGO_PKG_VERSION"),
        b.model
    );
    if b.base_url != crate::config::DEFAULT_BASE_URL {
        line.push_str(&format!(" · {}", crate::redact::redact_urls(b.base_url)));
    }
    if let Some(mode) = b.mode {
        line.push_str(&format!(" · {mode} mode"));
    }
    match b.sandbox {
        crate::sandbox::SandboxMode::WorkspaceWrite => {}
        crate::sandbox::SandboxMode::DangerFullAccess => line.push_str(" · unsandboxed"),
        other => line.push_str(&format!(" · sandbox {other}")),
    }
    line.push_str(" · /help for commands");
    let text = if color {
        format!("{BOLD}{line}{RESET}")
    } else {
        line
    };
    let _ = writeln!(std::io::stderr(), "{text}");
    if b.resumed > 0 {
        notice(
            color,
            &format!("Resumed session {} ({} messages)", b.session_id, b.resumed),
        );
    }
}

/// `/sessions`: newest first, with model, time and first prompt.
pub fn sessions(color: bool, list: &[crate::session::SessionSummary]) {
    if list.is_empty() {
        notice(color, "No saved sessions.");
        return;
    }
    let mut out = String::new();
    for s in list {
        out.push_str(&format!(
            "  {}  ({}, {})  {}\n",
            s.id, s.model, s.saved_at, s.preview
        ));
    }
    plain(&out);
}

/// Text for the person on stdout, as is.
pub fn plain(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The REPL's prompt and plain lines on stdout.
pub fn prompt(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
