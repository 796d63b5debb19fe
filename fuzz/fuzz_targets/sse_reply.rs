//! Arbitrary bytes, cut into arbitrary network reads, through the SSE decoder and the reply
//! builder exactly as `llm/openai.rs` drives them (stop reading after `[DONE]`, then `finish`).
//!
//! Input: byte 0 says how many of the following bytes are chunk lengths (0–16); those lengths
//! are used in turn (0 means an empty read followed by a one-byte read) and the rest is the
//! stream. Invariants: nothing panics, and the decoded events and the assembled reply (text,
//! reasoning, refusal, tool calls, finish reason, usage, error, completeness) are the same
//! whether the stream arrives in one read or in those pieces. Each input runs with no limits
//! and with limits of a few hundred bytes on an event and on the reply, so that the bounds
//! are reached and their failures must not depend on the split either.

#![no_main]

use corecoder::llm::Reply;
use corecoder::llm::reply::ReplyBuilder;
use corecoder::llm::sse::{SseDecoder, SseEvent};

/// (event limit, reply limit): none; a reply limit alone; and both, small enough that inputs
/// of a few KiB cross them (a recorded chunk is 100-600 bytes).
const LIMITS: [(usize, usize); 3] = [(usize::MAX, usize::MAX), (usize::MAX, 40), (600, 100)];
use libfuzzer_sys::fuzz_target;

/// What the client ends up with, plus the builder's flags the client branches on.
#[derive(Debug, PartialEq)]
struct Outcome {
    reply: Reply,
    done: bool,
    complete: bool,
    understood_chunks: usize,
}

/// The client's read loop (`read_stream` in `llm/openai.rs`) without the I/O; a bound that
/// was crossed is the outcome instead.
fn assemble<'a>(
    reads: impl Iterator<Item = &'a [u8]>,
    (event_limit, reply_limit): (usize, usize),
) -> Result<Outcome, String> {
    let mut decoder = SseDecoder::with_limit(event_limit);
    let mut builder = ReplyBuilder::with_limit(reply_limit);
    for bytes in reads {
        for ev in decoder.push(bytes).map_err(|e| e.to_string())? {
            builder.apply(&ev).map_err(|e| e.to_string())?;
        }
        if builder.is_done() {
            break;
        }
    }
    if !builder.is_done()
        && let Some(ev) = decoder.finish().map_err(|e| e.to_string())?
    {
        builder.apply(&ev).map_err(|e| e.to_string())?;
    }
    let (done, complete, understood_chunks) =
        (builder.is_done(), builder.is_complete(), builder.chunks());
    Ok(Outcome {
        reply: builder.finish("fuzz"),
        done,
        complete,
        understood_chunks,
    })
}

/// Every event the decoder produces, reading to the end or to its failure.
fn decode<'a>(
    reads: impl Iterator<Item = &'a [u8]>,
    limit: usize,
) -> (Vec<SseEvent>, Option<String>) {
    let mut decoder = SseDecoder::with_limit(limit);
    let mut out = Vec::new();
    for bytes in reads {
        match decoder.push(bytes) {
            Ok(events) => out.extend(events),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
    match decoder.finish() {
        Ok(last) => out.extend(last),
        Err(e) => return (out, Some(e.to_string())),
    }
    (out, None)
}

/// The stream cut into reads of the given lengths, used cyclically.
fn split<'a>(stream: &'a [u8], lengths: &[u8]) -> Vec<&'a [u8]> {
    if lengths.is_empty() {
        return vec![stream];
    }
    let mut reads = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < stream.len() {
        let mut len = usize::from(lengths[i % lengths.len()]);
        i += 1;
        if len == 0 {
            reads.push(&stream[at..at]);
            len = 1;
        }
        let end = (at + len).min(stream.len());
        reads.push(&stream[at..end]);
        at = end;
    }
    reads
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 17).min(rest.len());
    let (lengths, stream) = rest.split_at(count);
    let reads = split(stream, lengths);

    for limits in LIMITS {
        let whole = decode(std::iter::once(stream), limits.0);
        let pieces = decode(reads.iter().copied(), limits.0);
        assert_eq!(
            whole, pieces,
            "decoded events differ when split as {lengths:?} (limits {limits:?})"
        );

        let whole = assemble(std::iter::once(stream), limits);
        let pieces = assemble(reads.iter().copied(), limits);
        assert_eq!(
            whole, pieces,
            "assembled reply differs when split as {lengths:?} (limits {limits:?})"
        );
    }
});
