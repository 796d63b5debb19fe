//! Streamable HTTP against a small server on 127.0.0.1:0: JSON and event-stream answers, the
//! session id and protocol version headers, DELETE on close, and an HTTP error as a tool error.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

/// What the server saw: method, the MCP headers, and the JSON-RPC method of the body.
#[derive(Debug, Clone)]
struct Seen {
    verb: String,
    session: Option<String>,
    version: Option<String>,
    auth: Option<String>,
    rpc: Option<String>,
}

async fn serve(listener: TcpListener, seen: Arc<Mutex<Vec<Seen>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            let verb = line.split(' ').next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).await.unwrap();
                let h = h.trim_end().to_string();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let len: usize = header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).await.unwrap();
            let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let rpc = msg
                .get("method")
                .and_then(Value::as_str)
                .map(str::to_string);
            seen.lock().unwrap().push(Seen {
                verb: verb.clone(),
                session: header("mcp-session-id"),
                version: header("mcp-protocol-version"),
                auth: header("authorization"),
                rpc: rpc.clone(),
            });
            let id = msg.get("id").cloned().unwrap_or(Value::Null);
            let reply =
                |result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
            let (status, kind, extra, body) = match (verb.as_str(), rpc.as_deref()) {
                ("POST", Some("initialize")) => (
                    "200 OK",
                    "application/json",
                    "Mcp-Session-Id: sess-42\r\n",
                    reply(json!({"protocolVersion": "2025-03-26", "capabilities": {}})),
                ),
                ("POST", Some("tools/list")) => (
                    "200 OK",
                    "application/json",
                    "",
                    reply(json!({"tools": [
                        {"name": "shout", "inputSchema": {"type": "object", "properties": {"t": {"type": "string"}}}},
                        {"name": "broken", "inputSchema": {"type": "object"}}
                    ]})),
                ),
                ("POST", Some("tools/call")) if msg["params"]["name"] == "shout" => {
                    let t = msg["params"]["arguments"]["t"]
                        .as_str()
                        .unwrap_or("")
                        .to_uppercase();
                    let progress = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": msg["params"]["_meta"]["progressToken"], "progress": 1}});
                    let result = reply(json!({"content": [{"type": "text", "text": t}]}));
                    // An event stream, CRLF and a comment included, as real servers send.
                    let sse = format!(
                        ": hello\r\nevent: message\r\ndata: {progress}\r\n\r\ndata: {result}\r\n\r\n"
                    );
                    ("200 OK", "text/event-stream", "", sse)
                }
                ("POST", Some("tools/call")) => (
                    "500 Internal Server Error",
                    "text/plain",
                    "",
                    "exploded".into(),
                ),
                ("POST", _) => ("202 Accepted", "text/plain", "", String::new()),
                _ => ("200 OK", "text/plain", "", String::new()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let mut stream = reader.into_inner();
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

#[tokio::test]
async fn mcp_streamable_http_session_headers_sse_answers_and_delete_on_close() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let server = tokio::spawn(serve(listener, seen.clone()));
    let mut config = stdio("web", "unused", &[]);
    config.transport = Transport::Http {
        url,
        headers: [("Authorization".to_string(), "Bearer t0k".to_string())].into(),
    };
    let s = start(vec![config]).await;
    assert_eq!(s.state("web"), State::Ready, "{:?}", s.notices());
    assert_eq!(
        s.call("mcp__web__shout", json!({"t": "hi"})).await.unwrap(),
        "HI"
    );
    let err = s.call("mcp__web__broken", json!({})).await.unwrap_err();
    assert!(
        err.contains("HTTP 500") && err.contains("exploded"),
        "{err}"
    );
    s.hub.shutdown().await;
    let seen = seen.lock().unwrap().clone();
    let init = seen
        .iter()
        .find(|r| r.rpc.as_deref() == Some("initialize"))
        .unwrap();
    assert_eq!(init.session, None);
    assert_eq!(init.auth.as_deref(), Some("Bearer t0k"));
    let call = seen
        .iter()
        .find(|r| r.rpc.as_deref() == Some("tools/call"))
        .unwrap();
    assert_eq!(call.session.as_deref(), Some("sess-42"));
    assert_eq!(call.version.as_deref(), Some("2025-03-26"));
    let delete = seen
        .iter()
        .find(|r| r.verb == "DELETE")
        .expect("DELETE on close");
    assert_eq!(delete.session.as_deref(), Some("sess-42"));
    server.abort();
}
