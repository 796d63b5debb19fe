//! A `tools/call` result as text for the model (pure).
//!
//! Text blocks are joined; `structuredContent` is shown as JSON only when there is no text (the
//! TypeScript servers duplicate it as text already); resource links and embedded text
//! resources are shown as text; images, audio and binary resources become a one-line
//! placeholder, because base64 in the context costs thousands of tokens and tells a text
//! model nothing. `isError: true` makes the whole text a tool error. The text is capped like
//! the shell's output: the head and the tail are kept, the middle is cut with a note.

use serde_json::Value;

/// The most characters of one result the model sees.
pub const MAX_OUTPUT: usize = 15_000;
const HEAD: usize = 10_000;
const TAIL: usize = 4_000;

/// `Ok(text)` for a result, `Err(text)` when the server marked it an error.
pub fn result_text(result: &Value) -> Result<String, String> {
    let mut parts = Vec::new();
    if let Some(Value::Array(blocks)) = result.get("content") {
        for block in blocks {
            if let Some(text) = block_text(block) {
                parts.push(text);
            }
        }
    }
    let has_text = blocks_have_text(result);
    let structured = result.get("structuredContent").filter(|v| !v.is_null());
    if let (false, Some(structured)) = (has_text, structured) {
        parts.push(structured.to_string());
    }
    let text = cap(&parts.join("\n"));
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let text = if text.trim().is_empty() {
            "the MCP tool reported an error without a message".to_string()
        } else {
            text
        };
        return Err(text);
    }
    Ok(if text.is_empty() {
        "(no output)".to_string()
    } else {
        text
    })
}

fn blocks_have_text(result: &Value) -> bool {
    result
        .get("content")
        .and_then(Value::as_array)
        .is_some_and(|blocks| {
            blocks
                .iter()
                .any(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        })
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn block_text(block: &Value) -> Option<String> {
    let kind = str_of(block, "type");
    Some(match kind {
        "text" => str_of(block, "text").to_string(),
        "image" | "audio" => {
            let size = str_of(block, "data").len() / 4 * 3;
            format!(
                "[{kind}: {}, about {} KB, not shown]",
                mime(block),
                size.div_ceil(1024)
            )
        }
        "resource_link" => {
            let mut line = format!("[resource link: {}", str_of(block, "uri"));
            for key in ["name", "mimeType", "description"] {
                let value = str_of(block, key);
                if !value.is_empty() {
                    line.push_str(&format!(", {key}: {value}"));
                }
            }
            line.push(']');
            line
        }
        "resource" => {
            let resource = block.get("resource")?;
            let uri = str_of(resource, "uri");
            match resource.get("text").and_then(Value::as_str) {
                Some(text) => format!("[resource {uri}]\n{text}"),
                None => format!("[resource {uri}: {}, binary, not shown]", mime(resource)),
            }
        }
        other => format!("[content of type {other:?}, not shown]"),
    })
}

fn mime(v: &Value) -> &str {
    match str_of(v, "mimeType") {
        "" => "unknown type",
        m => m,
    }
}

/// Keeps the first `HEAD` and last `TAIL` characters of a text longer than `MAX_OUTPUT`.
pub fn cap(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_OUTPUT {
        return text.to_string();
    }
    let head: String = text.chars().take(HEAD).collect();
    let tail: String = text.chars().skip(total - TAIL).collect();
    let cut = total - HEAD - TAIL;
    format!("{head}\n… [{cut} characters cut from the middle of the MCP tool's output] …\n{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_blocks_are_joined_and_structured_content_is_shown_only_without_text() {
        let r = json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                       "structuredContent": {"x": 1}});
        assert_eq!(result_text(&r).unwrap(), "a\nb");
        let r = json!({"content": [], "structuredContent": {"x": 1}});
        assert_eq!(result_text(&r).unwrap(), r#"{"x":1}"#);
        assert_eq!(result_text(&json!({})).unwrap(), "(no output)");
    }

    #[test]
    fn images_become_placeholders_and_resources_text() {
        let r = json!({"content": [
            {"type": "image", "data": "A".repeat(4096), "mimeType": "image/png"},
            {"type": "resource_link", "uri": "test://1", "name": "one"},
            {"type": "resource", "resource": {"uri": "file:///a", "text": "hello"}},
            {"type": "resource", "resource": {"uri": "file:///b", "blob": "AAAA"}},
            {"type": "hologram"}
        ]});
        let text = result_text(&r).unwrap();
        assert!(
            text.contains("[image: image/png, about 3 KB, not shown]"),
            "{text}"
        );
        assert!(!text.contains("AAAA"));
        assert!(text.contains("[resource link: test://1, name: one]"));
        assert!(text.contains("[resource file:///a]\nhello"));
        assert!(text.contains("file:///b: unknown type, binary"));
        assert!(text.contains("\"hologram\""));
    }

    #[test]
    fn is_error_becomes_an_error_and_long_output_is_capped() {
        let r = json!({"isError": true, "content": [{"type": "text", "text": "boom"}]});
        assert_eq!(result_text(&r).unwrap_err(), "boom");
        assert!(result_text(&json!({"isError": true})).is_err());
        let long = "é".repeat(MAX_OUTPUT + 100);
        let r = json!({"content": [{"type": "text", "text": long}]});
        let text = result_text(&r).unwrap();
        assert!(text.chars().count() < MAX_OUTPUT + 100);
        assert!(text.contains("characters cut from the middle"));
    }
}
