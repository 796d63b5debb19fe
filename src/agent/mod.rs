//! The agent: one user turn as a bounded loop of model rounds and tool rounds.  ← START HERE
//!
//! `run_turn` appends the user's message, compacts the history when it grows, then asks the
//! model; a reply without tool calls ends the turn, otherwise the calls run (concurrently) and
//! their results go back to the model. The loop is bounded by `max_rounds`.
//!
//! Each call goes through the shared [`Dispatcher`] (policy, approval, run); the agent sees
//! only outputs, or a stop when the person ends the turn at an approval prompt.
//!
//! History changes only at round boundaries: an assistant message with tool calls is appended
//! together with every one of its results, so dropping a turn's future (Ctrl-C) never leaves a
//! call unanswered. The agent never prints; it reports through [`AgentEvent`]s.

pub mod subagent;
mod tool_round;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::context::{ContextManager, approx_tokens};
use crate::dispatch::Dispatcher;
use crate::event::AgentEvent;
use crate::llm::usage::UsageTotals;
use crate::llm::{ChatRequest, Llm, LlmError, StreamEvent, Usage};
use crate::message::Message;
use crate::policy::Mode;
use crate::tools::{ToolContext, ToolSource, Toolbox};

/// Called with the whole history each time a round has been appended (sessions autosave).
pub type RoundHook = Box<dyn FnMut(&[Message]) + Send + Sync>;

/// Most tool calls of one reply that run at once (CoreCoder's worker count): 200 shell
/// commands in one reply start 8 at a time, not 200.
pub const MAX_PARALLEL: usize = 8;

/// How a turn ended when the model could be reached.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    /// The model answered in plain text.
    Done { text: String, rounds: usize },
    /// The model was still calling tools after `max_rounds` rounds.
    RoundLimit { rounds: usize },
    /// The person stopped the turn while being asked to approve a call; the round in flight
    /// was dropped whole.
    Stopped { rounds: usize },
    /// A `UserPromptSubmit` hook refused the prompt: nothing was sent, the history is unchanged.
    Blocked { reason: String },
}

pub struct Agent {
    llm: Arc<dyn Llm>,
    toolbox: Toolbox,
    schemas: Vec<Value>,
    system: String,
    /// The context message (environment, project instructions), sent after the system prompt.
    context: Option<String>,
    /// Estimated tokens of what every request carries besides the history.
    fixed: usize,
    messages: Vec<Message>,
    window: ContextManager,
    max_rounds: usize,
    ctx: ToolContext,
    dispatcher: Arc<Dispatcher>,
    usage: Arc<Mutex<UsageTotals>>,
    replies: u64,
    on_round: Option<RoundHook>,
    recover_text_calls: bool,
    /// Tools that come and go (MCP servers), added to `toolbox` each round.
    extra: Option<Arc<dyn ToolSource>>,
}

impl Agent {
    pub fn new(
        llm: Arc<dyn Llm>,
        toolbox: Toolbox,
        system: String,
        window: ContextManager,
        ctx: ToolContext,
    ) -> Self {
        let schemas = toolbox.schemas();
        let fixed =
            approx_tokens(&system) + approx_tokens(&Value::from(schemas.clone()).to_string());
        Agent {
            llm,
            toolbox,
            schemas,
            system,
            context: None,
            fixed,
            messages: Vec::new(),
            window,
            max_rounds: 50,
            ctx,
            dispatcher: Arc::default(),
            usage: Arc::default(),
            replies: 0,
            on_round: None,
            recover_text_calls: true,
            extra: None,
        }
    }

    /// Adds the tools of `source` (read again every round) to the fixed toolbox.
    pub fn with_tool_source(mut self, source: Arc<dyn ToolSource>) -> Self {
        self.extra = Some(source);
        self
    }

    /// The fixed tools plus what the tool source offers right now.
    fn current_tools(&self) -> Toolbox {
        match &self.extra {
            Some(source) => source
                .tools()
                .into_iter()
                .fold(self.toolbox.clone(), Toolbox::with),
            None => self.toolbox.clone(),
        }
    }

    /// The context message every request carries right after the system prompt and before the
    /// history (see `prompt::Environment`).
    pub fn with_context(mut self, context: String) -> Self {
        self.fixed += approx_tokens(&context) + 4;
        self.context = Some(context);
        self
    }

    pub fn with_max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// The dispatcher every call goes through (shared with sub-agents).
    pub fn with_dispatcher(mut self, dispatcher: Arc<Dispatcher>) -> Self {
        self.dispatcher = dispatcher;
        self
    }

    /// Shares token totals with another agent (a sub-agent adds to its parent's).
    pub fn with_usage(mut self, usage: Arc<Mutex<UsageTotals>>) -> Self {
        self.usage = usage;
        self
    }

    /// Whether tool calls a model wrote as text (```json blocks, `<tool_call>` tags) are run
    /// when the server sent no structured calls (on by default; see `llm::textual_calls`).
    pub fn with_text_call_recovery(mut self, on: bool) -> Self {
        self.recover_text_calls = on;
        self
    }

    pub fn with_round_hook(mut self, hook: RoundHook) -> Self {
        self.on_round = Some(hook);
        self
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn set_messages(&mut self, messages: Vec<Message>) {
        self.messages = messages;
        self.window.forget_usage();
    }

    pub fn usage(&self) -> UsageTotals {
        *self.usage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn model(&self) -> &str {
        self.llm.model()
    }

    pub fn tool_names(&self) -> Vec<String> {
        self.current_tools()
            .names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    fn emit(&self, event: AgentEvent) {
        (self.ctx.events)(event);
    }

    /// Runs one user turn to its end. `Err` is a model failure after the client's retries;
    /// the history then holds the user's message and every completed round, nothing partial.
    pub async fn run_turn(&mut self, input: &str) -> Result<TurnOutcome, LlmError> {
        let mut message = input.to_string();
        if !self.ctx.subagent {
            // SessionStart and UserPromptSubmit hooks first: a refused prompt is no turn (and
            // nothing for undo); undo keeps the prompt as typed.
            let hooks = self.dispatcher.hooks().clone();
            match hooks
                .prompt(input, !self.messages.is_empty(), &self.ctx)
                .await
            {
                Ok(with_context) => message = with_context,
                Err(reason) => return Ok(TurnOutcome::Blocked { reason }),
            }
            self.dispatcher.begin_turn(input, self.messages.len());
        }
        self.messages.push(Message::user(message));
        let mut stop_continues = 0;
        for round in 1..=self.max_rounds {
            self.compact_if_needed().await;
            let reply = self.ask().await?;
            self.emit(AgentEvent::ReplyDone {
                has_tool_calls: !reply.tool_calls.is_empty(),
            });
            if reply.tool_calls.is_empty() {
                let text = if reply.text.is_empty() {
                    reply.refusal
                } else {
                    reply.text
                };
                self.messages.push(Message::assistant(text.clone()));
                // A Stop hook may send the model back to work (the parent's turns only).
                let hooks = self.dispatcher.hooks();
                if !self.ctx.subagent
                    && let Some(reason) = hooks.stop(&mut stop_continues, &self.ctx).await
                {
                    let note = format!("[Stop hook] Do not stop yet: {reason}");
                    self.messages.push(Message::user(note));
                    self.round_done();
                    continue;
                }
                self.round_done();
                return Ok(TurnOutcome::Done {
                    text,
                    rounds: round,
                });
            }
            let Ok(results) = self.run_tools(&reply.tool_calls).await else {
                return Ok(TurnOutcome::Stopped { rounds: round });
            };
            let content = (!reply.text.is_empty()).then_some(reply.text);
            self.messages.push(Message::Assistant {
                content,
                tool_calls: reply.tool_calls.clone(),
            });
            for (call, result) in reply.tool_calls.iter().zip(results) {
                self.messages.push(Message::tool(call.id.clone(), result));
            }
            if !self.ctx.subagent {
                self.dispatcher.round_done(&self.ctx).await;
            }
            self.round_done();
        }
        Ok(TurnOutcome::RoundLimit {
            rounds: self.max_rounds,
        })
    }

    fn round_done(&mut self) {
        if let Some(hook) = self.on_round.as_mut() {
            hook(&self.messages);
        }
    }

    /// Compacts the history now, whatever its size would otherwise call for (`/compact`).
    pub async fn compact_now(&mut self) -> Option<(usize, usize)> {
        let before = self.window.estimate(self.fixed, &self.messages);
        let done = self
            .window
            .compact(&mut self.messages, self.fixed, self.llm.as_ref(), true)
            .await;
        self.account(done.summary_usage);
        done.layer?;
        Some((before, self.window.estimate(self.fixed, &self.messages)))
    }

    async fn compact_if_needed(&mut self) {
        let before = self.window.estimate(self.fixed, &self.messages);
        let done = self
            .window
            .compact(&mut self.messages, self.fixed, self.llm.as_ref(), false)
            .await;
        self.account(done.summary_usage);
        if let Some(layer) = done.layer {
            let after = self.window.estimate(self.fixed, &self.messages);
            self.emit(AgentEvent::Compacted {
                layer,
                before,
                after,
            });
        }
    }

    fn account(&self, usage: Option<Usage>) {
        if let Some(u) = usage {
            self.usage
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(&u);
        }
    }

    /// One model request; deltas are forwarded as events while they stream.
    async fn ask(&mut self) -> Result<crate::llm::Reply, LlmError> {
        self.emit(AgentEvent::Thinking);
        let events = self.ctx.events.clone();
        let mut sink = move |ev: StreamEvent| {
            events(match ev {
                StreamEvent::Text(t) => AgentEvent::Text(t),
                StreamEvent::Reasoning(r) => AgentEvent::Reasoning(r),
                StreamEvent::Discarded => AgentEvent::Discarded,
                StreamEvent::Retrying { wait, reason } => AgentEvent::Retrying { wait, reason },
            })
        };
        // Plan mode is read per round (an approved plan switches modes in the middle of a
        // turn) and said after the history, so the cached prefix stays the same either way;
        // the task list goes last too and never into the history (see `tools::todo`).
        let todos = self.ctx.todos.reminder();
        let tail = match (self.dispatcher.mode() == Mode::Plan, todos) {
            (true, Some(t)) => Some(format!("{}\n\n{t}", crate::prompt::PLAN_MODE)),
            (true, None) => Some(crate::prompt::PLAN_MODE.to_string()),
            (false, t) => t,
        };
        let fixed = self.fixed + tail.as_deref().map_or(0, |t| approx_tokens(t) + 4);
        // A sub-agent's first request is smaller than its parent's: it has nothing to add.
        if let Some(warning) = self.window.preflight(fixed, &self.messages)
            && !self.ctx.subagent
        {
            self.emit(AgentEvent::Notice(warning));
        }
        let extra_schemas;
        let tools = match &self.extra {
            Some(source) => {
                extra_schemas =
                    [self.schemas.clone(), Toolbox::new(source.tools()).schemas()].concat();
                &extra_schemas
            }
            None => &self.schemas,
        };
        let request = ChatRequest {
            system: &self.system,
            context: self.context.as_deref(),
            messages: &self.messages,
            tail: tail.as_deref(),
            tools,
        };
        let mut reply = self.llm.stream(request, &mut sink).await?;
        self.replies += 1;
        self.recover_calls(&mut reply);
        // Calls that came without an id get one that is unique within this history.
        for (i, call) in reply.tool_calls.iter_mut().enumerate() {
            if call.id.is_empty() {
                call.id = format!("call_{}_{i}", self.replies);
            }
        }
        if let Some(u) = reply.usage {
            let cut = self
                .window
                .record_usage(fixed, &self.messages, u.prompt_tokens);
            if let Some(cut) = cut {
                self.emit(AgentEvent::Notice(cut.warning(self.window.max_tokens())));
            }
            self.account(Some(u));
            self.emit(AgentEvent::Usage(u));
        }
        Ok(reply)
    }
}
