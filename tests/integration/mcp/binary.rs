//! Through the binary: `corecoder mcp list`, a project's server waiting for consent, and a
//! one-shot run whose model calls an MCP tool.

use serde_json::json;

use super::*;
use crate::binary::corecoder;
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// `$HOME/.config/corecoder/config.toml` with the fake server as `mine`, and the project's
/// `.mcp.json` with it as `proj`. `None` without python3.
fn configured(dir: &Path) -> Option<()> {
    let Some(python) = which("python3") else {
        println!("skipped: python3 is not installed");
        return None;
    };
    let script = manifest().join("tests/fixtures/mcp/fake_server.py");
    let (python, script) = (python.display().to_string(), script.display().to_string());
    std::fs::create_dir_all(dir.join(".config/corecoder")).unwrap();
    std::fs::write(
        dir.join(".config/corecoder/config.toml"),
        format!("[mcp_servers.mine]\ncommand = {python:?}\nargs = [{script:?}]\n"),
    )
    .unwrap();
    let project = json!({"mcpServers": {"proj": {
        "command": python, "args": [script], "env": {"FAKE_MCP_MARK": "proj-listed"}
    }}});
    std::fs::write(dir.join(".mcp.json"), project.to_string()).unwrap();
    Some(())
}

#[tokio::test]
async fn mcp_list_shows_the_servers_and_a_projects_server_waits_for_consent() {
    let dir = tempfile::tempdir().unwrap();
    if configured(dir.path()).is_none() {
        return;
    }
    let run = corecoder(dir.path(), &[], &["mcp", "list"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("mine  ready, 11 tools"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("proj  not started"), "{}", run.stdout);
    assert!(run.stderr.contains("Pass --yes"), "{}", run.stderr);
    let run = corecoder(dir.path(), &[], &["--yes", "mcp", "list"]).await;
    assert!(
        run.stdout.contains("proj  ready, 11 tools"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn mcp_a_one_shot_run_calls_a_project_server_allowed_by_yes() {
    let dir = tempfile::tempdir().unwrap();
    if configured(dir.path()).is_none() {
        return;
    }
    let server = MockServer::start(vec![
        // The first prompt does not wait for the servers: the model's first call waits until
        // the server has listed its tools (it marks that with a file) before it calls one.
        Script::Sse(sse_tools(&[(
            "c1",
            "bash",
            json!({"command": "for i in $(seq 200); do [ -e proj-listed ] && break; sleep 0.05; done; sleep 0.5"}),
        )])),
        Script::Sse(sse_tools(&[(
            "c2",
            "mcp__proj__echo",
            json!({"text": "from mcp"}),
        )])),
        Script::Sse(sse_text("done")),
    ])
    .await;
    let run = corecoder(
        dir.path(),
        &[("OPENAI_BASE_URL", &server.url)],
        &["-p", "use the tool", "--yes"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let requests = server.requests();
    let last = requests.last().unwrap();
    let tools = last.body["tools"].as_array().unwrap();
    let echo = tools
        .iter()
        .find(|t| t["function"]["name"] == "mcp__proj__echo");
    let echo = echo.unwrap_or_else(|| panic!("no MCP tool offered: {tools:?}"));
    assert!(echo["function"]["parameters"].get("$schema").is_none());
    let messages = serde_json::to_string(&last.messages()).unwrap();
    assert!(messages.contains("from mcp"), "{messages}");
}

#[tokio::test]
async fn mcp_the_repl_asks_before_a_projects_server_starts_and_remembers_always() {
    let dir = tempfile::tempdir().unwrap();
    if configured(dir.path()).is_none() {
        return;
    }
    let server = MockServer::start(vec![]).await;
    let env = [("OPENAI_BASE_URL", server.url.as_str())];
    let Some(t) = crate::repl::Tmux::start(dir.path(), &env, "") else {
        return;
    };
    let screen = t.wait_for("wants to start the MCP server proj").await;
    assert!(
        screen.contains("fake_server.py") && screen.contains("[a] always"),
        "{screen}"
    );
    t.keys(&["a"]);
    let prompts = mcp_until_ready(&t, 1).await;
    let remembered = std::fs::read_to_string(dir.path().join(".corecoder/mcp-trust.json")).unwrap();
    assert!(remembered.contains("\"proj\""), "{remembered}");
    t.line_at(prompts, "/quit").await;
    t.wait_for("EXITED=0").await;
    drop(t);
    // The next start does not ask again.
    let Some(t) = crate::repl::Tmux::start(dir.path(), &env, "") else {
        return;
    };
    mcp_until_ready(&t, 1).await;
    assert!(!t.screen().contains("wants to start"), "{}", t.screen());
}

/// Types `/mcp` at prompt `n`, `n + 1`, … until it shows `proj` ready (servers start in the
/// background); returns the number of the next prompt.
async fn mcp_until_ready(t: &crate::repl::Tmux, mut n: usize) -> usize {
    for _ in 0..40 {
        t.line_at(n, "/mcp").await;
        n += 1;
        let screen = t.wait_for_n("You > ", n).await;
        if screen.contains("proj  ready, 11 tools") {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("proj never became ready:\n{}", t.screen());
}
