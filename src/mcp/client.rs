//! One connection's JSON-RPC bookkeeping, whatever the transport: requests matched to their
//! answers by id, the server's requests answered, its notifications routed, timeouts that
//! progress resets, and cancellation when the caller gives up.
//!
//! A transport is two channels: messages to send (`outgoing`) and messages received
//! (`incoming`); the channel closing means the server is gone. Every request still waiting
//! then fails at once with that reason, rather than at its timeout.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, oneshot};

use super::log::ServerLog;
use super::protocol::{self, Incoming};

type Reply = Result<Value, String>;

/// What the connection tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    ToolsChanged,
    /// The transport closed: the server exited or the stream broke.
    Closed(String),
}

pub struct Connection {
    outgoing: mpsc::UnboundedSender<Value>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    /// One per request in flight; a progress notification for it wakes its waiter.
    progress: Mutex<HashMap<u64, Arc<Notify>>>,
    next_id: AtomicU64,
    /// Why the connection ended, once it has.
    closed: Mutex<Option<String>>,
}

impl Connection {
    /// Starts routing `incoming`; events go to `events`. `workspace` answers `roots/list`.
    pub fn start(
        outgoing: mpsc::UnboundedSender<Value>,
        incoming: mpsc::UnboundedReceiver<Value>,
        events: mpsc::UnboundedSender<ServerEvent>,
        workspace: PathBuf,
        log: Arc<ServerLog>,
    ) -> Arc<Connection> {
        let conn = Arc::new(Connection {
            outgoing,
            pending: Mutex::default(),
            progress: Mutex::default(),
            next_id: AtomicU64::new(1),
            closed: Mutex::default(),
        });
        tokio::spawn(route(conn.clone(), incoming, events, workspace, log));
        conn
    }

    pub fn notify(&self, method: &str, params: Value) {
        let _ = self.outgoing.send(protocol::notification(method, params));
    }

    /// Sends a request and waits for its answer, at most `timeout` since the request or its
    /// last progress notification. Dropping the future (Ctrl-C) or timing out tells the
    /// server with `notifications/cancelled`.
    pub async fn request(&self, method: &str, mut params: Value, timeout: Duration) -> Reply {
        if let Some(why) = self.closed_reason() {
            return Err(why);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = oneshot::channel();
        let progressed = Arc::new(Notify::new());
        lock(&self.pending).insert(id, tx);
        lock(&self.progress).insert(id, progressed.clone());
        let mut guard = InFlight {
            conn: self,
            id,
            // The protocol forbids cancelling `initialize`; it just fails.
            settled: method == "initialize",
        };
        // The connection may have closed between the check above and the insert.
        if let Some(why) = self.closed_reason() {
            guard.settled = true;
            return Err(why);
        }
        // The request id doubles as the progress token: one lookup finds the waiter.
        if let (true, Value::Object(map)) = (method == "tools/call", &mut params) {
            map.insert("_meta".into(), json!({"progressToken": id}));
        }
        if self
            .outgoing
            .send(protocol::request(id, method, params))
            .is_err()
        {
            guard.settled = true;
            return Err(self
                .closed_reason()
                .unwrap_or_else(|| "the server is gone".into()));
        }
        loop {
            tokio::select! {
                reply = &mut rx => {
                    guard.settled = true;
                    return reply.unwrap_or_else(|_| {
                        Err(self.closed_reason().unwrap_or_else(|| "the server is gone".into()))
                    });
                }
                () = progressed.notified() => continue,
                () = tokio::time::sleep(timeout) => {
                    return Err(format!(
                        "no answer to {method} within {} s (cancelled)",
                        timeout.as_secs_f64()
                    ));
                }
            }
        }
    }

    pub fn closed_reason(&self) -> Option<String> {
        lock(&self.closed).clone()
    }

    fn close(&self, why: String) {
        lock(&self.closed).get_or_insert(why);
        // Dropping the senders wakes every waiter with the reason above.
        lock(&self.pending).clear();
    }

    fn answer(&self, id: u64, reply: Reply) {
        if let Some(tx) = lock(&self.pending).remove(&id) {
            let _ = tx.send(reply);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request in flight; when dropped unanswered (timeout, Ctrl-C), the server is told to stop.
struct InFlight<'a> {
    conn: &'a Connection,
    id: u64,
    /// Answered, failed before sending, or never to be cancelled.
    settled: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(&self.conn.pending).remove(&self.id);
        lock(&self.conn.progress).remove(&self.id);
        if !self.settled && self.conn.closed_reason().is_none() {
            self.conn.notify(
                "notifications/cancelled",
                json!({"requestId": self.id, "reason": "cancelled by the user or timed out"}),
            );
        }
    }
}

async fn route(
    conn: Arc<Connection>,
    mut incoming: mpsc::UnboundedReceiver<Value>,
    events: mpsc::UnboundedSender<ServerEvent>,
    workspace: PathBuf,
    log: Arc<ServerLog>,
) {
    while let Some(msg) = incoming.recv().await {
        match protocol::classify(&msg) {
            Incoming::Response { id, result } => conn.answer(id, result),
            Incoming::Request { id, method } => {
                let _ = conn
                    .outgoing
                    .send(protocol::answer(&id, &method, &workspace));
            }
            Incoming::Notification { method, params } => match method.as_str() {
                "notifications/tools/list_changed" => {
                    let _ = events.send(ServerEvent::ToolsChanged);
                }
                "notifications/progress" => {
                    let token = params.get("progressToken").and_then(Value::as_u64);
                    if let Some(waiter) = token.and_then(|t| lock(&conn.progress).get(&t).cloned())
                    {
                        waiter.notify_one();
                    }
                }
                "notifications/message" => {
                    let level = params.get("level").and_then(Value::as_str).unwrap_or("log");
                    let data = params.get("data").cloned().unwrap_or(Value::Null);
                    let text = data
                        .as_str()
                        .map_or_else(|| data.to_string(), str::to_string);
                    log.push(&format!("[{level}] {text}"));
                }
                _ => {}
            },
            Incoming::Other => log.push(&format!("skipped a message that is not JSON-RPC: {msg}")),
        }
    }
    let why = "the server closed the connection".to_string();
    conn.close(why.clone());
    let _ = events.send(ServerEvent::Closed(why));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (
        Arc<Connection>,
        mpsc::UnboundedReceiver<Value>,
        mpsc::UnboundedSender<Value>,
        mpsc::UnboundedReceiver<ServerEvent>,
    ) {
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let conn = Connection::start(out_tx, in_rx, ev_tx, "/w".into(), Arc::default());
        (conn, out_rx, in_tx, ev_rx)
    }

    #[tokio::test(start_paused = true)]
    async fn progress_resets_the_timeout_and_a_timeout_cancels() {
        let (conn, mut sent, server, _ev) = pair();
        let call = {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.request(
                    "tools/call",
                    json!({"name": "slow"}),
                    Duration::from_secs(10),
                )
                .await
            })
        };
        let req = sent.recv().await.unwrap();
        let id = req["id"].as_u64().unwrap();
        assert_eq!(req["params"]["_meta"]["progressToken"], id);
        // Progress every 6 s for 30 s keeps the 10 s timeout from firing.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(6)).await;
            let p = json!({"method": "notifications/progress", "params": {"progressToken": id, "progress": 1}});
            server.send(p).unwrap();
        }
        server
            .send(json!({"id": id, "result": {"ok": true}}))
            .unwrap();
        assert_eq!(call.await.unwrap().unwrap(), json!({"ok": true}));

        let err = conn
            .request("tools/call", json!({}), Duration::from_secs(10))
            .await;
        assert!(err.unwrap_err().contains("within 10 s"));
        let _request = sent.recv().await.unwrap();
        let cancel = sent.recv().await.unwrap();
        assert_eq!(cancel["method"], "notifications/cancelled");
    }

    #[tokio::test]
    async fn a_dropped_call_is_cancelled_and_server_requests_are_answered() {
        let (conn, mut sent, server, mut events) = pair();
        let call = {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.request("tools/call", json!({}), Duration::from_secs(60))
                    .await
            })
        };
        let req = sent.recv().await.unwrap();
        call.abort();
        let cancel = sent.recv().await.unwrap();
        assert_eq!(cancel["method"], "notifications/cancelled");
        assert_eq!(cancel["params"]["requestId"], req["id"]);

        server
            .send(json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}))
            .unwrap();
        assert_eq!(
            sent.recv().await.unwrap(),
            json!({"jsonrpc": "2.0", "id": 9, "result": {}})
        );
        server
            .send(json!({"id": 10, "method": "sampling/createMessage"}))
            .unwrap();
        assert_eq!(sent.recv().await.unwrap()["error"]["code"], -32601);
        server
            .send(json!({"method": "notifications/tools/list_changed"}))
            .unwrap();
        assert_eq!(events.recv().await.unwrap(), ServerEvent::ToolsChanged);
    }

    #[tokio::test]
    async fn a_closed_transport_fails_waiting_requests_at_once() {
        let (conn, mut sent, server, mut events) = pair();
        let call = {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.request("tools/list", json!({}), Duration::from_secs(3600))
                    .await
            })
        };
        let _ = sent.recv().await.unwrap();
        drop(server);
        let err = call.await.unwrap().unwrap_err();
        assert!(err.contains("closed"), "{err}");
        assert!(matches!(
            events.recv().await.unwrap(),
            ServerEvent::Closed(_)
        ));
        let later = conn
            .request("ping", json!({}), Duration::from_secs(1))
            .await;
        assert!(later.is_err());
    }
}
