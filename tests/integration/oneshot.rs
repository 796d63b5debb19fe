//! One-shot runs and sessions through the binary: output formats, exit codes, `--max-rounds`,
//! autosave, `-r`/`-c`, `check-command`.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::binary::{Run, command, corecoder};
use crate::support::{MockServer, Script, sse_text, sse_tools};

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

#[tokio::test]
async fn json_output_is_one_result_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", json!({"command": "echo hi"}))])),
        Script::Sse(sse_text("All good.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "go", "--output-format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let out = lines(&run.stdout);
    assert_eq!(out.len(), 1, "{}", run.stdout);
    let r = &out[0];
    assert_eq!(r["type"], "result");
    assert_eq!(r["result"], "All good.");
    assert_eq!(r["is_error"], false);
    assert_eq!(r["rounds"], 2);
    assert_eq!(
        r["usage"],
        json!({"prompt_tokens": 150, "completion_tokens": 15})
    );
    assert!(r["cost_usd"].as_f64().is_some_and(|c| c > 0.0));
    assert!(
        r["session_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("session_"))
    );
    assert!(r["duration_ms"].is_u64());
}

#[tokio::test]
async fn stream_json_reports_events_as_they_happen_and_ends_with_the_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", json!({"command": "echo hi"}))])),
        Script::Sse(sse_text("Done.")),
    ])
    .await;
    let args = [
        "-p",
        "go",
        "--output-format",
        "stream-json",
        "-m",
        "my-local-model",
        "--yes",
    ];
    let run = corecoder(dir.path(), &[("OPENAI_BASE_URL", &server.url)], &args).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let out = lines(&run.stdout);
    let types: Vec<&str> = out
        .iter()
        .map(|v| v["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types.first(), Some(&"init"));
    assert_eq!(types.last(), Some(&"result"));
    let tool_use = out
        .iter()
        .find(|v| v["type"] == "tool_use")
        .expect("tool_use");
    assert_eq!(tool_use["input"], json!({"command": "echo hi"}));
    let tool_result = out
        .iter()
        .find(|v| v["type"] == "tool_result")
        .expect("tool_result");
    assert_eq!(tool_result["output"], "hi");
    let text: String = out
        .iter()
        .filter(|v| v["type"] == "text")
        .map(|v| v["text"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(text, "Done.");
    let result = out.last().expect("result");
    assert_eq!(result["result"], "Done.");
    assert_eq!(
        result["cost_usd"],
        Value::Null,
        "an unpriced model has no cost"
    );
}

#[tokio::test]
async fn json_output_reports_errors_with_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![Script::status(
        401,
        r#"{"error":{"message":"bad key"}}"#,
    )])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "go", "--output-format", "json"],
    )
    .await;
    assert_eq!(run.code, Some(1));
    let r = &lines(&run.stdout)[0];
    assert_eq!(r["is_error"], true);
    assert_eq!(r["subtype"], "error");
    assert!(r["result"].as_str().is_some_and(|s| s.contains("bad key")));
}

#[tokio::test]
async fn max_rounds_overrides_the_default_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let call = Script::Sse(sse_tools(&[("c", "bash", json!({"command": "true"}))]));
    let server = MockServer::start(vec![call; 5]).await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "loop", "--max-rounds", "2"],
    )
    .await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(server.requests().len(), 2);
    let bad = corecoder(dir.path(), &[], &["-p", "x", "--max-rounds", "0"]).await;
    assert_eq!(bad.code, Some(2));
}

#[tokio::test]
async fn ctrl_c_during_a_turn_exits_130() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![Script::Sse(sse_tools(&[(
        "c",
        "bash",
        json!({"command": "sleep 30"}),
    )]))])
    .await;
    let mut child = command(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "wait"],
    )
    .stdin(Stdio::null())
    .spawn()
    .expect("spawn");
    // Wait until the tool is running, then interrupt.
    for _ in 0..100 {
        if server.requests().len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pid = child.id().expect("pid") as i32;
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("exits promptly")
        .expect("status");
    assert_eq!(status.code(), Some(130));
}

fn session_files(home: &std::path::Path) -> Vec<std::path::PathBuf> {
    let dir = home.join(".corecoder/sessions");
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_run_is_saved_and_continue_resumes_it_with_its_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_text("first answer")),
        Script::Sse(sse_text("second answer")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let first = corecoder(dir.path(), &env, &["-p", "remember 42", "-m", "model-a"]).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let files = session_files(dir.path());
    assert_eq!(files.len(), 1);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).expect("read")).expect("json");
    assert_eq!(saved["model"], "model-a");
    assert_eq!(
        saved["cwd"],
        dir.path()
            .canonicalize()
            .expect("canon")
            .display()
            .to_string()
    );
    assert_eq!(
        saved["messages"][0],
        json!({"role": "user", "content": "remember 42"})
    );
    assert!(saved["saved_at"].is_string() && saved["id"].is_string());

    let second = corecoder(dir.path(), &env, &["-c", "-p", "what number?"]).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let req = &server.requests()[1];
    assert_eq!(
        req.body["model"], "model-a",
        "the resumed session's model is restored"
    );
    let texts: Vec<String> = req
        .messages()
        .iter()
        .skip(2)
        .map(|m| m.text().to_string())
        .collect();
    assert_eq!(texts, ["remember 42", "first answer", "what number?"]);
    assert_eq!(
        session_files(dir.path()).len(),
        1,
        "the resumed session is saved in place"
    );
}

#[tokio::test]
async fn resume_reads_a_corecoder_written_session_and_refuses_corrupt_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sessions = dir.path().join(".corecoder/sessions");
    std::fs::create_dir_all(&sessions).expect("mkdir");
    let corecoder_file = json!({
        "id": "session_20260101_120000_abcd1234",
        "model": "deepseek-chat",
        "saved_at": "2026-01-01 12:00:00",
        "messages": [
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
            {"role": "assistant", "content": "There is a.txt."}
        ]
    });
    std::fs::write(
        sessions.join("session_20260101_120000_abcd1234.json"),
        corecoder_file.to_string(),
    )
    .expect("write");
    std::fs::write(
        sessions.join("broken.json"),
        "{\"id\": \"broken\", \"model\": ",
    )
    .expect("write");
    let server = MockServer::start(vec![Script::Sse(sse_text("ok"))]).await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let run = corecoder(
        dir.path(),
        &env,
        &[
            "-r",
            "session_20260101_120000_abcd1234",
            "-p",
            "and now?",
            "-m",
            "other",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let req = &server.requests()[0];
    assert_eq!(req.body["model"], "other", "-m overrides the saved model");
    assert_eq!(
        req.messages().len(),
        7,
        "system + context + 4 saved + the new prompt"
    );

    let corrupt: Run = corecoder(dir.path(), &env, &["-r", "broken", "-p", "x"]).await;
    assert_eq!(corrupt.code, Some(1));
    assert!(
        corrupt.stderr.contains("broken.json") && corrupt.stderr.contains("corrupt"),
        "{}",
        corrupt.stderr
    );
    let missing = corecoder(dir.path(), &env, &["-r", "../../etc/passwd", "-p", "x"]).await;
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("passwd"), "{}", missing.stderr);
}

#[tokio::test]
async fn check_command_prints_the_gates_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocked = corecoder(
        dir.path(),
        &[],
        &["check-command", "sudo rm -rf --no-preserve-root /"],
    )
    .await;
    assert_eq!(blocked.code, Some(1));
    assert!(
        blocked.stdout.starts_with("blocked: "),
        "{}",
        blocked.stdout
    );
    let allowed = corecoder(
        dir.path(),
        &[],
        &["check-command", "rm -rf target/ node_modules"],
    )
    .await;
    assert_eq!(
        (allowed.code, allowed.stdout.as_str()),
        (Some(0), "allowed\n")
    );
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = corecoder(dir.path(), &[], &["completions", shell]).await;
        assert_eq!(run.code, Some(0), "{shell}");
        assert!(run.stdout.contains("corecoder"), "{shell}");
    }
}

#[tokio::test]
async fn piped_context_is_capped_at_one_mib_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![Script::Sse(sse_text("ok"))]).await;
    let mut child = command(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "summarise"],
    )
    .stdin(Stdio::piped())
    .spawn()
    .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let big = vec![b'x'; 3 << 19];
    // The process stops reading at the cap, so the rest of the write may fail: that is fine.
    let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, &big).await;
    drop(stdin);
    let out = child.wait_with_output().await.expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = server.requests()[0].messages()[2].text().to_string();
    assert!(sent.contains("[input cut at 1 MiB]"), "no note");
    assert!(sent.len() < (1 << 20) + 200, "{}", sent.len());
}

#[tokio::test]
async fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![Script::Sse(sse_text(&"many words ".repeat(2000)))]).await;
    let mut child = command(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "talk"],
    )
    .stdin(Stdio::null())
    .spawn()
    .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().await.expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test]
async fn a_tool_call_written_as_text_is_run_unless_recovery_is_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let as_text = "I'll create it.\n```json\n{\"name\": \"write_file\", \"arguments\": {\"file_path\": \"hi.txt\", \"content\": \"hello\"}}\n```";
    let server = MockServer::start(vec![
        Script::Sse(sse_text(as_text)),
        Script::Sse(sse_text("Created hi.txt.")),
        Script::Sse(sse_text(as_text)),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let run = corecoder(dir.path(), &env, &["-p", "make hi.txt", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout, "Created hi.txt.\n",
        "the markup is not the answer"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hi.txt")).expect("created"),
        "hello"
    );
    let second = server.requests()[1].messages();
    let call = &second[3];
    assert_eq!(call.text(), "I'll create it.");
    assert_eq!(call.tool_calls()[0].function.name, "write_file");

    std::fs::remove_file(dir.path().join("hi.txt")).expect("rm");
    let env = [
        ("OPENAI_BASE_URL", server.url.as_str()),
        ("CORECODER_TEXT_TOOL_CALLS", "0"),
    ];
    let run = corecoder(dir.path(), &env, &["-p", "make hi.txt", "--yes"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("```json"),
        "with recovery off the text is the answer"
    );
    assert!(!dir.path().join("hi.txt").exists());
}

#[tokio::test]
async fn config_files_set_defaults_below_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server =
        MockServer::start(vec![Script::Sse(sse_text("a")), Script::Sse(sse_text("b"))]).await;
    std::fs::create_dir_all(dir.path().join(".config/corecoder")).expect("mkdir");
    std::fs::write(
        dir.path().join(".config/corecoder/config.toml"),
        format!(
            "base_url = \"{}\"\nmodel = \"user-model\"\nmax_tokens = 111\n",
            server.url
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".corecoder.toml"),
        "model = \"project-model\"\n",
    )
    .expect("write");
    let run = corecoder(dir.path(), &[], &["-p", "hi"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = corecoder(
        dir.path(),
        &[("CORECODER_MODEL", "env-model")],
        &["-p", "hi"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = server.requests();
    assert_eq!(
        (&requests[0].body["model"], &requests[0].body["max_tokens"]),
        (&json!("project-model"), &json!(111))
    );
    assert_eq!(requests[1].body["model"], "env-model");
    std::fs::write(dir.path().join(".corecoder.toml"), "modle = \"typo\"\n").expect("write");
    let bad = corecoder(dir.path(), &[], &["-p", "hi"]).await;
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr.contains(".corecoder.toml") && bad.stderr.contains("modle"),
        "{}",
        bad.stderr
    );
}
