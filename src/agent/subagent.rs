//! `agent`: delegate a sub-task to a child agent with a fresh history.
//!
//! The child uses the same model client (its tokens count in the shared totals), every tool
//! except `agent` (no recursion), its own working directory starting from the parent's, and at
//! most 20 rounds. Its events reach the parent's sink wrapped in `AgentEvent::SubAgent`, and
//! cancelling the parent's turn drops the child's future with it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::agent::{Agent, TurnOutcome};
use crate::context::ContextManager;
use crate::dispatch::Dispatcher;
use crate::event::AgentEvent;
use crate::llm::Llm;
use crate::llm::usage::UsageTotals;
use crate::policy::Action;
use crate::tools::{Tool, ToolContext, ToolError, ToolSource, Toolbox, parse_args};

const MAX_ROUNDS: usize = 20;
const MAX_RESULT: usize = 5_000;
const CUT_TO: usize = 4_500;

pub struct SubAgent {
    llm: Arc<dyn Llm>,
    toolbox: Toolbox,
    system: String,
    /// The parent's context message (environment, project instructions).
    context: Option<String>,
    max_context: usize,
    usage: Arc<Mutex<UsageTotals>>,
    dispatcher: Arc<Dispatcher>,
    recover_text_calls: bool,
    /// The parent's changing tools (MCP), offered to every child too.
    extra: Option<Arc<dyn ToolSource>>,
}

impl SubAgent {
    pub fn new(
        llm: Arc<dyn Llm>,
        toolbox: Toolbox,
        system: String,
        max_context: usize,
        usage: Arc<Mutex<UsageTotals>>,
    ) -> Self {
        SubAgent {
            llm,
            toolbox: toolbox.without("agent"),
            system,
            context: None,
            max_context,
            usage,
            dispatcher: Arc::default(),
            recover_text_calls: true,
            extra: None,
        }
    }

    /// As [`Agent::with_tool_source`], for the child agents.
    pub fn with_tool_source(mut self, source: Option<Arc<dyn ToolSource>>) -> Self {
        self.extra = source;
        self
    }

    /// The parent's dispatcher: the children's calls obey the same policy and ask through
    /// the same prompt.
    pub fn with_dispatcher(mut self, dispatcher: Arc<Dispatcher>) -> Self {
        self.dispatcher = dispatcher;
        self
    }

    /// As [`Agent::with_context`], for the child agents.
    pub fn with_context(mut self, context: String) -> Self {
        self.context = Some(context);
        self
    }

    /// As [`Agent::with_text_call_recovery`], for the child agents.
    pub fn with_text_call_recovery(mut self, on: bool) -> Self {
        self.recover_text_calls = on;
        self
    }
}

#[async_trait]
impl Tool for SubAgent {
    fn name(&self) -> &str {
        "agent"
    }

    fn description(&self) -> &str {
        "Spawn a sub-agent to handle a complex sub-task independently. The sub-agent has its \
         own context and tool access. Use this for: researching a codebase, implementing a \
         multi-step change in isolation, or any task that would benefit from a fresh context \
         window. Give it a complete, self-contained task description."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "task": {"type": "string", "description": "What the sub-agent should accomplish"}
            },
            "required": ["task"]
        })
    }

    /// A sub-agent's own calls pass the dispatcher one by one; starting it touches nothing.
    fn action(&self, args: &Value, _ctx: &ToolContext) -> Result<Action, ToolError> {
        parse_args::<Args>(args.clone())?;
        Ok(Action::Internal)
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let parent = ctx.events.clone();
        let child_ctx = ToolContext {
            cwd: Arc::new(Mutex::new(ctx.cwd())),
            changes: ctx.changes.clone(),
            events: Arc::new(move |ev| parent(AgentEvent::SubAgent(Box::new(ev)))),
            subagent: true,
            // The dispatcher sets each of the sub-agent's shell commands' sandbox.
            sandbox: Default::default(),
            // One list for the whole session: a sub-agent sees and updates the parent's.
            todos: ctx.todos.clone(),
        };
        let child = Agent::new(
            self.llm.clone(),
            self.toolbox.clone(),
            self.system.clone(),
            ContextManager::new(self.max_context),
            child_ctx,
        )
        .with_max_rounds(MAX_ROUNDS)
        .with_usage(self.usage.clone())
        .with_dispatcher(self.dispatcher.clone())
        .with_text_call_recovery(self.recover_text_calls);
        let mut child = match &self.context {
            Some(context) => child.with_context(context.clone()),
            None => child,
        };
        if let Some(source) = &self.extra {
            child = child.with_tool_source(source.clone());
        }
        match child.run_turn(&args.task).await {
            Ok(TurnOutcome::Done { text, .. }) => {
                Ok(format!("[Sub-agent completed]\n{}", cut(text)))
            }
            Ok(TurnOutcome::Stopped { .. }) => Err(ToolError::failed(
                "the person stopped the sub-agent at an approval prompt",
            )),
            Ok(TurnOutcome::RoundLimit { rounds }) => Err(ToolError::failed(format!(
                "the sub-agent stopped after {rounds} rounds without finishing; \
                 split the task into smaller pieces"
            ))),
            // Prompt hooks belong to the parent's turns; kept for completeness.
            Ok(TurnOutcome::Blocked { reason }) => Err(ToolError::failed(reason)),
            Err(e) => Err(ToolError::failed(format!("the sub-agent failed: {e}"))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    task: String,
}

fn cut(text: String) -> String {
    if text.chars().count() <= MAX_RESULT {
        return text;
    }
    let head: String = text.chars().take(CUT_TO).collect();
    format!("{head}\n... (sub-agent output truncated)")
}
