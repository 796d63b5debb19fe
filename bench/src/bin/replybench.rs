//! `replybench`: the time to decode and assemble one streamed reply with many tool calls, as
//! the client does it (`SseDecoder` → `ReplyBuilder`, 16 KiB reads), without the network.
//!
//! Each call is two chunks: one opening it with its id, index, name and half its arguments,
//! one continuing it by index with the rest, the way OpenAI streams parallel calls.
//!
//! Usage: `replybench [CALLS] [RUNS]` (defaults 100000 and 5); prints each run's time and the
//! median.

use std::time::Instant;

use corecoder::llm::reply::ReplyBuilder;
use corecoder::llm::sse::SseDecoder;
use serde_json::json;

fn stream(calls: usize) -> Vec<u8> {
    let mut out = String::new();
    let mut event = |delta: serde_json::Value| {
        let chunk = json!({"object": "chat.completion.chunk",
                           "choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]});
        out.push_str(&format!("data: {chunk}\n\n"));
    };
    for i in 0..calls {
        event(
            json!({"index": i, "id": format!("call_{i}"), "type": "function",
                     "function": {"name": "bash", "arguments": "{\"command\":"}}),
        );
        event(json!({"index": i, "function": {"arguments": "\"true\"}"}}));
    }
    out.push_str(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    );
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

fn assemble(bytes: &[u8]) -> usize {
    let mut decoder = SseDecoder::new();
    // Unbounded: this measures assembly, not the size limit a client derives from max_tokens.
    let mut builder = ReplyBuilder::with_limit(usize::MAX);
    for read in bytes.chunks(16 * 1024) {
        for ev in decoder.push(read).expect("no line is near the limit") {
            builder.apply(&ev).expect("unbounded");
        }
    }
    builder.finish("bench").tool_calls.len()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let bytes = stream(calls);
    let mut times = Vec::new();
    for run in 1..=runs {
        let start = Instant::now();
        let assembled = assemble(&bytes);
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(assembled, calls, "every call assembled");
        println!(
            "run {run}: {calls} calls ({} MiB of stream) in {secs:.3} s",
            bytes.len() >> 20
        );
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    println!("median: {:.3} s", times[times.len() / 2]);
}
