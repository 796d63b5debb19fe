//! `mock-model`: the benchmark's scripted model, an OpenAI-compatible streaming chat-completions
//! server on 127.0.0.1.
//!
//! Why a Rust binary rather than a Python script: the server shares the 2 cores with the agent
//! being timed, and every round of `rounds20` and `bigcontext` passes through it. A std-only
//! server that answers in microseconds keeps its own cost out of the per-round figure, for our
//! agent and the Python original alike.
//!
//! The reply is decided from the request alone, so every agent process is independent and the
//! server keeps no state between requests:
//! - a request without tools is a compaction summary request and gets a short text;
//! - the scenario and the round come from the ids of earlier tool calls
//!   (`bench-<scenario>-<round>-<i>`), which survive compaction because the newest messages are
//!   always kept; before any tool call, from `scenario=<name>` in the last user message.
//!
//! Scenarios: `hello` (text), `roundsN` (N rounds of one `bash true`, then text), `parallel8`
//! (one reply with 8 `bash sleep 0.5`, then text), `bigcontext` (30 rounds each reading
//! `<bigdir>/big-NN.txt`, then text), `bigoutputN` (one `bash` printing N MB of text lines, then
//! text; measures what a huge command output costs). Two more are faults for measuring the
//! client's bounds, not part of the benchmark: `forever` streams text chunks of ~1 KiB until the
//! client goes away, and `longlineN` sends one `data:` line of N MiB without a newline, then
//! ends the response. Usage reports `prompt_tokens` as the request body's bytes
//! / 4, roughly what a real tokenizer would count, so an agent's context accounting sees real
//! growth.
//!
//! Usage: `mock-model [--port N] [--bigdir DIR]`; prints the base URL (`http://127.0.0.1:P/v1`)
//! as its first line of stdout, then serves until killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::{Value, json};

const BIG_ROUNDS: usize = 30;

fn main() {
    let mut port = 0u16;
    let mut bigdir = String::from("/tmp");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--bigdir" => bigdir = args.next().unwrap_or(bigdir),
            _ => {
                eprintln!("usage: mock-model [--port N] [--bigdir DIR]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    println!("http://{addr}/v1");
    // bench.py reads this line from a pipe before it starts any agent: flush it now rather
    // than rely on how std buffers a stdout that is not a terminal. This harness binary is
    // not part of corecoder, so the render-only rule on the handle does not apply.
    #[allow(clippy::disallowed_methods)]
    std::io::stdout().flush().ok();
    for socket in listener.incoming().flatten() {
        let bigdir = bigdir.clone();
        std::thread::spawn(move || serve(socket, &bigdir));
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(socket: TcpStream, bigdir: &str) {
    socket.set_nodelay(true).ok();
    let Ok(mut writer) = socket.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(socket);
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let response = if request_line.contains("/chat/completions") {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut out = String::from(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                 transfer-encoding: chunked\r\n\r\n",
            );
            if let Some(fault) = fault(&request) {
                // It either never ends or ends the connection: nothing is served after it.
                let _ = writer.write_all(out.as_bytes());
                fault.serve(&mut writer);
                return;
            }
            for event in reply(&request, body.len(), bigdir) {
                out.push_str(&format!("{:x}\r\n{event}\r\n", event.len()));
            }
            out.push_str("0\r\n\r\n");
            out
        } else {
            let body = r#"{"error":{"message":"not found"}}"#;
            format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A reply that tests the client's bounds rather than the agent.
enum Fault {
    /// Text chunks until the client goes away.
    Forever,
    /// One `data:` line of this many bytes without a newline, then the end of the response.
    LongLine(usize),
}

impl Fault {
    fn serve(self, writer: &mut TcpStream) {
        let chunk = |body: &str| format!("{:x}\r\n{body}\r\n", body.len());
        match self {
            Fault::Forever => {
                let text = "all work and no play ".repeat(50);
                let piece = chunk(&content_chunk(&text));
                while writer.write_all(piece.as_bytes()).is_ok() {}
            }
            Fault::LongLine(len) => {
                let block = "a".repeat(1 << 20);
                let mut sent = 0;
                let mut ok = writer.write_all(chunk("data: ").as_bytes()).is_ok();
                while ok && sent < len {
                    let n = block.len().min(len - sent);
                    ok = writer.write_all(chunk(&block[..n]).as_bytes()).is_ok();
                    sent += n;
                }
                let _ = writer.write_all(b"0\r\n\r\n");
            }
        }
    }
}

/// A content chunk carrying `text`.
fn content_chunk(text: &str) -> String {
    chunk(json!([{"index": 0, "delta": {"content": text}}]), None)
}

/// The fault a request asks for (`scenario=forever`, `scenario=longline100`), if any.
fn fault(request: &Value) -> Option<Fault> {
    if request["tools"].as_array().is_none_or(|t| t.is_empty()) {
        return None;
    }
    let (scenario, _) = position(request);
    if scenario == "forever" {
        return Some(Fault::Forever);
    }
    let mib: usize = scenario.strip_prefix("longline")?.parse().ok()?;
    Some(Fault::LongLine(mib << 20))
}

/// What the scripted model does next.
enum Next {
    Text(&'static str),
    Tools(Vec<(String, &'static str, Value)>),
}

/// The SSE events of the reply to `request`.
fn reply(request: &Value, body_len: usize, bigdir: &str) -> Vec<String> {
    let prompt_tokens = body_len / 4;
    let has_tools = request["tools"].as_array().is_some_and(|t| !t.is_empty());
    let next = if has_tools {
        let (scenario, round) = position(request);
        decide(&scenario, round + 1, bigdir)
    } else {
        Next::Text("Summary: a benchmark conversation; nothing to keep.")
    };
    match next {
        Next::Text(text) => sse_text(text, prompt_tokens),
        Next::Tools(calls) => sse_tools(&calls, prompt_tokens),
    }
}

/// The scenario and the last round that made tool calls (0 before any).
fn position(request: &Value) -> (String, usize) {
    let empty = Vec::new();
    let messages = request["messages"].as_array().unwrap_or(&empty);
    let mut best: Option<(String, usize)> = None;
    for m in messages {
        let ids = m["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str())
            .chain(m["tool_call_id"].as_str());
        for id in ids {
            let mut parts = id.split('-');
            if let (Some("bench"), Some(s), Some(r)) = (parts.next(), parts.next(), parts.next())
                && let Ok(r) = r.parse::<usize>()
                && best.as_ref().is_none_or(|(_, b)| r > *b)
            {
                best = Some((s.to_string(), r));
            }
        }
    }
    if let Some(found) = best {
        return found;
    }
    let scenario = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .and_then(|c| c.split("scenario=").nth(1))
        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
        .unwrap_or_default();
    (scenario, 0)
}

fn decide(scenario: &str, round: usize, bigdir: &str) -> Next {
    let id = |i: usize| format!("bench-{scenario}-{round}-{i}");
    if let Some(n) = scenario.strip_prefix("rounds") {
        let n: usize = n.parse().unwrap_or(0);
        return if round <= n {
            Next::Tools(vec![(id(0), "bash", json!({"command": "true"}))])
        } else {
            Next::Text("Done: every round ran.")
        };
    }
    if let Some(mb) = scenario.strip_prefix("bigoutput") {
        let bytes = mb.parse::<u64>().unwrap_or(0) * 1_000_000;
        let command = format!("yes 'a line of output from a noisy build step' | head -c {bytes}");
        return if round == 1 {
            Next::Tools(vec![(id(0), "bash", json!({ "command": command }))])
        } else {
            Next::Text("Done: the command printed a lot.")
        };
    }
    match scenario {
        "hello" => Next::Text("Hello! I am the scripted benchmark model."),
        "parallel8" if round == 1 => Next::Tools(
            (0..8)
                .map(|i| (id(i), "bash", json!({"command": "sleep 0.5"})))
                .collect(),
        ),
        "parallel8" => Next::Text("Done: all eight commands finished."),
        "bigcontext" if round <= BIG_ROUNDS => {
            let path = format!("{bigdir}/big-{round:02}.txt");
            Next::Tools(vec![(id(0), "read_file", json!({"file_path": path}))])
        }
        "bigcontext" => Next::Text("Done: read all thirty files."),
        _ => Next::Text("Unknown scenario; say scenario=<name> in the prompt."),
    }
}

/// One `data:` event carrying a chat.completion.chunk with these choices (and usage).
fn chunk(choices: Value, usage: Option<Value>) -> String {
    let mut v = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
                       "created": 0, "model": "bench", "choices": choices});
    if let Some(u) = usage {
        v["usage"] = u;
    }
    format!("data: {v}\n\n")
}

fn usage(prompt_tokens: usize) -> Option<Value> {
    Some(
        json!({"prompt_tokens": prompt_tokens, "completion_tokens": 10,
                "total_tokens": prompt_tokens + 10}),
    )
}

/// The end of every reply: a finish chunk, a usage chunk and `[DONE]`.
fn finish(out: &mut Vec<String>, reason: &str, prompt_tokens: usize) {
    out.push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": reason}]),
        None,
    ));
    out.push(chunk(json!([]), usage(prompt_tokens)));
    out.push("data: [DONE]\n\n".to_string());
}

/// A text answer streamed word by word.
fn sse_text(text: &str, prompt_tokens: usize) -> Vec<String> {
    let mut out = vec![chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        None,
    )];
    for word in text.split_inclusive(' ') {
        out.push(chunk(
            json!([{"index": 0, "delta": {"content": word}}]),
            None,
        ));
    }
    finish(&mut out, "stop", prompt_tokens);
    out
}

/// One reply with these tool calls, each call's arguments split across two chunks.
fn sse_tools(calls: &[(String, &str, Value)], prompt_tokens: usize) -> Vec<String> {
    let mut out = vec![chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": null}}]),
        None,
    )];
    for (i, (id, name, args)) in calls.iter().enumerate() {
        let args = args.to_string();
        let (a, b) = args.split_at(args.len() / 2);
        let first = json!({"index": i, "id": id, "type": "function",
                           "function": {"name": name, "arguments": a}});
        let rest = json!({"index": i, "function": {"arguments": b}});
        for call in [first, rest] {
            out.push(chunk(
                json!([{"index": 0, "delta": {"tool_calls": [call]}}]),
                None,
            ));
        }
    }
    finish(&mut out, "tool_calls", prompt_tokens);
    out
}
