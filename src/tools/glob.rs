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
/// the model can pass it back.
pub(crate) fn shown_path(path: &Path, cwd: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
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
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::sync::Arc;
    use std::time::Duration;

    fn ctx(dir: &Path) -> ToolContext {
        ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}))
    }

    async fn glob(dir: &Path, args: Value) -> Result<String, ToolError> {
        Glob::default().run(args, &ctx(dir)).await
    }

    /// Creates each file (and its parents) under `dir`.
    fn touch(dir: &Path, files: &[&str]) {
        for f in files {
            let p = dir.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
    }

    fn sorted(out: &str) -> Vec<&str> {
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort();
        lines
    }

    #[tokio::test]
    async fn glob_double_star_crosses_directories_and_star_does_not() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &["top.rs", "src/a.rs", "src/deep/b.rs", "src/c.py"],
        );
        let out = glob(dir.path(), json!({"pattern": "**/*.rs"}))
            .await
            .unwrap();
        assert_eq!(sorted(&out), ["src/a.rs", "src/deep/b.rs", "top.rs"]);
        let out = glob(dir.path(), json!({"pattern": "*.rs"})).await.unwrap();
        assert_eq!(out, "top.rs");
        let out = glob(dir.path(), json!({"pattern": "src/*.{rs,py}"}))
            .await
            .unwrap();
        assert_eq!(sorted(&out), ["src/a.rs", "src/c.py"]);
    }

    #[tokio::test]
    async fn glob_lists_the_newest_files_first() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["old.txt", "new.txt", "mid.txt"]);
        let now = SystemTime::now();
        for (name, age) in [("old.txt", 300), ("mid.txt", 200), ("new.txt", 100)] {
            let f = File::options()
                .write(true)
                .open(dir.path().join(name))
                .unwrap();
            f.set_modified(now - Duration::from_secs(age)).unwrap();
        }
        let out = glob(dir.path(), json!({"pattern": "*.txt"})).await.unwrap();
        assert_eq!(out, "new.txt\nmid.txt\nold.txt");
    }

    #[tokio::test]
    async fn glob_honours_gitignore_inside_a_repository_and_dot_ignore_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".gitignore"), "target/\n*.log\n").unwrap();
        fs::write(dir.path().join(".ignore"), "vendor/\n").unwrap();
        touch(
            dir.path(),
            &["src/a.rs", "target/debug/x.rs", "run.log", "vendor/v.rs"],
        );
        let out = glob(dir.path(), json!({"pattern": "**/*"})).await.unwrap();
        assert_eq!(out, "src/a.rs");
    }

    #[tokio::test]
    async fn glob_ignores_gitignore_files_outside_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".gitignore"), "*.log\n").unwrap();
        touch(dir.path(), &["run.log"]);
        let out = glob(dir.path(), json!({"pattern": "*.log"})).await.unwrap();
        assert_eq!(out, "run.log");
    }

    #[tokio::test]
    async fn glob_skips_hidden_files_unless_the_pattern_names_them() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &[".env", ".github/workflows/ci.yml", "app.yml"]);
        let out = glob(dir.path(), json!({"pattern": "**/*.yml"}))
            .await
            .unwrap();
        assert_eq!(out, "app.yml");
        let out = glob(dir.path(), json!({"pattern": ".github/**/*.yml"}))
            .await
            .unwrap();
        assert_eq!(out, ".github/workflows/ci.yml");
        let out = glob(dir.path(), json!({"pattern": "**/.env*"}))
            .await
            .unwrap();
        assert_eq!(out, ".env");
    }

    #[tokio::test]
    async fn glob_never_lists_the_git_directory() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &[".git/config", ".git/objects/ab", "a.txt"]);
        let out = glob(dir.path(), json!({"pattern": ".git/**"}))
            .await
            .unwrap();
        assert_eq!(out, "No files matched.");
        let out = glob(dir.path(), json!({"pattern": "**/.*/**"}))
            .await
            .unwrap();
        assert_eq!(out, "No files matched.");
    }

    #[tokio::test]
    async fn glob_shows_at_most_100_files_with_the_total() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..150).map(|i| format!("f{i:03}.txt")).collect();
        touch(
            dir.path(),
            &names.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let out = glob(dir.path(), json!({"pattern": "*.txt"})).await.unwrap();
        assert_eq!(out.lines().count(), 101);
        assert!(
            out.ends_with("(showing 100 of 150 files, newest first; narrow the pattern or path)")
        );
    }

    #[tokio::test]
    async fn glob_passes_over_symlink_loops_and_unreadable_directories() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["a/x.txt", "locked/y.txt"]);
        std::os::unix::fs::symlink("..", dir.path().join("a/loop")).unwrap();
        let locked = dir.path().join("locked");
        fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
        let out = glob(dir.path(), json!({"pattern": "**/*.txt"})).await;
        fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let out = out.unwrap();
        assert!(out.lines().any(|l| l == "a/x.txt"), "{out}");
        assert!(!out.contains("loop"), "the loop is not followed: {out}");
    }

    #[tokio::test]
    async fn glob_paths_are_relative_to_the_working_directory_when_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        touch(dir.path(), &["src/lib/a.rs"]);
        touch(outside.path(), &["b.rs"]);
        let out = glob(dir.path(), json!({"pattern": "**/*.rs", "path": "src/lib"}))
            .await
            .unwrap();
        assert_eq!(out, "src/lib/a.rs");
        let far = outside.path().to_str().unwrap();
        let out = glob(dir.path(), json!({"pattern": "*.rs", "path": far}))
            .await
            .unwrap();
        let expected = fs::canonicalize(outside.path()).unwrap().join("b.rs");
        assert_eq!(out, expected.display().to_string());
    }

    #[tokio::test]
    async fn glob_explains_bad_patterns_and_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let err = glob(dir.path(), json!({"pattern": "src/[a"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("invalid glob pattern"), "{err}");
        let err = glob(dir.path(), json!({"pattern": "*", "path": "nope"}))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "nope not found");
        touch(dir.path(), &["file.txt"]);
        let err = glob(dir.path(), json!({"pattern": "*", "path": "file.txt"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not a directory"), "{err}");
    }

    #[test]
    fn names_hidden_spots_a_dot_component_but_not_dot_or_dot_dot() {
        assert!(names_hidden(".github/**"));
        assert!(names_hidden("**/.env*"));
        assert!(!names_hidden("./src/**/*.rs"));
        assert!(!names_hidden("../x/*.rs"));
        assert!(!names_hidden("**/*.rs"));
    }
}
