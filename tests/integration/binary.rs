//! The `corecoder` binary end to end: `-p` against the local server, configuration and exit
//! codes. Each run gets a fresh working directory and `$HOME`, and none of the caller's
//! provider variables.

use std::path::Path;
use std::process::Stdio;

use serde_json::json;
use tokio::process::Command;

use crate::support::{MockServer, Script, sse_text, sse_tools};

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary in `dir` (also `$HOME`) with `env` and `args`, none of the caller's provider
/// variables, no probing of local servers (unless `env` names them), stdin closed and stdout/stderr captured (callers may change any of that).
pub fn command(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corecoder"));
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("CORECODER_") || k.starts_with("OPENAI_") || k.starts_with("DEEPSEEK_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    // Never the real local-server ports: a test that wants one names its fake server.
    cmd.env("CORECODER_LOCAL_SERVERS", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the binary to its end (see [`command`]).
pub async fn corecoder(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    run_to_end(command(dir, env, args)).await
}

/// Runs a prepared [`command`] to its end.
pub async fn run_to_end(mut cmd: Command) -> Run {
    let out = cmd.output().await.expect("run corecoder");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn one_shot_runs_a_tool_and_prints_only_the_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "echo made > out.txt && echo created"}),
        )])),
        Script::Sse(sse_text("I created out.txt.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "make a file", "--yes"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "I created out.txt.\n");
    assert!(
        run.stderr
            .contains("⏺ bash(echo made > out.txt && echo created)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).expect("file"),
        "made\n"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        tools,
        [
            "bash",
            "read_file",
            "write_file",
            "edit_file",
            "glob",
            "grep",
            "todo_write",
            "agent",
            "exit_plan_mode"
        ]
    );
    let last = requests[1].messages();
    assert_eq!(last.last().expect("msg").text(), "created");
}

#[tokio::test]
async fn missing_key_with_the_default_url_exits_1_with_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = corecoder(dir.path(), &[], &["-p", "hi"]).await;
    assert_eq!(run.code, Some(1));
    for needle in ["OPENAI_API_KEY", "api.deepseek.com", "localhost:11434"] {
        assert!(
            run.stderr.contains(needle),
            "{needle} missing from: {}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn a_malformed_number_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("OPENAI_API_KEY", "k"), ("CORECODER_MAX_CONTEXT", "12k")];
    let run = corecoder(dir.path(), &env, &["-p", "hi"]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("CORECODER_MAX_CONTEXT must be a positive whole number, got \"12k\""),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn unauthorized_exits_1_with_the_providers_message_after_one_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = r#"{"error":{"message":"Invalid API key.","type":"invalid_request_error"}}"#;
    let server = MockServer::start(vec![Script::status(401, body)]).await;
    let env = [
        ("OPENAI_BASE_URL", server.url.as_str()),
        ("OPENAI_API_KEY", "sk-wrong"),
    ];
    let run = corecoder(dir.path(), &env, &["-p", "hi"]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("HTTP 401: Invalid API key."),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn reaching_the_round_limit_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let call = Script::Sse(sse_tools(&[("c", "bash", json!({"command": "true"}))]));
    let server = MockServer::start(vec![call; 50]).await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "loop forever"],
    )
    .await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("stopped after 50 rounds"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 50);
}

#[tokio::test]
async fn a_stream_cut_mid_answer_prints_the_answer_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = sse_text("The complete answer, said once.");
    let server = MockServer::start(vec![
        Script::SseThenCut(full[..4].to_vec()),
        Script::Sse(full),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "answer"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "The complete answer, said once.\n");
    assert!(run.stderr.contains("the stream broke"), "{}", run.stderr);
}

#[tokio::test]
async fn dotenv_fills_unset_variables_and_flags_beat_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server =
        MockServer::start(vec![Script::Sse(sse_text("a")), Script::Sse(sse_text("b"))]).await;
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "OPENAI_BASE_URL={}\nCORECODER_MODEL=model-from-dotenv\nCORECODER_MAX_TOKENS=77\n",
            server.url
        ),
    )
    .expect("write .env");
    let run = corecoder(dir.path(), &[("CORECODER_MAX_TOKENS", "55")], &["-p", "hi"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = corecoder(dir.path(), &[], &["-p", "hi", "-m", "flag-model"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = server.requests();
    assert_eq!(requests[0].body["model"], "model-from-dotenv");
    assert_eq!(
        requests[0].body["max_tokens"], 55,
        "the environment beats .env"
    );
    assert_eq!(requests[1].body["model"], "flag-model");
    assert_eq!(requests[1].body["max_tokens"], 77);
}

#[tokio::test]
async fn the_api_key_is_never_written_to_disk_or_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "sk-very-secret-0123456789";
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "write_file",
            json!({"file_path": "notes.md", "content": "hello"}),
        )])),
        Script::Sse(sse_text("done")),
    ])
    .await;
    let env = [
        ("OPENAI_BASE_URL", server.url.as_str()),
        ("OPENAI_API_KEY", secret),
        ("CORECODER_LOG", "debug"),
    ];
    let run = corecoder(dir.path(), &env, &["-p", "write notes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        server.requests()[0].headers["authorization"],
        format!("Bearer {secret}")
    );
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret), "key found in {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn version_and_help_document_flags_variables_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = corecoder(dir.path(), &[], &["-v"]).await;
    assert_eq!(
        run.stdout,
        format!("corecoder {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = corecoder(dir.path(), &[], &["--help"]).await.stdout;
    for needle in [
        "--prompt",
        "--model",
        "--base-url",
        "--api-key",
        "CORECODER_MAX_CONTEXT",
        "OPENAI_BASE_URL",
        "3 round limit reached",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
    let bad = corecoder(dir.path(), &[], &["--no-such-flag"]).await;
    assert_eq!(bad.code, Some(2));
}

#[tokio::test]
async fn reasoning_goes_to_stderr_and_provider_call_fields_are_echoed_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Gemini-style: no index, no id, a thought signature on the call; reasoning first.
    let first = vec![
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Let me list files.\"}}]}\n\n".to_string(),
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"bash\",\"arguments\":\"{\\\"command\\\":\\\"echo listed\\\"}\"},\"extra_content\":{\"google\":{\"thought_signature\":\"sig-123\"}}}]},\"finish_reason\":\"stop\"}]}\n\n".to_string(),
        "data: [DONE]\n\n".to_string(),
    ];
    let server =
        MockServer::start(vec![Script::Sse(first), Script::Sse(sse_text("Listed."))]).await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "list"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "Listed.\n");
    assert!(run.stderr.contains("Let me list files."), "{}", run.stderr);
    let second = &server.requests()[1].body;
    let call = &second["messages"][3]["tool_calls"][0];
    assert_eq!(
        call["extra_content"]["google"]["thought_signature"],
        "sig-123"
    );
    let id = call["id"].as_str().expect("a generated id");
    assert!(!id.is_empty());
    assert_eq!(
        second["messages"][4]["tool_call_id"], id,
        "the result answers the generated id"
    );
    assert!(
        !second.to_string().contains("Let me list files."),
        "reasoning is never sent back"
    );
}

#[tokio::test]
async fn piped_stdin_is_the_task_or_context_for_p() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_text("one")),
        Script::Sse(sse_text("two")),
    ])
    .await;
    for args in [vec![], vec!["-p", "why does this fail?"]] {
        let mut child = command(dir.path(), &[("OPENAI_BASE_URL", &server.url)], &args)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        tokio::io::AsyncWriteExt::write_all(&mut stdin, b"error: E0308 mismatched types\n")
            .await
            .expect("write");
        drop(stdin);
        let out = child.wait_with_output().await.expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let requests = server.requests();
    assert_eq!(
        requests[0].messages()[2].text(),
        "error: E0308 mismatched types\n"
    );
    assert_eq!(
        requests[1].messages()[2].text(),
        "why does this fail?\n\n<stdin>\nerror: E0308 mismatched types\n\n</stdin>"
    );
}

#[tokio::test]
async fn edit_file_end_to_end_keeps_crlf_and_reports_a_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.py"), "def f():\r\n    return 1\r\n").expect("write");
    let edit =
        json!({"file_path": "app.py", "old_string": "return 1\n", "new_string": "return 2\n"});
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("e1", "edit_file", edit)])),
        Script::Sse(sse_text("Changed the return value.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "return 2", "--yes"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).expect("read"),
        "def f():\r\n    return 2\r\n"
    );
    let result = server.requests()[1]
        .messages()
        .last()
        .expect("tool result")
        .text()
        .to_string();
    assert!(
        result.contains("-    return 1") && result.contains("+    return 2"),
        "{result}"
    );
}

#[tokio::test]
async fn a_sub_agent_end_to_end_works_in_its_own_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "p1",
            "agent",
            json!({"task": "count the files"}),
        )])),
        Script::Sse(sse_tools(&[(
            "s1",
            "bash",
            json!({"command": "echo 3 files"}),
        )])),
        Script::Sse(sse_text("There are 3 files.")),
        Script::Sse(sse_text("The sub-agent counted 3 files.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "how many files?"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "The sub-agent counted 3 files.\n");
    assert!(
        run.stderr.contains("  ⏺ bash(echo 3 files)"),
        "sub-agent tool lines are indented: {}",
        run.stderr
    );
    let requests = server.requests();
    let child = requests[1].messages();
    assert_eq!(
        child.len(),
        3,
        "system prompt, context message and the task alone"
    );
    assert_eq!(child[2].text(), "count the files");
    let child_tools: Vec<&str> = requests[1].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap_or(""))
        .collect();
    assert!(!child_tools.contains(&"agent"), "no recursive sub-agents");
    let parent_result = requests[3]
        .messages()
        .last()
        .expect("result")
        .text()
        .to_string();
    assert_eq!(parent_result, "[Sub-agent completed]\nThere are 3 files.");
}
