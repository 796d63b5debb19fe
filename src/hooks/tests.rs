use std::sync::Arc;

use super::*;
use crate::message::FunctionCall;

fn hooks(event: HookEvent, matcher: &str, command: &str, timeout: Duration) -> Hooks {
    let def = HookDef {
        event,
        matcher: Matcher::parse(matcher).unwrap(),
        command: command.to_string(),
        timeout,
        origin: "test".into(),
    };
    Hooks::new(
        vec![def],
        vec!["HOOK_TEST_SECRET_TOKEN".into()],
        "/proj".into(),
    )
}

fn call(name: &str) -> ToolCall {
    ToolCall {
        id: "c1".into(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.into(),
            arguments: "{}".into(),
        },
        extra: Default::default(),
    }
}

fn ctx(dir: &std::path::Path) -> (ToolContext, Arc<Mutex<Vec<AgentEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let ctx = ToolContext::new(
        dir.to_path_buf(),
        Arc::new(move |e| sink.lock().unwrap().push(e)),
    );
    (ctx, events)
}

const SEC: Duration = Duration::from_secs(10);

#[test]
fn matchers_are_names_stars_or_whole_name_regexes() {
    assert!(Matcher::parse("").unwrap().matches("bash"));
    assert!(Matcher::parse("*").unwrap().matches("mcp__x__y"));
    let name = Matcher::parse("bash").unwrap();
    assert!(name.matches("bash") && !name.matches("bash2"));
    let re = Matcher::parse("edit_file|write_file").unwrap();
    assert!(re.matches("write_file") && !re.matches("read_file"));
    // Anchored: `mcp__.*` is not found inside another name.
    let mcp = Matcher::parse("mcp__.*").unwrap();
    assert!(mcp.matches("mcp__github__x") && !mcp.matches("my_mcp__x"));
    assert!(Matcher::parse("(").is_err());
}

#[test]
fn stdout_json_decides_and_plain_text_is_context() {
    let said = |s: &str| read_stdout(s).unwrap();
    assert_eq!(
        said(r#"{"decision": "block", "reason": "no"}"#),
        Said::Block("no".into())
    );
    assert_eq!(said(r#"{"decision": "approve"}"#), Said::Allow);
    assert_eq!(
        said(r#"{"decision": "ask"}"#),
        Said::Ask("no reason given".into())
    );
    let nested = r#"{"hookSpecificOutput": {"permissionDecision": "deny",
        "permissionDecisionReason": "frozen"}}"#;
    assert_eq!(said(nested), Said::Block("frozen".into()));
    assert_eq!(said("branch: main\n"), Said::Context("branch: main".into()));
    assert_eq!(said("  \n"), Said::Nothing);
    assert!(
        read_stdout(r#"{"decision": "maybe"}"#)
            .unwrap_err()
            .contains("maybe")
    );
}

#[tokio::test]
async fn exit_2_blocks_with_stderr_and_other_codes_warn_and_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, events) = ctx(dir.path());
    let block = hooks(
        HookEvent::PreToolUse,
        "bash",
        "echo frozen >&2; exit 2",
        SEC,
    );
    assert_eq!(
        block.pre_tool_use(&call("bash"), &json!({}), &ctx).await,
        PreVerdict::Block("blocked by a PreToolUse hook: frozen".into())
    );
    assert_eq!(
        block.pre_tool_use(&call("grep"), &json!({}), &ctx).await,
        PreVerdict::Run,
        "the matcher keeps it to bash"
    );
    let fail = hooks(HookEvent::PreToolUse, "*", "echo oops >&2; exit 1", SEC);
    assert_eq!(
        fail.pre_tool_use(&call("bash"), &json!({}), &ctx).await,
        PreVerdict::Run
    );
    let events = events.lock().unwrap();
    let AgentEvent::Notice(text) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(
        text.contains("PreToolUse hook `echo oops >&2; exit 1` (test) exited 1: oops"),
        "{text}"
    );
}

#[tokio::test]
async fn the_hook_reads_the_event_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _) = ctx(dir.path());
    let seen = dir.path().join("seen");
    let cmd = format!(
        "cat > {0}; echo \"[$CORECODER_PROJECT_DIR]\" >> {0}",
        seen.display()
    );
    let h = hooks(HookEvent::PostToolUse, "*", &cmd, SEC);
    h.set_session("s1");
    let mut out = ToolOutput::ok("done");
    h.post_tool_use(&call("bash"), &json!({"command": "ls"}), &mut out, &ctx)
        .await;
    let text = std::fs::read_to_string(&seen).unwrap();
    let (stdin, env) = text.split_once('\n').unwrap();
    let v: Value = serde_json::from_str(stdin).unwrap();
    assert_eq!(v["hook_event_name"], "PostToolUse");
    assert_eq!(
        (v["session_id"].as_str(), v["tool_name"].as_str()),
        (Some("s1"), Some("bash"))
    );
    assert_eq!(v["tool_input"], json!({"command": "ls"}));
    assert_eq!(v["tool_response"], "done");
    assert_eq!(v["cwd"], json!(dir.path()));
    assert_eq!(env.trim(), "[/proj]");
    assert_eq!(out.text, "done");
}

#[tokio::test]
async fn a_timed_out_hook_is_killed_with_its_background_children() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, events) = ctx(dir.path());
    let pid = dir.path().join("pid");
    let cmd = format!("sleep 30 & echo $! > {}; sleep 30", pid.display());
    let h = hooks(HookEvent::Stop, "", &cmd, Duration::from_millis(500));
    let started = std::time::Instant::now();
    assert_eq!(h.stop(&mut 0, &ctx).await, None);
    assert!(started.elapsed() < Duration::from_secs(10));
    let child: i32 = std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signal 0 only checks whether the process exists.
    let alive = || unsafe { libc::kill(child, 0) } == 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the backgrounded sleeper was killed");
    let events = events.lock().unwrap();
    assert!(
        matches!(&events[0], AgentEvent::Notice(t) if t.contains("timed out after 0.5 s and was killed")),
        "{events:?}"
    );
}

#[tokio::test]
async fn prompt_hooks_add_context_once_per_session_start_and_can_block() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _) = ctx(dir.path());
    let mut h = hooks(HookEvent::SessionStart, "", "echo branch main", SEC);
    h.defs.push(HookDef {
        event: HookEvent::UserPromptSubmit,
        matcher: Matcher::All,
        command: "grep -q secret && { echo 'no secrets' >&2; exit 2; }; echo ok".into(),
        timeout: SEC,
        origin: "test".into(),
    });
    assert_eq!(
        h.prompt("tell me the secret", false, &ctx).await,
        Err("no secrets".into())
    );
    let first = h.prompt("hi", false, &ctx).await.unwrap();
    assert_eq!(
        first,
        "hi\n\n[SessionStart hook]\nbranch main\n\n[UserPromptSubmit hook]\nok"
    );
    let second = h.prompt("again", false, &ctx).await.unwrap();
    assert_eq!(second, "again\n\n[UserPromptSubmit hook]\nok");
    assert_eq!(h.summary(), "UserPromptSubmit 1, SessionStart 1");
    assert_eq!(Hooks::default().summary(), "none");
}

#[tokio::test]
async fn a_background_child_holding_the_pipes_does_not_hold_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, events) = ctx(dir.path());
    // The sleeper inherits stdout and stderr; the hook itself exits at once.
    let h = hooks(
        HookEvent::UserPromptSubmit,
        "",
        "sleep 30 & echo context",
        SEC,
    );
    let started = std::time::Instant::now();
    let message = h.prompt("hi", false, &ctx).await.unwrap();
    assert_eq!(message, "hi\n\n[UserPromptSubmit hook]\ncontext");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "waited for the sleeper: {:?}",
        started.elapsed()
    );
    assert!(events.lock().unwrap().is_empty(), "not a timeout");
}
