//! Every recorded stream in `tests/fixtures/sse/` (a copy of the workplace's recorded provider streams) must assemble to its `.expect.json`:
//! once through the pure decoder and assembler (fed in awkward splits), and once over a real
//! HTTP connection through `OpenAiClient`.

use std::path::PathBuf;

use corecoder::llm::openai::{ClientSettings, OpenAiClient};
use corecoder::llm::reply::ReplyBuilder;
use corecoder::llm::sse::SseDecoder;
use corecoder::llm::{ChatRequest, Llm, LlmError};
use corecoder::message::Message;
use serde_json::{Value, json};

use crate::support::{MockServer, Script};

fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sse");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/fixtures/sse is part of the repository") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("sse") {
            continue;
        }
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let expect =
            std::fs::read_to_string(path.with_extension("expect.json")).expect("expect file");
        out.push((
            name,
            std::fs::read(&path).expect("sse file"),
            serde_json::from_str(&expect).expect("json"),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Assembles `bytes` fed in pieces of `split` bytes, as the wire values the fixtures encode.
fn assemble(bytes: &[u8], split: usize) -> Value {
    let mut decoder = SseDecoder::new();
    let mut builder = ReplyBuilder::new();
    'read: for piece in bytes.chunks(split) {
        for ev in decoder.push(piece).expect("a recorded line fits the limit") {
            builder.apply(&ev).expect("a recorded reply fits the limit");
            if builder.is_done() {
                break 'read;
            }
        }
    }
    if !builder.is_done()
        && let Some(ev) = decoder.finish().expect("a recorded line fits the limit")
    {
        builder.apply(&ev).expect("a recorded reply fits the limit");
    }
    let calls: Vec<Value> = builder
        .wire_calls()
        .into_iter()
        .map(|(id, name, args)| json!({"id": id, "name": name, "arguments": args}))
        .collect();
    json!({
        "content": builder.text(),
        "reasoning": Some(builder.reasoning()).filter(|r| !r.is_empty()),
        "tool_calls": calls,
        "finish_reason": builder.finish_reason(),
        "usage": builder.raw_usage(),
        "error": builder.error(),
    })
}

#[test]
#[allow(clippy::print_stdout)]
fn every_recorded_provider_stream_assembles_as_expected() {
    let all = fixtures();
    assert!(
        all.len() >= 30,
        "expected the 30 recorded streams, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for (name, bytes, expect) in &all {
        // Whole, byte by byte (every CRLF and UTF-8 sequence split), and in odd pieces.
        for split in [bytes.len().max(1), 1, 7, 64] {
            let got = assemble(bytes, split);
            for field in [
                "content",
                "reasoning",
                "tool_calls",
                "finish_reason",
                "usage",
                "error",
            ] {
                if got[field] != expect[field] {
                    failures.push(format!(
                        "{name} (split {split}) {field}: got {} want {}",
                        got[field], expect[field]
                    ));
                }
            }
        }
        println!(
            "fixture {name:<58} ok: content {} chars, {} tool calls, finish {}, error {}",
            expect["content"].as_str().map_or(0, |s| s.chars().count()),
            expect["tool_calls"].as_array().map_or(0, Vec::len),
            expect["finish_reason"],
            expect["error"].is_string(),
        );
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_recorded_provider_stream_works_over_http() {
    for (name, bytes, expect) in fixtures() {
        // Served in uneven pieces so the client sees the stream arrive across reads.
        let text = String::from_utf8(bytes).expect("fixtures are UTF-8");
        let chars: Vec<char> = text.chars().collect();
        let pieces: Vec<String> = chars.chunks(97).map(|c| c.iter().collect()).collect();
        let server = MockServer::start(vec![Script::Sse(pieces)]).await;
        let client = OpenAiClient::new(ClientSettings {
            base_url: server.url.clone(),
            api_key: None,
            model: "m".into(),
            max_tokens: 64,
            temperature: 0.0,
            idle_timeout: None,
        })
        .expect("client");
        let messages = [Message::user("hi")];
        let request = ChatRequest {
            system: "sys",
            context: None,
            messages: &messages,
            tail: None,
            tools: &[],
        };
        let mut shown = String::new();
        let result = client
            .stream(request, &mut |ev| {
                if let corecoder::llm::StreamEvent::Text(t) = ev {
                    shown.push_str(&t);
                }
            })
            .await;
        match (result, expect["error"].as_str()) {
            (Err(LlmError::InStream(msg)), Some(want)) => assert_eq!(msg, want, "{name}"),
            (Ok(reply), None) => {
                assert_eq!(
                    reply.text,
                    expect["content"].as_str().unwrap_or(""),
                    "{name}"
                );
                assert_eq!(
                    shown,
                    reply.text.clone() + &reply.refusal,
                    "{name}: streamed text"
                );
                let want: Vec<(String, String)> = expect["tool_calls"]
                    .as_array()
                    .expect("array")
                    .iter()
                    .map(|c| {
                        (
                            c["name"].as_str().unwrap_or("").to_string(),
                            c["arguments"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .map(|(n, a)| (n, if a.is_empty() { "{}".to_string() } else { a }))
                    .collect();
                let got: Vec<(String, String)> = reply
                    .tool_calls
                    .iter()
                    .map(|c| (c.function.name.clone(), c.function.arguments.clone()))
                    .collect();
                assert_eq!(got, want, "{name}");
                for (call, wire) in reply
                    .tool_calls
                    .iter()
                    .zip(expect["tool_calls"].as_array().expect("array"))
                {
                    match wire["id"].as_str() {
                        Some(id) => assert_eq!(call.id, id, "{name}"),
                        None => assert!(!call.id.is_empty(), "{name}: a generated id"),
                    }
                }
                let usage = &expect["usage"];
                if usage.is_object() {
                    let u = reply.usage.expect("usage");
                    assert_eq!(
                        u.prompt_tokens,
                        usage["prompt_tokens"].as_u64().unwrap_or(0),
                        "{name}"
                    );
                    assert_eq!(
                        u.completion_tokens,
                        usage["completion_tokens"].as_u64().unwrap_or(0),
                        "{name}"
                    );
                }
            }
            (other, want) => panic!("{name}: got {other:?}, expected error {want:?}"),
        }
    }
}
