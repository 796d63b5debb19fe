//! The one place between the model's call and the tool's run.
//!
//! Every call, the parent's and every sub-agent's, goes through [`Dispatcher::run`]: resolve the
//! tool and its arguments → (pre-hook slot) → the policy's decision → a person's approval when
//! the decision asks → run → the output with secrets redacted. The agent never sees a decision
//! (it gets a tool output, or a stop) and tools never see the policy. Also the one-line views of
//! a call that the terminal and the error messages use.

use std::sync::Arc;

use serde_json::Value;

use crate::message::ToolCall;
use crate::policy::Action;
use crate::policy::command_safety::{self, Verdict};
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};

/// The person chose to stop the turn while being asked (Ctrl-C at an approval prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// Shared by the parent agent and its sub-agents.
#[derive(Default)]
pub struct Dispatcher {
    /// The API key: its value never enters the history, whatever a tool printed.
    secret: Option<String>,
}

/// Secrets shorter than this are not redacted: replacing every `k` of a test key would
/// garble the output while protecting nothing.
const MIN_SECRET: usize = 8;

impl Dispatcher {
    pub fn new(secret: Option<String>) -> Self {
        Dispatcher {
            secret: secret.filter(|s| s.len() >= MIN_SECRET),
        }
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
        if let Some(secret) = self.secret.as_deref().filter(|s| out.text.contains(s)) {
            out.text = out.text.replace(secret, "[redacted]");
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
            Ok(action) => action,
            Err(e) => return Ok(tool_error(tool.as_ref(), e)),
        };
        if let Action::Exec { command, .. } = &action
            && let Verdict::Blocked(reason) = command_safety::check(command)
        {
            return Ok(ToolOutput::error(format!(
                "{name}: blocked by the safety gate: {reason}"
            )));
        }
        Ok(match tool.run(args, ctx).await {
            Ok(text) => ToolOutput::ok(text),
            Err(e) => tool_error(tool.as_ref(), e),
        })
    }
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
    let line = line.replace('\n', " ");
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
            out.text
                .starts_with("Error: bash: blocked by the safety gate: "),
            "{}",
            out.text
        );
        assert!(!marker.exists(), "nothing of a blocked command runs");
    }

    #[tokio::test]
    async fn the_api_key_never_reaches_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        let d = Dispatcher::new(Some("sk-test-0123456789".into()));
        let out = run(
            &d,
            &ctx,
            "bash",
            json!({"command": "echo key=sk-test-0123456789."}),
        )
        .await;
        assert_eq!(out.text, "key=[redacted].");
        let short = Dispatcher::new(Some("k".into()));
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
