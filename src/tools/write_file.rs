//! `write_file`: create or replace a whole file.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};

pub struct WriteFile;

#[async_trait]
impl Tool for WriteFile {
    fn name(&self) -> &'static str {
        "write_file"
    }

    fn description(&self) -> &'static str {
        "Create a new file or completely overwrite an existing one. Parent directories are \
         created. Use edit_file for changes to part of a file."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "Path to the file"},
                "content": {"type": "string", "description": "The full content to write"}
            },
            "required": ["file_path", "content"]
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let path = ctx.resolve(&args.file_path);
        let original = std::fs::read(&path).ok();
        let existed = original.is_some();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                ToolError::failed(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        ctx.record_change(&path, original);
        std::fs::write(&path, &args.content)
            .map_err(|e| ToolError::failed(format!("cannot write {}: {e}", path.display())))?;
        let lines = args.content.lines().count();
        let verb = if existed { "Replaced" } else { "Created" };
        Ok(format!("{verb} {} ({lines} lines)", args.file_path))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    file_path: String,
    content: String,
}
