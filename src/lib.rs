//! corecoder: a terminal coding agent for any OpenAI-compatible chat-completions endpoint.
//!
//! # Layout
//! - [`agent`]: the bounded loop of model rounds and tool rounds (start here), and the
//!   sub-agent tool;
//! - [`dispatch`]: the one place between the model's call and the tool's run; [`policy`]: the
//!   pure decision (modes, rules, the dangerous-command gate, the shell parser); [`permissions`]:
//!   the session's rules and where they came from; [`approval`]: asking a person; [`hooks`]: the
//!   person's commands at five points (two of them steps of the dispatcher);
//! - [`event`]: what the agent tells the outside;
//! - [`llm`]: the `Llm` seam, the streaming HTTP client, the pure SSE decoder and assembler;
//! - [`context`]: the three-layer context manager;
//! - [`local`]: local model servers: found on 127.0.0.1 without configuration, their real
//!   context window;
//! - [`tools`]: the `Tool` seam and the tools;
//! - [`session`]: saved conversations on disk (CoreCoder's format); [`session_run`]: the live
//!   session, its autosave and what slash commands do;
//! - [`config`], [`cli`], [`prompt`], [`message`], [`error`], [`diff`], [`slash`]: the edges;
//! - [`mcp`]: the MCP client: servers started in the background, their tools as `McpTool`s;
//! - [`markdown`]: streamed Markdown and diffs → terminal text (pure);
//! - [`render`] and [`repl`]: the only modules that print.
//!
//! # Invariants
//! - Every loop that calls the model has a visible bound: 50 rounds for the agent, 20 for a
//!   sub-agent, 4 attempts and 2 stream restarts per request in the client.
//! - Every request satisfies: each `tool` message answers a tool call of an earlier assistant
//!   message (history changes only at round boundaries).
//! - Tool failures go to the model as `Error: …` tool messages and never end a turn; failures
//!   only a person can fix (config, HTTP after retries) reach the terminal with an exit code.
//! - Nothing here prints except `render` and the REPL (enforced by the lints below and by
//!   `clippy.toml`, which disallows the stdout/stderr handles elsewhere); reasoning is never put
//!   into the history; the API key is never written to disk or logs.
//! - No globals: the working directory and changed files are explicit `ToolContext` state;
//!   configuration comes from an environment lookup function, never `set_var`.
//! - Every tool call passes the dispatcher: nothing runs before `policy::decide` said allow or
//!   a person said yes; the dangerous-command gate and the protected paths hold in every mode.
//!   Tools never see the policy, the agent never sees a decision.
//! - A headless run never prompts: what would ask is denied, and the model is told which flag
//!   allows it.
//! - Project files never widen permissions or run commands: a project's `allow` rules,
//!   `permission_mode`, `[sandbox]` and `[hooks]` count only when the user's own config trusts
//!   the project. A hook's `allow` decides a call as `--yes` would, so the hard floor holds.
//! - The system prompt does not change within a session's rounds: state that does (the todo
//!   list) is sent after the history and never stored in it.
//! - The API key never enters the history (tool outputs are redacted) and shell commands do
//!   not see it, nor other secret-named variables unless the user's config keeps them; the
//!   values of the hidden ones are redacted from tool outputs too.
//! - Every shell command runs inside the kernel sandbox unless the user chose otherwise
//!   (`danger-full-access`, or a yes to one escalation): the dispatcher gives `bash` its
//!   confinement; a sandbox that cannot be applied refuses the command, never falls back.
//! - A project's files never start a program on their own: an MCP server they define starts
//!   only with the person's consent (asked in the REPL, remembered per definition), `--yes`,
//!   or the user's own config; MCP servers get the shell's filtered environment.
//! - The system prompt and the tool schemas are the same bytes for the same tool set in any
//!   directory, on any day, in any mode and session (prompt caches reuse them); what varies is
//!   the context message after them. Each round's request extends the previous one byte for
//!   byte (but for the message this round's tail rides on: plan mode's note, the todo list),
//!   except after a compaction.
//! - No key is sent to a local server that was found rather than configured.
//! - Tools put bytes on disk only through `durable::replace`: a crash leaves the old file or
//!   the new one, and no stray temp file.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod agent;
pub mod approval;
pub mod checkpoint;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod diff;
pub mod dispatch;
pub mod durable;
pub mod error;
pub mod event;
pub mod hooks;
pub mod llm;
pub mod local;
pub mod markdown;
pub mod mcp;
pub mod message;
pub mod permissions;
pub mod policy;
pub mod prompt;
pub mod redact;
pub mod render;
pub mod repl;
pub mod sandbox;
pub mod session;
pub mod session_run;
pub mod slash;
pub mod tools;
pub mod undo;

use std::sync::{Arc, Mutex};

use crate::agent::Agent;
use crate::agent::subagent::SubAgent;
use crate::config::Config;
use crate::context::ContextManager;
use crate::dispatch::Dispatcher;
use crate::llm::openai::{ClientSettings, OpenAiClient};
use crate::llm::usage::UsageTotals;
use crate::llm::{Llm, LlmError};
use crate::tools::bash::{Bash, SpillDir};
use crate::tools::exit_plan_mode::ExitPlanMode;
use crate::tools::{ToolContext, ToolSource, Toolbox};

/// Assembles the agent the binary runs: the HTTP client, the seven tools (the sub-agent shares
/// the client, the token totals and the dispatcher), the system prompt, and the context
/// message with the environment and the project's `AGENTS.md`. The
/// tool context, the totals and the shell's spill directory are passed in so a rebuilt agent
/// (`/model`) keeps them. `extra_tools`: the MCP servers' tools, for the agent and its
/// sub-agents.
pub fn build_agent(
    config: &Config,
    ctx: ToolContext,
    usage: Arc<Mutex<UsageTotals>>,
    dispatcher: Arc<Dispatcher>,
    spill: Arc<SpillDir>,
    extra_tools: Option<Arc<dyn ToolSource>>,
) -> Result<Agent, LlmError> {
    let llm: Arc<dyn Llm> = Arc::new(OpenAiClient::new(ClientSettings {
        base_url: config.base_url.clone(),
        api_key: config.api_key.clone(),
        model: config.model.clone(),
        max_tokens: config.max_tokens,
        temperature: config.temperature,
        idle_timeout: config.stream_timeout,
    })?);
    let environment = prompt::Environment::detect(&ctx.cwd(), dispatcher.sandbox().describe());
    let context = environment.context_message();
    let basic = Toolbox::basic_with(Bash::new(&config.shell_env_keep, spill));
    let sub = SubAgent::new(
        llm.clone(),
        basic.clone(),
        prompt::system_prompt(&basic),
        config.max_context,
        Arc::clone(&usage),
    )
    .with_context(context.clone())
    .with_text_call_recovery(config.text_tool_calls)
    .with_dispatcher(dispatcher.clone())
    .with_tool_source(extra_tools.clone());
    let toolbox = basic.with(Arc::new(sub)).with(Arc::new(ExitPlanMode));
    let system = prompt::system_prompt(&toolbox);
    let window = ContextManager::new(config.max_context);
    let window = match &config.window {
        Some(w) => window.with_fix(w.fix()),
        None => window,
    };
    let agent = Agent::new(llm, toolbox, system, window, ctx).with_context(context);
    let agent = match extra_tools {
        Some(source) => agent.with_tool_source(source),
        None => agent,
    };
    Ok(agent
        .with_usage(usage)
        .with_dispatcher(dispatcher)
        .with_max_rounds(config.max_rounds)
        .with_text_call_recovery(config.text_tool_calls))
}
