//! What the agent tells the outside: [`AgentEvent`]s, delivered through an [`EventSink`].
//!
//! A leaf module: it names no other module of the crate except the usage figures, the
//! permission mode and the todo items (plain data), so the agent,
//! the tools, the dispatcher and `render` can all depend on it without depending on each other.

use std::sync::Arc;
use std::time::Duration;

use crate::llm::Usage;
use crate::policy::Mode;
use crate::tools::todo::TodoItem;

/// Something the outside may want to show.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    Text(String),
    Reasoning(String),
    /// Text streamed since the last `ReplyDone` was thrown away (the stream is being retried).
    Discarded,
    /// One model reply is complete; with tool calls it was an intermediate step.
    ReplyDone {
        has_tool_calls: bool,
    },
    ToolStarted {
        id: String,
        name: String,
        /// The call's arguments as the model sent them (JSON text).
        arguments: String,
    },
    ToolFinished {
        id: String,
        name: String,
        output: String,
        is_error: bool,
    },
    Compacted {
        layer: &'static str,
        before: usize,
        after: usize,
    },
    Retrying {
        wait: Duration,
        reason: String,
    },
    Usage(Usage),
    /// A model request was sent; nothing has arrived yet.
    Thinking,
    /// A call was refused, by the policy or by the person; the model got `reason` as the
    /// call's result.
    PermissionDenied {
        tool: String,
        /// The call's arguments as the model sent them (JSON text).
        input: String,
        reason: String,
    },
    /// The permission mode changed during a turn (a plan was approved).
    ModeChanged(Mode),
    /// Something the person should know that is not an error of the turn.
    Notice(String),
    /// The task list changed (`todo_write`); the whole new list.
    Todos(Vec<TodoItem>),
    /// An event of a sub-agent, shown indented.
    SubAgent(Box<AgentEvent>),
}

/// Where events go. Shared with tools (a sub-agent forwards its events through it).
pub type EventSink = Arc<dyn Fn(AgentEvent) + Send + Sync>;
