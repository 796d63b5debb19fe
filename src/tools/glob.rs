//! `glob`: find files by pattern.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};

pub struct Glob;

#[async_trait]
impl Tool for Glob {
    fn name(&self) -> &'static str {
        "glob"
    }

    fn description(&self) -> &'static str {
        "Find files matching a glob pattern. Supports ** for recursive matching (e.g. '**/*.py')."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Glob pattern, e.g. '**/*.py' or 'src/**/*.ts'"},
                "path": {"type": "string", "description": "Directory to search in (default: working directory)"}
            },
            "required": ["pattern"]
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let base = ctx.resolve(args.path.as_deref().unwrap_or("."));
        let matcher = globset::Glob::new(&args.pattern)
            .map_err(|e| ToolError::failed(format!("invalid pattern: {e}")))?
            .compile_matcher();
        let hits: Vec<String> = walkdir::WalkDir::new(&base)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                let rel = e.path().strip_prefix(&base).ok()?.to_path_buf();
                matcher.is_match(&rel).then(|| rel.display().to_string())
            })
            .take(100)
            .collect();
        if hits.is_empty() {
            Ok("No files matched.".to_string())
        } else {
            Ok(hits.join("\n"))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    pattern: String,
    path: Option<String>,
}
