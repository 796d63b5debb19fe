//! Requests that prompt caches can reuse, checked on what the binary sent to the local server:
//! the system prompt and the tools are the same bytes in another directory on another day,
//! and each round's request extends the previous one without changing a byte of it.

use serde_json::{Value, json};

use crate::binary::corecoder;
use crate::support::{MockServer, Recorded, Script, sse_text, sse_tools};

/// The request's messages, each serialized as sent.
fn wire_messages(request: &Recorded) -> Vec<String> {
    request.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(Value::to_string)
        .collect()
}

/// The part of a request every session with these tools shares: system prompt and tools.
fn stable_prefix(request: &Recorded) -> (String, String) {
    (
        request.body["messages"][0].to_string(),
        request.body["tools"].to_string(),
    )
}

/// One `-p` run in `dir` with the time zone `tz`; returns what the server received.
async fn run_in(dir: &std::path::Path, tz: &str, args: &[&str]) -> Vec<Recorded> {
    let server = MockServer::start(vec![Script::Sse(sse_text("ok"))]).await;
    let run = corecoder(
        dir,
        &[("OPENAI_BASE_URL", &server.url), ("TZ", tz)],
        &[&["-p", "hello"], args].concat(),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    server.requests()
}

#[tokio::test]
async fn system_prompt_and_tools_are_identical_across_directories_and_days() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    // The second directory is a repository on a branch, with project instructions.
    std::fs::create_dir_all(b.path().join(".git")).expect("git dir");
    std::fs::write(b.path().join(".git/HEAD"), "ref: refs/heads/topic\n").expect("HEAD");
    std::fs::write(b.path().join("AGENTS.md"), "Use tabs.").expect("AGENTS.md");
    // UTC+14 and UTC-12 are 26 hours apart: the local dates always differ.
    let first = run_in(a.path(), "Etc/GMT-14", &[]).await;
    let second = run_in(b.path(), "Etc/GMT+12", &[]).await;
    // Plan mode sends the same prefix too (its note comes after the history).
    let plan = run_in(a.path(), "UTC", &["--permission-mode", "plan"]).await;
    assert_eq!(stable_prefix(&first[0]), stable_prefix(&second[0]));
    assert_eq!(stable_prefix(&first[0]), stable_prefix(&plan[0]));
    let system = first[0].messages()[0].text().to_string();
    assert!(
        !system.contains(&a.path().display().to_string()),
        "{system}"
    );

    // What varies is in the context message right after the system prompt.
    let ctx_a = first[0].messages()[1].clone();
    let ctx_b = second[0].messages()[1].clone();
    assert_eq!((ctx_a.role(), ctx_b.role()), ("user", "user"));
    let (ctx_a, ctx_b) = (ctx_a.text(), ctx_b.text());
    assert!(ctx_a.contains(&format!("Working directory: {}", a.path().display())));
    assert!(ctx_b.contains(&format!("Working directory: {}", b.path().display())));
    let date = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("- Date: "))
            .map(str::to_string)
    };
    assert!(
        date(ctx_a).is_some() && date(ctx_a) != date(ctx_b),
        "{ctx_a}\n{ctx_b}"
    );
    assert!(ctx_b.contains("- Git branch: topic") && ctx_b.ends_with("Use tabs.\n"));
    assert_eq!(first[0].messages()[2].text(), "hello");

    // Plan mode: the fixed note rides on the last message, after the user's text (a message
    // of its own after a tool result is refused by Mistral, two user messages by strict
    // chat templates).
    let sent = plan[0].messages();
    let last = sent.last().expect("messages");
    assert_eq!(last.role(), "user");
    assert!(
        last.text().starts_with("hello\n\n# Plan mode"),
        "{}",
        last.text()
    );
}

#[tokio::test]
async fn each_round_extends_the_previous_request_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.txt"), "alpha\n").expect("write");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "read_file", json!({"path": "a.txt"}))])),
        Script::Sse(sse_tools(&[
            ("c2", "glob", json!({"pattern": "*.txt"})),
            ("c3", "grep", json!({"pattern": "alpha"})),
        ])),
        Script::Sse(sse_text("Done.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "look around"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for pair in requests.windows(2) {
        let (before, after) = (wire_messages(&pair[0]), wire_messages(&pair[1]));
        assert!(after.len() > before.len());
        assert_eq!(after[..before.len()], before[..], "a sent message changed");
        assert_eq!(pair[0].body["tools"], pair[1].body["tools"]);
    }
}

#[tokio::test]
async fn in_plan_mode_each_round_extends_the_previous_one_before_the_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "glob", json!({"pattern": "*"}))])),
        Script::Sse(sse_text("The plan: nothing to do.")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "plan it", "--permission-mode", "plan"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let (before, after) = (wire_messages(&requests[0]), wire_messages(&requests[1]));
    // All but the message the note rode on carry over unchanged; the note rides on the new
    // last message (here the tool result).
    let kept = before.len() - 1;
    assert_eq!(after[..kept], before[..kept]);
    let note = |m: Option<&String>| m.is_some_and(|m| m.contains("\\n\\n# Plan mode"));
    assert!(note(before.last()) && note(after.last()), "{after:?}");
}
