//! What a call touches, as the dispatcher sees it: its action with paths resolved through
//! symlinks and `..` (what the policy decides on), and its footprint (what orders the calls of
//! one reply, see `order`).

use std::sync::Arc;

use super::Dispatcher;
use super::order::Footprint;
use super::texts::parse_arguments;
use crate::message::ToolCall;
use crate::policy::Action;
use crate::tools::{Tool, ToolContext};

impl Dispatcher {
    /// What a call would touch, for ordering the calls of one reply (see `order`). Computed
    /// before any call runs; a call whose arguments do not parse touches nothing.
    pub fn footprint(
        &self,
        tool: Option<&Arc<dyn Tool>>,
        call: &ToolCall,
        ctx: &ToolContext,
    ) -> Footprint {
        let Some(tool) = tool else {
            return Footprint::Nothing;
        };
        if tool.name() == crate::tools::exit_plan_mode::NAME {
            return Footprint::Nothing;
        }
        let Ok(args) = parse_arguments(&call.function.name, &call.function.arguments) else {
            return Footprint::Nothing;
        };
        match tool.action(&args, ctx).map(|a| self.resolved(a)) {
            Ok(Action::Read { paths }) => Footprint::Reads(paths),
            Ok(Action::Edit { paths }) => Footprint::Writes(paths),
            // A shell command, a sub-agent (its calls are its own) or an MCP tool.
            Ok(Action::Exec { .. } | Action::Call { .. } | Action::Internal) => Footprint::Anything,
            Err(_) => Footprint::Nothing,
        }
    }

    /// The action with its paths resolved through symlinks and `..`, as the policy needs them.
    pub(super) fn resolved(&self, action: Action) -> Action {
        // Tools give absolute paths (`ToolContext::resolve` expanded `~` and the directory).
        let ws = self.permissions.workspace();
        let resolve = |paths: Vec<std::path::PathBuf>| paths.iter().map(|p| ws.real(p)).collect();
        match action {
            Action::Read { paths } => Action::Read {
                paths: resolve(paths),
            },
            Action::Edit { paths } => Action::Edit {
                paths: resolve(paths),
            },
            other => other,
        }
    }
}
