//! `grep`: search file contents with a regular expression.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};

pub struct Grep;

#[async_trait]
impl Tool for Grep {
    fn name(&self) -> &'static str {
        "grep"
    }

    fn description(&self) -> &'static str {
        "Search file contents with a regular expression. Returns matching lines as \
         path:line: text."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Regular expression to search for"},
                "path": {"type": "string", "description": "File or directory to search (default: working directory)"},
                "include": {"type": "string", "description": "Only search files matching this glob, e.g. '*.py'"}
            },
            "required": ["pattern"]
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let re = regex::Regex::new(&args.pattern)
            .map_err(|e| ToolError::failed(format!("invalid regex: {e}")))?;
        let include = match &args.include {
            Some(g) => Some(
                globset::Glob::new(g)
                    .map_err(|e| ToolError::failed(format!("invalid include glob: {e}")))?
                    .compile_matcher(),
            ),
            None => None,
        };
        let base = ctx.resolve(args.path.as_deref().unwrap_or("."));
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&base)
            .into_iter()
            .filter_map(Result::ok)
        {
            if !entry.file_type().is_file() {
                continue;
            }
            if let Some(m) = &include
                && !m.is_match(entry.file_name())
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let rel = entry.path().strip_prefix(&base).unwrap_or(entry.path());
            for (n, line) in text.lines().enumerate() {
                if re.is_match(line) && out.len() < 200 {
                    out.push(format!("{}:{}: {line}", rel.display(), n + 1));
                }
            }
        }
        if out.is_empty() {
            Ok("No matches found.".to_string())
        } else {
            Ok(out.join("\n"))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    pattern: String,
    path: Option<String>,
    include: Option<String>,
}
