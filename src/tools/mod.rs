//! The tool seam: the [`Tool`] trait, the per-session [`ToolContext`], and the [`Toolbox`].
//!
//! A tool's failure is a value (`ToolError`), which the agent turns into an `Error: …` tool
//! message for the model; nothing here ends a turn. Shared state a tool needs (the session's
//! working directory, the files changed so far) lives in `ToolContext`, never in a global.

pub mod bash;
pub mod edit_file;
pub mod encoding;
pub mod exit_plan_mode;
pub mod glob;
pub mod grep;
pub mod read_file;
pub mod todo;
pub mod write_file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::event::EventSink;
use crate::policy::Action;
use crate::sandbox::Confinement;

/// A failure the model can act on. Its text becomes the tool message `Error: <text>`.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments: {0}")]
    BadArgs(String),
    #[error("{0}")]
    Failed(String),
}

impl ToolError {
    pub fn failed(msg: impl Into<String>) -> Self {
        ToolError::Failed(msg.into())
    }
}

/// Parses a tool's arguments into its `Args` struct; a mismatch says exactly what was wrong.
pub fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    serde_json::from_value(args).map_err(|e| ToolError::BadArgs(e.to_string()))
}

/// What a tool call produced: the text for the model, and whether it is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub text: String,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(text: impl Into<String>) -> Self {
        ToolOutput {
            text: text.into(),
            is_error: false,
        }
    }

    /// An error for the model; the text gets the `Error: ` prefix every tool error has.
    pub fn error(text: impl AsRef<str>) -> Self {
        ToolOutput {
            text: format!("Error: {}", text.as_ref()),
            is_error: true,
        }
    }
}

/// A tool the model can call. Names are data (`&str`, not a type): MCP tools get theirs at run
/// time. Every tool says what a call would do ([`Tool::action`]) before it runs, so the
/// dispatcher can decide; there is deliberately no default, so a new tool cannot forget.
#[async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// JSON Schema of the arguments object.
    fn parameters(&self) -> Value;
    /// What running a call with these arguments would touch; a mismatch in the arguments is
    /// the same error `run` would give.
    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError>;
    /// What the change would look like (a diff, a new file's first lines), shown when a person
    /// is asked; `None` when there is nothing more to show than the call itself.
    async fn preview(&self, _args: &Value, _ctx: &ToolContext) -> Option<String> {
        None
    }
    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError>;
}

/// Tools that come and go while a session runs (MCP servers start in the background and may
/// change their lists): the agent asks for the current set every round.
pub trait ToolSource: Send + Sync {
    fn tools(&self) -> Vec<Arc<dyn Tool>>;
}

/// Original content of every file changed this session, for `/diff` and undo.
/// `None` means the file did not exist before the first change.
#[derive(Debug, Default)]
pub struct ChangeLog {
    originals: BTreeMap<PathBuf, Option<Vec<u8>>>,
}

impl ChangeLog {
    /// Records `path`'s content before a change; only the first record of a path counts.
    pub fn record(&mut self, path: &Path, original: Option<Vec<u8>>) {
        self.originals.entry(path.to_path_buf()).or_insert(original);
    }

    pub fn originals(&self) -> &BTreeMap<PathBuf, Option<Vec<u8>>> {
        &self.originals
    }
}

/// What a running tool may see and change of the session.
#[derive(Clone)]
pub struct ToolContext {
    /// The session's working directory; `bash` updates it when a command changes directory.
    pub cwd: Arc<Mutex<PathBuf>>,
    pub changes: Arc<Mutex<ChangeLog>>,
    pub events: EventSink,
    /// Whether this context belongs to a sub-agent (its approval prompts say so).
    pub subagent: bool,
    /// The sandbox the next shell command runs under: set by the dispatcher for each call
    /// (tools never see the policy, only this).
    pub sandbox: Confinement,
    /// The session's task list (`todo_write`), shared with sub-agents.
    pub todos: todo::TodoList,
}

impl ToolContext {
    pub fn new(cwd: PathBuf, events: EventSink) -> Self {
        ToolContext {
            cwd: Arc::new(Mutex::new(cwd)),
            changes: Arc::default(),
            events,
            subagent: false,
            sandbox: Confinement::None,
            todos: Default::default(),
        }
    }

    pub fn cwd(&self) -> PathBuf {
        self.cwd
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_cwd(&self, dir: PathBuf) {
        *self.cwd.lock().unwrap_or_else(PoisonError::into_inner) = dir;
    }

    /// A path argument resolved against the session directory (`~` is the home directory).
    pub fn resolve(&self, path: &str) -> PathBuf {
        let expanded = match (path.strip_prefix("~"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
                PathBuf::from(home).join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(path),
        };
        if expanded.is_absolute() {
            expanded
        } else {
            self.cwd().join(expanded)
        }
    }

    pub fn record_change(&self, path: &Path, original: Option<Vec<u8>>) {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(path, original);
    }
}

/// The set of tools an agent offers, in schema order.
#[derive(Clone, Default)]
pub struct Toolbox {
    tools: Vec<Arc<dyn Tool>>,
}

impl Toolbox {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> Self {
        Toolbox { tools }
    }

    /// The six file and shell tools and `todo_write`, without the sub-agent (which needs a model to run); the
    /// shell hides the process environment's secrets.
    pub fn basic() -> Self {
        Toolbox::basic_with(bash::Bash::default())
    }

    /// [`Toolbox::basic`] with a shell configured by the caller (`[shell_env] keep`).
    pub fn basic_with(bash: bash::Bash) -> Self {
        Toolbox::new(vec![
            Arc::new(bash),
            Arc::new(read_file::ReadFile),
            Arc::new(write_file::WriteFile),
            Arc::new(edit_file::EditFile),
            Arc::new(glob::Glob::default()),
            Arc::new(grep::Grep::default()),
            Arc::new(todo::TodoWrite),
        ])
    }

    pub fn with(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    pub fn without(&self, name: &str) -> Self {
        Toolbox::new(
            self.tools
                .iter()
                .filter(|t| t.name() != name)
                .cloned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name).cloned()
    }

    pub fn names(&self) -> Vec<&str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.iter()
    }

    /// The `tools` array of a chat-completions request.
    pub fn schemas(&self) -> Vec<Value> {
        self.tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name(),
                        "description": t.description(),
                        "parameters": t.parameters(),
                    }
                })
            })
            .collect()
    }
}
