//! The JSON-RPC 2.0 messages of MCP, as values (pure): what we send, how an incoming message is
//! classified, and the answers to the requests a server may send us.
//!
//! Incoming messages are read loosely (a `serde_json::Value`, fields looked up when needed):
//! servers differ in what they include, and one odd message must not end the connection.

use std::path::Path;

use serde_json::{Value, json};

/// The version offered in `initialize`: every server tried speaks it.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// The oldest and newest versions accepted in the server's answer (dates compare as text).
pub const OLDEST: &str = "2024-11-05";
pub const NEWEST: &str = "2025-11-25";

/// JSON-RPC's "method not found".
pub const METHOD_NOT_FOUND: i64 = -32601;

pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

pub fn initialize_params() -> Value {
    json!({
        "protocolVersion": PROTOCOL_VERSION,
        // Roots: the workspace, answered on request. No sampling or elicitation: a server
        // cannot make this client call the model or ask the person.
        "capabilities": {"roots": {"listChanged": false}},
        "clientInfo": {"name": "corecoder", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// The version the server chose, when it is one we speak.
pub fn accepted_version(init_result: &Value) -> Result<String, String> {
    let version = init_result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or("the server's initialize answer has no protocolVersion")?;
    let well_formed =
        version.len() == 10 && version.chars().all(|c| c.is_ascii_digit() || c == '-');
    if well_formed && (OLDEST..=NEWEST).contains(&version) {
        Ok(version.to_string())
    } else {
        Err(format!(
            "the server speaks MCP version {version:?}; corecoder speaks {OLDEST} to {NEWEST}"
        ))
    }
}

/// One message from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The answer to our request `id`: its result, or the error's message.
    Response {
        id: u64,
        result: Result<Value, String>,
    },
    /// A request the server wants answered (`ping`, `roots/list`, …).
    Request {
        id: Value,
        method: String,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// Valid JSON but not a JSON-RPC message we can use (skipped, noted in the log).
    Other,
}

pub fn classify(msg: &Value) -> Incoming {
    let method = msg.get("method").and_then(Value::as_str);
    let id = msg.get("id").filter(|id| !id.is_null());
    match (method, id) {
        (Some(method), Some(id)) => Incoming::Request {
            id: id.clone(),
            method: method.to_string(),
        },
        (Some(method), None) => Incoming::Notification {
            method: method.to_string(),
            params: msg.get("params").cloned().unwrap_or(Value::Null),
        },
        (None, Some(id)) => {
            // Our ids are numbers; a server that echoes them as strings is still understood.
            let id = id
                .as_u64()
                .or_else(|| id.as_str().and_then(|s| s.parse().ok()));
            let Some(id) = id else {
                return Incoming::Other;
            };
            let result = match msg.get("error") {
                Some(err) => Err(error_text(err)),
                None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
            };
            Incoming::Response { id, result }
        }
        (None, None) => Incoming::Other,
    }
}

fn error_text(err: &Value) -> String {
    let message = err.get("message").and_then(Value::as_str).unwrap_or("");
    match err.get("code").and_then(Value::as_i64) {
        Some(code) if !message.is_empty() => format!("{message} (code {code})"),
        Some(code) => format!("error code {code}"),
        None if !message.is_empty() => message.to_string(),
        None => err.to_string(),
    }
}

/// Our answer to a server's request: `ping` → `{}`, `roots/list` → the workspace, anything
/// else (sampling, elicitation, …) → "method not found".
pub fn answer(id: &Value, method: &str, workspace: &Path) -> Value {
    match method {
        "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        "roots/list" => {
            let name = workspace
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workspace".into());
            json!({"jsonrpc": "2.0", "id": id, "result": {"roots": [
                {"uri": file_uri(workspace), "name": name}
            ]}})
        }
        _ => json!({"jsonrpc": "2.0", "id": id, "error": {
            "code": METHOD_NOT_FOUND,
            "message": format!("corecoder does not support {method}"),
        }}),
    }
}

/// `file://` plus the path with everything outside the URI's unreserved set and `/`
/// percent-encoded.
pub fn file_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_the_range_are_accepted_and_others_refused() {
        for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
            assert_eq!(accepted_version(&json!({"protocolVersion": v})).unwrap(), v);
        }
        for v in ["2024-10-07", "2026-01-01", "latest", ""] {
            assert!(
                accepted_version(&json!({"protocolVersion": v})).is_err(),
                "{v}"
            );
        }
        assert!(accepted_version(&json!({})).is_err());
    }

    #[test]
    fn messages_are_classified_loosely() {
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": "7", "result": {"a": 1}})),
            Incoming::Response {
                id: 7,
                result: Ok(json!({"a": 1}))
            }
        );
        assert_eq!(
            classify(&json!({"id": 3, "error": {"code": -32602, "message": "bad"}})),
            Incoming::Response {
                id: 3,
                result: Err("bad (code -32602)".into())
            }
        );
        assert_eq!(
            classify(&json!({"id": 0, "method": "roots/list"})),
            Incoming::Request {
                id: json!(0),
                method: "roots/list".into()
            }
        );
        assert!(matches!(
            classify(&json!({"method": "notifications/tools/list_changed"})),
            Incoming::Notification { .. }
        ));
        assert_eq!(classify(&json!({"hello": 1})), Incoming::Other);
        assert_eq!(
            classify(&json!({"id": {"x": 1}, "result": 1})),
            Incoming::Other
        );
    }

    #[test]
    fn server_requests_get_ping_roots_or_method_not_found() {
        let ws = Path::new("/w/my project");
        assert_eq!(answer(&json!(1), "ping", ws)["result"], json!({}));
        let roots = answer(&json!("r"), "roots/list", ws);
        assert_eq!(roots["id"], "r");
        assert_eq!(roots["result"]["roots"][0]["uri"], "file:///w/my%20project");
        let other = answer(&json!(2), "sampling/createMessage", ws);
        assert_eq!(other["error"]["code"], METHOD_NOT_FOUND);
    }
}
