//! `write_file`: create or replace a whole file, atomically.
//!
//! Writes through [`crate::durable::replace`], the one way the tools put bytes on disk, so a
//! crash or a full disk never leaves a half-written file and an existing file keeps its mode,
//! owner, hard links and (for UTF-16 text) its encoding; a symlink keeps pointing at the file
//! it names. The original content is recorded in the session's `ChangeLog` before the
//! write. This file deliberately does not merge, diff or check content: that is `edit_file`.

use std::io::ErrorKind;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::encoding::Encoding;
use super::{Tool, ToolContext, ToolError, parse_args};
use crate::durable;
use crate::policy::Action;

pub struct WriteFile;

#[async_trait]
impl Tool for WriteFile {
    fn name(&self) -> &str {
        "write_file"
    }

    fn description(&self) -> &str {
        "Create a new file or completely overwrite an existing one. Parent directories are \
         created. Use edit_file for changes to part of a file."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "Path to the file"},
                "content": {"type": "string", "description": "The full content to write"}
            },
            "required": ["file_path", "content"]
        })
    }

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Edit {
            paths: vec![ctx.resolve(&args.file_path)],
        })
    }

    /// The diff against the file on disk; a new file's first lines.
    async fn preview(&self, args: &Value, ctx: &ToolContext) -> Option<String> {
        let args: Args = parse_args(args.clone()).ok()?;
        let path = ctx.resolve(&args.file_path);
        match durable::read_regular(&path) {
            Ok(bytes) => {
                let before = match Encoding::sniff(&bytes).decode(&bytes) {
                    Ok(text) => text,
                    Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
                };
                let diff = crate::diff::unified(&before, &args.content, &args.file_path);
                Some(preview_cut(&diff))
            }
            Err(_) => Some(new_file_preview(&args.file_path, &args.content)),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || write(&args, &ctx))
            .await
            .map_err(|e| ToolError::failed(format!("write failed: {e}")))?
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    file_path: String,
    content: String,
}

fn write(args: &Args, ctx: &ToolContext) -> Result<String, ToolError> {
    let shown = &args.file_path;
    let path = ctx.resolve(shown);
    if path.is_dir() {
        return Err(ToolError::failed(format!(
            "{shown} is a directory; give the path of a file inside it"
        )));
    }
    let original = match durable::read_regular(&path) {
        Ok(bytes) => Some(bytes),
        // A parent that is a file shows up as "not a directory"; create_dir_all explains it.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => None,
        Err(e) => return Err(ToolError::failed(io_message(shown, "read", &e))),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            ToolError::failed(format!(
                "cannot create the directory {}: {e}; check that no part of the path is a file",
                parent.display()
            ))
        })?;
    }
    let existed = original.is_some();
    // A UTF-16 text file stays UTF-16 (with its BOM): the model only ever sees UTF-8.
    let kept = original
        .as_deref()
        .map(Encoding::sniff)
        .filter(|enc| enc.is_utf16() && original.as_deref().is_some_and(|b| enc.decode(b).is_ok()));
    let bytes = match kept {
        Some(enc) => enc.encode(
            args.content
                .strip_prefix('\u{FEFF}')
                .unwrap_or(&args.content),
        ),
        None => args.content.as_bytes().to_vec(),
    };
    ctx.record_change(&path, original);
    durable::replace(&path, &bytes)
        .map_err(|e| ToolError::failed(io_message(shown, "write", &e)))?;
    let lines = args.content.lines().count();
    let verb = if existed { "Replaced" } else { "Created" };
    let unit = if lines == 1 { "line" } else { "lines" };
    let note = kept.map_or(String::new(), |enc| {
        format!(", kept its {} encoding", enc.label())
    });
    Ok(format!("{verb} {shown} ({lines} {unit} written{note})"))
}

/// Lines of a preview shown in an approval prompt.
const PREVIEW_LINES: usize = 40;

/// A new file as a diff that adds its first lines, so the prompt colours it like any change.
fn new_file_preview(shown: &str, content: &str) -> String {
    let total = content.lines().count();
    let mut out = format!("--- /dev/null\n+++ b/{shown}\n@@ -0,0 +1,{total} @@\n");
    for line in content.lines().take(PREVIEW_LINES) {
        out.push_str(&format!("+{line}\n"));
    }
    if total > PREVIEW_LINES {
        out.push_str(&format!("… ({} more lines)\n", total - PREVIEW_LINES));
    }
    out
}

/// A diff cut to what fits a prompt.
pub(crate) fn preview_cut(diff: &str) -> String {
    let total = diff.lines().count();
    if total <= PREVIEW_LINES * 2 {
        return diff.to_string();
    }
    let head: Vec<&str> = diff.lines().take(PREVIEW_LINES * 2).collect();
    format!(
        "{}\n… ({} more lines)\n",
        head.join("\n"),
        total - PREVIEW_LINES * 2
    )
}

fn io_message(shown: &str, verb: &str, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => format!("permission denied: cannot {verb} {shown}"),
        _ => format!("cannot {verb} {shown}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::sync::Arc;

    fn ctx(dir: &Path) -> ToolContext {
        ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}))
    }

    async fn write_file(ctx: &ToolContext, path: &str, content: &str) -> Result<String, ToolError> {
        WriteFile
            .run(json!({"file_path": path, "content": content}), ctx)
            .await
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test]
    async fn write_file_keeps_a_utf16_files_encoding_and_bom() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, Encoding::Utf16Be.encode("alt\r\n")).unwrap();
        let out = write_file(&c, "notes.txt", "neu\r\n").await.unwrap();
        assert_eq!(
            out,
            "Replaced notes.txt (1 line written, kept its UTF-16BE encoding)"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            Encoding::Utf16Be.encode("neu\r\n")
        );
    }

    #[tokio::test]
    async fn write_file_and_edit_file_keep_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        std::fs::write(dir.path().join("a.txt"), "old\n").unwrap();
        std::fs::hard_link(dir.path().join("a.txt"), dir.path().join("b.txt")).unwrap();
        write_file(&c, "a.txt", "new\n").await.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.txt")).unwrap(),
            "new\n"
        );
        let edit = json!({"file_path": "b.txt", "old_string": "new", "new_string": "newer"});
        crate::tools::edit_file::EditFile
            .run(edit, &c)
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "newer\n"
        );
    }

    #[tokio::test]
    async fn write_file_and_edit_file_refuse_a_fifo_at_once_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let fifo = std::ffi::CString::new(dir.path().join("pipe").into_os_string().into_vec());
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
        assert_eq!(unsafe { libc::mkfifo(fifo.unwrap().as_ptr(), 0o600) }, 0);
        let edit = json!({"file_path": "pipe", "old_string": "a", "new_string": "b"});
        let limit = std::time::Duration::from_secs(10);
        let write = tokio::time::timeout(limit, write_file(&c, "pipe", "x")).await;
        let edited = crate::tools::edit_file::EditFile.run(edit, &c);
        let edited = tokio::time::timeout(limit, edited).await;
        for result in [write, edited] {
            let err = result.expect("no hang").unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        assert!(
            WriteFile
                .preview(&json!({"file_path": "pipe", "content": "x"}), &c)
                .await
                .is_some()
        );
    }

    #[tokio::test]
    async fn write_file_creates_a_file_and_its_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let out = write_file(&c, "a/b/new.txt", "one\ntwo\n").await.unwrap();
        assert_eq!(out, "Created a/b/new.txt (2 lines written)");
        let written = std::fs::read_to_string(dir.path().join("a/b/new.txt")).unwrap();
        assert_eq!(written, "one\ntwo\n");
    }

    #[tokio::test]
    async fn write_file_says_replaced_for_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "old").unwrap();
        let out = write_file(&ctx(dir.path()), "f.txt", "new").await.unwrap();
        assert_eq!(out, "Replaced f.txt (1 line written)");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("f.txt")).unwrap(),
            "new"
        );
    }

    #[tokio::test]
    async fn write_file_keeps_an_existing_files_permission_bits() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, Permissions::from_mode(0o751)).unwrap();
        write_file(&ctx(dir.path()), "run.sh", "#!/bin/sh\necho hi\n")
            .await
            .unwrap();
        assert_eq!(mode(&script), 0o751);
    }

    #[tokio::test]
    async fn write_file_gives_a_new_file_ordinary_permissions_not_temp_file_ones() {
        let dir = tempfile::tempdir().unwrap();
        write_file(&ctx(dir.path()), "n.txt", "x").await.unwrap();
        let m = mode(&dir.path().join("n.txt"));
        assert_eq!(m & 0o600, 0o600, "owner can read and write: {m:o}");
        assert_eq!(m & 0o111, 0, "not executable: {m:o}");
    }

    #[tokio::test]
    async fn write_file_records_the_original_content_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.txt"), "before").unwrap();
        let c = ctx(dir.path());
        write_file(&c, "old.txt", "after").await.unwrap();
        write_file(&c, "old.txt", "later").await.unwrap();
        write_file(&c, "fresh.txt", "x").await.unwrap();
        let log = c.changes.lock().unwrap();
        let originals = log.originals();
        assert_eq!(
            originals[&dir.path().join("old.txt")],
            Some(b"before".to_vec())
        );
        assert_eq!(originals[&dir.path().join("fresh.txt")], None);
    }

    #[tokio::test]
    async fn write_file_refuses_a_directory_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = write_file(&ctx(dir.path()), "sub", "x").await.unwrap_err();
        assert!(err.to_string().contains("sub is a directory"), "{err}");
    }

    #[tokio::test]
    async fn write_file_reports_a_parent_that_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain"), "").unwrap();
        let err = write_file(&ctx(dir.path()), "plain/x.txt", "x")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot create the directory"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn write_file_leaves_no_temp_files_behind() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        write_file(&c, "a.txt", "1").await.unwrap();
        write_file(&c, "a.txt", "2").await.unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["a.txt"]);
    }

    #[tokio::test]
    async fn write_file_through_a_symlink_changes_the_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.txt"), "old").unwrap();
        std::os::unix::fs::symlink("real.txt", dir.path().join("link.txt")).unwrap();
        write_file(&ctx(dir.path()), "link.txt", "new")
            .await
            .unwrap();
        let link = std::fs::symlink_metadata(dir.path().join("link.txt")).unwrap();
        assert!(link.file_type().is_symlink());
        let real = std::fs::read_to_string(dir.path().join("real.txt")).unwrap();
        assert_eq!(real, "new");
    }

    #[tokio::test]
    async fn write_file_rejects_unknown_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let err = WriteFile
            .run(json!({"path": "a", "content": "x"}), &ctx(dir.path()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `path`"), "{err}");
    }
}
