//! The Streamable HTTP transport (MCP 2025-03-26 and later): every message is a POST to the
//! server's one URL; the answer is JSON, an event stream (decoded by the same SSE decoder as
//! the model's stream), or `202 Accepted` for notifications and responses. The server's
//! `Mcp-Session-Id` is sent back on every later request, with `MCP-Protocol-Version` once it
//! is agreed; closing sends `DELETE` with the session id.
//!
//! The GET stream for server-initiated messages is not opened: every server tried sends what
//! it has on the POST's own stream, and list changes are caught on the next request. A POST
//! that fails is turned into an error answer to its request, so the waiter learns at once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::log::ServerLog;
use crate::llm::sse::SseDecoder;

const SESSION: &str = "Mcp-Session-Id";
const VERSION: &str = "MCP-Protocol-Version";
/// The most one JSON (non-stream) answer may hold.
const MAX_BODY: usize = 64 << 20;

pub struct HttpSession {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::Client,
    url: String,
    headers: BTreeMap<String, String>,
    session: Mutex<Option<String>>,
    version: Mutex<Option<String>>,
    log: Arc<ServerLog>,
}

pub type Channels = (mpsc::UnboundedSender<Value>, mpsc::UnboundedReceiver<Value>);

impl HttpSession {
    pub fn connect(
        url: &str,
        headers: &BTreeMap<String, String>,
        log: Arc<ServerLog>,
    ) -> Result<(HttpSession, Channels), String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let shared = Arc::new(Shared {
            http,
            url: url.to_string(),
            headers: headers.clone(),
            session: Mutex::default(),
            version: Mutex::default(),
            log,
        });
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Value>();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let poster = shared.clone();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                // Concurrent: a tool call's stream may stay open for minutes.
                tokio::spawn(post(poster.clone(), msg, in_tx.clone()));
            }
        });
        Ok((HttpSession { shared }, (out_tx, in_rx)))
    }

    /// Sends `MCP-Protocol-Version` from now on.
    pub fn set_version(&self, version: &str) {
        *lock(&self.shared.version) = Some(version.to_string());
    }

    /// `DELETE` with the session id, when the server gave one (bounded to 2 s).
    pub async fn close(&self) {
        let Some(session) = lock(&self.shared.session).clone() else {
            return;
        };
        let request = self
            .shared
            .request(reqwest::Method::DELETE)
            .header(SESSION, session);
        let _ = tokio::time::timeout(Duration::from_secs(2), request.send()).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method, &self.url);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        if let Some(version) = lock(&self.version).clone() {
            builder = builder.header(VERSION, version);
        }
        builder
    }
}

async fn post(shared: Arc<Shared>, msg: Value, incoming: mpsc::UnboundedSender<Value>) {
    let id = msg.get("method").and(msg.get("id")).cloned();
    if let Err(why) = exchange(&shared, &msg, &incoming).await {
        shared.log.push(&why);
        // Only a request has someone waiting; a lost notification or answer is just logged.
        if let Some(id) = id {
            let _ = incoming.send(json!({"jsonrpc": "2.0", "id": id, "error": {"message": why}}));
        }
    }
}

async fn exchange(
    shared: &Shared,
    msg: &Value,
    incoming: &mpsc::UnboundedSender<Value>,
) -> Result<(), String> {
    let mut request = shared
        .request(reqwest::Method::POST)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .body(msg.to_string());
    if let Some(session) = lock(&shared.session).clone() {
        request = request.header(SESSION, session);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("POST {} failed: {e}", shared.url))?;
    if let Some(session) = response
        .headers()
        .get(SESSION)
        .and_then(|v| v.to_str().ok())
    {
        *lock(&shared.session) = Some(session.to_string());
    }
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(300).collect();
        return Err(format!(
            "the server answered HTTP {status}: {}",
            body.trim()
        ));
    }
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if kind.starts_with("text/event-stream") {
        let mut decoder = SseDecoder::new();
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| format!("the event stream broke: {e}"))?;
            let events = match &chunk {
                Some(bytes) => decoder.push(bytes),
                None => decoder.finish().map(|last| last.into_iter().collect()),
            }
            .map_err(|e| e.to_string())?;
            for event in events {
                deliver(&event.data, incoming, &shared.log);
            }
            if chunk.is_none() {
                return Ok(());
            }
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(format!("the server's answer passed {MAX_BODY} bytes"));
        }
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        deliver(&String::from_utf8_lossy(&body), incoming, &shared.log);
    }
    Ok(())
}

/// One JSON message or batch, to the connection; anything else is logged.
fn deliver(data: &str, incoming: &mpsc::UnboundedSender<Value>, log: &ServerLog) {
    if data.trim().is_empty() {
        return;
    }
    match serde_json::from_str::<Value>(data) {
        Ok(Value::Array(batch)) => batch.into_iter().for_each(|m| {
            let _ = incoming.send(m);
        }),
        Ok(msg) => {
            let _ = incoming.send(msg);
        }
        Err(_) => log.push(&format!("skipped a message that is not JSON: {data}")),
    }
}
