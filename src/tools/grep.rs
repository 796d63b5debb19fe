//! `grep`: search file contents with a Rust regular expression.
//!
//! Walks with `glob`'s shared walker (gitignore-aware, parallel) and searches each file on the
//! walker's threads, then sorts by path and line so the reply is the same on every run. Binary
//! files (a NUL byte in the first 8 KiB) are skipped; long lines are cut. This file owns the
//! per-file search ([`search`]); it does not list files by name (that is `glob`).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use globset::GlobMatcher;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::{Value, json};

use super::glob::{canonical_cwd, compile_glob, names_hidden, search_root, shown_path, walk};
use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;

const MAX_SHOWN: usize = 200;
const MAX_LINE: usize = 300;
const BINARY_PROBE: usize = 8192;

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
         lines as path:line: text, sorted by path. Files ignored by git, hidden files and \
         binary files are skipped."
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

/// One file's matching lines: how many there are and the first few.
struct FileHits {
    path: PathBuf,
    total: usize,
    lines: Vec<(usize, String)>,
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
        let bytes = std::fs::read(entry.path()).ok()?;
        if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
            return None;
        }
        let (total, lines) = search(re, &bytes, max_shown);
        (total > 0).then(|| FileHits {
            path: entry.path().to_path_buf(),
            total,
            lines,
        })
    });
    hits.sort_by(|a, b| a.path.cmp(&b.path));
    hits
}

/// Counts the lines of `bytes` that `re` matches and returns the first `keep` of them as
/// (1-based line number, text with long lines cut). A line is reported once however many
/// matches it holds.
pub fn search(re: &Regex, bytes: &[u8], keep: usize) -> (usize, Vec<(usize, String)>) {
    let (mut total, mut kept) = (0, Vec::new());
    // `pos` is always the start of a line; `line_no` is its number.
    let (mut pos, mut line_no) = (0, 1);
    while pos < bytes.len() {
        let Some(m) = re.find_at(bytes, pos) else {
            break;
        };
        if m.start() == bytes.len() && bytes.ends_with(b"\n") {
            break; // an empty match after the final newline is not a line
        }
        let line_start = bytes[pos..m.start()]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(pos, |i| pos + i + 1);
        line_no += bytes[pos..line_start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        let line_end = bytes[m.start()..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| m.start() + i);
        total += 1;
        if kept.len() < keep {
            kept.push((line_no, cut_line(&bytes[line_start..line_end])));
        }
        pos = line_end + 1;
        line_no += 1;
    }
    (total, kept)
}

fn cut_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end();
    match text.char_indices().nth(MAX_LINE) {
        Some((at, _)) => format!("{}… [line cut]", &text[..at]),
        None => text.to_string(),
    }
}

/// `path:line: text`, sorted by path then line, at most `max_shown` shown with the total.
fn format_hits(hits: Vec<FileHits>, cwd: &Path, max_shown: usize) -> String {
    let total: usize = hits.iter().map(|h| h.total).sum();
    if total == 0 {
        return "No matches found.".to_string();
    }
    let mut out = Vec::new();
    let cwd = canonical_cwd(cwd);
    for hit in &hits {
        let shown = shown_path(&hit.path, &cwd);
        for (line, text) in hit.lines.iter().take(max_shown - out.len()) {
            out.push(format!("{shown}:{line}: {text}"));
        }
    }
    if total > out.len() {
        out.push(format!(
            "... (showing {} of {total} matching lines in {} files; narrow the pattern, path \
             or include)",
            out.len(),
            hits.len()
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::Arc;

    async fn grep(dir: &Path, args: Value) -> Result<String, ToolError> {
        let ctx = ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}));
        Grep::default().run(args, &ctx).await
    }

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, body) in files {
            let p = dir.join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, body).unwrap();
        }
    }

    fn re(pattern: &str) -> Regex {
        compile_regex(pattern).unwrap()
    }

    #[test]
    fn search_reports_each_matching_line_once_with_its_number() {
        let (total, lines) = search(&re("a"), b"xa a\nno\nbab\n", 10);
        assert_eq!(total, 2);
        assert_eq!(lines, [(1, "xa a".to_string()), (3, "bab".to_string())]);
    }

    #[test]
    fn search_anchors_work_per_line_including_crlf_lines() {
        let (total, lines) = search(&re("^fn .*\\)$"), b"fn a()\r\n  fn b()\r\nfn c()", 10);
        assert_eq!(total, 2);
        assert_eq!(
            lines,
            [(1, "fn a()".to_string()), (3, "fn c()".to_string())]
        );
    }

    #[test]
    fn search_counts_every_line_but_keeps_only_the_first_few() {
        let body = "hit\n".repeat(50);
        let (total, lines) = search(&re("hit"), body.as_bytes(), 3);
        assert_eq!(total, 50);
        assert_eq!(lines.last(), Some(&(3, "hit".to_string())));
    }

    #[test]
    fn search_does_not_invent_a_line_after_the_final_newline() {
        assert_eq!(search(&re(""), b"a\nb\n", 10).0, 2);
        assert_eq!(search(&re("$"), b"a\nb", 10).0, 2);
        assert_eq!(search(&re(""), b"", 10).0, 0);
    }

    #[tokio::test]
    async fn grep_reports_path_line_text_sorted_by_path_then_line() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(String, String)> = (0..40)
            .map(|i| {
                (
                    format!("d{}/f{i:02}.txt", i % 4),
                    "skip\nTODO one\nTODO two\n".into(),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        write(dir.path(), &refs);
        let out = grep(dir.path(), json!({"pattern": "TODO"})).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 80);
        assert_eq!(lines[0], "d0/f00.txt:2: TODO one");
        assert_eq!(lines[1], "d0/f00.txt:3: TODO two");
        assert_eq!(lines[2], "d0/f04.txt:2: TODO one");
        let again = grep(dir.path(), json!({"pattern": "TODO"})).await.unwrap();
        assert_eq!(out, again, "parallel search must not change the order");
    }

    #[tokio::test]
    async fn grep_explains_an_invalid_regex() {
        let dir = tempfile::tempdir().unwrap();
        let err = grep(dir.path(), json!({"pattern": "foo("}))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("invalid regex: "), "{msg}");
        assert!(msg.contains("unclosed group"), "{msg}");
        assert!(msg.contains("escape"), "{msg}");
    }

    #[tokio::test]
    async fn grep_include_filters_by_file_name_or_by_path() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[("src/a.rs", "key"), ("src/b.py", "key"), ("c.rs", "key")],
        );
        let out = grep(dir.path(), json!({"pattern": "key", "include": "*.rs"}))
            .await
            .unwrap();
        assert_eq!(out, "c.rs:1: key\nsrc/a.rs:1: key");
        let out = grep(dir.path(), json!({"pattern": "key", "include": "src/*"}))
            .await
            .unwrap();
        assert_eq!(out, "src/a.rs:1: key\nsrc/b.py:1: key");
        let err = grep(dir.path(), json!({"pattern": "key", "include": "[x"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("invalid glob pattern"), "{err}");
    }

    #[tokio::test]
    async fn grep_skips_binary_files() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[("bin.dat", "needle\0\x01"), ("t.txt", "needle")],
        );
        let out = grep(dir.path(), json!({"pattern": "needle"}))
            .await
            .unwrap();
        assert_eq!(out, "t.txt:1: needle");
    }

    #[tokio::test]
    async fn grep_honours_gitignore_and_skips_hidden_files_and_git() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (".git/config", "needle"),
                (".gitignore", "build/\n"),
                ("build/out.txt", "needle"),
                (".env", "needle"),
                ("src/ok.txt", "needle"),
            ],
        );
        let out = grep(dir.path(), json!({"pattern": "needle"}))
            .await
            .unwrap();
        assert_eq!(out, "src/ok.txt:1: needle");
        let out = grep(dir.path(), json!({"pattern": "needle", "include": ".env"}))
            .await
            .unwrap();
        assert_eq!(out, ".env:1: needle");
    }

    #[tokio::test]
    async fn grep_shows_at_most_200_matches_with_the_total() {
        let dir = tempfile::tempdir().unwrap();
        let body = "x\n".repeat(150);
        write(dir.path(), &[("a.txt", &body), ("b.txt", &body)]);
        let out = grep(dir.path(), json!({"pattern": "x"})).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 201);
        assert_eq!(lines[199], "b.txt:50: x");
        assert!(lines[200].contains("showing 200 of 300 matching lines in 2 files"));
    }

    #[tokio::test]
    async fn grep_cuts_long_lines() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("needle{}", "é".repeat(1000));
        write(dir.path(), &[("m.js", &long)]);
        let out = grep(dir.path(), json!({"pattern": "needle"}))
            .await
            .unwrap();
        assert!(out.ends_with("… [line cut]"), "{out}");
        assert_eq!(
            out.chars().count(),
            "m.js:1: ".len() + 300 + "… [line cut]".chars().count()
        );
    }

    #[tokio::test]
    async fn grep_searches_a_single_file_or_a_subdirectory() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("a/one.txt", "hit"), ("b/two.txt", "hit")]);
        let out = grep(dir.path(), json!({"pattern": "hit", "path": "b/two.txt"}))
            .await
            .unwrap();
        assert_eq!(out, "b/two.txt:1: hit");
        let out = grep(dir.path(), json!({"pattern": "hit", "path": "a"}))
            .await
            .unwrap();
        assert_eq!(out, "a/one.txt:1: hit");
        let out = grep(dir.path(), json!({"pattern": "miss"})).await.unwrap();
        assert_eq!(out, "No matches found.");
    }

    #[tokio::test]
    async fn grep_rejects_unknown_arguments_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let err = grep(dir.path(), json!({"pattern": "x", "glob": "*.rs"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `glob`"), "{err}");
        let err = grep(dir.path(), json!({"pattern": "x", "path": "gone"}))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "gone not found");
    }
}
