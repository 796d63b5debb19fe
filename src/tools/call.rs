//! Running one tool call: finding the tool, parsing its arguments, and turning every failure
//! into an `Error: …` text the model can act on. Also the one-line views of a call that the
//! terminal and the error messages use. Nothing here knows about rounds or history.

use std::sync::Arc;

use serde_json::Value;

use super::{Tool, ToolContext, ToolError};
use crate::message::ToolCall;

/// Runs one call; every failure becomes an `Error: …` text for the model.
pub async fn execute(
    tool: Option<Arc<dyn Tool>>,
    names: &[&str],
    call: &ToolCall,
    ctx: &ToolContext,
) -> (String, bool) {
    let name = &call.function.name;
    let Some(tool) = tool else {
        let known = names.join(", ");
        return (
            format!("Error: unknown tool '{name}'. Available tools: {known}"),
            true,
        );
    };
    let args: Value = match serde_json::from_str(&call.function.arguments) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return (
                format!("Error: arguments for {name} must be a JSON object"),
                true,
            );
        }
        Err(e) => {
            let raw: String = call.function.arguments.chars().take(200).collect();
            return (
                format!(
                    "Error: arguments for {name} are not valid JSON ({e}); received: {raw}. \
                     Send the arguments again as one JSON object."
                ),
                true,
            );
        }
    };
    match tool.run(args, ctx).await {
        Ok(out) => (out, false),
        // Say what the arguments should look like: small models fix a call from that.
        Err(e @ ToolError::BadArgs(_)) => {
            let usage = expected_arguments(&tool.parameters());
            (
                format!("Error: {name}: {e}. Expected arguments: {usage}"),
                true,
            )
        }
        Err(e) => (format!("Error: {name}: {e}"), true),
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
