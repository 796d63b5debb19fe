//! `--output-format json|stream-json`: events and the final result as JSON on stdout.
//!
//! `stream-json` writes one object per line as things happen (`init`, `text`, `tool_use`,
//! `tool_result`, …) and ends with the `result` object; `json` writes only that `result`
//! object. Tool lines, spinners and colours never appear here.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::event::{AgentEvent, EventSink};
use crate::llm::usage::UsageTotals;

/// How a one-shot run ended, for the `result` object.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub result: String,
    pub is_error: bool,
    /// `success`, `error`, `round_limit` or `interrupted`.
    pub subtype: &'static str,
    pub rounds: usize,
    pub usage: UsageTotals,
    pub cost_usd: Option<f64>,
    pub session_id: String,
    pub duration_ms: u128,
    /// Every call refused in the run (`permission_denials`).
    pub denials: Vec<crate::dispatch::Denial>,
}

fn emit(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// The sink for `stream-json`: one line per event.
pub fn stream_sink() -> EventSink {
    Arc::new(|ev| {
        if let Some(v) = event_json(&ev, false) {
            emit(&v);
        }
    })
}

/// The sink for `json`: nothing on stdout until the result; notices (a hook's warning, a
/// failed save of an "always" answer) still reach the person on stderr, as start-up notices do.
pub fn silent_sink() -> EventSink {
    Arc::new(|ev| {
        let mut ev = &ev;
        while let AgentEvent::SubAgent(inner) = ev {
            ev = inner;
        }
        if let AgentEvent::Notice(text) = ev {
            super::notice(false, text);
        }
    })
}

pub fn init(session_id: &str, model: &str, cwd: &str, tools: &[String]) {
    emit(
        &json!({"type": "init", "session_id": session_id, "model": model, "cwd": cwd, "tools": tools}),
    );
}

pub fn result(r: &RunResult) {
    emit(&json!({
        "type": "result",
        "subtype": r.subtype,
        "result": r.result,
        "is_error": r.is_error,
        "rounds": r.rounds,
        "usage": {"prompt_tokens": r.usage.prompt_tokens, "completion_tokens": r.usage.completion_tokens},
        "cost_usd": r.cost_usd,
        "session_id": r.session_id,
        "duration_ms": r.duration_ms,
        "permission_denials": r.denials.iter().map(|d| json!({
            "tool": d.tool, "input": input_json(&d.input), "reason": d.reason
        })).collect::<Vec<_>>(),
    }));
}

/// A call's arguments as JSON, or as a string when they are not JSON.
fn input_json(arguments: &str) -> Value {
    serde_json::from_str::<Value>(arguments)
        .unwrap_or_else(|_| Value::String(arguments.to_string()))
}

/// The JSON line for one event; `None` for events with nothing to say to a program.
pub fn event_json(ev: &AgentEvent, sub_agent: bool) -> Option<Value> {
    let mut v = match ev {
        AgentEvent::Text(t) => json!({"type": "text", "text": t}),
        AgentEvent::Reasoning(r) => json!({"type": "reasoning", "text": r}),
        AgentEvent::Discarded => json!({"type": "discarded"}),
        AgentEvent::ReplyDone { has_tool_calls } => {
            json!({"type": "reply_done", "has_tool_calls": has_tool_calls})
        }
        AgentEvent::ToolStarted {
            id,
            name,
            arguments,
        } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input_json(arguments)})
        }
        AgentEvent::ToolFinished {
            id,
            name,
            output,
            is_error,
        } => {
            json!({"type": "tool_result", "id": id, "name": name, "output": output, "is_error": is_error})
        }
        AgentEvent::Compacted {
            layer,
            before,
            after,
        } => {
            json!({"type": "compaction", "layer": layer, "before_tokens": before, "after_tokens": after})
        }
        AgentEvent::Retrying { wait, reason } => {
            json!({"type": "retry", "wait_ms": wait.as_millis(), "reason": reason})
        }
        AgentEvent::Usage(u) => {
            json!({"type": "usage", "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens})
        }
        AgentEvent::PermissionDenied {
            tool,
            input,
            reason,
        } => {
            json!({"type": "permission_denied", "tool": tool, "input": input_json(input), "reason": reason})
        }
        AgentEvent::ModeChanged(mode) => json!({"type": "mode", "mode": mode.name()}),
        AgentEvent::Notice(text) => json!({"type": "notice", "text": text}),
        AgentEvent::Todos(items) => json!({"type": "todos", "todos": items}),
        AgentEvent::SubAgent(inner) => return event_json(inner, true),
        AgentEvent::Thinking => return None,
    };
    if sub_agent {
        v["sub_agent"] = Value::Bool(true);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_events_carry_ids_and_parsed_input_and_sub_agents_are_marked() {
        let ev = AgentEvent::ToolStarted {
            id: "c1".into(),
            name: "bash".into(),
            arguments: r#"{"command":"ls"}"#.into(),
        };
        assert_eq!(
            event_json(&ev, false).unwrap(),
            json!({"type": "tool_use", "id": "c1", "name": "bash", "input": {"command": "ls"}})
        );
        let sub = AgentEvent::SubAgent(Box::new(AgentEvent::Text("x".into())));
        assert_eq!(
            event_json(&sub, false).unwrap(),
            json!({"type": "text", "text": "x", "sub_agent": true})
        );
        assert_eq!(event_json(&AgentEvent::Thinking, false), None);
    }
}
