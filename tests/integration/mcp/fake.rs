//! Faults, with the fake server: banners, CRLF, garbage, crashes, hangs, a server that ignores
//! EOF and SIGTERM, huge output, isError, list changes, server→client requests.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use corecoder::mcp::server::State;

/// The fake server, or `None` (and a note) when python3 is missing.
fn fake(name: &str, flags: &[&str]) -> Option<ServerConfig> {
    let Some(python) = which("python3") else {
        println!("skipped: python3 is not installed");
        return None;
    };
    let script = manifest().join("tests/fixtures/mcp/fake_server.py");
    let mut args = vec![script.to_str().unwrap()];
    args.extend(flags);
    Some(stdio(name, python.to_str().unwrap(), &args))
}

#[tokio::test]
async fn mcp_banner_crlf_and_garbage_lines_do_not_break_the_protocol() {
    let Some(server) = fake("odd", &["--banner", "--crlf", "--garbage"]) else {
        return;
    };
    let s = start(vec![server]).await;
    assert_eq!(s.state("odd"), State::Ready, "{:?}", s.notices());
    assert_eq!(
        s.call("mcp__odd__echo", json!({"text": "hi"}))
            .await
            .unwrap(),
        "hi"
    );
    let log = s.hub.servers()[0].log.tail(200).join("\n");
    assert!(log.contains("not JSON: Fake MCP server starting"), "{log}");
    assert!(log.contains("not JSON: garbage"), "{log}");
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_a_crash_at_start_is_reported_once_with_its_stderr() {
    let Some(server) = fake("crashy", &["--crash"]) else {
        return;
    };
    let s = start(vec![server]).await;
    let State::Failed(why) = s.state("crashy") else {
        panic!("not failed: {:?}", s.state("crashy"));
    };
    assert!(why.contains("cannot open the configuration"), "{why}");
    let notices = s.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("MCP server crashy failed to start"));
    assert!(s.hub.tools().is_empty());
    assert!(s.hub.status().contains("failed"));
}

#[tokio::test]
async fn mcp_a_server_that_never_answers_times_out_and_others_still_start() {
    let (Some(mut slow), Some(good)) = (fake("slow", &["--hang-start"]), fake("good", &[])) else {
        return;
    };
    slow.startup_timeout = Duration::from_millis(500);
    let s = start(vec![slow, good]).await;
    let State::Failed(why) = s.state("slow") else {
        panic!("not failed");
    };
    assert!(why.contains("did not start within 0.5 s"), "{why}");
    assert_eq!(s.state("good"), State::Ready);
    assert!(
        s.hub
            .tools()
            .iter()
            .all(|t| t.name().starts_with("mcp__good__"))
    );
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_an_unsupported_protocol_version_is_refused() {
    let Some(server) = fake("future", &["--version=2099-01-01"]) else {
        return;
    };
    let s = start(vec![server]).await;
    assert!(matches!(s.state("future"), State::Failed(w) if w.contains("2099-01-01")));
}

#[tokio::test]
async fn mcp_shutdown_kills_a_server_that_ignores_eof_and_sigterm() {
    let Some(server) = fake("stubborn", &["--no-exit"]) else {
        return;
    };
    let s = start(vec![server]).await;
    assert_eq!(s.state("stubborn"), State::Ready);
    let pid = s
        .call("mcp__stubborn__env", json!({}))
        .await
        .map(|_| ())
        .ok();
    assert!(pid.is_some());
    let before = Instant::now();
    s.hub.shutdown().await;
    let took = before.elapsed();
    // Close stdin, 2 s, SIGTERM (ignored), 2 s, SIGKILL: about 4 s, well under 10.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let log = s.hub.servers()[0].log.tail(10).join("\n");
    assert!(log.contains("stdin closed"), "{log}");
    assert!(s.hub.tools().is_empty());
}

#[tokio::test]
async fn mcp_results_errors_huge_output_and_odd_content_reach_the_model_as_text() {
    let Some(server) = fake("f", &[]) else {
        return;
    };
    let s = start(vec![server]).await;
    let err = s.call("mcp__f__fail", json!({})).await.unwrap_err();
    assert_eq!(err, "it broke");
    let huge = s.call("mcp__f__huge", json!({})).await.unwrap();
    assert!(
        huge.len() < 20_000 && huge.contains("cut from the middle"),
        "{}",
        huge.len()
    );
    let odd = s.call("mcp__f__odd", json!({})).await.unwrap();
    assert!(
        odd.contains("\"hologram\"") && odd.contains("[image: image/png"),
        "{odd}"
    );
    assert!(!odd.contains("AAAA"));
    let structured = s.call("mcp__f__structured", json!({})).await.unwrap();
    assert_eq!(structured, r#"{"temperature":21}"#);
    let bad = s
        .call("mcp__f__echo", json!("not an object"))
        .await
        .unwrap_err();
    assert!(bad.contains("JSON object"), "{bad}");
    // The 100-character name is cut to 64 with a hash, and still callable.
    let long = s
        .hub
        .tools()
        .into_iter()
        .find(|t| t.name().starts_with("mcp__f__nnn"))
        .unwrap();
    assert!(long.name().len() <= 64, "{}", long.name());
    assert_eq!(
        long.run(json!({}), &s.ctx()).await.unwrap(),
        "long name called"
    );
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_progress_resets_the_timeout_and_a_hung_call_is_cancelled() {
    let Some(mut server) = fake("p", &[]) else {
        return;
    };
    server.tool_timeout = Duration::from_secs(1);
    let s = start(vec![server]).await;
    // Three seconds of progress every 0.25 s outlive a one-second timeout.
    let done = s
        .call("mcp__p__progress", json!({"seconds": 3}))
        .await
        .unwrap();
    assert_eq!(done, "done after progress");
    let err = s.call("mcp__p__hang", json!({})).await.unwrap_err();
    assert!(err.contains("no answer to tools/call within 1 s"), "{err}");
    let server = s.hub.servers()[0].clone();
    assert!(
        eventually(|| server
            .log
            .tail(20)
            .iter()
            .any(|l| l.starts_with("cancelled ")))
        .await,
        "{:?}",
        server.log.tail(20)
    );
    // Ctrl-C drops the call's future: the server is told too.
    let hang = s.tool("mcp__p__hang");
    let ctx = s.ctx();
    let call = tokio::spawn(async move { hang.run(json!({}), &ctx).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    call.abort();
    assert!(
        eventually(|| server
            .log
            .tail(20)
            .iter()
            .filter(|l| l.starts_with("cancelled "))
            .count()
            == 2)
        .await
    );
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_list_changes_are_followed_and_server_requests_answered() {
    let Some(server) = fake("c", &[]) else {
        return;
    };
    let s = start(vec![server]).await;
    let roots = s.call("mcp__c__roots", json!({})).await.unwrap();
    let uri = format!("file://{}", s.workspace.path().display());
    assert!(roots.contains(&uri), "{roots}");
    assert!(roots.contains("-32601"), "{roots}");
    assert!(s.hub.tools().iter().all(|t| t.name() != "mcp__c__added"));
    s.call("mcp__c__change", json!({})).await.unwrap();
    let hub = s.hub.clone();
    assert!(eventually(|| hub.tools().iter().any(|t| t.name() == "mcp__c__added")).await);
    assert_eq!(
        s.call("mcp__c__added", json!({})).await.unwrap(),
        "I am new"
    );
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_servers_see_only_the_filtered_environment_plus_their_own() {
    let Some(mut server) = fake("e", &[]) else {
        return;
    };
    if let Transport::Stdio { env, .. } = &mut server.transport {
        env.insert("SERVER_OWN".into(), "1".into());
    }
    let vars = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        ),
        ("OPENAI_API_KEY".to_string(), "sk-secret".to_string()),
        ("DB_PASSWORD".to_string(), "pw".to_string()),
        ("VISIBLE".to_string(), "yes".to_string()),
    ];
    let env = corecoder::mcp::setup::filtered_env(vars, &[]);
    let s = start_with_env(vec![server], env).await;
    let names = s.call("mcp__e__env", json!({})).await.unwrap();
    assert!(
        names.contains("VISIBLE") && names.contains("SERVER_OWN"),
        "{names}"
    );
    assert!(
        !names.contains("OPENAI_API_KEY") && !names.contains("DB_PASSWORD"),
        "{names}"
    );
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_tools_join_the_agent_and_ask_unless_a_rule_allows_them() {
    use crate::support::{ScriptedLlm, dispatcher, text_reply, tool_reply};
    use corecoder::agent::Agent;
    use corecoder::context::ContextManager;
    use corecoder::message::Message;
    use corecoder::policy::Mode;
    use corecoder::tools::Toolbox;

    let Some(server) = fake("d", &[]) else {
        return;
    };
    let s = start(vec![server]).await;
    let run = |mode: Mode| {
        let llm = ScriptedLlm::new(vec![
            Ok(tool_reply(&[(
                "c1",
                "mcp__d__echo",
                r#"{"text": "hello"}"#,
            )])),
            Ok(text_reply("done")),
        ]);
        let agent = Agent::new(
            llm.clone(),
            Toolbox::basic(),
            "system".into(),
            ContextManager::new(128_000),
            s.ctx(),
        )
        .with_dispatcher(dispatcher(s.workspace.path(), mode, None))
        .with_tool_source(s.hub.clone());
        (agent, llm)
    };
    let tool_result = |llm: &ScriptedLlm| {
        let (_, messages) = llm.requests().pop().unwrap();
        match messages.last().unwrap() {
            Message::Tool { content, .. } => content.clone(),
            other => panic!("{other:?}"),
        }
    };
    // Headless in acceptEdits: an MCP tool counts as changing things, so it is refused.
    let (mut agent, llm) = run(Mode::AcceptEdits);
    assert!(agent.tool_names().iter().any(|n| n == "mcp__d__echo"));
    agent.run_turn("go").await.unwrap();
    let refused = tool_result(&llm);
    assert!(
        refused.starts_with("Error:") && refused.contains("mcp__d__echo"),
        "{refused}"
    );
    let (mut agent, llm) = run(Mode::BypassPermissions);
    agent.run_turn("go").await.unwrap();
    assert_eq!(tool_result(&llm), "hello");
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_more_than_forty_tools_give_one_notice_and_unique_names() {
    let servers: Option<Vec<ServerConfig>> =
        ["a", "b", "c", "d"].iter().map(|n| fake(n, &[])).collect();
    let Some(servers) = servers else {
        return;
    };
    let s = start(servers).await;
    let tools = s.hub.tools();
    assert_eq!(tools.len(), 44);
    let names: std::collections::BTreeSet<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(names.len(), 44);
    let notices = s.notices();
    let warned: Vec<&String> = notices
        .iter()
        .filter(|n| n.contains("offer 44 tools"))
        .collect();
    assert_eq!(warned.len(), 1, "{notices:?}");
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_tools_reach_sub_agents_too() {
    use crate::support::{ScriptedLlm, dispatcher, text_reply, tool_reply};
    use corecoder::agent::Agent;
    use corecoder::agent::subagent::SubAgent;
    use corecoder::context::ContextManager;
    use corecoder::policy::Mode;
    use corecoder::tools::Toolbox;

    let Some(server) = fake("sub", &[]) else {
        return;
    };
    let s = start(vec![server]).await;
    // Parent: delegate; child: call the MCP tool, then answer; parent: answer.
    let llm = ScriptedLlm::new(vec![
        Ok(tool_reply(&[(
            "p1",
            "agent",
            r#"{"task": "echo via mcp"}"#,
        )])),
        Ok(tool_reply(&[(
            "s1",
            "mcp__sub__echo",
            r#"{"text": "child saw mcp"}"#,
        )])),
        Ok(text_reply("child done")),
        Ok(text_reply("parent done")),
    ]);
    let dispatcher = dispatcher(s.workspace.path(), Mode::BypassPermissions, None);
    let source: Arc<dyn ToolSource> = s.hub.clone();
    let sub = SubAgent::new(
        llm.clone(),
        Toolbox::basic(),
        "sub".into(),
        128_000,
        Arc::default(),
    )
    .with_dispatcher(dispatcher.clone())
    .with_tool_source(Some(source.clone()));
    let mut agent = Agent::new(
        llm.clone(),
        Toolbox::basic().with(Arc::new(sub)),
        "system".into(),
        ContextManager::new(128_000),
        s.ctx(),
    )
    .with_dispatcher(dispatcher)
    .with_tool_source(source);
    agent.run_turn("go").await.unwrap();
    // The child's second request carries the MCP tool's result.
    let requests = llm.requests();
    let results: Vec<String> = requests[2]
        .1
        .iter()
        .filter_map(|m| match m {
            corecoder::message::Message::Tool { content, .. } => Some(content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(results, ["child saw mcp"]);
    s.hub.shutdown().await;
}
