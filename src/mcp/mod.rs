//! The MCP client: servers configured by the user (see `config::mcp`) start in the background
//! and their tools join the agent's as `mcp__<server>__<tool>`.
//!
//! [`McpHub`] owns the servers: it starts them concurrently (the first prompt never waits; a
//! server that fails or times out is reported once and the session goes on), rebuilds the tool
//! list when one becomes ready or says its tools changed, and shuts them all down at the end.
//! Every call still passes the dispatcher: an MCP tool is a `Tool` like the others.
//!
//! Hand-written rather than `rmcp`: the client needs requests, a few notifications and two
//! transports (~1,000 lines with tests, no new crate), while `rmcp` measured +23 crates,
//! +3 MB and +35 s per release rebuild here, for protocol surface this client does not use.
//!
//! Layout: `protocol` (messages, pure), `client` (ids, timeouts, cancellation), `stdio` and
//! `http` (transports), `server` (one server's life), `naming` and `content` (what providers
//! and the model get, pure), `tool` (`McpTool`), `trust` (project servers need consent).

pub mod client;
pub mod content;
pub mod http;
pub mod log;
pub mod naming;
pub mod protocol;
pub mod server;
pub mod setup;
pub mod stdio;
pub mod tool;
pub mod trust;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::mcp::ServerConfig;
use crate::event::{AgentEvent, EventSink};
use crate::tools::{Tool, ToolSource};
use client::ServerEvent;
use server::{Launch, Server, State};
use tool::McpTool;

/// The most MCP tools offered to the model; more are left out with a notice.
pub const MAX_TOOLS: usize = 128;
/// Above this many, a notice says the tools cost context (once).
pub const WARN_TOOLS: usize = 40;

pub struct McpHub {
    servers: Vec<Arc<Server>>,
    tools: Mutex<Vec<Arc<dyn Tool>>>,
    events: EventSink,
    closing: AtomicBool,
    warned: AtomicBool,
}

impl McpHub {
    /// The hub for `servers`, each with its first state (`Starting`, or `NotTrusted` for a
    /// project's server the person did not allow). Nothing starts until [`McpHub::start`].
    pub fn new(servers: Vec<(ServerConfig, State)>, events: EventSink) -> Arc<McpHub> {
        Arc::new(McpHub {
            servers: servers
                .into_iter()
                .map(|(config, state)| Arc::new(Server::new(config, state)))
                .collect(),
            tools: Mutex::default(),
            events,
            closing: AtomicBool::new(false),
            warned: AtomicBool::new(false),
        })
    }

    /// Starts every `Starting` server in the background (needs a tokio runtime).
    pub fn start(self: &Arc<Self>, launch: Launch) {
        let launch = Arc::new(launch);
        for server in &self.servers {
            if server.state() == State::Starting {
                tokio::spawn(run(self.clone(), server.clone(), launch.clone()));
            }
        }
    }

    pub fn servers(&self) -> &[Arc<Server>] {
        &self.servers
    }

    /// Waits until no server is still starting, at most `limit` (`corecoder mcp list`).
    pub async fn settle(&self, limit: Duration) {
        let starting = || self.servers.iter().any(|s| s.state() == State::Starting);
        let _ = tokio::time::timeout(limit, async {
            while starting() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    /// Stops every server at once (each: close stdin, 2 s, SIGTERM, 2 s, SIGKILL).
    pub async fn shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let mut set = tokio::task::JoinSet::new();
        for server in &self.servers {
            let server = server.clone();
            set.spawn(async move { server.shutdown().await });
        }
        while set.join_next().await.is_some() {}
        lock(&self.tools).clear();
    }

    fn notice(&self, text: String) {
        if !self.closing.load(Ordering::SeqCst) {
            (self.events)(AgentEvent::Notice(text));
        }
    }

    /// The tool list from the ready servers, in configuration order, named uniquely.
    fn rebuild(&self) {
        let mut taken = BTreeSet::new();
        let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
        let mut total = 0;
        for server in self.servers.iter().filter(|s| s.state() == State::Ready) {
            for listed in server.tools() {
                total += 1;
                if tools.len() >= MAX_TOOLS {
                    continue;
                }
                let name = naming::tool_name(&server.config.name, &listed.name, &taken);
                taken.insert(name.clone());
                tools.push(Arc::new(McpTool::new(name, &listed, server.clone())));
            }
        }
        *lock(&self.tools) = tools;
        if total > WARN_TOOLS && !self.warned.swap(true, Ordering::SeqCst) {
            let cut = if total > MAX_TOOLS {
                format!("; only the first {MAX_TOOLS} are offered")
            } else {
                String::new()
            };
            self.notice(format!(
                "MCP servers offer {total} tools{cut}. Each costs context on every request; trim \
                 them with enabled_tools / disabled_tools in [mcp_servers.NAME]."
            ));
        }
    }

    /// What `/mcp` and `corecoder mcp list` show.
    pub fn status(&self) -> String {
        if self.servers.is_empty() {
            return "No MCP servers configured. Add [mcp_servers.NAME] to \
                    ~/.config/corecoder/config.toml, or a .mcp.json to the project.\n"
                .to_string();
        }
        let mut out = String::from("MCP servers:\n");
        for server in &self.servers {
            let c = &server.config;
            let state = match server.state() {
                State::Starting => "starting".to_string(),
                State::Ready => format!("ready, {} tools", server.tools().len()),
                State::Failed(why) => format!("failed: {why}"),
                State::NotTrusted => "not started: a project's server you have not allowed".into(),
                State::Stopped => "stopped".into(),
            };
            out.push_str(&format!("  {}  {state}\n", c.name));
            out.push_str(&format!(
                "      {}  (from {})\n",
                c.target(),
                c.source.path().display()
            ));
            for line in server.log.tail(3) {
                out.push_str(&format!("      | {line}\n"));
            }
        }
        out
    }
}

impl ToolSource for McpHub {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        lock(&self.tools).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One server from start to end: connect, then re-list on (debounced) list changes until it
/// closes. A failure is told once.
async fn run(hub: Arc<McpHub>, server: Arc<Server>, launch: Arc<Launch>) {
    let name = server.config.name.clone();
    let mut events = match server.connect(&launch).await {
        Ok(events) => events,
        Err(why) => {
            server.shutdown().await;
            let why = server.with_stderr(&why);
            server.set_state(State::Failed(why.clone()));
            hub.notice(format!("MCP server {name} failed to start: {why}"));
            return;
        }
    };
    hub.rebuild();
    while let Some(event) = events.recv().await {
        let mut closed = match event {
            ServerEvent::Closed(why) => Some(why),
            ServerEvent::ToolsChanged => None,
        };
        if closed.is_none() {
            tokio::time::sleep(server::DEBOUNCE).await;
            while let Ok(more) = events.try_recv() {
                if let ServerEvent::Closed(why) = more {
                    closed = Some(why);
                }
            }
        }
        if let Some(why) = closed {
            if hub.closing.load(Ordering::SeqCst) {
                return;
            }
            let why = server.with_stderr(&format!("stopped: {why}"));
            server.shutdown().await;
            server.set_state(State::Failed(why.clone()));
            hub.rebuild();
            hub.notice(format!("MCP server {name} {why}"));
            return;
        }
        if let Err(e) = server.relist().await {
            server.log.push(&format!("re-listing tools failed: {e}"));
        }
        hub.rebuild();
    }
}
