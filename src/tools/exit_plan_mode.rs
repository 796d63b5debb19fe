//! `exit_plan_mode`: the model hands its plan to the person at the end of plan mode.
//!
//! The tool only describes the call; the dispatcher carries it out, because it is a question to
//! the person (show the plan, pick the mode to go on in) and tools never ask. Offered to the
//! main agent only.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;

pub const NAME: &str = "exit_plan_mode";

pub struct ExitPlanMode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    #[allow(dead_code)] // read by the dispatcher from the raw arguments
    plan: String,
}

#[async_trait]
impl Tool for ExitPlanMode {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "In plan mode, when your plan is ready: present it to the user for approval. The user \
         either approves it (you then carry it out) or asks you to keep planning. Call it only \
         in plan mode, with the whole plan in Markdown."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "plan": {"type": "string", "description": "The plan, in Markdown: the steps and the files they change"}
            },
            "required": ["plan"]
        })
    }

    fn action(&self, args: &Value, _ctx: &ToolContext) -> Result<Action, ToolError> {
        parse_args::<Args>(args.clone())?;
        Ok(Action::Internal)
    }

    /// Reached only without a dispatcher (an embedder's own loop): the plan is acknowledged.
    async fn run(&self, args: Value, _ctx: &ToolContext) -> Result<String, ToolError> {
        parse_args::<Args>(args)?;
        Ok("Plan recorded.".to_string())
    }
}
