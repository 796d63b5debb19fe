//! The texts of the dispatcher: what the prompt names, why a headless run refused and how to
//! allow it, the errors for malformed calls, and the one-line views of a call that the
//! terminal and the error messages use. Pure.

use serde_json::Value;

use crate::policy::shell_words::quote;
use crate::policy::{Action, Rule};
use crate::tools::{Tool, ToolError, ToolOutput};

/// What the prompt names: the command, the path(s), or the arguments in brief.
pub(super) fn subject(action: &Action, arguments: &str, tool: &str) -> String {
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
pub(super) fn headless_reason(tool: &str, reason: &str, suggested: &[Rule]) -> String {
    // Quoted for a POSIX shell, so the advice can be pasted as it is.
    let rules: Vec<String> = suggested
        .iter()
        .map(|r| format!("--allow {}", quote(&r.to_string())))
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
/// The model asked to leave the sandbox, but the user's config turns escalation off.
pub(super) const ESCALATION_OFF: &str = "running outside the sandbox is turned off \
     ([sandbox] allow_escalation = false); run the command inside the sandbox, or tell the user \
     what it needs";

/// Nobody can say yes to leaving the sandbox in a run without a terminal.
pub(super) const ESCALATION_HEADLESS: &str = "running outside the sandbox needs the user's yes, \
     and this non-interactive run cannot ask; run the command inside the sandbox (only \
     --sandbox danger-full-access runs commands unsandboxed without asking)";

/// What a headless run tells the model when a PreToolUse hook asked for a person's yes.
pub(super) fn hook_ask(why: &str) -> String {
    format!(
        "a PreToolUse hook asks for the user's approval ({why}), and nobody can be asked in a \
         non-interactive run"
    )
}

/// `Some(justification)` when a `bash` call asks to run outside the sandbox.
pub(super) fn escalation(tool: &str, args: &Value) -> Option<String> {
    if tool != "bash" || args.get("unsandboxed").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let why = args
        .get("justification")
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(why.trim().to_string())
}

/// What the approval prompt says about an escalation.
pub(super) fn escalation_reason(justification: &str) -> String {
    if justification.is_empty() {
        "asks to run OUTSIDE the sandbox (no reason given)".to_string()
    } else {
        format!("asks to run OUTSIDE the sandbox: {justification}")
    }
}

pub(super) fn parse_arguments(name: &str, raw: &str) -> Result<Value, ToolOutput> {
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
pub(super) fn tool_error(tool: &dyn Tool, e: ToolError) -> ToolOutput {
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
