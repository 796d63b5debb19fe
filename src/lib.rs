//! corecoder: a terminal coding agent for any OpenAI-compatible chat-completions endpoint.
//!
//! # Layout
//! - [`agent`]: the bounded loop of model rounds and tool rounds (start here);
//! - [`llm`]: the `Llm` seam, the streaming HTTP client, the pure SSE decoder and assembler;
//! - [`context`]: the three-layer context manager;
//! - [`tools`]: the `Tool` seam and the seven tools;
//! - [`config`], [`cli`], [`prompt`], [`message`], [`error`]: the edges;
//! - [`render`]: the only module that prints.
//!
//! # Invariants
//! - Every loop that calls the model has a visible bound: 50 rounds for the agent, 20 for a
//!   sub-agent, 4 attempts and 2 stream restarts per request in the client.
//! - Every request satisfies: each `tool` message answers a tool call of an earlier assistant
//!   message (history changes only at round boundaries).
//! - Tool failures go to the model as `Error: …` tool messages and never end a turn; failures
//!   only a person can fix (config, HTTP after retries) reach the terminal with an exit code.
//! - Nothing here prints except `render` (enforced by the lints below); reasoning is never put
//!   into the history; the API key is never written to disk or logs.
//! - No globals: the working directory and changed files are explicit `ToolContext` state;
//!   configuration comes from an environment lookup function, never `set_var`.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod agent;
pub mod cli;
pub mod config;
pub mod context;
pub mod error;
pub mod llm;
pub mod message;
pub mod prompt;
pub mod render;
pub mod repl;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;

use crate::agent::{Agent, EventSink};
use crate::config::Config;
use crate::context::ContextManager;
use crate::llm::openai::{ClientSettings, OpenAiClient};
use crate::llm::{Llm, LlmError};
use crate::tools::subagent::SubAgent;
use crate::tools::{ToolContext, Toolbox};

/// Assembles the agent the binary runs: the HTTP client, the seven tools (the sub-agent shares
/// the client and the token totals), the system prompt with the project's `AGENTS.md`.
pub fn build_agent(config: &Config, cwd: PathBuf, events: EventSink) -> Result<Agent, LlmError> {
    let llm: Arc<dyn Llm> = Arc::new(OpenAiClient::new(ClientSettings {
        base_url: config.base_url.clone(),
        api_key: config.api_key.clone(),
        model: config.model.clone(),
        max_tokens: config.max_tokens,
        temperature: config.temperature,
        idle_timeout: config.stream_timeout,
    })?);
    let instructions = prompt::load_instructions(&cwd);
    let basic = Toolbox::basic();
    let usage = Arc::default();
    let sub_system = prompt::system_prompt(&cwd, &basic, instructions.as_deref());
    let sub = SubAgent::new(
        llm.clone(),
        basic.clone(),
        sub_system,
        config.max_context,
        Arc::clone(&usage),
    );
    let toolbox = basic.with(Arc::new(sub));
    let system = prompt::system_prompt(&cwd, &toolbox, instructions.as_deref());
    let ctx = ToolContext::new(cwd, events);
    Ok(Agent::new(
        llm,
        toolbox,
        system,
        ContextManager::new(config.max_context),
        ctx,
    )
    .with_usage(usage))
}
