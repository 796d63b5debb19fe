//! The real servers, installed by `scripts/mcp-test-servers.sh` into target/mcp-servers at
//! pinned versions and started by absolute path. Missing: "skipped: …" and pass.

use serde_json::json;

use super::*;

fn installed(relative: &str) -> Option<String> {
    let path = manifest().join("target/mcp-servers").join(relative);
    if exists(&path) {
        Some(path.to_string_lossy().into_owned())
    } else {
        println!(
            "skipped: {} is not installed (run scripts/mcp-test-servers.sh)",
            path.display()
        );
        None
    }
}

fn everything() -> Option<String> {
    installed("node/node_modules/.bin/mcp-server-everything")
}

#[tokio::test]
async fn mcp_real_everything_filesystem_and_time_servers_work() {
    let (Some(ev), Some(fs), Some(time)) = (
        everything(),
        installed("node/node_modules/.bin/mcp-server-filesystem"),
        installed("py/bin/mcp-server-time"),
    ) else {
        return;
    };
    // The filesystem server confines itself to the roots the client reports (the hub's
    // workspace), whatever directory its command line names.
    let elsewhere = tempfile::tempdir().unwrap();
    let elsewhere = elsewhere.path().to_str().unwrap().to_string();
    let s = start(vec![
        stdio("everything", &ev, &[]),
        stdio("fs", &fs, &[&elsewhere]),
        stdio("time", &time, &["--local-timezone", "UTC"]),
    ])
    .await;
    for name in ["everything", "fs", "time"] {
        assert_eq!(s.state(name), State::Ready, "{name}: {}", s.hub.status());
    }
    let tools = s.hub.tools();
    for t in &tools {
        let schema = t.parameters();
        assert!(schema.get("$schema").is_none(), "{}", t.name());
        assert_eq!(schema["type"], "object");
        assert!(t.name().len() <= 64);
    }
    assert_eq!(
        s.call("mcp__everything__echo", json!({"message": "hi"}))
            .await
            .unwrap(),
        "Echo: hi"
    );
    let image = s
        .call("mcp__everything__get-tiny-image", json!({}))
        .await
        .unwrap();
    assert!(image.contains("[image: image/png"), "{image}");
    assert!(image.len() < 2_000, "{}", image.len());
    let links = s
        .call("mcp__everything__get-resource-links", json!({"count": 2}))
        .await
        .unwrap();
    assert!(links.contains("[resource link:"), "{links}");
    let progress = s
        .call(
            "mcp__everything__trigger-long-running-operation",
            json!({"duration": 1, "steps": 3}),
        )
        .await
        .unwrap();
    assert!(
        progress.contains("completed") || progress.contains("Long running"),
        "{progress}"
    );
    let now = s
        .call("mcp__time__get_current_time", json!({"timezone": "UTC"}))
        .await
        .unwrap();
    assert!(now.contains("UTC"), "{now}");
    let ws = s.workspace.path().to_str().unwrap().to_string();
    std::fs::write(s.workspace.path().join("note.txt"), "from the workspace").unwrap();
    let read = s
        .call(
            "mcp__fs__read_text_file",
            json!({"path": format!("{ws}/note.txt")}),
        )
        .await
        .unwrap();
    assert!(read.contains("from the workspace"), "{read}");
    let outside = s
        .call("mcp__fs__read_text_file", json!({"path": "/etc/hostname"}))
        .await;
    assert!(outside.is_err(), "{outside:?}");
    s.hub.shutdown().await;
}

#[tokio::test]
async fn mcp_real_everything_over_streamable_http_on_loopback() {
    let Some(ev) = everything() else {
        return;
    };
    // The server takes its port from PORT; a port just freed by the OS is free enough here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(&ev)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    use tokio::io::AsyncBufReadExt;
    while !line.contains("listening") {
        line.clear();
        if stderr.read_line(&mut line).await.unwrap() == 0 {
            panic!("the server ended before listening");
        }
    }
    let mut config = stdio("web", "unused", &[]);
    config.transport = Transport::Http {
        url: format!("http://127.0.0.1:{port}/mcp"),
        headers: Default::default(),
    };
    let s = start(vec![config]).await;
    assert_eq!(s.state("web"), State::Ready, "{}", s.hub.status());
    assert_eq!(
        s.call("mcp__web__echo", json!({"message": "over http"}))
            .await
            .unwrap(),
        "Echo: over http"
    );
    let sum = s
        .call("mcp__web__get-sum", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert!(sum.contains('5'), "{sum}");
    s.hub.shutdown().await;
    let _ = child.kill().await;
}
