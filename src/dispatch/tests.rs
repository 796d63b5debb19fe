use super::*;
use crate::message::FunctionCall;
use crate::tools::Toolbox;
use serde_json::json;

fn call(name: &str, arguments: Value) -> ToolCall {
    ToolCall {
        id: "c1".into(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.into(),
            arguments: arguments.to_string(),
        },
        extra: Default::default(),
    }
}

async fn run(d: &Dispatcher, ctx: &ToolContext, name: &str, args: Value) -> ToolOutput {
    let tools = Toolbox::basic();
    d.run(tools.get(name), &tools.names(), &call(name, args), ctx)
        .await
        .unwrap()
}

fn with_secret(secret: &str) -> Dispatcher {
    let ws = Workspace::new(&std::env::temp_dir(), None);
    let p = Permissions::new(Mode::BypassPermissions, Default::default(), ws);
    Dispatcher::new(Arc::new(p), None, vec![secret.into()])
}

#[tokio::test]
async fn dangerous_commands_are_blocked_before_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let marker = dir.path().join("ran");
    let cmd = format!("touch {} && rm -rf /", marker.display());
    let out = run(
        &Dispatcher::default(),
        &ctx,
        "bash",
        json!({ "command": cmd }),
    )
    .await;
    assert!(out.is_error);
    assert!(
        out.text.starts_with("Error: blocked by the safety gate: "),
        "{}",
        out.text
    );
    assert!(!marker.exists(), "nothing of a blocked command runs");
}

#[tokio::test]
async fn the_api_key_never_reaches_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let d = with_secret("sk-test-0123456789");
    let out = run(
        &d,
        &ctx,
        "bash",
        json!({"command": "echo key=sk-test-0123456789."}),
    )
    .await;
    assert_eq!(out.text, "key=[redacted].");
    let short = with_secret("k");
    let out = run(&short, &ctx, "bash", json!({"command": "echo ok"})).await;
    assert_eq!(out.text, "ok");
}

#[tokio::test]
async fn unknown_tools_and_bad_json_are_errors_for_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let out = run(&Dispatcher::default(), &ctx, "nope", json!({})).await;
    assert!(
        out.text
            .starts_with("Error: unknown tool 'nope'. Available tools: bash, ")
    );
    let tools = Toolbox::basic();
    let mut c = call("bash", json!({}));
    c.function.arguments = "{not json".into();
    let out = Dispatcher::default()
        .run(tools.get("bash"), &tools.names(), &c, &ctx)
        .await
        .unwrap();
    assert!(out.text.contains("are not valid JSON"), "{}", out.text);
    let out = run(&Dispatcher::default(), &ctx, "bash", json!({"cmd": "ls"})).await;
    assert!(
        out.text
            .contains("Expected arguments: command (string, required)"),
        "{}",
        out.text
    );
}

/// A dispatcher in bypass mode (nothing asks) with a workspace-write sandbox.
fn sandboxed(allow_escalation: bool, approver: Option<Arc<dyn Approver>>) -> Dispatcher {
    let dir = std::env::temp_dir();
    let ws = Workspace::new(&dir, None);
    let p = Permissions::new(Mode::BypassPermissions, Default::default(), ws);
    let env = |_: &str| None;
    let policy =
        crate::sandbox::SandboxPolicy::new(SandboxMode::WorkspaceWrite, &dir, None, &env, &[], &[]);
    let sandbox = SessionSandbox::new(policy, allow_escalation);
    Dispatcher::new(Arc::new(p), approver, Vec::new()).with_sandbox(Arc::new(sandbox))
}

#[tokio::test]
async fn an_escalation_is_asked_in_bypass_mode_and_refused_when_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let args = json!({"command": "echo out", "unsandboxed": true, "justification": "needs /opt"});
    let approver = Arc::new(crate::approval::Scripted::new([Answer::Deny(None)]));
    let d = sandboxed(true, Some(approver.clone()));
    let out = run(&d, &ctx, "bash", args.clone()).await;
    assert_eq!(out.text, "Error: denied by the user");
    let asked = approver.asked();
    let Request::Tool {
        reason, suggested, ..
    } = &asked[0].request
    else {
        panic!("not a tool request");
    };
    assert_eq!(reason, "asks to run OUTSIDE the sandbox: needs /opt");
    assert!(suggested.is_empty(), "no rule may allow an escalation");

    let off = sandboxed(false, None);
    let out = run(&off, &ctx, "bash", args).await;
    assert!(
        out.text.contains("allow_escalation = false"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn todo_write_runs_headless_in_plan_mode_since_it_changes_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let ws = Workspace::new(dir.path(), None);
    let p = Permissions::new(Mode::Plan, Default::default(), ws);
    let d = Dispatcher::new(Arc::new(p), None, Vec::new());
    let list = json!({"todos": [{"content": "read the code", "status": "in_progress"}]});
    let out = run(&d, &ctx, "todo_write", list).await;
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(ctx.todos.get().len(), 1);
}
