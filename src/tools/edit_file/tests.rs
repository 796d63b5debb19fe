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
