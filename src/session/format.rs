//! The on-disk shape of a session: CoreCoder's `{id, model, saved_at, messages}` plus `cwd`.
//!
//! Writing follows CoreCoder's `json.dumps(data, ensure_ascii=False, indent=2)`: its key order,
//! two-space indent, non-ASCII kept as is. Reading is lenient the way CoreCoder's own reader is
//! (unknown keys ignored, `cwd` optional) and a little beyond it (content as a list of parts,
//! tool arguments as an object), and says precisely what is wrong with a file it cannot use.
//! This file does not touch the disk or know about ids: that is `session.rs` and `id.rs`; a
//! listing's header is read without the whole file by `head.rs`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Session;
use crate::message::Message;
use crate::tools::todo::TodoItem;

/// The file as written. Field order is CoreCoder's, with `cwd` before the long message list:
/// `head.rs` finds a session's directory by reading only what comes before `messages`.
#[derive(Serialize)]
struct FileOut<'a> {
    id: &'a str,
    model: &'a str,
    saved_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<String>,
    messages: &'a [Message],
    /// After `messages`, so a header read stays short; CoreCoder ignores it.
    #[serde(skip_serializing_if = "<[TodoItem]>::is_empty")]
    todos: &'a [TodoItem],
}

/// The file as read: unknown keys are ignored and messages are converted one by one, so a
/// shape our [`Message`] does not know is reported with its position instead of vaguely.
#[derive(Deserialize)]
struct FileIn {
    model: String,
    #[serde(default)]
    saved_at: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
    messages: Vec<Value>,
    /// A list this version cannot read is dropped, never a reason to refuse the session.
    #[serde(default, deserialize_with = "lenient_todos")]
    todos: Vec<TodoItem>,
}

fn lenient_todos<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<TodoItem>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).unwrap_or_default())
}

/// `session` as file bytes, stamped `saved_at`.
pub(super) fn encode(session: &Session, saved_at: String) -> serde_json::Result<Vec<u8>> {
    let out = FileOut {
        id: &session.id,
        model: &session.model,
        saved_at,
        cwd: session
            .cwd
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        messages: &session.messages,
        todos: &session.todos,
    };
    let mut bytes = serde_json::to_vec_pretty(&out)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Bytes of a session file → `Session`, or a sentence saying what is wrong with it.
pub(super) fn decode(id: String, bytes: &[u8]) -> Result<Session, String> {
    let file: FileIn = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let messages = file
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, v)| message_from_value(v).map_err(|e| format!("message {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Session {
        id,
        model: file.model,
        cwd: file.cwd.map(PathBuf::from),
        messages,
        todos: file.todos,
        saved_at: file.saved_at,
    })
}

/// One stored message → [`Message`], forgiving the shapes other OpenAI-style writers use:
/// content as a list of parts or `null`, tool arguments as an object, extra keys. A role we
/// cannot send stays an error: dropping a message could orphan a tool call.
fn message_from_value(mut v: Value) -> Result<Message, String> {
    let Some(obj) = v.as_object_mut() else {
        return Err("not a JSON object".into());
    };
    let role = obj.get("role").and_then(Value::as_str).unwrap_or_default();
    let text_required = matches!(role, "system" | "user" | "tool");
    match obj.get("content") {
        Some(Value::String(_)) => {}
        None | Some(Value::Null) if !text_required => {}
        None | Some(Value::Null) => {
            obj.insert("content".into(), Value::String(String::new()));
        }
        Some(other) => {
            let text = content_text(other);
            obj.insert("content".into(), Value::String(text));
        }
    }
    if obj.get("tool_calls").is_some_and(Value::is_null) {
        obj.remove("tool_calls");
    }
    if let Some(Value::Array(calls)) = obj.get_mut("tool_calls") {
        for call in calls {
            if let Some(args) = call.pointer_mut("/function/arguments") {
                // The wire wants JSON text; some writers store the parsed object.
                if !args.is_string() && !args.is_null() {
                    *args = Value::String(args.to_string());
                }
            }
        }
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// The text of a `content` value: a string, the `text` of a list of parts, or the JSON itself.
pub(super) fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.as_str().or_else(|| p.get("text").and_then(Value::as_str)))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// CoreCoder's own output, for the compatibility tests here and in the store.
#[cfg(test)]
pub(super) const CORECODER_FILE: &str = r#"{
  "id": "session_20250131_142501_9f3a0c12",
  "model": "deepseek-chat",
  "saved_at": "2025-01-31 14:25:01",
  "messages": [
    {
      "role": "user",
      "content": "请帮我修复这个 bug"
    },
    {
      "role": "assistant",
      "content": null,
      "tool_calls": [
        {
          "id": "call_0",
          "type": "function",
          "function": {
            "name": "read_file",
            "arguments": "{\"file_path\": \"main.py\"}"
          }
        }
      ]
    },
    {
      "role": "tool",
      "tool_call_id": "call_0",
      "content": "print('hi')"
    },
    {
      "role": "assistant",
      "content": "Fixed.",
      "reasoning_content": "kept by some providers"
    }
  ]
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_writes_corecoder_layout_that_corecoder_can_read() {
        let session = Session {
            id: "x".into(),
            model: "gpt-4o".into(),
            cwd: Some("/p".into()),
            messages: vec![Message::user("héllo"), Message::tool("c1", "ok")],
            todos: Vec::new(),
            saved_at: None,
        };
        let bytes = encode(&session, "2025-01-31 14:25:01".into()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        // json.dumps(indent=2, ensure_ascii=False): key order, indent, non-ASCII as is.
        let top = "{\n  \"id\": \"x\",\n  \"model\": \"gpt-4o\",\n  \"saved_at\": \"2025-01-31 14:25:01\",\n  \"cwd\": \"/p\",\n  \"messages\": [\n    {\n      \"role\": \"user\",\n      \"content\": \"héllo\"\n    },";
        assert!(text.starts_with(top), "{text}");
        // What CoreCoder's load_session reads back: data["messages"], data["model"].
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["model"], "gpt-4o");
        assert_eq!(v["messages"][1]["tool_call_id"], "c1");
    }

    #[test]
    fn decode_reads_a_corecoder_file_without_cwd() {
        let s = decode("cc".into(), CORECODER_FILE.as_bytes()).unwrap();
        assert_eq!((s.id.as_str(), s.model.as_str()), ("cc", "deepseek-chat"));
        assert_eq!(s.cwd, None);
        assert_eq!(s.saved_at.as_deref(), Some("2025-01-31 14:25:01"));
        assert_eq!(s.messages.len(), 4);
        assert_eq!(s.messages[0], Message::user("请帮我修复这个 bug"));
        let call = &s.messages[1].tool_calls()[0];
        assert_eq!(call.function.arguments, r#"{"file_path": "main.py"}"#);
        assert_eq!(s.messages[3], Message::assistant("Fixed."));
        crate::message::check_tool_pairing(&s.messages).unwrap();
    }

    #[test]
    fn decode_forgives_other_writers_message_shapes() {
        let file = r#"{"model": "m", "extra": 1, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "part one"}, "part two"]},
            {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "glob", "arguments": {"pattern": "*"}}}]},
            {"role": "tool", "tool_call_id": "a", "content": null, "name": "glob"},
            {"role": "assistant", "content": "ok", "tool_calls": null}
        ]}"#;
        let s = decode("o".into(), file.as_bytes()).unwrap();
        assert_eq!(s.messages[0], Message::user("part one\npart two"));
        let call = &s.messages[1].tool_calls()[0];
        assert_eq!(call.kind, "function");
        assert_eq!(call.function.arguments, r#"{"pattern":"*"}"#);
        assert_eq!(s.messages[2], Message::tool("a", ""));
        assert_eq!(s.messages[3], Message::assistant("ok"));
    }

    #[test]
    fn decode_says_what_is_wrong_with_a_corrupt_file() {
        let cases: &[(&[u8], &str)] = &[
            (b"{ not valid json", "key must be a string"),
            (b"{\"model\": \"m\", \"messages\": [{\"content\": \"\xe4\xb8\"}]}", "invalid unicode"),
            (br#"{"model": "m", "messages": [{"role": "user", "con"#, "EOF"),
            (br#"{"messages": []}"#, "missing field `model`"),
            (br#"{"model": "m", "messages": {}}"#, "invalid type: map"),
            (b"[]", "expected struct"),
            (br#"{"model": "m", "messages": [7]}"#, "message 0: not a JSON object"),
            (
                br#"{"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "developer", "content": "x"}]}"#,
                "message 1: unknown variant `developer`",
            ),
            (
                br#"{"model": "m", "messages": [{"role": "tool", "content": "x"}]}"#,
                "message 0: missing field `tool_call_id`",
            ),
        ];
        for (bytes, reason) in cases {
            let err = decode("c".into(), bytes).unwrap_err();
            assert!(err.contains(reason), "{err:?} lacks {reason:?}");
        }
    }
}
