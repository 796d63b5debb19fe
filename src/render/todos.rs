//! The todo list on the terminal: when it changes (stderr, with the tool lines) and for
//! `/todos` (stdout).

use super::{BOLD, DIM, RESET, plain};
use crate::tools::todo::{TodoItem, TodoStatus};

/// The task list under a heading, completed items dimmed; "(empty)" for a cleared list.
pub(super) fn todo_lines(items: &[TodoItem], indent: &str, color: bool) -> String {
    let mut out = format!("{indent}Todos:");
    if items.is_empty() {
        out.push_str(" (empty)");
    }
    for item in items {
        let line = format!("{indent}  {item}");
        match (color, item.status) {
            (true, TodoStatus::Completed) => out.push_str(&format!("\n{DIM}{line}{RESET}")),
            (true, TodoStatus::InProgress) => out.push_str(&format!("\n{BOLD}{line}{RESET}")),
            _ => out.push_str(&format!("\n{line}")),
        }
    }
    out
}

/// `/todos`: the session's task list on stdout.
pub fn todos(items: &[TodoItem]) {
    plain(&format!("{}\n", todo_lines(items, "", false)));
}
