//! `glob`: find files by pattern, newest first.
//!
//! Also owns the tree walk `grep` shares ([`walk`]): the `ignore` crate's parallel walker, so
//! `.gitignore`, `.ignore` and the global git excludes are honoured inside repositories, hidden
//! entries are skipped unless the pattern names them, `.git` is always skipped, and symlink
//! loops or unreadable directories are passed over instead of failing the search. Paths in
//! replies are relative to the session directory when inside it ([`shown_path`]). This file
//! does not read file contents: that is `grep`.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::SystemTime;

use async_trait::async_trait;
use globset::{GlobBuilder, GlobMatcher};
use ignore::{DirEntry, WalkBuilder, WalkState};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;

const MAX_SHOWN: usize = 100;

/// The glob tool. `max_shown` caps the paths in a reply (100 by default); the benchmark lifts it
/// to compare every path with ripgrep's file list.
pub struct Glob {
    pub max_shown: usize,
}

impl Default for Glob {
    fn default() -> Self {
        Glob {
            max_shown: MAX_SHOWN,
        }
    }
}

#[async_trait]
impl Tool for Glob {
    fn name(&self) -> &str {
        "glob"
    }

    fn description(&self) -> &str {
        "Find files matching a glob pattern, newest first. Supports ** for recursive matching \
         (e.g. '**/*.py'). Files ignored by git and hidden files are skipped unless the \
         pattern names them."
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

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Read {
            paths: vec![ctx.resolve(args.path.as_deref().unwrap_or("."))],
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let base = search_root(ctx, args.path.as_deref())?;
        if !base.is_dir() {
            return Err(ToolError::failed(format!(
                "{} is not a directory; pass a directory as path",
                args.path.as_deref().unwrap_or(".")
            )));
        }
        let matcher = compile_glob(&args.pattern)?;
        let hidden = names_hidden(&args.pattern);
        let cwd = ctx.cwd();
        let max_shown = self.max_shown;
        tokio::task::spawn_blocking(move || {
            let found = find(&base, &matcher, hidden);
            format_found(found, &cwd, max_shown)
        })
        .await
        .map_err(|e| ToolError::failed(format!("glob failed: {e}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    pattern: String,
    path: Option<String>,
}

/// `*` stays within one path component; `**` crosses them, as in a shell with globstar.
pub(crate) fn compile_glob(pattern: &str) -> Result<GlobMatcher, ToolError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            ToolError::failed(format!(
                "invalid glob pattern: {e}; use * within a directory, ** across directories, \
                 {{a,b}} for alternatives"
            ))
        })
}

/// Whether a pattern asks for hidden entries by naming one (`.github/**`, `**/.env*`).
pub(crate) fn names_hidden(pattern: &str) -> bool {
    pattern
        .split('/')
        .any(|part| part.starts_with('.') && part != "." && part != "..")
}

/// The directory or file to search, resolved and made canonical so paths in replies can be
/// shown relative to the session directory.
pub(crate) fn search_root(ctx: &ToolContext, path: Option<&str>) -> Result<PathBuf, ToolError> {
    let shown = path.unwrap_or(".");
    let root = ctx.resolve(shown);
    std::fs::canonicalize(&root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::failed(format!("{shown} not found")),
        _ => ToolError::failed(format!("cannot search {shown}: {e}")),
    })
}

/// The session directory with symlinks resolved, as the walker's paths spell it. Computed once
/// per reply: canonicalizing is a readlink per path component, which per shown path made
/// listing 6,000 files 1.7× slower than ripgrep.
pub(crate) fn canonical_cwd(cwd: &Path) -> PathBuf {
    std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf())
}

/// `path` relative to the session directory (`cwd`, from [`canonical_cwd`]) when inside it, so
/// the model can pass it back. Output is one path per line, so a name with a newline or another
/// control character (or one that starts with `"`) is shown as a JSON string: `"a\nb.txt"` is
/// one entry, and exactly what the model writes in a tool's arguments to name it.
pub(crate) fn shown_path(path: &Path, cwd: &Path) -> String {
    let shown = match path.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    if shown.starts_with('"') || shown.chars().any(char::is_control) {
        serde_json::Value::String(shown).to_string()
    } else {
        shown
    }
}

/// Walks `root` on all cores and returns what `visit` keeps of each file (in no fixed order).
/// Entries the walker cannot read (permission errors, symlink loops) are skipped.
pub(crate) fn walk<T, F>(root: &Path, include_hidden: bool, visit: F) -> Vec<T>
where
    T: Send,
    F: Fn(&DirEntry) -> Option<T> + Sync,
{
    let (tx, rx) = mpsc::channel();
    WalkBuilder::new(root)
        .hidden(!include_hidden)
        .follow_links(true)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel()
        .run(|| {
            let tx = tx.clone();
            let visit = &visit;
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if entry.file_type().is_some_and(|t| t.is_file())
                    && let Some(item) = visit(&entry)
                {
                    // The receiver outlives the walk, so a send cannot fail.
                    let _ = tx.send(item);
                }
                WalkState::Continue
            })
        });
    drop(tx);
    rx.into_iter().collect()
}

/// Every file under `base` whose path relative to `base` matches, with its modification time.
fn find(base: &Path, matcher: &GlobMatcher, include_hidden: bool) -> Vec<(SystemTime, PathBuf)> {
    walk(base, include_hidden, |entry| {
        let rel = entry.path().strip_prefix(base).ok()?;
        if !matcher.is_match(rel) {
            return None;
        }
        let mtime = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some((mtime, entry.path().to_path_buf()))
    })
}

/// Newest first (ties by path, so the order is stable), at most `max_shown` with the total.
fn format_found(mut found: Vec<(SystemTime, PathBuf)>, cwd: &Path, max_shown: usize) -> String {
    if found.is_empty() {
        return "No files matched.".to_string();
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = found.len();
    let cwd = canonical_cwd(cwd);
    let mut out: Vec<String> = found
        .iter()
        .take(max_shown)
        .map(|(_, p)| shown_path(p, &cwd))
        .collect();
    if total > max_shown {
        out.push(format!(
            "... (showing {max_shown} of {total} files, newest first; narrow the pattern or path)"
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests;
