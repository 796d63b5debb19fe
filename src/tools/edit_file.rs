//! `edit_file`: replace one exact, unique occurrence of a string.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};

pub struct EditFile;

#[async_trait]
impl Tool for EditFile {
    fn name(&self) -> &'static str {
        "edit_file"
    }

    fn description(&self) -> &'static str {
        "Edit a file by replacing an exact string match. old_string must appear exactly once \
         in the file; include enough surrounding context to make it unique."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "Path to the file to edit"},
                "old_string": {"type": "string", "description": "Exact text to find (must be unique in the file)"},
                "new_string": {"type": "string", "description": "Replacement text"}
            },
            "required": ["file_path", "old_string", "new_string"]
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let path = ctx.resolve(&args.file_path);
        let bytes = std::fs::read(&path)
            .map_err(|e| ToolError::failed(format!("cannot read {}: {e}", args.file_path)))?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| ToolError::failed(format!("{} is not UTF-8 text", args.file_path)))?;
        match text.matches(args.old_string.as_str()).count() {
            0 => Err(ToolError::failed(format!(
                "old_string not found in {}; read the file and copy the text exactly",
                args.file_path
            ))),
            1 => {
                let new = text.replacen(&args.old_string, &args.new_string, 1);
                ctx.record_change(&path, Some(bytes));
                std::fs::write(&path, &new).map_err(|e| {
                    ToolError::failed(format!("cannot write {}: {e}", args.file_path))
                })?;
                Ok(format!("Edited {}", args.file_path))
            }
            n => Err(ToolError::failed(format!(
                "old_string appears {n} times in {}; include more surrounding lines",
                args.file_path
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    file_path: String,
    old_string: String,
    new_string: String,
}
