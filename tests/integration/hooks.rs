//! Hooks through the binary against the local model server: exit codes, JSON decisions,
//! matchers, timeouts, trust, CoreCoder's hooks.json, the prompt and Stop events, sub-agents.
//! Each run's working directory is also its `$HOME`, so the user's config is
//! `.config/corecoder/config.toml` inside it.

use std::path::Path;

use serde_json::{Value, json};

use crate::binary::{Run, corecoder};
use crate::support::{MockServer, Recorded, Script, sse_text, sse_tools};

fn user_config(dir: &Path, text: &str) {
    let conf = dir.join(".config/corecoder");
    std::fs::create_dir_all(&conf).expect("config dir");
    std::fs::write(conf.join("config.toml"), text).expect("config");
}

/// `[[hooks.EVENT]]` with a command written as a TOML literal string.
fn hook(event: &str, matcher: &str, command: &str) -> String {
    format!("[[hooks.{event}]]\nmatcher = \"{matcher}\"\ncommand = '''{command}'''\n")
}

/// The text of the tool message answering `id` in a request.
fn tool_result(request: &Recorded, id: &str) -> String {
    let messages = request.body["messages"].as_array().expect("messages");
    let m = messages
        .iter()
        .find(|m| m["tool_call_id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {messages:?}"));
    m["content"].as_str().unwrap_or_default().to_string()
}

async fn run(dir: &Path, server: &MockServer, args: &[&str]) -> Run {
    corecoder(dir, &[("OPENAI_BASE_URL", &server.url)], args).await
}

#[tokio::test]
async fn exit_2_blocks_a_call_and_the_model_gets_stderr_while_exit_1_only_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = hook(
        "PreToolUse",
        "bash",
        "grep -q blocked && { echo 'frozen today' >&2; exit 2; }; exit 0",
    ) + &hook("PreToolUse", "write_file", "echo 'lint broke' >&2; exit 1");
    user_config(dir.path(), &config);
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[
            ("c1", "bash", json!({"command": "touch blocked"})),
            (
                "c2",
                "write_file",
                json!({"file_path": "w.txt", "content": "x\n"}),
            ),
            ("c3", "bash", json!({"command": "touch allowed"})),
        ])),
        Script::Sse(sse_text("ok")),
    ])
    .await;
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        !dir.path().join("blocked").exists(),
        "a blocked call does not run"
    );
    assert!(dir.path().join("allowed").exists() && dir.path().join("w.txt").exists());
    let requests = server.requests();
    assert_eq!(
        tool_result(&requests[1], "c1"),
        "Error: blocked by a PreToolUse hook: frozen today"
    );
    assert!(
        r.stderr
            .contains("PreToolUse hook `echo 'lint broke' >&2; exit 1`")
            && r.stderr.contains("exited 1: lint broke; going on"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_timed_out_hook_is_reported_and_its_process_group_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = dir.path().join("sleeper.pid");
    let command = format!("sleep 60 & echo $! > {}; sleep 60", pid.display());
    user_config(
        dir.path(),
        &format!("{}timeout_sec = 1\n", hook("PreToolUse", "*", &command)),
    );
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "touch ran"}),
        )])),
        Script::Sse(sse_text("ok")),
    ])
    .await;
    let started = std::time::Instant::now();
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        r.stderr.contains("timed out after 1 s and was killed"),
        "{}",
        r.stderr
    );
    assert!(
        dir.path().join("ran").exists(),
        "a timed-out hook does not block"
    );
    let sleeper: i32 = std::fs::read_to_string(&pid)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    // A killed process stays a zombie until whoever adopted it reaps it: that counts as gone.
    let gone = || {
        std::fs::read_to_string(format!("/proc/{sleeper}/stat")).map_or(true, |s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !gone() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        gone(),
        "the hook's background sleeper was killed with its group"
    );
}

#[tokio::test]
async fn a_json_allow_skips_the_prompt_but_never_the_hard_floor() {
    let dir = tempfile::tempdir().expect("tempdir");
    user_config(
        dir.path(),
        &hook(
            "PreToolUse",
            "write_file",
            r#"echo '{"decision": "allow"}'"#,
        ),
    );
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[
            (
                "c1",
                "write_file",
                json!({"file_path": "a.txt", "content": "a\n"}),
            ),
            (
                "c2",
                "write_file",
                json!({"file_path": "~/.bashrc", "content": "evil\n"}),
            ),
        ])),
        Script::Sse(sse_text("ok")),
    ])
    .await;
    // Headless and in default mode: without the hook, both writes would be denied.
    let r = run(dir.path(), &server, &["-p", "go"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt"))
            .ok()
            .as_deref(),
        Some("a\n")
    );
    assert!(!dir.path().join(".bashrc").exists(), "the hard floor holds");
    let requests = server.requests();
    assert!(
        tool_result(&requests[1], "c2").starts_with("Error: "),
        "denied"
    );
}

#[tokio::test]
async fn a_json_block_or_ask_decides_for_tools_its_regex_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = hook(
        "PreToolUse",
        "edit_file|write_file",
        r#"echo '{"decision": "block", "reason": "no writes on Fridays"}'"#,
    ) + &hook(
        "PreToolUse",
        "b.*h",
        r#"echo '{"decision": "ask", "reason": "check it"}'"#,
    );
    user_config(dir.path(), &config);
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[
            (
                "c1",
                "write_file",
                json!({"file_path": "w.txt", "content": "x\n"}),
            ),
            ("c2", "bash", json!({"command": "touch b"})),
            ("c3", "glob", json!({"pattern": "*"})),
        ])),
        Script::Sse(sse_text("ok")),
    ])
    .await;
    // --yes would run all three; the hooks still block one and ask (headless: deny) another.
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!dir.path().join("w.txt").exists() && !dir.path().join("b").exists());
    let requests = server.requests();
    assert_eq!(
        tool_result(&requests[1], "c1"),
        "Error: blocked by a PreToolUse hook: no writes on Fridays"
    );
    let asked = tool_result(&requests[1], "c2");
    assert!(
        asked.contains("a PreToolUse hook asks for the user's approval (check it)"),
        "{asked}"
    );
    assert!(
        !tool_result(&requests[1], "c3").starts_with("Error"),
        "glob matches neither"
    );
}

#[tokio::test]
async fn a_projects_hooks_run_only_once_the_user_trusts_the_project() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".corecoder.toml"),
        hook("PreToolUse", "bash", "echo 'project says no' >&2; exit 2"),
    )
    .expect("project file");
    let script = || {
        vec![
            Script::Sse(sse_tools(&[("c1", "bash", json!({"command": "echo ran"}))])),
            Script::Sse(sse_text("ok")),
        ]
    };
    let server = MockServer::start(script()).await;
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert!(r.stderr.contains("ignored [hooks] in"), "{}", r.stderr);
    assert_eq!(tool_result(&server.requests()[1], "c1"), "ran");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    user_config(
        dir.path(),
        &format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            root.display()
        ),
    );
    let server = MockServer::start(script()).await;
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert!(!r.stderr.contains("ignored [hooks]"), "{}", r.stderr);
    assert_eq!(
        tool_result(&server.requests()[1], "c1"),
        "Error: blocked by a PreToolUse hook: project says no"
    );
}

#[tokio::test]
async fn corecoders_hooks_json_post_hooks_see_the_call_and_its_redacted_result_without_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("post.log");
    std::fs::create_dir_all(dir.path().join(".corecoder")).expect("dir");
    let command = format!(
        "cat >> {0}; echo \"token=${{MY_SERVICE_TOKEN:-unset}} key=${{OPENAI_API_KEY:-unset}}\" >> {0}",
        log.display()
    );
    let hooks = json!({"PostToolUse": [{"matcher": "*", "command": command}]});
    std::fs::write(dir.path().join(".corecoder/hooks.json"), hooks.to_string()).expect("hooks");
    std::fs::write(dir.path().join("leak.txt"), "sk-live-0123456789abcdef\n").expect("file");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "cat leak.txt; echo hi"}),
        )])),
        Script::Sse(sse_text("ok")),
    ])
    .await;
    let env = [
        ("OPENAI_BASE_URL", server.url.as_str()),
        ("OPENAI_API_KEY", "sk-live-0123456789abcdef"),
        ("MY_SERVICE_TOKEN", "tok-secret-value"),
    ];
    let r = corecoder(dir.path(), &env, &["-p", "go", "--yes"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = std::fs::read_to_string(&log).expect("the post hook ran");
    let (stdin, env_line) = text.split_once('\n').expect("two lines");
    let v: Value = serde_json::from_str(stdin).expect("json on stdin");
    assert_eq!(v["hook_event_name"], "PostToolUse");
    assert_eq!(v["tool_name"], "bash");
    assert_eq!(v["tool_input"], json!({"command": "cat leak.txt; echo hi"}));
    assert_eq!(v["tool_response"], "[redacted]\nhi");
    assert!(
        v["session_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("session_")),
        "{v}"
    );
    assert_eq!(
        env_line.trim(),
        "token=unset key=unset",
        "the hook does not see secrets"
    );
    assert!(!text.contains("sk-live"), "{text}");
}

#[tokio::test]
async fn user_prompt_submit_and_session_start_add_context_or_block_the_prompt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = hook("SessionStart", "", "echo 'on branch main'")
        + &hook(
            "UserPromptSubmit",
            "",
            "grep -q password && { echo 'no passwords here' >&2; exit 2; }; echo 'ticket ABC-1'",
        );
    user_config(dir.path(), &config);
    let server = MockServer::start(vec![Script::Sse(sse_text("ok"))]).await;
    let r = run(dir.path(), &server, &["-p", "my password is hunter2"]).await;
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("a UserPromptSubmit hook blocked the prompt: no passwords here"),
        "{}",
        r.stderr
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    let r = run(dir.path(), &server, &["-p", "fix it"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let sent = server.requests()[0].messages();
    assert_eq!(
        sent.last().expect("user message").text(),
        "fix it\n\n[SessionStart hook]\non branch main\n\n[UserPromptSubmit hook]\nticket ABC-1"
    );
}

#[tokio::test]
async fn a_stop_hook_sends_the_model_back_at_most_three_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    user_config(
        dir.path(),
        &hook("Stop", "", "echo 'tests still fail' >&2; exit 2"),
    );
    let server = MockServer::start(vec![
        Script::Sse(sse_text("done 1")),
        Script::Sse(sse_text("done 2")),
        Script::Sse(sse_text("done 3")),
        Script::Sse(sse_text("done 4")),
    ])
    .await;
    let r = run(
        dir.path(),
        &server,
        &["-p", "go", "--output-format", "json"],
    )
    .await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let result: Value = serde_json::from_str(r.stdout.trim()).expect("result");
    assert_eq!(result["result"], "done 4");
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let last = requests[3].messages();
    let reminders = last
        .iter()
        .filter(|m| m.text() == "[Stop hook] Do not stop yet: tests still fail")
        .count();
    assert_eq!(reminders, 3);
    assert!(
        r.stderr
            .contains("continue 4 times in a row; the turn ends here"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_sub_agents_calls_pass_the_same_hooks() {
    let dir = tempfile::tempdir().expect("tempdir");
    user_config(
        dir.path(),
        &hook(
            "PreToolUse",
            "bash",
            "echo 'not even the sub-agent' >&2; exit 2",
        ),
    );
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "p1",
            "agent",
            json!({"task": "make a file"}),
        )])),
        Script::Sse(sse_tools(&[(
            "s1",
            "bash",
            json!({"command": "touch sub"}),
        )])),
        Script::Sse(sse_text("could not")),
        Script::Sse(sse_text("parent done")),
    ])
    .await;
    let r = run(dir.path(), &server, &["-p", "go", "--yes"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!dir.path().join("sub").exists());
    let requests = server.requests();
    assert_eq!(
        tool_result(&requests[2], "s1"),
        "Error: blocked by a PreToolUse hook: not even the sub-agent"
    );
}
