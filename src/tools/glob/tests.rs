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
async fn glob_shows_a_name_with_a_newline_as_one_quoted_entry() {
    let dir = tempfile::tempdir().unwrap();
    touch(
        dir.path(),
        &[
            "two\nlines.txt",
            "tab\there.txt",
            "\"quoted.txt",
            "plain.txt",
        ],
    );
    let out = glob(dir.path(), json!({"pattern": "*.txt"})).await.unwrap();
    assert_eq!(
        sorted(&out),
        [
            r#""\"quoted.txt""#,
            r#""tab\there.txt""#,
            r#""two\nlines.txt""#,
            "plain.txt"
        ]
    );
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
    assert!(out.ends_with("(showing 100 of 150 files, newest first; narrow the pattern or path)"));
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
