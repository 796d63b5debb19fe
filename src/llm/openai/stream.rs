//! Reading one successful response: bytes → `SseDecoder` → `ReplyBuilder`, with the text shown
//! as it arrives, and the bounds that keep a server that never stops from costing unbounded
//! memory or time: the reply's size ([`reply_limit`] of `max_tokens`), one event's size
//! ([`crate::llm::sse::MAX_EVENT_BYTES`]), and how much may arrive without adding anything.
//! Crossing one fails the turn at once: a retry would only stream the same again.

use std::time::Duration;

use serde_json::Value;

use super::{Failure, describe, snippet, within};
use crate::llm::reply::{ReplyBuilder, ReplyTooLarge, reply_limit};
use crate::llm::sse::{EventTooLarge, SseDecoder};
use crate::llm::{LlmError, Reply, StreamEvent};

/// How much of a body that is not an event stream we keep to explain it (or parse it whole).
const MAX_RAW_BODY: usize = 1 << 20;
/// How much may arrive without the reply growing: keep-alive comments, empty or usage-only
/// chunks. Real streams send a few hundred bytes between pieces of content; a server that
/// sends this much without any is not going to answer.
const MAX_BYTES_WITHOUT_CONTENT: usize = 64 << 20;

/// How much one response may deliver.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Bytes of assembled reply (see `ReplyBuilder::size`).
    reply: usize,
    /// The setting `reply` was derived from, for the error message.
    max_tokens: u32,
    /// Bytes received in a row without the reply growing.
    without_content: usize,
}

impl Limits {
    pub fn for_max_tokens(max_tokens: u32) -> Limits {
        Limits {
            reply: reply_limit(max_tokens),
            max_tokens,
            without_content: MAX_BYTES_WITHOUT_CONTENT,
        }
    }
}

/// Reads one successful response to its end.
pub(super) async fn read_stream(
    mut response: reqwest::Response,
    idle: Option<Duration>,
    limits: Limits,
    seed: &str,
    sink: &mut (dyn FnMut(StreamEvent) + Send),
) -> Result<Reply, Failure> {
    let mut decoder = SseDecoder::new();
    let mut builder = ReplyBuilder::with_limit(limits.reply);
    let too_large = |_: ReplyTooLarge| {
        Failure::Fatal(LlmError::ReplyTooLarge {
            limit: limits.reply,
            max_tokens: limits.max_tokens,
        })
    };
    let mut raw = Vec::new();
    let mut shown = false;
    let mut emit = |builder: &mut ReplyBuilder, ev| -> Result<(), ReplyTooLarge> {
        let d = builder.apply(&ev)?;
        for (text, is_reasoning) in [(d.text, false), (d.refusal, false), (d.reasoning, true)] {
            if !text.is_empty() {
                shown = true;
                sink(match is_reasoning {
                    true => StreamEvent::Reasoning(text),
                    false => StreamEvent::Text(text),
                });
            }
        }
        Ok(())
    };
    let (mut size, mut without_content) = (0, 0usize);
    loop {
        let bytes = match within(idle, response.chunk()).await {
            None => {
                let cause = format!("no data for {}s", idle.unwrap_or_default().as_secs());
                return Err(Failure::Broken { cause, shown });
            }
            Some(Err(e)) => {
                let cause = describe(&e);
                return Err(Failure::Broken { cause, shown });
            }
            Some(Ok(None)) => break,
            Some(Ok(Some(b))) => b,
        };
        if builder.chunks() == 0 && raw.len() < MAX_RAW_BODY {
            raw.extend_from_slice(&bytes);
        }
        let events = decoder.push(&bytes).map_err(event_too_large)?;
        for ev in events {
            emit(&mut builder, ev).map_err(too_large)?;
        }
        if builder.is_done() {
            break;
        }
        without_content = match builder.size() > size {
            true => 0,
            false => without_content.saturating_add(bytes.len()),
        };
        size = builder.size();
        if without_content > limits.without_content {
            let err = LlmError::NoContent {
                bytes: without_content,
            };
            return Err(Failure::Fatal(err));
        }
    }
    // After `[DONE]` nothing counts (and the rest of the stream was never read).
    if !builder.is_done()
        && let Some(ev) = decoder.finish().map_err(event_too_large)?
    {
        emit(&mut builder, ev).map_err(too_large)?;
    }
    if builder.chunks() == 0 && !builder.is_done() && builder.error().is_none() {
        // Not SSE: a server that ignored `stream: true`, a JSON error, an HTML page, garbage.
        match serde_json::from_slice::<Value>(&raw) {
            Ok(v) if v.get("choices").is_some() || v.get("error").is_some() => {
                let d = builder.apply_chunk(&v).map_err(too_large)?;
                if !d.text.is_empty() {
                    sink(StreamEvent::Text(d.text));
                }
            }
            _ => return Err(Failure::Fatal(LlmError::NotEventStream(snippet(&raw)))),
        }
    }
    if let Some(msg) = builder.error() {
        return Err(Failure::Fatal(LlmError::InStream(msg.to_string())));
    }
    if !builder.is_complete() {
        let cause = "the connection closed before the reply finished".to_string();
        return Err(Failure::Broken { cause, shown });
    }
    Ok(builder.finish(seed))
}

fn event_too_large(e: EventTooLarge) -> Failure {
    Failure::Fatal(LlmError::EventTooLarge { limit: e.limit })
}
