//! `grep`: search file contents with a Rust regular expression.
//!
//! Walks with `glob`'s shared walker (gitignore-aware, parallel) and searches each file on the
//! walker's threads, then sorts by path and line so the reply is the same on every run. Each
//! file is streamed ([`stream`]): binary files (a NUL byte in a 64 KiB block) stop the search
//! at that block, lines past 1 MiB are searched in their first MiB, and the reply notes both
//! when they cost a result. This file owns the walk and the reply; it does not list files by
//! name (that is `glob`).

mod stream;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use globset::GlobMatcher;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::{Value, json};

use super::glob::{canonical_cwd, compile_glob, names_hidden, search_root, shown_path, walk};
use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;
use stream::{Found, LINE_CAP, Limits, search_reader};

const MAX_SHOWN: usize = 200;
/// Files named in each kind of note before "and N more".
const MAX_NOTED: usize = 5;

/// The grep tool. `max_shown` caps the matching lines in a reply (200 by default, so a broad
/// pattern cannot flood the context); the benchmark lifts it to compare every hit with ripgrep.
pub struct Grep {
    pub max_shown: usize,
}

impl Default for Grep {
    fn default() -> Self {
        Grep {
            max_shown: MAX_SHOWN,
        }
    }
}

#[async_trait]
impl Tool for Grep {
    fn name(&self) -> &str {
        "grep"
    }

    fn description(&self) -> &str {
        "Search file contents with a regular expression (Rust regex syntax). Returns matching \
         lines as path:line: text, sorted by path; a match never spans lines. Files ignored by \
         git, hidden files and binary files (a NUL byte) are skipped; a line longer than 1 MiB \
         is searched only in its first MiB (the reply says so)."
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

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Read {
            paths: vec![ctx.resolve(args.path.as_deref().unwrap_or("."))],
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let re = compile_regex(&args.pattern)?;
        let include = args.include.as_deref().map(compile_glob).transpose()?;
        let hidden = args.include.as_deref().is_some_and(names_hidden);
        let root = search_root(ctx, args.path.as_deref())?;
        let cwd = ctx.cwd();
        let max_shown = self.max_shown;
        tokio::task::spawn_blocking(move || {
            let hits = search_tree(&root, &re, include.as_ref(), hidden, max_shown);
            format_hits(hits, &cwd, max_shown)
        })
        .await
        .map_err(|e| ToolError::failed(format!("grep failed: {e}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    pattern: String,
    path: Option<String>,
    include: Option<String>,
}

/// `^` and `$` work per line (CRLF included), as in grep; the rest is plain Rust regex.
fn compile_regex(pattern: &str) -> Result<Regex, ToolError> {
    RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .build()
        .map_err(|e| {
            ToolError::failed(format!(
                "invalid regex: {e}\nfix the pattern (Rust regex syntax; escape ( ) [ ] {{ }} . * + ? \
                 | \\ with a backslash to match them literally)"
            ))
        })
}

/// One file's search: its matching lines and what cut the search short.
struct FileHits {
    path: PathBuf,
    found: Found,
}

fn search_tree(
    root: &Path,
    re: &Regex,
    include: Option<&GlobMatcher>,
    hidden: bool,
    max_shown: usize,
) -> Vec<FileHits> {
    let root_is_file = root.is_file();
    let mut hits = walk(root, hidden, |entry| {
        if let Some(glob) = include {
            // A pattern without `/` names files anywhere; one with `/` is a path under `root`.
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let by_name = root_is_file || !glob.glob().glob().contains('/');
            let subject = if by_name {
                Path::new(entry.file_name())
            } else {
                rel
            };
            if !glob.is_match(subject) {
                return None;
            }
        }
        let file = File::open(entry.path()).ok()?;
        let size = entry.metadata().ok().map(|m| m.len());
        let found = search_reader(file, size, re, max_shown, Limits::default()).ok()?;
        // A binary file with nothing found before its first NUL is skipped without a word.
        (found.total > 0 || !found.long_lines.is_empty()).then(|| FileHits {
            path: entry.path().to_path_buf(),
            found,
        })
    });
    hits.sort_by(|a, b| a.path.cmp(&b.path));
    hits
}

/// `path:line: text`, sorted by path then line, at most `max_shown` shown with the total, then
/// a note for each kind of file whose search was cut short.
fn format_hits(hits: Vec<FileHits>, cwd: &Path, max_shown: usize) -> String {
    let total: usize = hits.iter().map(|h| h.found.total).sum();
    let mut out = Vec::new();
    let cwd = canonical_cwd(cwd);
    let shown: Vec<String> = hits.iter().map(|h| shown_path(&h.path, &cwd)).collect();
    for (hit, path) in hits.iter().zip(&shown) {
        for (line, text) in hit.found.lines.iter().take(max_shown - out.len()) {
            out.push(format!("{path}:{line}: {text}"));
        }
    }
    if total == 0 {
        out.push("No matches found.".to_string());
    } else if total > out.len() {
        let files = hits.iter().filter(|h| h.found.total > 0).count();
        out.push(format!(
            "... (showing {} of {total} matching lines in {files} files; narrow the pattern, \
             path or include)",
            out.len(),
        ));
    }
    let mut binary = Vec::new();
    let mut long = Vec::new();
    for (hit, path) in hits.iter().zip(&shown) {
        if let Some(at) = hit.found.binary_at {
            binary.push(format!("{path} (NUL at byte {at})"));
        }
        long.extend(hit.found.long_lines.iter().map(|n| format!("{path}:{n}")));
    }
    if !binary.is_empty() {
        out.push(format!(
            "note: binary data stopped the search of {}; lines from the {kib} KiB block \
             holding it on were not searched",
            listed(&binary),
            kib = Limits::default().block >> 10,
        ));
    }
    if !long.is_empty() {
        out.push(format!(
            "note: searched only the first {mib} MiB of {} longer than {mib} MiB: {}",
            if long.len() == 1 { "a line" } else { "lines" },
            listed(&long),
            mib = LINE_CAP >> 20,
        ));
    }
    out.join("\n")
}

/// The first few of `items`, then how many more.
fn listed(items: &[String]) -> String {
    let mut text = items[..items.len().min(MAX_NOTED)].join(", ");
    if items.len() > MAX_NOTED {
        text.push_str(&format!(" and {} more", items.len() - MAX_NOTED));
    }
    text
}
