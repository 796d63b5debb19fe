//! `edit_file`: replace an exact string in a text file and reply with the unified diff.
//!
//! `old_string` must occur exactly once unless `replace_all` is set. When it does not occur, the
//! error shows the closest region (whitespace-insensitive first, then fuzzy) with line numbers
//! so the model can re-anchor; when it occurs several times, the line of each. The file's
//! encoding survives the edit: UTF-8 with or without a BOM or UTF-16 with one (`encoding.rs`),
//! CRLF endings (the model writes `\n`), the final-newline state, the mode, the owner and hard
//! links are kept, and the write is crash-safe (`durable.rs`).
//! Files with mixed line endings are matched as they are. The pure text work (decode, match,
//! replace, closest region) lives in `edit_file/text.rs`; this file does the I/O and the
//! messages. It does not create files (that is `write_file`) or edit binary ones or other encodings.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;
use text::{Miss, TextFile, closest_region, keep_final_newline, replace};

mod text;

const MAX_DIFF: usize = 3_000;
const MAX_SHOWN_LINES: usize = 30;

pub struct EditFile;

#[async_trait]
impl Tool for EditFile {
    fn name(&self) -> &str {
        "edit_file"
    }

    fn description(&self) -> &str {
        "Edit a file by replacing an exact string match. old_string must appear exactly once \
         in the file; include enough surrounding context to make it unique, or set replace_all \
         to replace every occurrence. Returns a unified diff of the change."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "Path to the file to edit"},
                "old_string": {"type": "string", "description": "Exact text to find (must be unique in the file unless replace_all is true)"},
                "new_string": {"type": "string", "description": "Replacement text"},
                "replace_all": {"type": "boolean", "description": "Replace every occurrence of old_string (default false)"}
            },
            "required": ["file_path", "old_string", "new_string"]
        })
    }

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Edit {
            paths: vec![ctx.resolve(&args.file_path)],
        })
    }

    /// The diff the edit would make; `None` when it would fail (the run says why).
    async fn preview(&self, args: &Value, ctx: &ToolContext) -> Option<String> {
        let args: Args = parse_args(args.clone()).ok()?;
        let bytes = crate::durable::read_regular(&ctx.resolve(&args.file_path)).ok()?;
        let shown = &args.file_path;
        let all = args.replace_all;
        let done = edit_bytes(shown, &bytes, &args.old_string, &args.new_string, all).ok()?;
        let diff = crate::diff::unified(&done.before, &done.after, shown);
        Some(super::write_file::preview_cut(&diff))
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || edit(&args, &ctx))
            .await
            .map_err(|e| ToolError::failed(format!("edit failed: {e}")))?
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    file_path: String,
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

fn edit(args: &Args, ctx: &ToolContext) -> Result<String, ToolError> {
    let shown = &args.file_path;
    if args.old_string.is_empty() {
        return Err(ToolError::failed(
            "old_string is empty; give the exact text to replace, or use write_file to create \
             a file or replace all of its content",
        ));
    }
    if args.old_string == args.new_string {
        return Err(ToolError::failed(
            "old_string and new_string are identical; there is nothing to change",
        ));
    }
    let path = ctx.resolve(shown);
    if path.is_dir() {
        return Err(ToolError::failed(format!(
            "{shown} is a directory; give the path of a file"
        )));
    }
    let bytes = crate::durable::read_regular(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::failed(format!(
            "{shown} not found; use write_file to create a new file"
        )),
        _ => ToolError::failed(format!("cannot read {shown}: {e}")),
    })?;
    let done = edit_bytes(
        shown,
        &bytes,
        &args.old_string,
        &args.new_string,
        args.replace_all,
    )
    .map_err(ToolError::failed)?;
    ctx.record_change(&path, Some(bytes));
    crate::durable::replace(&path, &done.bytes)
        .map_err(|e| ToolError::failed(format!("cannot write {shown}: {e}")))?;
    let what = match done.count {
        1 => "1 occurrence".to_string(),
        n => format!("{n} occurrences"),
    };
    let diff = unified_diff(shown, &done.before, &done.after);
    Ok(format!("Edited {shown} (replaced {what})\n{diff}"))
}

/// A successful edit before it is written: the bytes for the file, and the text before and
/// after as the matcher saw it (for the diff).
#[derive(Debug)]
pub struct Edited {
    pub bytes: Vec<u8>,
    pub count: usize,
    pub before: String,
    pub after: String,
}

/// The pure edit, public so the fuzz target drives exactly what the tool runs: decode the
/// file, match and replace, keep the final-newline state, encode. `Err` is the message for
/// the model (`shown` is the path as the model wrote it).
pub fn edit_bytes(
    shown: &str,
    bytes: &[u8],
    old: &str,
    new: &str,
    all: bool,
) -> Result<Edited, String> {
    let file = TextFile::decode(bytes).map_err(|why| {
        format!("{shown} {why}; edit_file only edits UTF-8 text or UTF-16 text with a byte-order mark, use bash for other files")
    })?;
    let (old, new) = if file.crlf {
        // The model writes `\n`; the file's CRLF endings come back when it is encoded.
        let lf = |s: &str| s.replace("\r\n", "\n");
        (lf(old), lf(new))
    } else {
        (old.to_string(), new.to_string())
    };
    let (edited, count) = replace(&file.text, &old, &new, all)
        .map_err(|miss| explain_miss(shown, &file.text, &old, miss))?;
    let after = keep_final_newline(&file.text, edited);
    Ok(Edited {
        bytes: file.encode(&after),
        count,
        before: file.text,
        after,
    })
}

/// The model-facing explanation of a failed match, with what to do next.
fn explain_miss(shown: &str, text: &str, old: &str, miss: Miss) -> String {
    match miss {
        Miss::Ambiguous(lines) => {
            let mut list: Vec<String> = lines.iter().take(20).map(|l| l.to_string()).collect();
            if lines.len() > 20 {
                list.push("…".to_string());
            }
            format!(
                "old_string occurs {} times in {shown} (at lines {}); include more surrounding \
                 lines to make it unique, or set replace_all to true to replace every one",
                lines.len(),
                list.join(", ")
            )
        }
        Miss::NotFound => {
            let mut msg = format!("old_string was not found in {shown}.");
            match closest_region(text, old) {
                Some(c) => {
                    let how = match c.similarity {
                        None => "differs only in whitespace".to_string(),
                        Some(r) => format!("is {:.0}% similar", r * 100.0),
                    };
                    msg.push_str(&format!(
                        " The closest region {how} (lines {}-{}):\n{}\n",
                        c.first,
                        c.last,
                        numbered(text, c.first, c.last)
                    ));
                    msg.push_str("Copy the text exactly as it appears there, indentation included");
                }
                None => msg.push_str(" Nothing in the file resembles it; read the file first"),
            }
            msg
        }
    }
}

fn numbered(text: &str, first: usize, last: usize) -> String {
    let shown_last = last.min(first + MAX_SHOWN_LINES - 1);
    let mut out: Vec<String> = text
        .lines()
        .enumerate()
        .skip(first - 1)
        .take(shown_last + 1 - first)
        .map(|(i, line)| format!("{}\t{line}", i + 1))
        .collect();
    if shown_last < last {
        out.push(format!("… ({} more lines)", last - shown_last));
    }
    out.join("\n")
}

/// A unified diff of the edit, cut at a line boundary past 3,000 characters.
pub fn unified_diff(shown: &str, before: &str, after: &str) -> String {
    let diff = crate::diff::unified(before, after, shown);
    if diff.len() <= MAX_DIFF {
        return diff.trim_end().to_string();
    }
    let mut cut = MAX_DIFF;
    while !diff.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = diff[..cut]
        .rfind('\n')
        .map_or(&diff[..cut], |at| &diff[..at]);
    format!(
        "{head}\n… (diff cut at {MAX_DIFF} of {} characters; read the file to see the rest)",
        diff.len()
    )
}

#[cfg(test)]
mod tests;
