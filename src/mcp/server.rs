//! One server's life: connect (spawn or HTTP), `initialize`, list its tools, then follow its
//! notifications until it closes; and shut it down. The state is what `/mcp` shows.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::client::{Connection, ServerEvent};
use super::http::HttpSession;
use super::log::ServerLog;
use super::protocol;
use super::stdio::{Spawn, StdioProcess};
use crate::config::mcp::{ServerConfig, Transport};

/// How long a burst of `tools/list_changed` is gathered before one re-list (servers send two
/// right after start).
pub const DEBOUNCE: Duration = Duration::from_millis(300);
/// Pages of `tools/list` followed at most (a cursor loop must end).
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Starting,
    Ready,
    /// Did not start, or stopped: the reason, shown once as a notice and then by `/mcp`.
    Failed(String),
    /// A project's server the person has not allowed to start.
    NotTrusted,
    Stopped,
}

/// A tool as the server listed it (before naming and schema cleaning).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub description: String,
    pub schema: Value,
}

enum Link {
    Stdio(Box<StdioProcess>),
    Http(HttpSession),
}

pub struct Server {
    pub config: ServerConfig,
    pub log: Arc<ServerLog>,
    state: Mutex<State>,
    conn: Mutex<Option<Arc<Connection>>>,
    link: tokio::sync::Mutex<Option<Link>>,
    tools: Mutex<Vec<Listed>>,
}

/// What a server is started with.
pub struct Launch {
    /// The filtered environment every stdio server inherits (its own `env` is added).
    pub env: BTreeMap<String, String>,
    /// Answers `roots/list`; the default directory of stdio servers.
    pub workspace: PathBuf,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Server {
    pub fn new(config: ServerConfig, state: State) -> Server {
        Server {
            config,
            log: Arc::default(),
            state: Mutex::new(state),
            conn: Mutex::default(),
            link: tokio::sync::Mutex::default(),
            tools: Mutex::default(),
        }
    }

    pub fn state(&self) -> State {
        lock(&self.state).clone()
    }

    pub fn set_state(&self, state: State) {
        *lock(&self.state) = state;
    }

    pub fn tools(&self) -> Vec<Listed> {
        lock(&self.tools).clone()
    }

    pub fn connection(&self) -> Option<Arc<Connection>> {
        lock(&self.conn).clone()
    }

    /// Connects and lists the tools, within the startup timeout. On success the server is
    /// `Ready` and its events come out of the returned channel.
    pub async fn connect(
        &self,
        launch: &Launch,
    ) -> Result<mpsc::UnboundedReceiver<ServerEvent>, String> {
        let limit = self.config.startup_timeout;
        match tokio::time::timeout(limit, self.handshake(launch)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "did not start within {} s (startup_timeout_sec)",
                limit.as_secs_f64()
            )),
        }
    }

    async fn handshake(
        &self,
        launch: &Launch,
    ) -> Result<mpsc::UnboundedReceiver<ServerEvent>, String> {
        let (link, (outgoing, incoming)) = match &self.config.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let mut all = launch.env.clone();
                all.extend(env.clone());
                let cwd = cwd.clone().unwrap_or_else(|| launch.workspace.clone());
                let spec = Spawn {
                    command,
                    args,
                    env: &all,
                    cwd: &cwd,
                };
                let (process, channels) = StdioProcess::spawn(&spec, self.log.clone())
                    .map_err(|e| format!("cannot run {command}: {e}"))?;
                (Link::Stdio(Box::new(process)), channels)
            }
            Transport::Http { url, headers } => {
                let (session, channels) = HttpSession::connect(url, headers, self.log.clone())?;
                (Link::Http(session), channels)
            }
        };
        *self.link.lock().await = Some(link);
        let (events_tx, events) = mpsc::unbounded_channel();
        let conn = Connection::start(
            outgoing,
            incoming,
            events_tx,
            launch.workspace.clone(),
            self.log.clone(),
        );
        *lock(&self.conn) = Some(conn.clone());
        // The start-up limit is `connect`'s; this request's own must not end first with a
        // vaguer message (both fire in the same timer tick on a busy machine).
        let init = conn
            .request(
                "initialize",
                protocol::initialize_params(),
                self.config.startup_timeout.saturating_mul(2),
            )
            .await
            .map_err(|e| self.with_stderr(&format!("initialize failed: {e}")))?;
        let version = protocol::accepted_version(&init)?;
        if let Some(Link::Http(session)) = &*self.link.lock().await {
            session.set_version(&version);
        }
        conn.notify("notifications/initialized", json!({}));
        self.relist().await?;
        self.set_state(State::Ready);
        Ok(events)
    }

    /// `tools/list`, every page, filtered by `enabled_tools` / `disabled_tools`.
    pub async fn relist(&self) -> Result<(), String> {
        let conn = self.connection().ok_or("not connected")?;
        let mut listed = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page = conn
                .request("tools/list", params, self.config.startup_timeout)
                .await
                .map_err(|e| format!("tools/list failed: {e}"))?;
            for tool in page
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if !self.config.offers(name) {
                    continue;
                }
                let description = tool
                    .get("description")
                    .or_else(|| tool.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                listed.push(Listed {
                    name: name.to_string(),
                    description: description.to_string(),
                    schema: tool.get("inputSchema").cloned().unwrap_or(Value::Null),
                });
            }
            cursor = page
                .get("nextCursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        *lock(&self.tools) = listed;
        Ok(())
    }

    /// The reason plus the last line of the server's stderr, which usually says why.
    pub fn with_stderr(&self, why: &str) -> String {
        match self.log.tail(1).pop() {
            Some(last) => format!("{why} (stderr: {last})"),
            None => why.to_string(),
        }
    }

    /// Stops the server (stdio: close stdin, 2 s, SIGTERM, 2 s, SIGKILL of its group; HTTP:
    /// DELETE the session).
    pub async fn shutdown(&self) {
        lock(&self.conn).take();
        lock(&self.tools).clear();
        if let Some(link) = self.link.lock().await.take() {
            match link {
                Link::Stdio(process) => process.shutdown().await,
                Link::Http(session) => session.close().await,
            }
        }
        if self.state() == State::Ready || self.state() == State::Starting {
            self.set_state(State::Stopped);
        }
    }
}
