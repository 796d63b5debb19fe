//! The OpenAI chat wire shape of a conversation: [`Message`] and [`ToolCall`].
//!
//! These types are what we *send* and what sessions store, so they are strict about their own
//! shape but keep whatever unknown per-call fields a provider attached (Gemini's
//! `extra_content.google.thought_signature` must be echoed back on the next request). They are
//! not used to parse streamed chunks: `llm::sse` reads those loosely.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One message of the conversation, tagged by `role` exactly as on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        // `null` when the reply is only tool calls (as OpenAI sends it and CoreCoder stores it).
        #[serde(default)]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Message::User {
            content: text.into(),
        }
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Message::Assistant {
            content: Some(text.into()),
            tool_calls: Vec::new(),
        }
    }

    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message::Tool {
            tool_call_id: call_id.into(),
            content: content.into(),
        }
    }

    /// The text this message carries (tool calls excluded).
    pub fn text(&self) -> &str {
        match self {
            Message::System { content } | Message::User { content } => content,
            Message::Tool { content, .. } => content,
            Message::Assistant { content, .. } => content.as_deref().unwrap_or(""),
        }
    }

    pub fn role(&self) -> &'static str {
        match self {
            Message::System { .. } => "system",
            Message::User { .. } => "user",
            Message::Assistant { .. } => "assistant",
            Message::Tool { .. } => "tool",
        }
    }

    pub fn tool_calls(&self) -> &[ToolCall] {
        match self {
            Message::Assistant { tool_calls, .. } => tool_calls,
            _ => &[],
        }
    }
}

/// A tool call as it appears on an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
    /// Provider fields we do not understand but must send back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text, exactly as the model produced it.
    #[serde(default)]
    pub arguments: String,
}

fn function_kind() -> String {
    "function".to_string()
}

/// Checks the invariant every request must satisfy: each `tool` message answers a tool call of
/// an earlier assistant message, and no call is answered twice. Returns the first violation.
pub fn check_tool_pairing(messages: &[Message]) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m {
            Message::Assistant { tool_calls, .. } => {
                open.extend(tool_calls.iter().map(|c| c.id.as_str()));
            }
            Message::Tool { tool_call_id, .. } => {
                let Some(pos) = open.iter().position(|id| id == tool_call_id) else {
                    return Err(format!(
                        "message {i}: tool result for `{tool_call_id}` answers no earlier call"
                    ));
                };
                open.remove(pos);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assistant_with_calls_round_trips_corecoder_shape() {
        let wire = r#"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"bash","arguments":"{\"command\": \"ls\"}"}}]}"#;
        let m: Message = serde_json::from_str(wire).unwrap();
        assert_eq!(m.tool_calls()[0].function.name, "bash");
        assert_eq!(serde_json::to_string(&m).unwrap(), wire);
    }

    #[test]
    fn tool_pairing_rejects_orphan_tool_message() {
        let msgs = vec![Message::user("hi"), Message::tool("nope", "x")];
        assert!(check_tool_pairing(&msgs).is_err());
    }
}
