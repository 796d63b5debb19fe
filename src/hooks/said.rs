//! Reading what a hook said: its stdout as a JSON decision (ours, or Claude Code's nested
//! `hookSpecificOutput`) or as plain text for the context, and the short texts of warnings.
//! Pure.

use serde_json::Value;

use super::HookEvent;

/// Most characters of a hook's output that go into the context.
const MAX_CONTEXT: usize = 10_000;

/// What one hook run said.
#[derive(Debug, PartialEq)]
pub(super) enum Said {
    Nothing,
    Context(String),
    Block(String),
    Allow,
    Ask(String),
}

/// Exit 0's stdout: a JSON decision, or plain text for the context.
pub(super) fn read_stdout(stdout: &str) -> Result<Said, String> {
    let text = stdout.trim();
    let Some(Value::Object(v)) = text
        .starts_with('{')
        .then(|| serde_json::from_str::<Value>(text).ok())
        .flatten()
    else {
        return Ok(if text.is_empty() {
            Said::Nothing
        } else {
            Said::Context(text.to_string())
        });
    };
    // Claude Code's newer shape nests the decision in `hookSpecificOutput`.
    let specific = v.get("hookSpecificOutput");
    let field = |top: &str, nested: &str| {
        v.get(top)
            .or_else(|| specific.and_then(|s| s.get(nested)))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let why = field("reason", "permissionDecisionReason").unwrap_or_default();
    match field("decision", "permissionDecision").as_deref() {
        Some("block" | "deny") => Ok(Said::Block(reason(&why))),
        Some("allow" | "approve") => Ok(Said::Allow),
        Some("ask") => Ok(Said::Ask(reason(&why))),
        Some(other) => Err(format!(
            "printed an unknown decision {other:?} (expected block, allow or ask)"
        )),
        None => Ok(
            field("additionalContext", "additionalContext").map_or(Said::Nothing, Said::Context)
        ),
    }
}

pub(super) fn add_context(message: &mut String, event: HookEvent, said: Said) {
    if let Said::Context(text) = said {
        let text: String = text.chars().take(MAX_CONTEXT).collect();
        message.push_str(&format!("\n\n[{event} hook]\n{text}"));
    }
}

pub(super) fn reason(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        "no reason given".to_string()
    } else {
        text.chars().take(MAX_CONTEXT).collect()
    }
}

pub(super) fn first_line(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", short(l.trim())))
        .unwrap_or_default()
}

/// A command or line cut for a one-line warning.
pub(super) fn short(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text.to_string()
    }
}
