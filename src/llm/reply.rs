//! Pure reply assembly: SSE events → lenient chunks → an assembled [`Reply`].
//!
//! Each JSON payload is read as a loose `serde_json::Value` (never strict OpenAI types, which
//! real providers break) and folded into content, reasoning, refusal, tool calls (`calls.rs`),
//! finish reason, usage and in-band errors, following `shared/provider-quirks.md` §4. Nothing
//! here does I/O, so every provider quirk is a plain unit test.
//!
//! A reply is bounded: once its text, reasoning, refusal and tool calls together pass the
//! builder's limit ([`reply_limit`] of the configured `max_tokens`), every further event fails
//! with [`ReplyTooLarge`], so a server that streams without end cannot grow memory without end.

mod calls;

use serde_json::Value;

use self::calls::Calls;
use super::sse::SseEvent;
use super::{Reply, Usage};
use crate::message::{FunctionCall, ToolCall};

/// Bytes one token of output can plausibly take: about 4 for English, up to ~16 for CJK text,
/// code and the long whitespace runs some tokenizers hold in one token.
const BYTES_PER_TOKEN: usize = 16;
/// Room beyond `max_tokens`: reasoning that some providers stream outside it (DeepSeek's
/// chain of thought) and providers that overshoot or ignore the limit.
const TOKEN_SLACK: usize = 4;
/// The smallest limit, whatever `max_tokens` says: a reasoning model can think for tens of
/// thousands of tokens before a short answer. 8 MiB is about two million tokens of text.
const MIN_REPLY_BYTES: usize = 8 << 20;
/// The largest limit, whatever `max_tokens` says.
const MAX_REPLY_BYTES: usize = 1 << 30;

/// How large a reply to a request with `max_tokens` may grow before it is refused:
/// 64 bytes per token, at least 8 MiB, at most 1 GiB (8 MiB for the default 4096).
pub fn reply_limit(max_tokens: u32) -> usize {
    usize::try_from(max_tokens)
        .unwrap_or(usize::MAX)
        .saturating_mul(BYTES_PER_TOKEN * TOKEN_SLACK)
        .clamp(MIN_REPLY_BYTES, MAX_REPLY_BYTES)
}

/// The reply grew past the builder's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the reply grew past {limit} bytes")]
pub struct ReplyTooLarge {
    pub limit: usize,
}

/// What one event contributed that the user should see right away.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delta {
    pub text: String,
    pub reasoning: String,
    pub refusal: String,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.reasoning.is_empty() && self.refusal.is_empty()
    }
}

/// Assembles one streamed completion from its events.
#[derive(Debug)]
pub struct ReplyBuilder {
    text: String,
    reasoning: String,
    refusal: String,
    calls: Calls,
    finish_reason: Option<String>,
    usage: Option<Value>,
    error: Option<String>,
    done: bool,
    chunks: usize,
    bad_payloads: usize,
    limit: usize,
    too_large: bool,
}

impl Default for ReplyBuilder {
    fn default() -> Self {
        Self::with_limit(reply_limit(crate::config::DEFAULT_MAX_TOKENS))
    }
}

impl ReplyBuilder {
    /// A builder bounded for the default `max_tokens`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that refuses a reply larger than `limit` bytes (see [`ReplyBuilder::size`]).
    pub fn with_limit(limit: usize) -> Self {
        ReplyBuilder {
            text: String::new(),
            reasoning: String::new(),
            refusal: String::new(),
            calls: Calls::default(),
            finish_reason: None,
            usage: None,
            error: None,
            done: false,
            chunks: 0,
            bad_payloads: 0,
            limit,
            too_large: false,
        }
    }

    /// What the reply holds, in bytes: text, reasoning, refusal, and each tool call's id, name,
    /// arguments and extra fields plus a small fixed amount for its bookkeeping.
    pub fn size(&self) -> usize {
        self.text.len() + self.reasoning.len() + self.refusal.len() + self.calls.bytes()
    }

    /// `[DONE]` was seen: the caller should stop reading.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Number of JSON chunks understood so far (0 at the end means "not an event stream").
    pub fn chunks(&self) -> usize {
        self.chunks
    }

    /// The stream delivered everything it meant to: `[DONE]`, a finish reason, or an error.
    /// A stream that just stops without any of them was cut (Ollama's mid-stream failures look
    /// exactly like that) and is worth retrying.
    pub fn is_complete(&self) -> bool {
        self.done || self.finish_reason.is_some() || self.error.is_some()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Applies one SSE event and returns what should be shown now. Fails once the reply has
    /// grown past the limit (the event that crossed it included), and for every event after.
    pub fn apply(&mut self, ev: &SseEvent) -> Result<Delta, ReplyTooLarge> {
        self.check_size()?;
        let delta = self.fold_event(ev);
        self.check_size().map(|()| delta)
    }

    /// Applies one parsed chunk (`chat.completion.chunk`, leniently); fails as [`Self::apply`].
    pub fn apply_chunk(&mut self, chunk: &Value) -> Result<Delta, ReplyTooLarge> {
        self.check_size()?;
        let delta = self.fold_chunk(chunk);
        self.check_size().map(|()| delta)
    }

    fn check_size(&mut self) -> Result<(), ReplyTooLarge> {
        self.too_large |= self.size() > self.limit;
        match self.too_large {
            true => Err(ReplyTooLarge { limit: self.limit }),
            false => Ok(()),
        }
    }

    fn fold_event(&mut self, ev: &SseEvent) -> Delta {
        if self.done {
            // `[DONE]` ends the stream. The client stops reading after the network read that
            // held it, so without this, events behind it would count only when they happened
            // to arrive in that same read (found by the `sse_reply` fuzz target).
            return Delta::default();
        }
        let data = ev.data.trim();
        if ev.event.as_deref() == Some("error") {
            // Groq's `event: error`; the payload is usually `{"error": {...}}`, but take text too.
            let msg = serde_json::from_str::<Value>(data)
                .ok()
                .and_then(|v| error_message(v.get("error").unwrap_or(&v)))
                .unwrap_or_else(|| data.to_string());
            self.error.get_or_insert(msg);
            return Delta::default();
        }
        if data == "[DONE]" {
            self.done = true;
            return Delta::default();
        }
        if data.is_empty() {
            return Delta::default();
        }
        match serde_json::from_str::<Value>(data) {
            Ok(chunk) => self.fold_chunk(&chunk),
            Err(_) => {
                // Undecodable payloads are skipped; a stream made only of them is reported by
                // the caller as "not an event stream".
                self.bad_payloads += 1;
                Delta::default()
            }
        }
    }

    fn fold_chunk(&mut self, chunk: &Value) -> Delta {
        self.chunks += 1;
        let mut delta = Delta::default();
        if let Some(err) = chunk.get("error").filter(|e| truthy(e)) {
            let msg = error_message(err).unwrap_or_else(|| err.to_string());
            self.error.get_or_insert(msg);
        }
        let choice = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("index").and_then(Value::as_i64).unwrap_or(0) == 0)
            });
        let usage = non_null(chunk.get("usage"))
            .or_else(|| choice.and_then(|c| non_null(c.get("usage"))))
            .or_else(|| non_null(chunk.pointer("/x_groq/usage")));
        if let Some(u) = usage {
            // Perplexity and vLLM repeat cumulative usage on every chunk: keep the last.
            self.usage = Some(u.clone());
        }
        let Some(choice) = choice else {
            return delta;
        };
        if let Some(fr) = choice.get("finish_reason").and_then(Value::as_str) {
            // OpenRouter re-sends `null` after the real value, so only non-null values count.
            self.finish_reason = Some(fr.to_string());
        }
        // Azure's trailing content-filter choice has no `delta`; a full (non-streamed) completion
        // has `message` instead.
        let Some(d) = choice.get("delta").or_else(|| choice.get("message")) else {
            return delta;
        };
        match d.get("content") {
            Some(Value::String(s)) => delta.text.push_str(s),
            Some(Value::Array(parts)) => content_parts(parts, &mut delta),
            _ => {}
        }
        let reasoning = d
            .get("reasoning_content")
            .and_then(Value::as_str)
            .or_else(|| d.get("reasoning").and_then(Value::as_str));
        if let Some(r) = reasoning {
            delta.reasoning.push_str(r);
        }
        if let Some(r) = d.get("refusal").and_then(Value::as_str) {
            delta.refusal.push_str(r);
        }
        if let Some(calls) = d.get("tool_calls").and_then(Value::as_array) {
            for (pos, call) in calls.iter().enumerate() {
                self.calls.apply(call, pos, calls.len());
            }
        }
        if let Some(fc) = d.get("function_call").filter(|f| f.is_object()) {
            self.calls.apply_legacy(fc);
        }
        self.text.push_str(&delta.text);
        self.reasoning.push_str(&delta.reasoning);
        self.refusal.push_str(&delta.refusal);
        delta
    }

    /// The assembled reply, with wire values as received (ids may be missing, arguments empty).
    pub fn wire_calls(&self) -> Vec<(Option<String>, String, String)> {
        self.calls
            .list()
            .iter()
            .map(|c| (c.id.clone(), c.name.clone(), c.arguments.clone()))
            .collect()
    }

    /// The raw usage object as the provider sent it.
    pub fn raw_usage(&self) -> Option<&Value> {
        self.usage.as_ref()
    }

    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn reasoning(&self) -> &str {
        &self.reasoning
    }

    /// Finishes the reply with client policy applied: calls without an id get a generated one
    /// (`id_seed` keeps them unique across replies), empty arguments become `{}`, and calls
    /// with no name at all are dropped (nothing could run them).
    pub fn finish(self, id_seed: &str) -> Reply {
        let tool_calls = self
            .calls
            .into_list()
            .into_iter()
            .filter(|c| !c.name.is_empty())
            .enumerate()
            .map(|(i, c)| ToolCall {
                id: c.id.unwrap_or_else(|| format!("call_{id_seed}_{i}")),
                kind: "function".to_string(),
                function: FunctionCall {
                    name: c.name,
                    arguments: if c.arguments.trim().is_empty() {
                        "{}".to_string()
                    } else {
                        c.arguments
                    },
                },
                extra: c.extra,
            })
            .collect();
        Reply {
            text: self.text,
            reasoning: self.reasoning,
            refusal: self.refusal,
            tool_calls,
            usage: self.usage.as_ref().map(Usage::from_wire),
            finish_reason: self.finish_reason,
            error: self.error,
        }
    }
}

fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| v.is_object())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// The human message of an error value: `{"message": …}`, a plain string, or nested `error`.
pub fn error_message(err: &Value) -> Option<String> {
    match err {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| m.get("error").and_then(error_message)),
        Value::Array(a) => a.first().and_then(error_message),
        _ => None,
    }
}

/// Mistral's list content: `text` parts are the answer, `thinking` parts are reasoning.
fn content_parts(parts: &[Value], delta: &mut Delta) {
    for part in parts {
        match part.get("type").and_then(Value::as_str) {
            Some("thinking") => match part.get("thinking") {
                Some(Value::String(s)) => delta.reasoning.push_str(s),
                Some(Value::Array(inner)) => {
                    for p in inner {
                        if let Some(t) = p.get("text").and_then(Value::as_str) {
                            delta.reasoning.push_str(t);
                        }
                    }
                }
                _ => {}
            },
            Some("text") | None => {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    delta.text.push_str(t);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
