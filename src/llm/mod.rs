//! The model seam: the [`Llm`] trait, one streamed request in, one assembled [`Reply`] out.
//!
//! `openai.rs` implements it over HTTP; tests implement it with a script. The trait streams
//! deltas to a callback as they arrive and returns tool calls whole. (A later "tool call N is
//! complete" event would let tools start while the model still streams; `StreamEvent` is the
//! place for it.)

pub mod openai;
pub mod reply;
pub mod sse;
pub mod textual_calls;
pub mod usage;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::message::{Message, ToolCall};

/// Everything one completion request needs besides the client's own settings.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    /// The same bytes for every session with the same tools (see `prompt`): a cached prefix.
    pub system: &'a str,
    /// A user message sent right after the system prompt, before the history: what varies
    /// between sessions (environment, project instructions). Not part of the history.
    pub context: Option<&'a str>,
    pub messages: &'a [Message],
    /// Text sent after the history and not kept in it: this round's state (plan mode's note,
    /// the session's todo list), so the system prompt and the history stay byte-stable. On the
    /// wire it joins the last message when that is a user or tool message (see
    /// `openai::split_tail`).
    pub tail: Option<&'a str>,
    /// Tool schemas in the OpenAI `{"type":"function","function":{…}}` shape; empty for none.
    pub tools: &'a [Value],
}

/// What the client reports while a request is in flight.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Text(String),
    Reasoning(String),
    /// The stream broke after this text was shown; the retry starts the reply over.
    Discarded,
    Retrying {
        wait: Duration,
        reason: String,
    },
}

/// Token counts of one request; fields the provider left null count as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn from_wire(v: &Value) -> Self {
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Usage {
            prompt_tokens: n("prompt_tokens"),
            completion_tokens: n("completion_tokens"),
        }
    }
}

/// One assembled completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    /// Display only: never sent back in the history.
    pub reasoning: String,
    /// OpenAI's `delta.refusal`, kept apart from the content.
    pub refusal: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    /// An error the provider sent inside a 200 stream; the client turns it into `Err`.
    pub error: Option<String>,
}

/// A failure only a person can fix (after the client's own retries).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LlmError {
    #[error("the provider answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("could not reach {url}: {message}")]
    Connect { url: String, message: String },
    #[error("no data from the provider for {0:?}")]
    Timeout(Duration),
    #[error("the provider reported an error mid-stream: {0}")]
    InStream(String),
    #[error("the stream ended before the reply was complete (tried {attempts} times)")]
    Incomplete { attempts: u32 },
    #[error("the provider's response is not an event stream: {0}")]
    NotEventStream(String),
    #[error(
        "the reply grew past {limit} bytes ({}), the most allowed for max_tokens = {max_tokens}, \
         so reading stopped; the provider was streaming far beyond any answer that size \
         (raise max_tokens if the model really needs to write more)",
        mib(*.limit)
    )]
    ReplyTooLarge { limit: usize, max_tokens: u32 },
    #[error(
        "the provider sent more than {limit} bytes ({}) in one event-stream line or event \
         without ending it, so reading stopped",
        mib(*.limit)
    )]
    EventTooLarge { limit: usize },
    #[error(
        "the provider sent {bytes} bytes ({}) without adding anything to the reply, \
         so reading stopped",
        mib(*.bytes)
    )]
    NoContent { bytes: usize },
}

/// `bytes` in MiB, for messages: "8 MiB", "12.5 MiB".
fn mib(bytes: usize) -> String {
    let m = bytes as f64 / f64::from(1 << 20);
    match m.fract() == 0.0 {
        true => format!("{m} MiB"),
        false => format!("{m:.1} MiB"),
    }
}

#[async_trait]
pub trait Llm: Send + Sync {
    /// The model name requests go to (for pricing and display).
    fn model(&self) -> &str;

    /// Streams one completion, reporting deltas to `sink`, and returns it assembled.
    async fn stream(
        &self,
        request: ChatRequest<'_>,
        sink: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Reply, LlmError>;
}
