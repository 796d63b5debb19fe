//! Hooks: the person's own commands, run at five points of a session (Claude Code's events,
//! CoreCoder 0.8's file). Each gets a JSON object on stdin and answers with its exit code, and
//! optionally a JSON decision on stdout:
//!
//! - exit 0: go on; plain stdout of `UserPromptSubmit` and `SessionStart` is added to the prompt;
//! - exit 2: block: a `PreToolUse` call does not run (the model gets stderr as the result), a
//!   `UserPromptSubmit` prompt is not sent, a `Stop` sends the model back to work with stderr
//!   as the reason;
//! - any other exit, a timeout, a command that cannot start: a warning naming the hook, and go
//!   on (a broken hook must not stop the person's work; `exit 1` is not a block);
//! - `{"decision": "block"|"allow"|"ask", "reason": "…"}` on stdout (with exit 0) decides the
//!   same way; `allow` lets a `PreToolUse` call skip the permission prompt, never the hard floor
//!   (the dispatcher decides as `--yes` would).
//!
//! `PreToolUse` and `PostToolUse` are steps of the dispatcher, so the parent's calls and every
//! sub-agent's pass them alike; the other three belong to the parent's turn (`agent`). Nothing
//! here prints: warnings go out as `AgentEvent::Notice`. Where definitions come from, and why a
//! project's own need trust, is `config::hooks`; spawning one command is `run`.

pub mod run;
mod said;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use regex::Regex;
use serde_json::{Value, json};

use crate::event::AgentEvent;
use crate::message::ToolCall;
use crate::tools::{ToolContext, ToolOutput};
use said::{Said, add_context, first_line, read_stdout, reason, short};

/// How many times per turn `Stop` hooks may send the model back before the turn ends anyway.
pub const MAX_STOP_CONTINUES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    PreToolUse,
    PostToolUse,
    UserPromptSubmit,
    Stop,
    SessionStart,
}

impl HookEvent {
    pub const NAMES: &'static str = "PreToolUse, PostToolUse, UserPromptSubmit, Stop, SessionStart";

    pub const ALL: [HookEvent; 5] = [
        HookEvent::PreToolUse,
        HookEvent::PostToolUse,
        HookEvent::UserPromptSubmit,
        HookEvent::Stop,
        HookEvent::SessionStart,
    ];

    /// The event a config file names (Claude Code's spelling, case-sensitive).
    pub fn parse(name: &str) -> Option<HookEvent> {
        HookEvent::ALL.into_iter().find(|e| e.to_string() == name)
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which tools a hook is for. Only the tool events look at it.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// `*`, empty or absent.
    All,
    /// A plain name (`bash`, `mcp__github__create_issue`): that tool only.
    Name(String),
    /// Anything else is a regex matched against the whole name (`edit_file|write_file`).
    Pattern(Regex),
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(Matcher::All);
        }
        if text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Ok(Matcher::Name(text.to_string()));
        }
        Regex::new(&format!("^(?:{text})$"))
            .map(Matcher::Pattern)
            .map_err(|e| format!("matcher {text:?} is not a valid regex: {e}"))
    }

    pub fn matches(&self, tool: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Name(name) => name == tool,
            Matcher::Pattern(re) => re.is_match(tool),
        }
    }
}

/// One configured hook.
#[derive(Debug, Clone)]
pub struct HookDef {
    pub event: HookEvent,
    pub matcher: Matcher,
    pub command: String,
    pub timeout: Duration,
    /// The file it came from, for warnings.
    pub origin: String,
}

/// What the `PreToolUse` hooks decided about a call.
#[derive(Debug, Clone, PartialEq)]
pub enum PreVerdict {
    /// No opinion: the policy decides as usual.
    Run,
    /// Skip the permission prompt (the hard floor and deny rules still hold).
    Allow,
    /// Ask the person even where the policy would allow.
    Ask(String),
    /// Do not run; the text is the call's result.
    Block(String),
}

/// The session's hooks; shared by the dispatcher, the parent agent and its sub-agents.
#[derive(Debug, Default)]
pub struct Hooks {
    defs: Vec<HookDef>,
    /// Variables hooks do not see (the shell's secret filter).
    hidden: Vec<String>,
    /// `CORECODER_PROJECT_DIR` for the hook.
    project_dir: PathBuf,
    session_id: Mutex<String>,
    /// Whether `SessionStart` has run in this process.
    started: AtomicBool,
}

impl Hooks {
    pub fn new(defs: Vec<HookDef>, hidden: Vec<String>, project_dir: PathBuf) -> Hooks {
        Hooks {
            defs,
            hidden,
            project_dir,
            ..Hooks::default()
        }
    }

    /// The session id hooks are told (it changes with `/reset` and `/save NAME`).
    pub fn set_session(&self, id: &str) {
        *self
            .session_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = id.to_string();
    }

    /// What `/status` says: how many hooks of each event are in force.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = HookEvent::ALL
            .iter()
            .map(|e| (e, self.defs.iter().filter(|d| d.event == *e).count()))
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| format!("{e} {n}"))
            .collect();
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        }
    }

    /// Whether a call of `tool` has `PostToolUse` hooks (the dispatcher keeps its arguments).
    pub fn has_post(&self, tool: &str) -> bool {
        !self.matching(HookEvent::PostToolUse, Some(tool)).is_empty()
    }

    fn matching(&self, event: HookEvent, tool: Option<&str>) -> Vec<&HookDef> {
        let hit = |d: &&HookDef| d.event == event && tool.is_none_or(|t| d.matcher.matches(t));
        self.defs.iter().filter(hit).collect()
    }

    /// The `PreToolUse` hooks for a call, in order; the first block wins, `ask` beats `allow`.
    pub async fn pre_tool_use(
        &self,
        call: &ToolCall,
        args: &Value,
        ctx: &ToolContext,
    ) -> PreVerdict {
        let mut verdict = PreVerdict::Run;
        for def in self.matching(HookEvent::PreToolUse, Some(&call.function.name)) {
            let input = tool_input(call, args);
            match self.fire(def, input, ctx).await {
                Said::Block(reason) => {
                    return PreVerdict::Block(format!("blocked by a PreToolUse hook: {reason}"));
                }
                Said::Ask(reason) => verdict = PreVerdict::Ask(reason),
                Said::Allow if verdict == PreVerdict::Run => verdict = PreVerdict::Allow,
                _ => {}
            }
        }
        verdict
    }

    /// The `PostToolUse` hooks for a call that ran; a block cannot undo it, so its reason is
    /// added to the result for the model.
    pub async fn post_tool_use(
        &self,
        call: &ToolCall,
        args: &Value,
        out: &mut ToolOutput,
        ctx: &ToolContext,
    ) {
        for def in self.matching(HookEvent::PostToolUse, Some(&call.function.name)) {
            let mut input = tool_input(call, args);
            input["tool_response"] = json!(out.text);
            input["tool_is_error"] = json!(out.is_error);
            if let Said::Block(reason) = self.fire(def, input, ctx).await {
                out.text.push_str(&format!("\n[PostToolUse hook] {reason}"));
            }
        }
    }

    /// The user's message as sent: `SessionStart` (once per process) and `UserPromptSubmit`
    /// output added to `prompt`; `Err(reason)` when a hook blocked it.
    pub async fn prompt(
        &self,
        prompt: &str,
        resumed: bool,
        ctx: &ToolContext,
    ) -> Result<String, String> {
        let mut message = prompt.to_string();
        let first = !self.started.swap(true, Ordering::SeqCst);
        if first {
            let source = if resumed { "resume" } else { "startup" };
            for def in self.matching(HookEvent::SessionStart, None) {
                let said = self.fire(def, json!({ "source": source }), ctx).await;
                add_context(&mut message, HookEvent::SessionStart, said);
            }
        }
        for def in self.matching(HookEvent::UserPromptSubmit, None) {
            match self.fire(def, json!({ "prompt": prompt }), ctx).await {
                Said::Block(reason) => {
                    // The session has not started for the model: tell the next prompt again.
                    self.started.store(!first, Ordering::SeqCst);
                    return Err(reason);
                }
                said => add_context(&mut message, HookEvent::UserPromptSubmit, said),
            }
        }
        Ok(message)
    }

    /// `Some(reason)` when a `Stop` hook sends the model back to work; `continues` counts how
    /// often it did this turn, at most [`MAX_STOP_CONTINUES`] times (then the turn ends, with a
    /// notice).
    pub async fn stop(&self, continues: &mut usize, ctx: &ToolContext) -> Option<String> {
        let reason = self.stop_once(*continues > 0, ctx).await?;
        let say = |text: String| (ctx.events)(AgentEvent::Notice(text));
        if *continues >= MAX_STOP_CONTINUES {
            say(format!(
                "a Stop hook asked the model to continue {} times in a row; the turn ends here \
                 ({reason})",
                *continues + 1
            ));
            return None;
        }
        *continues += 1;
        say(format!("a Stop hook asks the model to continue: {reason}"));
        Some(reason)
    }

    /// One pass of the `Stop` hooks. `active` is true when the model is already continuing
    /// because of one (Claude Code's `stop_hook_active`).
    async fn stop_once(&self, active: bool, ctx: &ToolContext) -> Option<String> {
        for def in self.matching(HookEvent::Stop, None) {
            if let Said::Block(reason) = self
                .fire(def, json!({ "stop_hook_active": active }), ctx)
                .await
            {
                return Some(reason);
            }
        }
        None
    }

    /// Runs one hook with the common fields added to `input`, and reads what it said; a
    /// failure is a warning to the person and "nothing".
    async fn fire(&self, def: &HookDef, mut input: Value, ctx: &ToolContext) -> Said {
        let cwd = ctx.cwd();
        input["hook_event_name"] = json!(def.event.to_string());
        input["session_id"] = json!(
            self.session_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        );
        input["cwd"] = json!(cwd);
        let extra = [(
            "CORECODER_PROJECT_DIR",
            self.project_dir.display().to_string(),
        )];
        let spawn = run::Spawn {
            cwd: &cwd,
            hidden: &self.hidden,
            extra: &extra,
            // One line, newline-terminated, so `read -r line` works as well as `jq`.
            stdin: format!("{input}\n").into_bytes(),
            timeout: def.timeout,
        };
        let warn = |what: String| {
            let name = short(&def.command);
            (ctx.events)(AgentEvent::Notice(format!(
                "{} hook `{name}` ({}) {what}; going on",
                def.event, def.origin
            )));
            Said::Nothing
        };
        let done = match run::run(&def.command, spawn).await {
            Ok(done) => done,
            Err(e) => return warn(format!("could not start: {e}")),
        };
        if done.timed_out {
            let secs = def.timeout.as_secs_f64();
            return warn(format!("timed out after {secs} s and was killed"));
        }
        match done.code {
            Some(0) => read_stdout(&done.stdout).unwrap_or_else(warn),
            Some(2) => Said::Block(reason(&done.stderr)),
            Some(code) => warn(format!("exited {code}{}", first_line(&done.stderr))),
            None => warn("was killed by a signal".to_string()),
        }
    }
}

/// The fields of the two tool events.
fn tool_input(call: &ToolCall, args: &Value) -> Value {
    json!({
        "tool_name": call.function.name,
        "tool_input": args,
        "tool_use_id": call.id,
    })
}

#[cfg(test)]
mod tests;
