//! grep's tests: the tool as the model calls it (the per-file search has its own in
//! `stream/tests.rs`).

use super::*;
use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

#[tokio::test]
async fn grep_skips_a_sparse_8_gib_binary_file_after_one_block() {
    // Text for 9 KiB (past the first 8 KiB, the old probe), then 8 GiB of NUL bytes that cost
    // no disk. Reading it whole would take 8 GiB of memory and seconds; one block decides it.
    let dir = tempfile::tempdir().unwrap();
    let text = "needle in the text part\n".repeat(9 * 1024 / 24 + 1);
    let path = dir.path().join("huge.bin");
    fs::write(&path, &text).unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    write(dir.path(), &[("small.txt", "needle")]);
    let started = Instant::now();
    let out = grep(dir.path(), json!({"pattern": "needle"}))
        .await
        .unwrap();
    assert_eq!(out, "small.txt:1: needle");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn grep_keeps_hits_before_binary_data_found_mid_file_and_says_so() {
    // 100 KiB of text lines (past the first 64 KiB block), then a NUL, then more hits.
    let dir = tempfile::tempdir().unwrap();
    let mut body = "needle first\n".to_string();
    body.push_str(&"filler line of text\n".repeat(100 * 1024 / 20));
    body.push_str("\0needle after the nul\n");
    let nul = body.find('\0').unwrap();
    write(dir.path(), &[("mixed.log", &body)]);
    let out = grep(dir.path(), json!({"pattern": "needle"}))
        .await
        .unwrap();
    assert_eq!(
        out,
        format!(
            "mixed.log:1: needle first\nnote: binary data stopped the search of mixed.log (NUL \
             at byte {nul}); lines from the 64 KiB block holding it on were not searched"
        )
    );
}

#[tokio::test]
async fn grep_searches_the_first_mib_of_a_huge_line_and_says_so() {
    // One 3 MiB line: `early` lies in its first MiB, `late` past it.
    let dir = tempfile::tempdir().unwrap();
    let line = format!("early {} late\nnext line late\n", "x".repeat(3 << 20));
    write(dir.path(), &[("bundle.min.js", &line)]);
    let note = "note: searched only the first 1 MiB of a line longer than 1 MiB: bundle.min.js:1";
    let out = grep(dir.path(), json!({"pattern": "early"})).await.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("bundle.min.js:1: early xxx"), "{out}");
    assert!(lines[0].ends_with("… [line cut]"), "{out}");
    assert_eq!(lines[1], note);
    let out = grep(dir.path(), json!({"pattern": "late"})).await.unwrap();
    assert_eq!(out, format!("bundle.min.js:2: next line late\n{note}"));
    let out = grep(dir.path(), json!({"pattern": "absent"}))
        .await
        .unwrap();
    assert_eq!(out, format!("No matches found.\n{note}"));
}
