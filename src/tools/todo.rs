//! `todo_write`: the model's task list for the session (CoreCoder 0.8's tool, Claude Code's
//! statuses). Each call replaces the whole list.
//!
//! The list is session state, not history: it lives in [`ToolContext::todos`] (shared with
//! sub-agents), is saved with the session, and the agent re-sends it at the end of every
//! request ([`TodoList::reminder`]) instead of in the system prompt, so the system prompt stays
//! byte-identical and compaction can never drop it. It changes nothing on disk, so the policy
//! treats it as internal. Showing it is `render`'s business: the tool emits
//! [`AgentEvent::Todos`] when the list changes.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError};
use crate::event::AgentEvent;
use crate::policy::Action;

pub const NAME: &str = "todo_write";

/// Most items one list may hold, and the longest item: a list is a plan, not a document.
const MAX_ITEMS: usize = 100;
const MAX_CONTENT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    Pending,
    InProgress,
    Completed,
}

/// One task of the list, as the model writes it and as the session file stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub content: String,
    pub status: TodoStatus,
}

impl fmt::Display for TodoItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.status {
            TodoStatus::Pending => "[ ]",
            TodoStatus::InProgress => "[~]",
            TodoStatus::Completed => "[x]",
        };
        write!(f, "{mark} {}", self.content)
    }
}

/// The session's list, shared by the parent agent, its sub-agents and the session file.
#[derive(Debug, Clone, Default)]
pub struct TodoList(Arc<Mutex<Vec<TodoItem>>>);

impl TodoList {
    pub fn get(&self) -> Vec<TodoItem> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the list; `true` when it changed.
    pub fn set(&self, items: Vec<TodoItem>) -> bool {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = *list != items;
        *list = items;
        changed
    }

    /// The text sent after the history every round while the list is not empty (the request's
    /// `tail`); never stored in the history.
    pub fn reminder(&self) -> Option<String> {
        let items = self.get();
        if items.is_empty() {
            return None;
        }
        Some(format!(
            "[Current todo list, kept by todo_write; update it as you work]\n{}",
            lines(&items)
        ))
    }
}

/// One line per item: `[x] done`, `[~] in progress`, `[ ] pending`.
pub fn lines(items: &[TodoItem]) -> String {
    let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

pub struct TodoWrite;

#[async_trait]
impl Tool for TodoWrite {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Create or update the task list for this session. Use it for work of three or more \
         steps: write every task at the start, keep exactly one in_progress while you work on \
         it, and mark each completed as soon as it is done. Each call replaces the whole list, \
         so always send every task. The current list is shown to you every round."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "todos": {
                    "type": "array",
                    "description": "The complete list; it replaces the previous one",
                    "items": {
                        "type": "object",
                        "properties": {
                            "content": {"type": "string", "description": "The task, in a few words"},
                            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]}
                        },
                        "required": ["content", "status"]
                    }
                }
            },
            "required": ["todos"]
        })
    }

    /// The list is the agent's own state: nothing on disk changes.
    fn action(&self, args: &Value, _ctx: &ToolContext) -> Result<Action, ToolError> {
        validate(args)?;
        Ok(Action::Internal)
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let items = validate(&args)?;
        if ctx.todos.set(items.clone()) {
            (ctx.events)(AgentEvent::Todos(items.clone()));
        }
        let count = |s| items.iter().filter(|i| i.status == s).count();
        Ok(format!(
            "Todo list updated: {} pending, {} in progress, {} completed.",
            count(TodoStatus::Pending),
            count(TodoStatus::InProgress),
            count(TodoStatus::Completed)
        ))
    }
}

/// The arguments as a list, or an error that says which item is wrong and how.
fn validate(args: &Value) -> Result<Vec<TodoItem>, ToolError> {
    let bad = |msg: String| ToolError::BadArgs(msg);
    // Unknown keys are an error, as for every tool (`merge: true` is another tool's idea).
    if let Some(extra) = args
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "todos"))
    {
        return Err(bad(format!("unknown field `{extra}`, expected `todos`")));
    }
    let Some(todos) = args.get("todos") else {
        return Err(bad("missing `todos` (an array of {content, status})".into()));
    };
    // Some models send the array as a JSON string.
    let parsed;
    let todos = match todos {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|_| bad("`todos` must be an array of {content, status}".into()))?;
            &parsed
        }
        other => other,
    };
    let Value::Array(list) = todos else {
        return Err(bad("`todos` must be an array of {content, status}".into()));
    };
    if list.len() > MAX_ITEMS {
        return Err(bad(format!(
            "{} items; at most {MAX_ITEMS} fit in one list",
            list.len()
        )));
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let item: TodoItem = serde_json::from_value(v.clone()).map_err(|e| {
            bad(format!(
                "item {i}: {e} (each item is {{\"content\": text, \"status\": \"pending\" | \
                 \"in_progress\" | \"completed\"}})"
            ))
        })?;
        let content = item.content.trim();
        if content.is_empty() {
            return Err(bad(format!("item {i}: `content` is empty")));
        }
        if content.chars().count() > MAX_CONTENT {
            return Err(bad(format!(
                "item {i}: `content` is longer than {MAX_CONTENT} characters"
            )));
        }
        items.push(TodoItem {
            content: content.to_string(),
            status: item.status,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(events: Arc<Mutex<Vec<AgentEvent>>>) -> ToolContext {
        let sink = Arc::new(move |e| events.lock().unwrap().push(e));
        ToolContext::new(std::env::temp_dir(), sink)
    }

    #[tokio::test]
    async fn each_call_replaces_the_list_and_a_change_is_announced_once() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let ctx = ctx(events.clone());
        let args = json!({"todos": [
            {"content": "read the code", "status": "completed"},
            {"content": "fix the bug", "status": "in_progress"},
            {"content": "run the tests", "status": "pending"}
        ]});
        let out = TodoWrite.run(args.clone(), &ctx).await.unwrap();
        assert_eq!(
            out,
            "Todo list updated: 1 pending, 1 in progress, 1 completed."
        );
        assert_eq!(ctx.todos.get().len(), 3);
        TodoWrite.run(args, &ctx).await.unwrap();
        let one = json!({"todos": [{"content": "fix the bug", "status": "completed"}]});
        TodoWrite.run(one, &ctx).await.unwrap();
        assert_eq!(lines(&ctx.todos.get()), "[x] fix the bug");
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 2, "an unchanged list is not announced again");
        let reminder = ctx.todos.reminder().unwrap();
        assert!(reminder.ends_with("\n[x] fix the bug"), "{reminder:?}");
    }

    #[test]
    fn bad_lists_are_errors_that_name_the_item() {
        let err = |v: Value| validate(&v).unwrap_err().to_string();
        assert!(err(json!({})).contains("missing `todos`"));
        assert!(err(json!({"todos": "nope"})).contains("must be an array"));
        let e = err(json!({"todos": [{"content": "a", "status": "done"}]}));
        assert!(e.contains("item 0") && e.contains("in_progress"), "{e}");
        let e =
            err(json!({"todos": [{"content": "ok", "status": "pending"}, {"status": "pending"}]}));
        assert!(e.contains("item 1") && e.contains("content"), "{e}");
        let e = err(json!({"todos": [{"content": "  ", "status": "pending"}]}));
        assert!(e.contains("item 0: `content` is empty"), "{e}");
        let e = err(json!({"todos": [], "merge": true}));
        assert!(e.contains("unknown field `merge`"), "{e}");
        // A list sent as a JSON string is read; an empty list clears.
        let text = json!({"todos": "[{\"content\":\"a\",\"status\":\"pending\"}]"});
        assert_eq!(validate(&text).unwrap().len(), 1);
        assert!(validate(&json!({"todos": []})).unwrap().is_empty());
        assert_eq!(TodoList::default().reminder(), None);
    }
}
