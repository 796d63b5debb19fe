//! The one place between the model's call and the tool's run.
//!
//! Every call, the parent's and every sub-agent's, goes through [`Dispatcher::run`]: resolve the
//! tool and its arguments → the `PreToolUse` hooks → the policy's decision → a person's approval
//! when the decision asks → the turn's checkpoint (before its first call that may change files)
//! → run → the `PostToolUse` hooks → the output with secrets redacted. The agent never sees a
//! decision (it gets a tool output, or a stop) and tools never see the policy. Also the one-line
//! views of a call that the terminal and the error messages use.

mod decision;
mod footprint;
pub mod order;
mod plan;
mod texts;

use texts::{ESCALATION_OFF, escalation, headless_reason, parse_arguments, subject, tool_error};
pub use texts::{expected_arguments, summarize_args};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::approval::{Answer, ApprovalRequest, Approver, Request};
use crate::event::AgentEvent;
use crate::hooks::{Hooks, PreVerdict};
use crate::message::ToolCall;
use crate::permissions::Permissions;
use crate::policy::{Action, Decision, Mode, Rule, Workspace};
use crate::sandbox::{Confinement, SandboxMode, SessionSandbox};
use crate::tools::{Tool, ToolContext, ToolOutput};
use crate::undo::Undo;

/// The person chose to stop the turn while being asked (Ctrl-C at an approval prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// A call the policy or the person refused, as `--output-format json` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    pub tool: String,
    /// The call's arguments (JSON text, as the model sent them).
    pub input: String,
    pub reason: String,
}

/// Shared by the parent agent and its sub-agents.
pub struct Dispatcher {
    permissions: Arc<Permissions>,
    /// `None` in a headless run: what would ask is denied, and the model is told how the user
    /// can allow it.
    approver: Option<Arc<dyn Approver>>,
    /// One question at a time, whatever runs in parallel.
    asking: tokio::sync::Mutex<()>,
    /// Set when the person stops the turn at a prompt; every call still in flight then ends.
    stopped: AtomicBool,
    denials: Mutex<Vec<Denial>>,
    /// The API key and the values of the variables hidden from the shell: they never enter
    /// the history, whatever a tool printed (`cat /proc/$PPID/environ` included).
    secrets: Vec<String>,
    /// What each shell command runs under; `bash{unsandboxed: true}` leaves it only with a
    /// person's yes.
    sandbox: Arc<SessionSandbox>,
    /// The person's hooks; `PreToolUse`/`PostToolUse` run here, the turn's events in `agent`.
    hooks: Arc<Hooks>,
    /// The session's checkpoints: taken before the first call of a turn that may change files.
    undo: Arc<Undo>,
}

/// Secrets shorter than this are not redacted: replacing every `k` of a test key would
/// garble the output while protecting nothing.
const MIN_SECRET: usize = 8;

impl Default for Dispatcher {
    /// Headless, default mode, the working directory as the workspace: nothing that changes
    /// anything runs without a rule. Safe for embedders and tests that forget to configure.
    fn default() -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let workspace = Workspace::new(&cwd, None);
        let permissions = Permissions::new(Mode::Default, Default::default(), workspace);
        Dispatcher::new(Arc::new(permissions), None, Vec::new())
    }
}

impl Dispatcher {
    pub fn new(
        permissions: Arc<Permissions>,
        approver: Option<Arc<dyn Approver>>,
        secrets: Vec<String>,
    ) -> Self {
        Dispatcher {
            permissions,
            approver,
            asking: tokio::sync::Mutex::new(()),
            stopped: AtomicBool::new(false),
            denials: Mutex::default(),
            secrets: secrets
                .into_iter()
                .filter(|s| s.len() >= MIN_SECRET)
                .collect(),
            sandbox: Arc::new(SessionSandbox::off()),
            hooks: Arc::default(),
            undo: Arc::new(Undo::off("undo is not set up for this run")),
        }
    }

    /// The session's checkpoints (without them, nothing is recorded: tests and embedders).
    pub fn with_undo(mut self, undo: Arc<Undo>) -> Self {
        self.undo = undo;
        self
    }

    /// The session's sandbox for shell commands (without it, commands run unsandboxed: what
    /// tests and embedders that run no shell need).
    pub fn with_sandbox(mut self, sandbox: Arc<SessionSandbox>) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// The session's hooks (without them, none run).
    pub fn with_hooks(mut self, hooks: Arc<Hooks>) -> Self {
        self.hooks = hooks;
        self
    }

    pub fn hooks(&self) -> &Arc<Hooks> {
        &self.hooks
    }

    pub fn sandbox(&self) -> &Arc<SessionSandbox> {
        &self.sandbox
    }

    pub fn permissions(&self) -> &Arc<Permissions> {
        &self.permissions
    }

    pub fn mode(&self) -> Mode {
        self.permissions.mode()
    }

    /// A new turn of the person's: a stop answered in the last one no longer holds, and the
    /// turn's checkpoint will carry `prompt` and the history's length before it.
    pub fn begin_turn(&self, prompt: &str, history_len: usize) {
        self.stopped.store(false, Ordering::SeqCst);
        self.undo.begin_turn(prompt, history_len);
    }

    /// After a round of the parent's tool calls: what they changed is snapshotted.
    pub async fn round_done(&self, ctx: &ToolContext) {
        for notice in self.undo.round_done().await {
            (ctx.events)(AgentEvent::Notice(notice));
        }
    }

    /// Every denial so far, oldest first (for `--output-format json`).
    pub fn denials(&self) -> Vec<Denial> {
        self.denials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs one call; every failure becomes an `Error: …` output for the model.
    pub async fn run(
        &self,
        tool: Option<Arc<dyn Tool>>,
        names: &[&str],
        call: &ToolCall,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, Stopped> {
        let mut out = self.dispatch(tool, names, call, ctx).await?;
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        self.redact(&mut out.text);
        Ok(out)
    }

    fn redact(&self, text: &mut String) {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                *text = text.replace(secret.as_str(), "[redacted]");
            }
        }
    }

    async fn dispatch(
        &self,
        tool: Option<Arc<dyn Tool>>,
        names: &[&str],
        call: &ToolCall,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, Stopped> {
        let name = &call.function.name;
        let Some(tool) = tool else {
            let known = names.join(", ");
            return Ok(ToolOutput::error(format!(
                "unknown tool '{name}'. Available tools: {known}"
            )));
        };
        let args = match parse_arguments(name, &call.function.arguments) {
            Ok(args) => args,
            Err(out) => return Ok(out),
        };
        let action = match tool.action(&args, ctx) {
            Ok(action) => self.resolved(action),
            Err(e) => return Ok(tool_error(tool.as_ref(), e)),
        };
        let hook = self.hooks.pre_tool_use(call, &args, ctx).await;
        if let PreVerdict::Block(reason) = &hook {
            return Ok(self.deny(call, ctx, reason));
        }
        if name == crate::tools::exit_plan_mode::NAME {
            return self.review_plan(&args, ctx).await;
        }
        let escalation = escalation(name, &args);
        // Under danger-full-access there is no sandbox to leave: the call runs as any other.
        if escalation.is_some()
            && !self.sandbox.allows_escalation()
            && self.sandbox.mode() != SandboxMode::DangerFullAccess
        {
            return Ok(self.deny(call, ctx, ESCALATION_OFF));
        }
        let escalate = escalation.is_some() && self.sandbox.allows_escalation();
        let escalation = escalation.filter(|_| escalate);
        let (decision, forced) = self.decision(name, &action, &hook, escalation.as_deref());
        match decision {
            Decision::Allow => {}
            Decision::Deny { reason } => return Ok(self.deny(call, ctx, &reason)),
            Decision::Ask { reason, suggested } => {
                let ask = Asking {
                    tool: tool.as_ref(),
                    args: &args,
                    action: &action,
                    reason,
                    suggested,
                    forced,
                };
                if let Some(refused) = self.approve(call, ctx, ask).await? {
                    return Ok(refused);
                }
            }
        }
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        // The checkpoint step: the state before the turn's first change is recorded first.
        if matches!(
            action,
            Action::Edit { .. } | Action::Exec { .. } | Action::Call { .. }
        ) {
            for notice in self.undo.before_change().await {
                (ctx.events)(AgentEvent::Notice(notice));
            }
        }
        let mut ctx = ctx.clone();
        ctx.sandbox = if escalate {
            Confinement::None
        } else {
            self.sandbox.for_command(self.mode() == Mode::Plan)
        };
        // The arguments are kept only when a PostToolUse hook will be shown them.
        let post_args = self.hooks.has_post(name).then(|| args.clone());
        let mut out = match tool.run(args, &ctx).await {
            Ok(text) => ToolOutput::ok(text),
            Err(e) => tool_error(tool.as_ref(), e),
        };
        if let Some(args) = post_args {
            // Hooks see what the model will see: no secrets.
            self.redact(&mut out.text);
            self.hooks.post_tool_use(call, &args, &mut out, &ctx).await;
        }
        Ok(out)
    }

    /// Asks the person (or, headless, denies). `Ok(None)` means go ahead; `Ok(Some(out))` is
    /// the refusal the model gets instead of a result.
    async fn approve(
        &self,
        call: &ToolCall,
        ctx: &ToolContext,
        ask: Asking<'_>,
    ) -> Result<Option<ToolOutput>, Stopped> {
        let Some(approver) = &self.approver else {
            let reason = match &ask.forced {
                Some(why) => why.clone(),
                None => headless_reason(ask.tool.name(), &ask.reason, &ask.suggested),
            };
            return Ok(Some(self.deny(call, ctx, &reason)));
        };
        let _one_at_a_time = self.asking.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        // While this call waited, an "always" for a parallel call may have come to cover it,
        // or the mode or the rules may have changed: decide again.
        let (reason, suggested) = match self.permissions.decide(ask.tool.name(), ask.action) {
            Decision::Deny { reason } => return Ok(Some(self.deny(call, ctx, &reason))),
            _ if ask.forced.is_some() => (ask.reason, ask.suggested),
            Decision::Allow => return Ok(None),
            Decision::Ask { reason, suggested } => (reason, suggested),
        };
        let request = ApprovalRequest {
            request: Request::Tool {
                tool: ask.tool.name().to_string(),
                subject: subject(ask.action, &call.function.arguments, ask.tool.name()),
                cwd: ctx.cwd(),
                reason,
                preview: ask.tool.preview(ask.args, ctx).await,
                suggested,
            },
            subagent: ctx.subagent,
        };
        match approver.ask(&request).await {
            Answer::Once | Answer::SwitchMode(_) => Ok(None),
            Answer::Always(rules) => {
                if let Err(e) = self.permissions.remember(&rules) {
                    (ctx.events)(AgentEvent::Notice(format!(
                        "{e}; allowed for this session only"
                    )));
                }
                Ok(None)
            }
            Answer::Deny(why) => {
                let why = why.filter(|w| !w.trim().is_empty());
                let reason = match why {
                    Some(w) => format!("denied by the user: {w}"),
                    None => "denied by the user".to_string(),
                };
                Ok(Some(self.deny(call, ctx, &reason)))
            }
            Answer::Stop => {
                self.stopped.store(true, Ordering::SeqCst);
                Err(Stopped)
            }
        }
    }

    /// Records a denial, tells the outside, and gives the model the reason as the call's result.
    fn deny(&self, call: &ToolCall, ctx: &ToolContext, reason: &str) -> ToolOutput {
        let denial = Denial {
            tool: call.function.name.clone(),
            input: call.function.arguments.clone(),
            reason: reason.to_string(),
        };
        self.denials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(denial.clone());
        (ctx.events)(AgentEvent::PermissionDenied {
            tool: denial.tool,
            input: denial.input,
            reason: denial.reason,
        });
        ToolOutput::error(reason)
    }
}

/// What [`Dispatcher::approve`] needs to know of the call.
struct Asking<'a> {
    tool: &'a dyn Tool,
    args: &'a Value,
    action: &'a Action,
    reason: String,
    suggested: Vec<Rule>,
    /// Asked whatever the rules and mode say (an escalation out of the sandbox, a hook's
    /// `ask`): what a headless run tells the model instead.
    forced: Option<String>,
}

#[cfg(test)]
mod tests;
