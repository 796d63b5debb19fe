//! The todo list: sent after the history every round (never in the system prompt or the
//! history), through compaction, shared with a sub-agent, saved with the session and restored
//! by `-c`, and a `todos` event in stream-json.

use std::sync::Arc;

use corecoder::agent::subagent::SubAgent;
use corecoder::agent::{Agent, TurnOutcome};
use corecoder::context::ContextManager;
use corecoder::llm::Llm;
use corecoder::message::Message;
use corecoder::policy::Mode;
use corecoder::tools::{ToolContext, Toolbox};
use serde_json::{Value, json};

use crate::binary::corecoder;
use crate::support::{
    MockServer, Script, ScriptedLlm, sse_text, sse_tools, text_reply, tool_reply,
};

const HEADER: &str = "[Current todo list, kept by todo_write; update it as you work]";

fn todo_args(items: &[(&str, &str)]) -> String {
    let todos: Vec<Value> = items
        .iter()
        .map(|(c, s)| json!({"content": c, "status": s}))
        .collect();
    json!({ "todos": todos }).to_string()
}

fn agent(llm: Arc<dyn Llm>, dir: &std::path::Path, with_sub: bool) -> Agent {
    let ctx = ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}));
    let dispatcher = crate::support::dispatcher(dir, Mode::BypassPermissions, None);
    let mut toolbox = Toolbox::basic();
    if with_sub {
        let sub = SubAgent::new(
            llm.clone(),
            toolbox.clone(),
            "sub".into(),
            128_000,
            Arc::default(),
        )
        .with_dispatcher(dispatcher.clone());
        toolbox = toolbox.with(Arc::new(sub));
    }
    Agent::new(
        llm,
        toolbox,
        "system".into(),
        ContextManager::new(128_000),
        ctx,
    )
    .with_dispatcher(dispatcher)
}

#[tokio::test]
async fn the_list_goes_last_in_every_request_never_into_history_and_survives_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = todo_args(&[("read", "completed"), ("fix", "in_progress")]);
    // Six rounds of todo_write make a history long enough to summarise.
    let mut replies: Vec<_> = (0..6)
        .map(|i| Ok(tool_reply(&[(&format!("t{i}"), "todo_write", &args)])))
        .collect();
    replies.push(Ok(text_reply("working")));
    replies.push(Ok(text_reply("SUMMARY: fixing")));
    replies.push(Ok(text_reply("still fixing")));
    let llm = ScriptedLlm::new(replies);
    let mut agent = agent(llm.clone(), dir.path(), false);
    agent.run_turn("go").await.expect("turn");
    let reminder = format!("{HEADER}\n[x] read\n[~] fix");
    assert!(
        agent
            .messages()
            .iter()
            .all(|m| !m.text().starts_with(HEADER)),
        "the list is not stored in the history"
    );
    assert!(
        agent.compact_now().await.is_some(),
        "the history was summarised"
    );
    agent.run_turn("next").await.expect("turn");
    let requests = llm.requests();
    let (first_system, first) = &requests[0];
    assert_eq!(first.last(), Some(&Message::user("go")), "no list yet");
    for (system, messages) in &requests[1..7] {
        assert_eq!(system, first_system, "the system prompt never changes");
        assert_eq!(messages.last().map(Message::text), Some(reminder.as_str()));
    }
    let (_, after) = requests.last().expect("request");
    assert!(after[0].text().contains("SUMMARY: fixing"), "{after:?}");
    assert_eq!(after.last().map(Message::text), Some(reminder.as_str()));
}

#[tokio::test]
async fn a_sub_agent_sees_and_updates_the_parents_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parent_list = todo_args(&[("plan", "in_progress")]);
    let child_list = todo_args(&[("plan", "completed"), ("build", "pending")]);
    let llm = ScriptedLlm::new(vec![
        Ok(tool_reply(&[("p1", "todo_write", &parent_list)])),
        Ok(tool_reply(&[("p2", "agent", r#"{"task": "build it"}"#)])),
        Ok(tool_reply(&[("s1", "todo_write", &child_list)])),
        Ok(text_reply("built")),
        Ok(text_reply("all done")),
    ]);
    let mut agent = agent(llm.clone(), dir.path(), true);
    let outcome = agent.run_turn("go").await.expect("turn");
    assert!(matches!(outcome, TurnOutcome::Done { .. }), "{outcome:?}");
    let requests = llm.requests();
    let last_text = |i: usize| requests[i].1.last().map(|m| m.text().to_string());
    // The child's first request carries the parent's list; the parent's next one the child's.
    assert_eq!(last_text(2), Some(format!("{HEADER}\n[~] plan")));
    assert_eq!(last_text(4), Some(format!("{HEADER}\n[x] plan\n[ ] build")));
}

#[tokio::test]
async fn stream_json_reports_the_list_and_resume_restores_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = json!({"todos": [{"content": "write tests", "status": "in_progress"}]});
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "todo_write", list)])),
        Script::Sse(sse_text("started")),
        Script::Sse(sse_text("resumed")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let args = ["-p", "go", "--output-format", "stream-json"];
    let r = corecoder(dir.path(), &env, &args).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let events: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let todos = events
        .iter()
        .find(|e| e["type"] == "todos")
        .expect("a todos event");
    assert_eq!(
        todos["todos"],
        json!([{"content": "write tests", "status": "in_progress"}])
    );
    let r = corecoder(dir.path(), &env, &["-c", "-p", "and now?"]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let requests = server.requests();
    // After a tool call, the list rides on its result (Mistral refuses user after tool).
    let after_call = requests[1].messages();
    let last = after_call.last().expect("message");
    assert_eq!(last.role(), "tool");
    assert!(
        last.text()
            .ends_with(&format!("\n\n{HEADER}\n[~] write tests")),
        "{last:?}"
    );
    let resumed = requests[2].messages();
    // On the wire the list joins the prompt: no user message follows another.
    assert_eq!(
        resumed.last().map(Message::text),
        Some(format!("and now?\n\n{HEADER}\n[~] write tests").as_str())
    );
    assert_eq!(resumed[resumed.len() - 2].role(), "assistant");
}

#[tokio::test]
async fn the_repl_shows_the_list_and_reset_clears_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = json!({"todos": [
        {"content": "write the parser", "status": "completed"},
        {"content": "test the parser", "status": "pending"}
    ]});
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "todo_write", list)])),
        Script::Sse(sse_text("Planned.")),
        Script::Sse(sse_text("Fresh start.")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let Some(t) = crate::repl::Tmux::start(dir.path(), &env, "") else {
        return;
    };
    t.line_at(1, "plan the work").await;
    t.wait_for("Planned.").await;
    // Once when the tool changed it, once for /todos.
    t.line_at(2, "/todos").await;
    let screen = t.wait_for_n("[ ] test the parser", 2).await;
    assert_eq!(
        screen.matches("[x] write the parser").count(),
        2,
        "{screen}"
    );
    t.line_at(3, "/reset").await;
    t.line_at(4, "/todos").await;
    t.wait_for("Todos: (empty)").await;
    t.line_at(5, "again").await;
    t.wait_for("Fresh start.").await;
    let requests = server.requests();
    let last = requests[2].messages();
    // A new session: the system prompt and the prompt, no list after them.
    let texts: Vec<&str> = last
        .iter()
        .skip(1)
        .map(Message::text)
        .filter(|t| !t.starts_with("# Environment"))
        .collect();
    assert_eq!(texts, ["again"]);
    t.wait_for_n("You > ", 6).await;
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}
