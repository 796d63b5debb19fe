//! The one place between the model's call and the tool's run.
//!
//! Every call, the parent's and every sub-agent's, goes through [`Dispatcher::run`]: resolve the
//! tool and its arguments → (pre-hook slot) → the policy's decision → a person's approval when
//! the decision asks → run → the output with secrets redacted. The agent never sees a decision
//! (it gets a tool output, or a stop) and tools never see the policy. Also the one-line views of
//! a call that the terminal and the error messages use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::approval::{Answer, ApprovalRequest, Approver, Request};
use crate::event::AgentEvent;
use crate::message::ToolCall;
use crate::permissions::Permissions;
use crate::policy::{Action, Decision, Mode, Rule, Workspace};
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};

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
        }
    }

    pub fn permissions(&self) -> &Arc<Permissions> {
        &self.permissions
    }

    pub fn mode(&self) -> Mode {
        self.permissions.mode()
    }

    /// A new turn of the person's: a stop answered in the last one no longer holds.
    pub fn begin_turn(&self) {
        self.stopped.store(false, Ordering::SeqCst);
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
        for secret in &self.secrets {
            if out.text.contains(secret.as_str()) {
                out.text = out.text.replace(secret.as_str(), "[redacted]");
            }
        }
        Ok(out)
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
            Ok(action) => self.resolved(action, ctx),
            Err(e) => return Ok(tool_error(tool.as_ref(), e)),
        };
        // (The pre-tool hook slot: hooks come with the extensions issue.)
        if name == crate::tools::exit_plan_mode::NAME {
            return self.review_plan(&args, ctx).await;
        }
        match self.permissions.decide(name, &action) {
            Decision::Allow => {}
            Decision::Deny { reason } => return Ok(self.deny(call, ctx, &reason)),
            Decision::Ask { reason, suggested } => {
                let ask = Asking {
                    tool: tool.as_ref(),
                    args: &args,
                    action: &action,
                    reason,
                    suggested,
                };
                if let Some(refused) = self.approve(call, ctx, ask).await? {
                    return Ok(refused);
                }
            }
        }
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        Ok(match tool.run(args, ctx).await {
            Ok(text) => ToolOutput::ok(text),
            Err(e) => tool_error(tool.as_ref(), e),
        })
    }

    /// The action with its paths resolved through symlinks and `..`, as the policy needs them.
    fn resolved(&self, action: Action, ctx: &ToolContext) -> Action {
        let cwd = ctx.cwd();
        let ws = self.permissions.workspace();
        let resolve = |paths: Vec<std::path::PathBuf>| {
            let texts = paths.iter().map(|p| p.to_string_lossy().into_owned());
            texts.map(|p| ws.resolve(&cwd, &p)).collect()
        };
        match action {
            Action::Read { paths } => Action::Read {
                paths: resolve(paths),
            },
            Action::Edit { paths } => Action::Edit {
                paths: resolve(paths),
            },
            other => other,
        }
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
            let reason = headless_reason(ask.tool.name(), &ask.reason, &ask.suggested);
            return Ok(Some(self.deny(call, ctx, &reason)));
        };
        let _one_at_a_time = self.asking.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        // While this call waited, an "always" for a parallel call may have come to cover it,
        // or the mode or the rules may have changed: decide again.
        let (reason, suggested) = match self.permissions.decide(ask.tool.name(), ask.action) {
            Decision::Allow => return Ok(None),
            Decision::Deny { reason } => return Ok(Some(self.deny(call, ctx, &reason))),
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

    /// `exit_plan_mode{plan}`: the person reads the plan and picks the mode to carry it out in,
    /// or keeps planning. Headless runs stay in plan mode.
    async fn review_plan(&self, args: &Value, ctx: &ToolContext) -> Result<ToolOutput, Stopped> {
        if self.mode() != Mode::Plan {
            return Ok(ToolOutput::ok("Not in plan mode; go ahead with the task."));
        }
        let plan = args["plan"].as_str().unwrap_or_default().to_string();
        let Some(approver) = &self.approver else {
            return Ok(ToolOutput::ok(
                "Nobody can approve a plan in this non-interactive run, so it stays in plan mode. \
                 Give the plan as your final answer.",
            ));
        };
        let _one_at_a_time = self.asking.lock().await;
        let request = ApprovalRequest {
            request: Request::Plan { plan },
            subagent: ctx.subagent,
        };
        Ok(match approver.ask(&request).await {
            Answer::SwitchMode(mode) => {
                self.permissions.set_mode(mode);
                (ctx.events)(AgentEvent::ModeChanged(mode));
                ToolOutput::ok(format!(
                    "The user approved the plan and switched to {mode} mode. Carry out the plan now."
                ))
            }
            Answer::Stop => {
                self.stopped.store(true, Ordering::SeqCst);
                return Err(Stopped);
            }
            Answer::Deny(Some(why)) if !why.trim().is_empty() => ToolOutput::ok(format!(
                "The user wants to keep planning: {why}. Stay in plan mode and revise the plan."
            )),
            _ => ToolOutput::ok(
                "The user wants to keep planning. Stay in plan mode; ask what to change.",
            ),
        })
    }
}

/// What [`Dispatcher::approve`] needs to know of the call.
struct Asking<'a> {
    tool: &'a dyn Tool,
    args: &'a Value,
    action: &'a Action,
    reason: String,
    suggested: Vec<Rule>,
}

/// What the prompt names: the command, the path(s), or the arguments in brief.
fn subject(action: &Action, arguments: &str, tool: &str) -> String {
    match action {
        Action::Exec { command, .. } => command.clone(),
        Action::Read { paths } | Action::Edit { paths } => {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            shown.join(", ")
        }
        Action::Call { server, tool } => format!("{server}/{tool} {}", summarize_args(arguments)),
        Action::Internal => format!("{tool} {}", summarize_args(arguments)),
    }
}

/// Why a headless run refused, and exactly which flag would allow it.
fn headless_reason(tool: &str, reason: &str, suggested: &[Rule]) -> String {
    // Quoted for a POSIX shell, so the advice can be pasted as it is.
    let quote = |r: &Rule| format!("'{}'", r.to_string().replace('\'', "'\\''"));
    let rules: Vec<String> = suggested
        .iter()
        .map(|r| format!("--allow {}", quote(r)))
        .collect();
    let how = match tool {
        "write_file" | "edit_file" if !rules.is_empty() => format!(
            "--permission-mode acceptEdits (file changes in the workspace), {}, or --yes",
            rules.join(" ")
        ),
        _ if !rules.is_empty() => format!("{}, or --yes", rules.join(" ")),
        _ => "an --allow rule that names it explicitly".to_string(),
    };
    format!(
        "{tool} needs approval ({reason}), and nobody can be asked in a non-interactive run. \
         The user can allow it with {how}"
    )
}

/// The call's arguments as a JSON object, or the error that tells the model how to resend them.
fn parse_arguments(name: &str, raw: &str) -> Result<Value, ToolOutput> {
    match serde_json::from_str(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ToolOutput::error(format!(
            "arguments for {name} must be a JSON object"
        ))),
        Err(e) => {
            let raw: String = raw.chars().take(200).collect();
            Err(ToolOutput::error(format!(
                "arguments for {name} are not valid JSON ({e}); received: {raw}. \
                 Send the arguments again as one JSON object."
            )))
        }
    }
}

/// A tool's failure as the model sees it; bad arguments come with the arguments expected,
/// because small models fix a call from that.
fn tool_error(tool: &dyn Tool, e: ToolError) -> ToolOutput {
    let name = tool.name();
    match e {
        e @ ToolError::BadArgs(_) => {
            let usage = expected_arguments(&tool.parameters());
            ToolOutput::error(format!("{name}: {e}. Expected arguments: {usage}"))
        }
        e => ToolOutput::error(format!("{name}: {e}")),
    }
}

/// `file_path (string, required), offset (integer)` from a JSON Schema's properties.
pub fn expected_arguments(schema: &Value) -> String {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return "{}".to_string();
    };
    let parts: Vec<String> = props
        .iter()
        .map(|(key, p)| {
            let kind = p["type"].as_str().unwrap_or("any");
            let req = if required.contains(&key.as_str()) {
                ", required"
            } else {
                ""
            };
            format!("{key} ({kind}{req})")
        })
        .collect();
    parts.join(", ")
}

/// A one-line view of a call's arguments for display (`cargo test`, `src/main.rs`).
pub fn summarize_args(arguments: &str) -> String {
    let line = match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => {
            let parts: Vec<String> = map
                .values()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            parts.join(", ")
        }
        _ => arguments.to_string(),
    };
    // Shown on a terminal: no control character of the model's may move the cursor.
    let line: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::FunctionCall;
    use crate::tools::Toolbox;
    use serde_json::json;

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.to_string(),
            },
            extra: Default::default(),
        }
    }

    async fn run(d: &Dispatcher, ctx: &ToolContext, name: &str, args: Value) -> ToolOutput {
        let tools = Toolbox::basic();
        d.run(tools.get(name), &tools.names(), &call(name, args), ctx)
            .await
            .unwrap()
    }

    fn with_secret(secret: &str) -> Dispatcher {
        let ws = Workspace::new(&std::env::temp_dir(), None);
        let p = Permissions::new(Mode::BypassPermissions, Default::default(), ws);
        Dispatcher::new(Arc::new(p), None, vec![secret.into()])
    }

    #[tokio::test]
    async fn dangerous_commands_are_blocked_before_they_run() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        let marker = dir.path().join("ran");
        let cmd = format!("touch {} && rm -rf /", marker.display());
        let out = run(
            &Dispatcher::default(),
            &ctx,
            "bash",
            json!({ "command": cmd }),
        )
        .await;
        assert!(out.is_error);
        assert!(
            out.text.starts_with("Error: blocked by the safety gate: "),
            "{}",
            out.text
        );
        assert!(!marker.exists(), "nothing of a blocked command runs");
    }

    #[tokio::test]
    async fn the_api_key_never_reaches_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        let d = with_secret("sk-test-0123456789");
        let out = run(
            &d,
            &ctx,
            "bash",
            json!({"command": "echo key=sk-test-0123456789."}),
        )
        .await;
        assert_eq!(out.text, "key=[redacted].");
        let short = with_secret("k");
        let out = run(&short, &ctx, "bash", json!({"command": "echo ok"})).await;
        assert_eq!(out.text, "ok");
    }

    #[tokio::test]
    async fn unknown_tools_and_bad_json_are_errors_for_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        let out = run(&Dispatcher::default(), &ctx, "nope", json!({})).await;
        assert!(
            out.text
                .starts_with("Error: unknown tool 'nope'. Available tools: bash, ")
        );
        let tools = Toolbox::basic();
        let mut c = call("bash", json!({}));
        c.function.arguments = "{not json".into();
        let out = Dispatcher::default()
            .run(tools.get("bash"), &tools.names(), &c, &ctx)
            .await
            .unwrap();
        assert!(out.text.contains("are not valid JSON"), "{}", out.text);
        let out = run(&Dispatcher::default(), &ctx, "bash", json!({"cmd": "ls"})).await;
        assert!(
            out.text
                .contains("Expected arguments: command (string, required)"),
            "{}",
            out.text
        );
    }
}
