use super::*;
use std::sync::Arc;

fn ctx(dir: &Path) -> ToolContext {
    ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}))
}

async fn bash(ctx: &ToolContext, cmd: &str) -> String {
    Bash::default()
        .run(json!({ "command": cmd }), ctx)
        .await
        .unwrap()
}

#[tokio::test]
async fn bash_reports_stdout_stderr_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    assert_eq!(
        bash(&c, "echo hi; echo oops >&2; exit 3").await,
        "hi\n[stderr]\noops\n[exit code: 3]"
    );
    assert_eq!(bash(&c, "true").await, "(no output)");
}

#[tokio::test]
async fn bash_cd_persists_as_the_shell_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    let c = ctx(dir.path());
    bash(&c, "cd a && cd b").await;
    assert!(c.cwd().ends_with("a/b"));
    bash(&c, "(cd /)").await;
    assert!(
        c.cwd().ends_with("a/b"),
        "a subshell must not move the session"
    );
    assert!(bash(&c, "pwd").await.ends_with("a/b"));
}

#[tokio::test]
async fn bash_timeout_kills_the_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    let out = Bash::default()
        .run(
            json!({"command": "sleep 30 & sleep 30; echo never", "timeout": 1}),
            &c,
        )
        .await
        .unwrap();
    assert!(out.contains("timed out after 1s"), "{out}");
    assert!(!out.contains("never"));
}

#[tokio::test]
async fn cancelling_a_command_kills_its_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    let pidfile = dir.path().join("pid");
    let cmd = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
    let bash = Bash::default();
    let run = bash.run(json!({ "command": cmd }), &c);
    // Dropping the future is what a cancelled turn does.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), run)
            .await
            .is_err()
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut alive = true;
    for _ in 0..50 {
        // SAFETY: signal 0 only checks that the process exists.
        alive = unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid);
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive, "the background child {pid} survived the cancel");
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(true)
}

#[tokio::test]
async fn pushd_and_cd_dash_move_the_session_like_bash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("x/y")).unwrap();
    let c = ctx(dir.path());
    bash(&c, "pushd x/y >/dev/null").await;
    assert!(c.cwd().ends_with("x/y"));
    bash(&c, "cd .. && cd - >/dev/null").await;
    assert!(c.cwd().ends_with("x/y"), "{}", c.cwd().display());
}

#[test]
fn secrets_are_hidden_from_the_shell_unless_kept() {
    let names = [
        "PATH",
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "aws_secret_access_key",
        "DB_PASSWORD",
        "HOME",
        "CORECODER_API_KEY",
    ]
    .map(String::from);
    let hidden = hidden_vars(names.clone().into_iter(), &["GITHUB_TOKEN".to_string()]);
    assert_eq!(
        hidden,
        [
            "OPENAI_API_KEY",
            "aws_secret_access_key",
            "DB_PASSWORD",
            "CORECODER_API_KEY"
        ]
    );
}

#[tokio::test]
async fn the_shell_does_not_see_hidden_variables() {
    let dir = tempfile::tempdir().unwrap();
    let bash = Bash {
        hidden: vec!["HOME".to_string()],
        spill: Arc::new(SpillDir::new(dir.path().to_path_buf())),
    };
    let out = bash
        .run(
            json!({"command": "echo \"[${HOME:-unset}]\""}),
            &ctx(dir.path()),
        )
        .await
        .unwrap();
    assert_eq!(out, "[unset]");
}

#[tokio::test]
async fn bash_rejects_arguments_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let err = Bash::default()
        .run(json!({"cmd": "ls"}), &ctx(dir.path()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `cmd`"), "{err}");
}

/// The path a truncation note names.
fn saved_path(reply: &str) -> PathBuf {
    let note = reply.find("... truncated (").expect("a truncation note");
    let rest = &reply[note..];
    let path = rest.split(" saved to ").nth(1).expect("a saved copy");
    PathBuf::from(path.split(") ...").next().unwrap())
}

#[tokio::test]
async fn long_output_keeps_head_and_tail_and_saves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let spill = Arc::new(SpillDir::new(dir.path().to_path_buf()));
    let bash = Bash::new(&[], spill.clone());
    let cut = bash
        .run(json!({"command": "seq -f '%07g' 0 2999"}), &ctx(dir.path()))
        .await
        .unwrap();
    assert!(cut.starts_with("0000000\n"));
    assert!(cut.contains("truncated (23999 chars total; full output saved to "));
    assert!(cut.ends_with("0002998\n0002999"));
    let path = saved_path(&cut);
    assert!(
        path.starts_with(spill.path().unwrap()),
        "{}",
        path.display()
    );
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(saved.len(), 23999);
    assert!(saved.ends_with("0002999"));
    drop((bash, spill));
    assert!(!path.exists(), "the spill directory goes with its owner");
}

#[tokio::test]
async fn output_printed_before_a_background_child_holds_the_pipes_is_kept() {
    // Before: `(no output)`: what was read was dropped when the collection gave up waiting.
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    let started = std::time::Instant::now();
    let out = bash(&c, "echo hello; echo oops >&2; sleep 60 &").await;
    assert_eq!(out, "hello\n[stderr]\noops");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_large_output_drains_whole_after_the_shell_exits() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    let out = bash(
        &c,
        "head -c 20000000 /dev/zero | tr '\\0' 'a'; echo; echo END",
    )
    .await;
    assert!(
        out.ends_with("END"),
        "{}",
        &out[out.len().saturating_sub(200)..]
    );
    let note = out.find("... truncated").expect("a truncation note");
    let said = &out[note..note + 200];
    assert!(
        said.starts_with("... truncated (20000004 chars total"),
        "{said}"
    );
}
