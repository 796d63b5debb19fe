//! Approval prompts in a real terminal (tmux): y / a / n with a sentence / Esc, the diff
//! preview, "always" saved outside the project, `/permissions`, Shift-Tab, a sub-agent's
//! prompt, plan mode ending in `exit_plan_mode`, and Ctrl-C at a prompt.

use std::time::Duration;

use serde_json::json;

use crate::repl::Tmux;
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// The tool results the model received in its last request, in order.
fn tool_results(server: &MockServer) -> Vec<String> {
    let requests = server.requests();
    let last = requests.last().expect("a request");
    last.messages()
        .iter()
        .filter(|m| m.role() == "tool")
        .map(|m| m.text().to_string())
        .collect()
}

#[tokio::test]
async fn each_answer_does_what_it_says_and_always_sticks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    std::fs::write(dir.path().join("greet.txt"), "hello\n").expect("write");
    let edit = json!({"file_path": "greet.txt", "old_string": "hello", "new_string": "goodbye"});
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "echo one > a.txt"}),
        )])),
        Script::Sse(sse_tools(&[("c2", "edit_file", edit)])),
        Script::Sse(sse_tools(&[("c3", "bash", json!({"command": "ls -a"}))])),
        Script::Sse(sse_tools(&[("c4", "bash", json!({"command": "ls"}))])),
        Script::Sse(sse_tools(&[(
            "c5",
            "write_file",
            json!({"file_path": "new.txt", "content": "fresh\n"}),
        )])),
        Script::Sse(sse_text("All done.")),
    ])
    .await;
    let home_dir = home.path().display().to_string();
    let env = [
        ("OPENAI_BASE_URL", server.url.as_str()),
        ("HOME", &home_dir),
    ];
    let Some(t) = Tmux::start(dir.path(), &env, "") else {
        return;
    };
    t.line_at(1, "do the things").await;

    // y: the command and its directory are shown, then it runs.
    let screen = t.wait_for("bash wants to run, in").await;
    assert!(screen.contains("echo one > a.txt"), "{screen}");
    assert!(screen.contains("[y] yes"), "{screen}");
    t.keys(&["y"]);

    // n + a sentence: the diff that would be applied is shown first.
    let screen = t.wait_for("edit_file wants to change").await;
    assert!(
        screen.contains("-hello") && screen.contains("+goodbye"),
        "{screen}"
    );
    t.keys(&["n"]);
    t.wait_for("Tell the model why").await;
    t.keys(&["-l", "use a different word"]);
    t.keys(&["Enter"]);

    // a: the rule it adds is shown literally; the next `ls` runs without asking.
    t.wait_for("[a] always allow bash(ls:*)").await;
    t.keys(&["a"]);

    // Esc: no.
    t.wait_for("write_file wants to change").await;
    let screen = t.screen();
    assert!(
        screen.contains("+fresh"),
        "a new file shows its first lines:\n{screen}"
    );
    t.keys(&["Escape"]);
    t.wait_for("All done.").await;

    let results = tool_results(&server);
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(results[0], "(no output)");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).expect("a.txt"),
        "one\n"
    );
    assert_eq!(
        results[1],
        "Error: denied by the user: use a different word"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("greet.txt")).expect("greet"),
        "hello\n"
    );
    assert!(results[2].contains("greet.txt") && results[3].contains("greet.txt"));
    assert_eq!(results[4], "Error: denied by the user");
    assert!(!dir.path().join("new.txt").exists());
    // Four prompts, not five: the second `ls` was allowed by the saved rule.
    assert_eq!(t.screen().matches("wants to").count(), 4);

    // Saved under the user's config directory, never in the project.
    let saved = std::fs::read_dir(home.path().join(".config/corecoder/approvals"))
        .expect("approvals dir")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let text = std::fs::read_to_string(&saved).expect("saved");
    assert!(text.contains("\"bash(ls:*)\""), "{text}");

    t.line_at(2, "/permissions").await;
    let screen = t.wait_for("Remove one with /permissions remove N.").await;
    assert!(
        screen.contains("1. allow bash(ls:*)") && screen.contains("approvals/"),
        "{screen}"
    );
    t.line_at(3, "/permissions remove 1").await;
    t.wait_for("Removed allow bash(ls:*)").await;
    let text = std::fs::read_to_string(&saved).expect("saved");
    assert!(!text.contains("bash(ls:*)"), "{text}");

    // Shift-Tab cycles default → acceptEdits → plan, and the prompt shows it.
    t.wait_for_n("You > ", 4).await;
    t.keys(&["BTab"]);
    t.wait_for("[acceptEdits] You > ").await;
    t.keys(&["BTab"]);
    t.wait_for("[plan] You > ").await;
    t.line_at(5, "/mode default").await;
    t.wait_for("Permission mode: default").await;
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}

#[tokio::test]
async fn a_sub_agent_asks_through_the_same_prompt_and_ctrl_c_stops_the_turn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[(
            "p1",
            "agent",
            json!({"task": "look around"}),
        )])),
        Script::Sse(sse_tools(&[(
            "s1",
            "bash",
            json!({"command": "echo from-sub"}),
        )])),
        Script::Sse(sse_text("sub done")),
        Script::Sse(sse_text("Parent done.")),
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "echo never"}),
        )])),
        Script::Sse(sse_text("Still here.")),
    ])
    .await;
    let Some(t) = Tmux::start(dir.path(), &[("OPENAI_BASE_URL", &server.url)], "") else {
        return;
    };
    t.line_at(1, "delegate").await;
    t.wait_for("sub-agent: bash wants to run").await;
    t.keys(&["y"]);
    t.wait_for("Parent done.").await;
    let requests = server.requests();
    let sub_results: Vec<String> = requests[2]
        .messages()
        .iter()
        .filter(|m| m.role() == "tool")
        .map(|m| m.text().to_string())
        .collect();
    assert_eq!(sub_results, ["from-sub"]);

    // Ctrl-C at a prompt stops the turn; the history stays valid for the next one.
    t.line_at(2, "one more").await;
    t.wait_for("echo never").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    t.keys(&["C-c"]);
    t.wait_for("Interrupted").await;
    t.line_at(3, "hello?").await;
    t.wait_for("Still here.").await;
    let last = server.requests();
    let texts: Vec<String> = last
        .last()
        .expect("request")
        .messages()
        .iter()
        .skip(2)
        .filter(|m| m.role() == "user")
        .map(|m| m.text().to_string())
        .collect();
    assert_eq!(texts, ["delegate", "one more", "hello?"]);
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}

#[tokio::test]
async fn plan_mode_changes_nothing_until_the_plan_is_approved() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.txt"), "v1\n").expect("write");
    let edit = json!({"file_path": "app.txt", "old_string": "v1", "new_string": "v2"});
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "edit_file", edit.clone())])),
        Script::Sse(sse_tools(&[(
            "c2",
            "exit_plan_mode",
            json!({"plan": "1. Change v1 to v2 in app.txt"}),
        )])),
        Script::Sse(sse_tools(&[("c3", "edit_file", edit)])),
        Script::Sse(sse_text("Changed.")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let Some(t) = Tmux::start(dir.path(), &env, "--permission-mode plan") else {
        return;
    };
    t.wait_for("plan mode").await;
    t.line_at(1, "bump the version").await;
    let screen = t.wait_for("The plan:").await;
    assert!(screen.contains("1. Change v1 to v2 in app.txt"), "{screen}");
    t.keys(&["a"]);
    t.wait_for("Changed.").await;
    let results = tool_results(&server);
    assert!(results[0].starts_with("Error: plan mode"), "{results:?}");
    assert!(
        results[1].contains("switched to acceptEdits"),
        "{results:?}"
    );
    assert!(results[2].starts_with("Edited app.txt"), "{results:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.txt")).expect("app"),
        "v2\n"
    );
    let requests = server.requests();
    // The plan-mode note rides on the last message while the mode lasts.
    let noted = |i: usize| {
        let last = requests[i].messages().last().map(|m| m.text().to_string());
        last.is_some_and(|t| t.contains("\n\n# Plan mode"))
    };
    assert!(noted(0));
    assert!(!noted(2));
    t.wait_for("[acceptEdits] You > ").await;
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}

#[tokio::test]
async fn keys_typed_before_a_prompt_do_not_answer_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_tools(&[("c1", "bash", json!({"command": "sleep 1"}))])),
        Script::Sse(sse_tools(&[(
            "c2",
            "bash",
            json!({"command": "touch typed"}),
        )])),
        Script::Sse(sse_text("Over.")),
    ])
    .await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let Some(t) = Tmux::start(dir.path(), &env, "--allow 'bash(sleep:*)'") else {
        return;
    };
    t.line_at(1, "go").await;
    t.wait_for("bash(sleep 1)").await;
    // A `y` typed while `sleep` runs, before the next call's question exists.
    t.keys(&["y"]);
    t.wait_for("bash wants to run").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !dir.path().join("typed").exists(),
        "an early key answered the prompt"
    );
    t.keys(&["n"]);
    t.wait_for("Tell the model why").await;
    t.keys(&["Enter"]);
    t.wait_for("Over.").await;
    assert!(!dir.path().join("typed").exists());
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}
