//! `exit_plan_mode`: the person reads the model's plan and picks the mode to carry it out in.

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::{Dispatcher, Stopped};
use crate::approval::{Answer, ApprovalRequest, Request};
use crate::event::AgentEvent;
use crate::policy::Mode;
use crate::tools::{ToolContext, ToolOutput};

impl Dispatcher {
    /// `exit_plan_mode{plan}`: the person reads the plan and picks the mode to carry it out in,
    /// or keeps planning. Headless runs stay in plan mode.
    pub(super) async fn review_plan(
        &self,
        args: &Value,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, Stopped> {
        if self.mode() != Mode::Plan {
            return Ok(ToolOutput::ok("Not in plan mode; go ahead with the task."));
        }
        let plan = args["plan"].as_str().unwrap_or_default().to_string();
        let Some(approver) = &self.approver else {
            return Ok(ToolOutput::ok(
                "Nobody can approve a plan in this non-interactive run, so it stays in plan mode. \
                 Give the plan as your final answer.",
            ));
        };
        let _one_at_a_time = self.asking.lock().await;
        let request = ApprovalRequest {
            request: Request::Plan { plan },
            subagent: ctx.subagent,
        };
        Ok(match approver.ask(&request).await {
            Answer::SwitchMode(mode) => {
                self.permissions.set_mode(mode);
                (ctx.events)(AgentEvent::ModeChanged(mode));
                ToolOutput::ok(format!(
                    "The user approved the plan and switched to {mode} mode. Carry out the plan now."
                ))
            }
            Answer::Stop => {
                self.stopped.store(true, Ordering::SeqCst);
                return Err(Stopped);
            }
            Answer::Deny(Some(why)) if !why.trim().is_empty() => ToolOutput::ok(format!(
                "The user wants to keep planning: {why}. Stay in plan mode and revise the plan."
            )),
            _ => ToolOutput::ok(
                "The user wants to keep planning. Stay in plan mode; ask what to change.",
            ),
        })
    }
}
