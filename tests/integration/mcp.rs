//! The MCP client against servers: a fake one that misbehaves on purpose (Python, in
//! tests/fixtures/mcp), the real servers `scripts/mcp-test-servers.sh` installs (skipped when
//! they are not installed), and a Streamable HTTP server on 127.0.0.1:0.

mod binary;
mod fake;
mod http;
mod real;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corecoder::config::mcp::{
    DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, ServerConfig, ServerSource, Transport,
};
use corecoder::event::{AgentEvent, EventSink};
use corecoder::mcp::McpHub;
use corecoder::mcp::server::{Launch, State};
use corecoder::tools::{Tool, ToolContext, ToolSource};
use serde_json::Value;

pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn stdio(name: &str, command: &str, args: &[&str]) -> ServerConfig {
    ServerConfig {
        name: name.into(),
        transport: Transport::Stdio {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: BTreeMap::new(),
            cwd: None,
        },
        startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled_tools: None,
        disabled_tools: Vec::new(),
        source: ServerSource::User(PathBuf::from("/test/config.toml")),
    }
}

/// A started hub and the notices it gave.
pub struct Started {
    pub hub: Arc<McpHub>,
    pub notices: Arc<Mutex<Vec<String>>>,
    pub workspace: tempfile::TempDir,
}

impl Started {
    pub fn notices(&self) -> Vec<String> {
        self.notices.lock().unwrap().clone()
    }

    pub fn tool(&self, name: &str) -> Arc<dyn Tool> {
        let tools = self.hub.tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        tools
            .iter()
            .find(|t| t.name() == name)
            .cloned()
            .unwrap_or_else(|| panic!("no tool {name} among {names:?}"))
    }

    pub fn ctx(&self) -> ToolContext {
        ToolContext::new(self.workspace.path().to_path_buf(), Arc::new(|_| {}))
    }

    pub async fn call(&self, name: &str, args: Value) -> Result<String, String> {
        let tool = self.tool(name);
        tool.run(args, &self.ctx()).await.map_err(|e| e.to_string())
    }

    pub fn state(&self, server: &str) -> State {
        let s = self.hub.servers().iter().find(|s| s.config.name == server);
        s.unwrap().state()
    }
}

/// Starts `servers` with the test's environment (PATH and HOME only) and waits until none is
/// still starting (at most 20 s).
pub async fn start(servers: Vec<ServerConfig>) -> Started {
    start_with_env(servers, base_env()).await
}

pub fn base_env() -> BTreeMap<String, String> {
    ["PATH", "HOME", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

pub async fn start_with_env(servers: Vec<ServerConfig>, env: BTreeMap<String, String>) -> Started {
    let notices: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = notices.clone();
    let events: EventSink = Arc::new(move |e| {
        if let AgentEvent::Notice(n) = e {
            sink.lock().unwrap().push(n);
        }
    });
    let workspace = tempfile::tempdir().unwrap();
    let hub = McpHub::new(
        servers.into_iter().map(|s| (s, State::Starting)).collect(),
        events,
    );
    hub.start(Launch {
        env,
        workspace: workspace.path().to_path_buf(),
    });
    hub.settle(Duration::from_secs(20)).await;
    Started {
        hub,
        notices,
        workspace,
    }
}

/// Waits up to 10 s for `check` to hold.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}
