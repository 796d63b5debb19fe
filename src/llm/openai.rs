//! `OpenAiClient`: `POST {base}/chat/completions` with `stream: true`, over reqwest.
//!
//! Owns the network policy: retries (429, 5xx, connection errors and timeouts; 4 attempts,
//! 1 s / 2 s / 4 s or the server's `retry-after-ms` / `Retry-After`, capped at 60 s), the
//! per-provider request dialect learned from 400s (`stream_options`, `max_tokens` →
//! `max_completion_tokens`, `temperature`), restarting a stream that breaks before it completes
//! (at most twice), and the idle timeout. Reading a response, with the bounds on its size, is
//! `stream.rs`; decoding is `sse.rs`'s job; nothing here parses chunks.

use std::error::Error as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use self::stream::{Limits, read_stream};
use super::reply::error_message;
use super::{ChatRequest, Llm, LlmError, Reply, StreamEvent};
use crate::message::Message;

const MAX_ATTEMPTS: u32 = 4;
const MAX_STREAM_RESTARTS: u32 = 2;
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// What a request needs from the configuration. `Debug` is not derived: it holds the key.
#[derive(Clone)]
pub struct ClientSettings {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: f64,
    /// No byte for this long is a timeout; `None` waits forever.
    pub idle_timeout: Option<Duration>,
}

/// Request parameters a provider turned out to reject, learned once per client.
#[derive(Debug, Clone, Copy)]
struct Dialect {
    stream_options: bool,
    max_completion_tokens: bool,
    temperature: bool,
}

pub struct OpenAiClient {
    http: reqwest::Client,
    settings: ClientSettings,
    url: String,
    dialect: Mutex<Dialect>,
    requests: AtomicU64,
    id_prefix: String,
}

enum Failure {
    /// Worth another attempt (after `wait`, if the server named one).
    Transient(LlmError, Option<Duration>),
    /// The stream stopped before it completed; `shown` says whether text reached the screen.
    Broken {
        cause: String,
        shown: bool,
    },
    Fatal(LlmError),
}

impl OpenAiClient {
    pub fn new(settings: ClientSettings) -> Result<Self, LlmError> {
        let url = format!(
            "{}/chat/completions",
            settings.base_url.trim_end_matches('/')
        );
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("corecoder/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Connect {
                url: url.clone(),
                message: describe(&e),
            })?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Ok(OpenAiClient {
            http,
            url,
            dialect: Mutex::new(Dialect {
                stream_options: true,
                max_completion_tokens: false,
                temperature: true,
            }),
            requests: AtomicU64::new(0),
            id_prefix: format!("{:x}", nanos % (1 << 40)),
            settings,
        })
    }

    fn dialect(&self) -> Dialect {
        *self.dialect.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn body(&self, request: &ChatRequest<'_>) -> Value {
        let d = self.dialect();
        let system = Message::System {
            content: request.system.to_string(),
        };
        // The context message stands alone after the system prompt (the same bytes every
        // round); the tail joins the history's last message (see `split_tail`).
        let context = request.context.map(Message::user);
        let (history, last) = split_tail(request.messages, request.tail);
        let messages: Vec<&Message> = std::iter::once(&system)
            .chain(&context)
            .chain(history)
            .chain(&last)
            .collect();
        let mut body = json!({
            "model": self.settings.model,
            "messages": messages,
            "stream": true,
        });
        if !request.tools.is_empty() {
            body["tools"] = json!(request.tools);
        }
        let key = if d.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[key] = json!(self.settings.max_tokens);
        if d.temperature {
            body["temperature"] = json!(self.settings.temperature);
        }
        if d.stream_options {
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    /// Adapts the dialect to a 400 that names a parameter; false when nothing applies.
    fn adapt(&self, message: &str) -> bool {
        let msg = message.to_lowercase();
        let mut d = self.dialect.lock().unwrap_or_else(|p| p.into_inner());
        if d.stream_options && msg.contains("stream_options") {
            d.stream_options = false;
        } else if !d.max_completion_tokens && msg.contains("max_tokens") {
            d.max_completion_tokens = true;
        } else if d.temperature && msg.contains("temperature") {
            d.temperature = false;
        } else {
            return false;
        }
        true
    }

    async fn attempt(
        &self,
        request: &ChatRequest<'_>,
        seed: &str,
        sink: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Reply, Failure> {
        let idle = self.settings.idle_timeout;
        let body = serde_json::to_vec(&self.body(request)).unwrap_or_default();
        let mut post = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .body(body);
        if let Some(key) = self.settings.api_key.as_deref().filter(|k| !k.is_empty()) {
            post = post.bearer_auth(key);
        }
        let response = match within(idle, post.send()).await {
            None => {
                let err = LlmError::Timeout(idle.unwrap_or_default());
                return Err(Failure::Transient(err, None));
            }
            Some(Err(e)) => {
                // Credentials in the URL (`http://user:pass@…`) never reach a message.
                let err = LlmError::Connect {
                    url: crate::redact::redact_urls(&self.url),
                    message: crate::redact::redact_urls(&describe(&e)),
                };
                return Err(Failure::Transient(err, None));
            }
            Some(Ok(r)) => r,
        };
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let text = match within(idle, response.text()).await {
                Some(Ok(t)) => t,
                _ => String::new(),
            };
            let err = LlmError::Http {
                status: status.as_u16(),
                message: error_text(&text, status.canonical_reason()),
            };
            let should_retry = headers
                .get("x-should-retry")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.eq_ignore_ascii_case("true"));
            let retryable = status.as_u16() == 429 || status.is_server_error();
            return Err(match should_retry.unwrap_or(retryable) {
                true => Failure::Transient(err, retry_delay(&headers)),
                false => Failure::Fatal(err),
            });
        }
        let limits = Limits::for_max_tokens(self.settings.max_tokens);
        read_stream(response, idle, limits, seed, sink).await
    }
}

#[async_trait]
impl Llm for OpenAiClient {
    fn model(&self) -> &str {
        &self.settings.model
    }

    async fn stream(
        &self,
        request: ChatRequest<'_>,
        sink: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Reply, LlmError> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let seed = format!("{}{n}", self.id_prefix);
        let (mut attempt, mut restarts) = (1u32, 0u32);
        loop {
            let (err, wait) = match self.attempt(&request, &seed, sink).await {
                Ok(reply) => return Ok(reply),
                Err(Failure::Fatal(LlmError::Http {
                    status: 400,
                    message,
                })) if self.adapt(&message) => {
                    continue;
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient(e, wait)) if attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                    (e.to_string(), wait.unwrap_or_else(|| backoff(attempt - 1)))
                }
                Err(Failure::Transient(e, _)) => return Err(e),
                Err(Failure::Broken { cause, shown }) if restarts < MAX_STREAM_RESTARTS => {
                    restarts += 1;
                    if shown {
                        sink(StreamEvent::Discarded);
                    }
                    (format!("the stream broke ({cause})"), backoff(restarts))
                }
                Err(Failure::Broken { .. }) => {
                    return Err(LlmError::Incomplete {
                        attempts: restarts + 1,
                    });
                }
            };
            let wait = wait.min(MAX_RETRY_WAIT);
            sink(StreamEvent::Retrying { wait, reason: err });
            tokio::time::sleep(wait).await;
        }
    }
}

/// `fut`'s output, or `None` when `limit` passed first.
async fn within<F: std::future::Future>(limit: Option<Duration>, fut: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// 1 s, 2 s, 4 s, … for the first, second, third retry.
/// The history as sent, with the request's tail: added to the last message when that is a
/// user message or a tool result, else sent as a user message of its own. Mistral rejects a
/// user message right after a tool result ("Unexpected role 'user' after role 'tool'") and
/// strict chat templates reject two user messages in a row; the stored history is untouched.
pub(crate) fn split_tail<'a>(
    messages: &'a [Message],
    tail: Option<&str>,
) -> (&'a [Message], Option<Message>) {
    let Some(tail) = tail else {
        return (messages, None);
    };
    match messages.split_last() {
        Some((Message::User { content }, history)) => {
            (history, Some(Message::user(format!("{content}\n\n{tail}"))))
        }
        Some((
            Message::Tool {
                tool_call_id,
                content,
            },
            history,
        )) => (
            history,
            Some(Message::tool(
                tool_call_id.clone(),
                format!("{content}\n\n{tail}"),
            )),
        ),
        _ => (messages, Some(Message::user(tail))),
    }
}

pub fn backoff(retry: u32) -> Duration {
    Duration::from_secs(1 << retry.saturating_sub(1).min(6))
}

/// The wait a server asked for: `retry-after-ms`, else `Retry-After` in (float) seconds.
pub fn retry_delay(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let secs = get("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after"))?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(60.0)))
}

/// The provider's own words from an error body of any common shape, else the raw text.
pub fn error_text(body: &str, reason: Option<&str>) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body)
        && let Some(msg) = error_message(&v)
    {
        return msg;
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return reason.unwrap_or("no details").to_string();
    }
    snippet(trimmed.as_bytes())
}

fn snippet(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".to_string();
    }
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

/// A reqwest error with its causes ("connection refused" is in the source chain).
fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

mod stream;
#[cfg(test)]
mod tests;
