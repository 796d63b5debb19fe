//! MCP server definitions from the four places a user may have written them, in precedence
//! order by name (the first source that names a server wins whole; a later one never merges
//! into it):
//!
//! 1. `[mcp_servers.NAME]` in the project's `.corecoder.toml`, then in the user's
//!    `~/.config/corecoder/config.toml` (Codex CLI's shape: `command`/`args`/`env`/`cwd`, or
//!    `url` with `http_headers` / `bearer_token_env_var`);
//! 2. the project's `.mcp.json` (Claude Code's `mcpServers` object);
//! 3. `~/.corecoder/mcp.json` (CoreCoder 0.8's file, the same JSON shape).
//!
//! `${VAR}` and `${VAR:-default}` are expanded in every string through the environment lookup.
//! This module only reads and shapes; whether a project's server may start is `mcp::trust`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::file::ConfigFiles;

pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// `[mcp_servers.NAME]` as written in a TOML file (Codex CLI's keys).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomlServer {
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub enabled: Option<bool>,
    pub startup_timeout_sec: Option<f64>,
    pub tool_timeout_sec: Option<f64>,
    pub enabled_tools: Option<Vec<String>>,
    #[serde(default)]
    pub disabled_tools: Vec<String>,
    pub url: Option<String>,
    #[serde(default)]
    pub http_headers: BTreeMap<String, String>,
    pub bearer_token_env_var: Option<String>,
}

/// One entry of a `mcpServers` JSON object (Claude Code, CoreCoder 0.8); unknown keys are
/// ignored, as those tools do.
#[derive(Debug, Clone, Default, Deserialize)]
struct JsonServer {
    #[serde(rename = "type")]
    kind: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct JsonFile {
    #[serde(rename = "mcpServers", default)]
    mcp_servers: BTreeMap<String, JsonServer>,
}

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        /// Added to the filtered environment the server inherits.
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

/// Where a definition came from: a project's file runs a command the repository chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSource {
    User(PathBuf),
    Project(PathBuf),
}

impl ServerSource {
    pub fn is_project(&self) -> bool {
        matches!(self, ServerSource::Project(_))
    }

    pub fn path(&self) -> &Path {
        match self {
            ServerSource::User(p) | ServerSource::Project(p) => p,
        }
    }
}

/// One server as the hub starts it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub name: String,
    pub transport: Transport,
    pub startup_timeout: Duration,
    pub tool_timeout: Duration,
    /// `None`: every tool; otherwise only these.
    pub enabled_tools: Option<Vec<String>>,
    pub disabled_tools: Vec<String>,
    pub source: ServerSource,
}

impl ServerConfig {
    /// Whether the server's tool `tool` is offered to the model.
    pub fn offers(&self, tool: &str) -> bool {
        let enabled = self
            .enabled_tools
            .as_ref()
            .is_none_or(|list| list.iter().any(|t| t == tool));
        enabled && !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// What the server runs or reaches, in one line (for `/mcp` and the trust question).
    pub fn target(&self) -> String {
        match &self.transport {
            Transport::Stdio { command, args, .. } => {
                let mut words = vec![command.clone()];
                words.extend(args.iter().cloned());
                words.join(" ")
            }
            Transport::Http { url, .. } => url.clone(),
        }
    }
}

/// Every configured server, plus the sentences about entries that were skipped (told once).
#[derive(Debug, Clone, Default)]
pub struct McpServers {
    pub servers: Vec<ServerConfig>,
    pub notices: Vec<String>,
}

/// Reads every source; a malformed JSON file is an error naming it, like a malformed TOML file.
/// `env` expands the user's files; `project_env` the project's, which the caller narrows (a
/// repository must not put `${AWS_SECRET_ACCESS_KEY}` into a URL or an argument it chose).
pub fn load(
    files: &ConfigFiles,
    cwd: &Path,
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    project_env: &dyn Fn(&str) -> Option<String>,
) -> Result<McpServers, ConfigError> {
    let pick = |source: &ServerSource| {
        if source.is_project() {
            project_env
        } else {
            env
        }
    };
    let mut out = Gather::default();
    for layer in files.layers() {
        let source = if layer.project_file {
            ServerSource::Project(PathBuf::from(&layer.origin))
        } else {
            ServerSource::User(PathBuf::from(&layer.origin))
        };
        for (name, server) in layer.mcp_servers.iter().flatten() {
            if server.enabled == Some(false) {
                out.claim(name);
                continue;
            }
            let built = from_toml(name, server, &source, pick(&source));
            out.add(name, built);
        }
    }
    let json_files = [
        Some(ServerSource::Project(cwd.join(".mcp.json"))),
        home.map(|h| ServerSource::User(h.join(".corecoder/mcp.json"))),
    ];
    for source in json_files.into_iter().flatten() {
        let Some(parsed) = read_json(source.path())? else {
            continue;
        };
        for (name, server) in &parsed.mcp_servers {
            let built = from_json(name, server, &source, pick(&source));
            out.add(name, built);
        }
    }
    Ok(out.out)
}

/// The sources read so far: a name, once seen (even disabled or broken), is taken.
#[derive(Default)]
struct Gather {
    claimed: BTreeSet<String>,
    out: McpServers,
}

impl Gather {
    fn add(&mut self, name: &str, built: Result<ServerConfig, String>) {
        if !self.claimed.insert(name.to_string()) {
            return;
        }
        match built {
            Ok(server) => self.out.servers.push(server),
            Err(why) => self.out.notices.push(why),
        }
    }

    /// A disabled entry still claims its name: it switches off a later definition.
    fn claim(&mut self, name: &str) {
        self.claimed.insert(name.to_string());
    }
}

fn read_json(path: &Path) -> Result<Option<JsonFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(json_error(path, e.to_string())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| json_error(path, e.to_string()))
}

fn json_error(path: &Path, message: String) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        message,
    }
}

fn seconds(value: Option<f64>, default: Duration) -> Duration {
    value
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(default, |s| Duration::from_secs_f64(s.min(86_400.0)))
}

fn from_toml(
    name: &str,
    s: &TomlServer,
    source: &ServerSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerConfig, String> {
    let where_ = source.path().display();
    let transport = match (&s.command, &s.url) {
        (Some(command), None) => Transport::Stdio {
            command: expand(command, env),
            args: s.args.iter().map(|a| expand(a, env)).collect(),
            env: expand_map(&s.env, env),
            cwd: s.cwd.as_deref().map(|c| PathBuf::from(expand(c, env))),
        },
        (None, Some(url)) => {
            let mut headers = expand_map(&s.http_headers, env);
            if let Some(var) = &s.bearer_token_env_var {
                match env(var) {
                    Some(token) => {
                        headers.insert("Authorization".into(), format!("Bearer {token}"));
                    }
                    None => {
                        return Err(format!(
                            "MCP server {name} in {where_}: {var} (bearer_token_env_var) is not set; skipped"
                        ));
                    }
                }
            }
            Transport::Http {
                url: expand(url, env),
                headers,
            }
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "MCP server {name} in {where_} has both `command` and `url`; skipped"
            ));
        }
        (None, None) => {
            return Err(format!(
                "MCP server {name} in {where_} needs `command` or `url`; skipped"
            ));
        }
    };
    Ok(ServerConfig {
        name: name.to_string(),
        transport,
        startup_timeout: seconds(s.startup_timeout_sec, DEFAULT_STARTUP_TIMEOUT),
        tool_timeout: seconds(s.tool_timeout_sec, DEFAULT_TOOL_TIMEOUT),
        enabled_tools: s.enabled_tools.clone(),
        disabled_tools: s.disabled_tools.clone(),
        source: source.clone(),
    })
}

fn from_json(
    name: &str,
    s: &JsonServer,
    source: &ServerSource,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerConfig, String> {
    let where_ = source.path().display();
    let transport = match (s.kind.as_deref(), &s.command, &s.url) {
        (None | Some("stdio"), Some(command), _) => Transport::Stdio {
            command: expand(command, env),
            args: s.args.iter().map(|a| expand(a, env)).collect(),
            env: expand_map(&s.env, env),
            cwd: None,
        },
        (None | Some("http" | "streamable-http"), None, Some(url))
        | (Some("http"), _, Some(url)) => Transport::Http {
            url: expand(url, env),
            headers: expand_map(&s.headers, env),
        },
        (Some("sse"), _, _) => {
            return Err(format!(
                "MCP server {name} in {where_} uses the old SSE transport, which corecoder does \
                 not speak (use its Streamable HTTP endpoint with \"type\": \"http\"); skipped"
            ));
        }
        _ => {
            return Err(format!(
                "MCP server {name} in {where_} needs `command`, or `type: \"http\"` with `url`; skipped"
            ));
        }
    };
    Ok(ServerConfig {
        name: name.to_string(),
        transport,
        startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled_tools: None,
        disabled_tools: Vec::new(),
        source: source.clone(),
    })
}

fn expand_map(
    map: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.clone(), expand(v, env)))
        .collect()
}

/// `${VAR}` → its value (empty when unset), `${VAR:-default}` → the value, or `default` when
/// unset or empty. Anything else, `$VAR` without braces included, stays as written.
pub fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            let value = env(name).filter(|v| default.is_none() || !v.is_empty());
            out.push_str(&value.unwrap_or_else(|| default.unwrap_or_default().to_string()));
        } else {
            out.push_str(&rest[at..at + 3 + end]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
