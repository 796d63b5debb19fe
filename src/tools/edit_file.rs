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
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::sync::Arc;

    fn ctx(dir: &Path) -> ToolContext {
        ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}))
    }

    async fn edit_file(dir: &Path, args: Value) -> Result<String, ToolError> {
        EditFile.run(args, &ctx(dir)).await
    }

    fn args(old: &str, new: &str) -> Value {
        json!({"file_path": "f.txt", "old_string": old, "new_string": new})
    }

    fn setup(content: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), content).unwrap();
        dir
    }

    fn read(dir: &tempfile::TempDir) -> Vec<u8> {
        std::fs::read(dir.path().join("f.txt")).unwrap()
    }

    #[tokio::test]
    async fn edit_file_replaces_a_unique_string_and_replies_with_a_diff() {
        let dir = setup(b"a\nb\nc\n");
        let out = edit_file(dir.path(), args("b", "B")).await.unwrap();
        assert_eq!(read(&dir), b"a\nB\nc\n");
        assert_eq!(
            out,
            "Edited f.txt (replaced 1 occurrence)\n--- a/f.txt\n+++ b/f.txt\n\
             @@ -1,3 +1,3 @@\n a\n-b\n+B\n c"
        );
    }

    #[tokio::test]
    async fn edit_file_rejects_ambiguous_match_with_the_line_of_each() {
        let dir = setup(b"x\ny\nx\n");
        let err = edit_file(dir.path(), args("x", "z")).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("occurs 2 times in f.txt (at lines 1, 3)"),
            "{msg}"
        );
        assert!(msg.contains("replace_all"), "{msg}");
        assert_eq!(read(&dir), b"x\ny\nx\n");
    }

    #[tokio::test]
    async fn edit_file_replace_all_replaces_every_occurrence() {
        let dir = setup(b"x\ny\nx\n");
        let mut a = args("x", "z");
        a["replace_all"] = json!(true);
        let out = edit_file(dir.path(), a).await.unwrap();
        assert!(
            out.starts_with("Edited f.txt (replaced 2 occurrences)"),
            "{out}"
        );
        assert_eq!(read(&dir), b"z\ny\nz\n");
    }

    #[tokio::test]
    async fn edit_file_shows_the_closest_region_when_nothing_matches() {
        let dir = setup(b"fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n");
        let err = edit_file(dir.path(), args("let x = 1;\nprintln!(\"{x}\");", "y"))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("was not found in f.txt"), "{msg}");
        assert!(
            msg.contains("differs only in whitespace (lines 2-3)"),
            "{msg}"
        );
        assert!(msg.contains("2\t    let x = 1;\n3\t    println!"), "{msg}");
    }

    #[tokio::test]
    async fn edit_file_keeps_crlf_endings_and_the_bom() {
        let dir = setup(b"\xEF\xBB\xBFone\r\ntwo\r\nthree\r\n");
        edit_file(dir.path(), args("one\ntwo", "uno\ndos\nmas"))
            .await
            .unwrap();
        assert_eq!(read(&dir), b"\xEF\xBB\xBFuno\r\ndos\r\nmas\r\nthree\r\n");
    }

    #[tokio::test]
    async fn edit_file_keeps_the_final_newline_state() {
        let dir = setup(b"a\nb\n");
        edit_file(dir.path(), args("b\n", "c")).await.unwrap();
        assert_eq!(read(&dir), b"a\nc\n");
        let dir = setup(b"a\nb");
        edit_file(dir.path(), args("b", "c\n")).await.unwrap();
        assert_eq!(read(&dir), b"a\nc");
    }

    #[tokio::test]
    async fn edit_file_leaves_no_stray_cr_when_new_string_ends_in_crlf_in_an_lf_file() {
        let dir = setup(b"a\nb");
        edit_file(dir.path(), args("b", "c\r\n")).await.unwrap();
        assert_eq!(read(&dir), b"a\nc");
    }

    #[tokio::test]
    async fn edit_file_keeps_the_file_mode() {
        let dir = setup(b"#!/bin/sh\necho a\n");
        let path = dir.path().join("f.txt");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        edit_file(dir.path(), args("echo a", "echo b"))
            .await
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o750);
    }

    #[tokio::test]
    async fn edit_file_edits_utf16_and_writes_it_back_in_its_encoding() {
        use crate::tools::encoding::Encoding;
        for enc in [Encoding::Utf16Le, Encoding::Utf16Be] {
            let dir = setup(&enc.encode("name = \"alt\"\r\nwert = 1\r\n"));
            edit_file(dir.path(), args("alt", "neü")).await.unwrap();
            assert_eq!(read(&dir), enc.encode("name = \"neü\"\r\nwert = 1\r\n"));
        }
    }

    #[tokio::test]
    async fn edit_file_refuses_binary_and_non_utf8_files() {
        let dir = setup(b"\x7fELF\0\0abc");
        let err = edit_file(dir.path(), args("abc", "x")).await.unwrap_err();
        assert!(err.to_string().contains("f.txt is a binary file"), "{err}");
        let dir = setup(b"caf\xe9 abc\n");
        let err = edit_file(dir.path(), args("abc", "x")).await.unwrap_err();
        assert!(err.to_string().contains("is not valid UTF-8"), "{err}");
    }

    #[tokio::test]
    async fn edit_file_rejects_an_empty_or_unchanged_old_string() {
        let dir = setup(b"abc");
        let err = edit_file(dir.path(), args("", "x")).await.unwrap_err();
        assert!(err.to_string().contains("use write_file"), "{err}");
        let err = edit_file(dir.path(), args("abc", "abc")).await.unwrap_err();
        assert!(err.to_string().contains("identical"), "{err}");
    }

    #[tokio::test]
    async fn edit_file_reports_a_missing_file_and_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = edit_file(dir.path(), args("a", "b")).await.unwrap_err();
        assert!(
            err.to_string().contains("f.txt not found; use write_file"),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("f.txt")).unwrap();
        let err = edit_file(dir.path(), args("a", "b")).await.unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[tokio::test]
    async fn edit_file_records_the_original_content_for_undo() {
        let dir = setup(b"before\n");
        let c = ctx(dir.path());
        EditFile.run(args("before", "after"), &c).await.unwrap();
        let log = c.changes.lock().unwrap();
        assert_eq!(
            log.originals()[&dir.path().join("f.txt")],
            Some(b"before\n".to_vec())
        );
    }

    #[tokio::test]
    async fn edit_file_cuts_a_long_diff() {
        let body: String = (0..400).map(|i| format!("line {i}\n")).collect();
        let dir = setup(body.as_bytes());
        let mut a = args("line", "row");
        a["replace_all"] = json!(true);
        let out = edit_file(dir.path(), a).await.unwrap();
        assert!(out.len() < MAX_DIFF + 200, "{}", out.len());
        assert!(out.contains("… (diff cut at 3000 of "), "{out}");
    }
}
