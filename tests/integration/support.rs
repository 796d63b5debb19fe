//! Test support: a local HTTP server speaking the streaming chat-completions API, SSE body
//! builders, and a scripted `Llm`. Both the server and the scripted model check, on every
//! request they record, that each tool message answers a tool call of an earlier assistant
//! message.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use corecoder::llm::{ChatRequest, Llm, LlmError, Reply, StreamEvent};
use corecoder::message::{Message, check_tool_pairing};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted HTTP response.
#[derive(Debug, Clone)]
pub enum Script {
    /// 200 `text/event-stream`, each piece written (and flushed) as its own chunk.
    Sse(Vec<String>),
    /// Like `Sse`, then the connection is dropped mid-body.
    SseThenCut(Vec<String>),
    /// Like `Sse`, then nothing more is ever sent.
    SseThenHang(Vec<String>),
    /// Like `Sse`, then the last piece again and again until the client goes away.
    SseThenRepeat(Vec<String>, String),
    /// Any status with headers and a body.
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        content_type: &'static str,
        body: String,
    },
}

impl Script {
    pub fn status(code: u16, body: &str) -> Script {
        Script::Status {
            code,
            headers: Vec::new(),
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Script {
        if let Script::Status { headers, .. } = &mut self {
            headers.push((name, value.to_string()));
        }
        self
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Recorded {
    pub fn messages(&self) -> Vec<Message> {
        serde_json::from_value(self.body["messages"].clone()).expect("messages parse")
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Script>,
    requests: Vec<Recorded>,
    violations: Vec<String>,
    /// No response is sent before this many requests have arrived.
    gate: usize,
    /// Paths answered with a fixed JSON body (a local server's model list, `/props`…),
    /// outside the script and the recorded requests.
    routes: HashMap<String, Value>,
    /// Paths of every request, routed or not, in order.
    paths: Vec<String>,
}

pub struct MockServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    /// Starts a server on 127.0.0.1:0 that answers requests with `script`, in order.
    pub async fn start(script: Vec<Script>) -> MockServer {
        Self::gated(script, 0).await
    }

    /// Like [`start`](Self::start), but answers nothing until `gate` requests have arrived:
    /// every client is then mid-turn at the same moment.
    pub async fn gated(script: Vec<Script>, gate: usize) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            gate,
            ..State::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        MockServer { url, state }
    }

    /// Like [`start`](Self::start), plus fixed JSON answers for `routes` (path → body), as a
    /// local model server answers `/v1/models` or `/props`.
    pub async fn with_routes(script: Vec<Script>, routes: Vec<(&str, Value)>) -> MockServer {
        let server = Self::gated(script, 0).await;
        server.state.lock().expect("lock").routes = routes
            .into_iter()
            .map(|(path, body)| (path.to_string(), body))
            .collect();
        server
    }

    /// `127.0.0.1:PORT`'s port.
    pub fn port(&self) -> u16 {
        let rest = self.url.trim_start_matches("http://127.0.0.1:");
        rest.trim_end_matches("/v1").parse().expect("port")
    }

    /// The path of every request so far, routed ones included.
    pub fn paths(&self) -> Vec<String> {
        self.state.lock().expect("lock").paths.clone()
    }

    /// Every request received so far (each already checked for tool-message pairing).
    pub fn requests(&self) -> Vec<Recorded> {
        let state = self.state.lock().expect("lock");
        assert!(
            state.violations.is_empty(),
            "history invariant broken: {:?}",
            state.violations
        );
        state.requests.clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let state = self.state.lock().expect("lock");
        assert!(
            state.violations.is_empty(),
            "history invariant broken: {:?}",
            state.violations
        );
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        let Some((head_len, body_len)) = read_head(&mut socket, &mut buf).await else {
            return;
        };
        while buf.len() < head_len + body_len {
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf[..head_len]).to_string();
        let body: Value =
            serde_json::from_slice(&buf[head_len..head_len + body_len]).unwrap_or(Value::Null);
        buf.drain(..head_len + body_len);
        let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
        let routed = {
            let mut st = state.lock().expect("lock");
            st.paths.push(path.clone());
            st.routes.get(&path).cloned()
        };
        // Only chat requests take their answer from the script; other paths (a client asking
        // what kind of server this is) get a route's answer or a 404, as from a real server.
        let answer = match routed {
            Some(body) => Some(Script::status(200, &body.to_string())),
            None if !path.ends_with("/chat/completions") => {
                Some(Script::status(404, r#"{"error":"not found"}"#))
            }
            None => None,
        };
        if let Some(answer) = answer {
            if !respond(&mut socket, answer).await {
                return;
            }
            continue;
        }
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let script = {
            let mut st = state.lock().expect("lock");
            if let Ok(messages) = serde_json::from_value::<Vec<Message>>(body["messages"].clone())
                && let Err(v) = check_tool_pairing(&messages)
            {
                st.violations.push(v);
            }
            st.requests.push(Recorded { headers, body });
            st.script.pop_front()
        };
        loop {
            let open = {
                let st = state.lock().expect("lock");
                st.requests.len() >= st.gate
            };
            if open {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let script = script
            .unwrap_or_else(|| Script::status(500, r#"{"error":{"message":"script exhausted"}}"#));
        if !respond(&mut socket, script).await {
            return;
        }
    }
}

/// Reads until the end of the request head; returns (head length, content length).
async fn read_head(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(usize, usize)> {
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            return Some((pos + 4, len));
        }
        let mut chunk = [0u8; 8192];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes one response; false when the connection must not be reused.
async fn respond(socket: &mut TcpStream, script: Script) -> bool {
    let sse_head =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    match script {
        Script::Status {
            code,
            headers,
            content_type,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {code} Status\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            socket.write_all(head.as_bytes()).await.is_ok()
                && socket.write_all(body.as_bytes()).await.is_ok()
        }
        Script::Sse(pieces) => {
            let ok = write_pieces(socket, sse_head, &pieces).await;
            ok && socket.write_all(b"0\r\n\r\n").await.is_ok()
        }
        Script::SseThenCut(pieces) => {
            write_pieces(socket, sse_head, &pieces).await;
            let _ = socket.shutdown().await;
            false
        }
        Script::SseThenHang(pieces) => {
            write_pieces(socket, sse_head, &pieces).await;
            std::future::pending::<()>().await;
            false
        }
        Script::SseThenRepeat(pieces, repeated) => {
            if write_pieces(socket, sse_head, &pieces).await {
                let chunk = format!("{:x}\r\n{repeated}\r\n", repeated.len());
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            }
            false
        }
    }
}

async fn write_pieces(socket: &mut TcpStream, head: &str, pieces: &[String]) -> bool {
    if socket.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for p in pieces {
        let chunk = format!("{:x}\r\n{p}\r\n", p.len());
        if socket.write_all(chunk.as_bytes()).await.is_err() || socket.flush().await.is_err() {
            return false;
        }
    }
    true
}

fn data(v: Value) -> String {
    format!("data: {v}\n\n")
}

/// A text answer streamed in pieces, with a finish chunk, usage and `[DONE]`.
pub fn sse_text(text: &str) -> Vec<String> {
    let mut out = vec![data(
        json!({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}),
    )];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(5) {
        let s: String = piece.iter().collect();
        out.push(data(json!({"choices":[{"index":0,"delta":{"content":s}}]})));
    }
    out.push(data(
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ));
    out.push(data(json!({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110}})));
    out.push("data: [DONE]\n\n".to_string());
    out
}

/// One reply with these tool calls (`id`, `name`, `arguments`), arguments split in two.
pub fn sse_tools(calls: &[(&str, &str, Value)]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (id, name, args)) in calls.iter().enumerate() {
        let args = args.to_string();
        let (a, b) = args.split_at(args.len() / 2);
        out.push(data(json!({"choices":[{"index":0,"delta":{"tool_calls":[
            {"index":i,"id":id,"type":"function","function":{"name":name,"arguments":a}}]}}]})));
        out.push(data(json!({"choices":[{"index":0,"delta":{"tool_calls":[
            {"index":i,"function":{"arguments":b}}]}}]})));
    }
    out.push(data(
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":50,"completion_tokens":5}}),
    ));
    out.push("data: [DONE]\n\n".to_string());
    out
}

/// A scripted model: replies in order, records every request's messages.
pub struct ScriptedLlm {
    replies: Mutex<VecDeque<(Duration, Result<Reply, LlmError>)>>,
    pub requests: Mutex<Vec<(String, Vec<Message>)>>,
    /// Each request's context message and tail note, in the same order.
    pub extras: Mutex<Vec<(Option<String>, Option<String>)>>,
}

impl ScriptedLlm {
    pub fn new(replies: Vec<Result<Reply, LlmError>>) -> Arc<ScriptedLlm> {
        Self::delayed(replies.into_iter().map(|r| (Duration::ZERO, r)).collect())
    }

    /// Each reply arrives after its delay (tokio time, so paused-clock tests stay fast).
    pub fn delayed(replies: Vec<(Duration, Result<Reply, LlmError>)>) -> Arc<ScriptedLlm> {
        Arc::new(ScriptedLlm {
            replies: Mutex::new(replies.into()),
            requests: Mutex::new(Vec::new()),
            extras: Mutex::new(Vec::new()),
        })
    }

    pub fn requests(&self) -> Vec<(String, Vec<Message>)> {
        self.requests.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Llm for ScriptedLlm {
    fn model(&self) -> &str {
        "gpt-4o"
    }

    async fn stream(
        &self,
        request: ChatRequest<'_>,
        sink: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Reply, LlmError> {
        check_tool_pairing(request.messages).expect("every tool message answers an earlier call");
        self.requests
            .lock()
            .expect("lock")
            .push((request.system.to_string(), sent(&request)));
        self.extras.lock().expect("lock").push((
            request.context.map(str::to_string),
            request.tail.map(str::to_string),
        ));
        let next = self.replies.lock().expect("lock").pop_front();
        let (delay, reply) = next.unwrap_or((Duration::ZERO, Ok(text_reply("(script exhausted)"))));
        tokio::time::sleep(delay).await;
        if let Ok(r) = &reply {
            if !r.reasoning.is_empty() {
                sink(StreamEvent::Reasoning(r.reasoning.clone()));
            }
            if !r.text.is_empty() {
                sink(StreamEvent::Text(r.text.clone()));
            }
        }
        reply
    }
}

/// The messages a request sends after the system prompt: the history, then its tail.
fn sent(request: &ChatRequest<'_>) -> Vec<Message> {
    let tail = request.tail.map(Message::user);
    request.messages.iter().cloned().chain(tail).collect()
}

pub fn text_reply(text: &str) -> Reply {
    Reply {
        text: text.to_string(),
        finish_reason: Some("stop".into()),
        usage: Some(corecoder::llm::Usage {
            prompt_tokens: 10,
            completion_tokens: 2,
        }),
        ..Reply::default()
    }
}

pub fn tool_reply(calls: &[(&str, &str, &str)]) -> Reply {
    Reply {
        tool_calls: calls
            .iter()
            .map(|(id, name, args)| corecoder::message::ToolCall {
                id: id.to_string(),
                kind: "function".into(),
                function: corecoder::message::FunctionCall {
                    name: name.to_string(),
                    arguments: args.to_string(),
                },
                extra: Default::default(),
            })
            .collect(),
        finish_reason: Some("tool_calls".into()),
        usage: Some(corecoder::llm::Usage {
            prompt_tokens: 20,
            completion_tokens: 3,
        }),
        ..Reply::default()
    }
}

/// A dispatcher for `dir` in `mode` with no rules; `approver` `None` is a headless run.
pub fn dispatcher(
    dir: &std::path::Path,
    mode: corecoder::policy::Mode,
    approver: Option<Arc<dyn corecoder::approval::Approver>>,
) -> Arc<corecoder::dispatch::Dispatcher> {
    let workspace = corecoder::policy::Workspace::new(dir, None);
    let permissions = corecoder::permissions::Permissions::new(mode, Default::default(), workspace);
    Arc::new(corecoder::dispatch::Dispatcher::new(
        Arc::new(permissions),
        approver,
        Vec::new(),
    ))
}
