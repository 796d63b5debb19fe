//! Unified diffs: of one edit (for `edit_file`'s reply) and of every file changed this session
//! against its content before the first change (for `/diff`). Colours are `markdown`'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::markdown::render_diff;

/// A unified diff of `old` → `new` with `a/` and `b/` headers; empty when they are equal.
pub fn unified(old: &str, new: &str, name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Every file changed this session (`originals`: each path's content before the first change,
/// `None` for a file that did not exist) against what is on disk now; paths shown relative to
/// `cwd`.
pub fn session_diff(
    originals: &BTreeMap<PathBuf, Option<Vec<u8>>>,
    cwd: &Path,
    color: bool,
) -> String {
    let mut out = String::new();
    for (path, original) in originals {
        let shown = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
        let before = original
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let after = crate::durable::read_regular(path).ok();
        let after = after
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let diff = unified(&before, &after, &shown);
        if diff.is_empty() {
            continue;
        }
        out.push_str(&render_diff(&diff, color));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    if out.is_empty() {
        "No files changed this session.\n".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::tools::ToolContext;
    use std::sync::Arc;

    fn session_diff(ctx: &ToolContext, color: bool) -> String {
        let changes = ctx.changes.lock().unwrap();
        super::session_diff(changes.originals(), &ctx.cwd(), color)
    }

    #[test]
    fn session_diff_compares_against_the_content_before_the_first_change() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "one\ntwo\n").unwrap();
        ctx.record_change(&file, Some(b"one\n".to_vec()));
        ctx.record_change(&file, Some(b"ignored later original\n".to_vec()));
        let new = dir.path().join("new.txt");
        std::fs::write(&new, "fresh\n").unwrap();
        ctx.record_change(&new, None);
        let diff = session_diff(&ctx, false);
        assert!(
            diff.contains("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n one\n+two\n"),
            "{diff}"
        );
        assert!(
            diff.contains("+++ b/new.txt") && diff.contains("+fresh"),
            "{diff}"
        );
        let colored = session_diff(&ctx, true);
        assert!(
            colored.contains("+two") && colored.contains("\x1b["),
            "{colored:?}"
        );
    }

    #[test]
    fn no_changes_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
        assert_eq!(session_diff(&ctx, true), "No files changed this session.\n");
    }
}
