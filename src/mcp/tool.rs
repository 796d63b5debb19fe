//! [`McpTool`]: one tool of a server, offered to the model under its cleaned runtime name.
//!
//! Its action is `Call { server, tool }`: MCP tools count as changing things unless the user's
//! rules say otherwise (`mcp__time__*`); a server's own `readOnlyHint` is not trusted, since the
//! server is the party the rules are about.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::content;
use super::server::{Server, State};
use crate::policy::Action;
use crate::tools::{Tool, ToolContext, ToolError};

/// Characters of a server's tool description kept (some send pages).
const MAX_DESCRIPTION: usize = 1024;

pub struct McpTool {
    name: String,
    description: String,
    schema: Value,
    /// The tool's name on the server.
    remote: String,
    server: Arc<Server>,
}

impl McpTool {
    pub fn new(name: String, listed: &super::server::Listed, server: Arc<Server>) -> McpTool {
        let mut description: String = listed.description.chars().take(MAX_DESCRIPTION).collect();
        if description.trim().is_empty() {
            description = format!(
                "The {} tool of the MCP server {}",
                listed.name, server.config.name
            );
        }
        McpTool {
            name,
            description,
            schema: super::naming::clean_schema(Some(&listed.schema)),
            remote: listed.name.clone(),
            server,
        }
    }

    pub fn remote(&self) -> &str {
        &self.remote
    }
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.schema.clone()
    }

    fn action(&self, args: &Value, _ctx: &ToolContext) -> Result<Action, ToolError> {
        check_args(args)?;
        Ok(Action::Call {
            server: self.server.config.name.clone(),
            tool: self.remote.clone(),
        })
    }

    async fn run(&self, args: Value, _ctx: &ToolContext) -> Result<String, ToolError> {
        check_args(&args)?;
        let server = &self.server.config.name;
        let Some(conn) = self.server.connection() else {
            let state = match self.server.state() {
                State::Failed(why) => why,
                _ => "it is not running".into(),
            };
            return Err(ToolError::failed(format!("MCP server {server}: {state}")));
        };
        let args = if args.is_null() { json!({}) } else { args };
        let params = json!({"name": self.remote, "arguments": args});
        // Dropping this future (Ctrl-C) sends notifications/cancelled; see `client`.
        let result = conn
            .request("tools/call", params, self.server.config.tool_timeout)
            .await
            .map_err(|e| ToolError::failed(format!("MCP server {server}: {e}")))?;
        content::result_text(&result).map_err(ToolError::Failed)
    }
}

/// MCP arguments are an object; `null` (a model that sent nothing) means none.
fn check_args(args: &Value) -> Result<(), ToolError> {
    match args {
        Value::Object(_) | Value::Null => Ok(()),
        other => Err(ToolError::BadArgs(format!(
            "expected a JSON object of arguments, got {other}"
        ))),
    }
}
