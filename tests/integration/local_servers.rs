//! Local model servers through the binary, with fake servers on 127.0.0.1:0 standing in for
//! Ollama, llama.cpp, LM Studio and vLLM (the probe's ports come from
//! `CORECODER_LOCAL_SERVERS`; the real ports are never probed here).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::corecoder;
use crate::support::{MockServer, Script, sse_text, sse_tools};

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn models(ids: &[&str]) -> Value {
    json!({"object": "list", "data": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()})
}

async fn llama_cpp(n_ctx: u64, script: Vec<Script>) -> MockServer {
    MockServer::with_routes(
        script,
        vec![
            ("/v1/models", models(&["qwen-local"])),
            (
                "/props",
                json!({"default_generation_settings": {"n_ctx": n_ctx}, "total_slots": 1}),
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn without_a_key_or_url_the_first_local_server_in_order_is_used_with_its_model_and_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let llama = llama_cpp(8192, vec![Script::Sse(sse_text("Hi from local."))]).await;
    // A vLLM answers too, but comes later in the order.
    let vllm = MockServer::with_routes(
        vec![],
        vec![(
            "/v1/models",
            json!({"data": [{"id": "other", "max_model_len": 4096}]}),
        )],
    )
    .await;
    let servers = format!(
        "ollama={},llamacpp={},vllm={}",
        closed_port(),
        llama.port(),
        vllm.port()
    );
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hello"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "Hi from local.\n");
    let url = format!("http://127.0.0.1:{}/v1", llama.port());
    assert!(
        run.stderr.contains(&format!(
            "using the llama.cpp server at {url} with model qwen-local (no key sent)"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("8192 tokens"), "{}", run.stderr);
    let request = &llama.requests()[0];
    assert_eq!(request.body["model"], "qwen-local");
    assert!(
        !request.headers.contains_key("authorization"),
        "no key, not even a fake one: {:?}",
        request.headers
    );
    // Every port was asked at once; the later one's answer was not used.
    assert_eq!(vllm.paths(), ["/v1/models"]);
    assert!(vllm.requests().is_empty());
}

#[tokio::test]
async fn ollama_with_several_models_uses_the_running_one_and_its_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ollama = MockServer::with_routes(
        vec![Script::Sse(sse_text("ok"))],
        vec![
            ("/v1/models", models(&["llama3:8b", "qwen2.5-coder:latest"])),
            (
                "/api/ps",
                json!({"models": [{"name": "qwen2.5-coder:latest", "model": "qwen2.5-coder:latest", "context_length": 4096}]}),
            ),
        ],
    )
    .await;
    let servers = format!("ollama={}", ollama.port());
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hello"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(ollama.requests()[0].body["model"], "qwen2.5-coder:latest");
    assert!(
        run.stderr.contains("4096 tokens (/api/ps"),
        "{}",
        run.stderr
    );
    // The first request (system prompt and tools alone are well over 2,048 tokens) is
    // warned about before it is sent, with Ollama's fix.
    assert!(
        run.stderr
            .contains("more than half of the model's context window of 4096 tokens")
            && run.stderr.contains("OLLAMA_CONTEXT_LENGTH=32768"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn several_models_and_none_loaded_ask_for_m() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::with_routes(
        vec![],
        vec![("/v1/models", models(&["a-model", "b-model"]))],
    )
    .await;
    let servers = format!("lmstudio={}", server.port());
    let env = [("CORECODER_LOCAL_SERVERS", servers.as_str())];
    let run = corecoder(dir.path(), &env, &["-p", "hello"]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("offers several models: a-model, b-model; choose one with -m NAME"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    // With -m, that model is used (and no list is needed).
    let server = MockServer::with_routes(
        vec![Script::Sse(sse_text("ok"))],
        vec![("/v1/models", models(&["a-model", "b-model"]))],
    )
    .await;
    let servers = format!("lmstudio={}", server.port());
    let env = [("CORECODER_LOCAL_SERVERS", servers.as_str())];
    let run = corecoder(dir.path(), &env, &["-p", "hello", "-m", "b-model"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(server.requests()[0].body["model"], "b-model");
}

#[tokio::test]
async fn a_port_that_never_answers_does_not_hold_up_the_probe() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Accepts connections and reads nothing: only the probe's budget ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let llama = llama_cpp(32768, vec![Script::Sse(sse_text("ok"))]).await;
    let servers = format!("ollama={silent_port},llamacpp={}", llama.port());
    let started = Instant::now();
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hello"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(llama.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn no_key_and_no_local_server_names_the_ports_probed_and_the_ways_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = closed_port();
    let servers = format!("ollama={port}");
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hi"],
    )
    .await;
    assert_eq!(run.code, Some(1));
    for needle in [
        format!("no local model server answered on 127.0.0.1 (Ollama {port})"),
        "OPENAI_API_KEY".to_string(),
        "OLLAMA_CONTEXT_LENGTH=32768 ollama serve".to_string(),
        "scripts/local-model.sh".to_string(),
    ] {
        assert!(run.stderr.contains(&needle), "{needle}: {}", run.stderr);
    }
}

#[tokio::test]
async fn the_local_model_script_is_started_when_nothing_else_is_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let llama = llama_cpp(8192, vec![Script::Sse(sse_text("Started and answered."))]).await;
    // Stands in for scripts/local-model.sh: progress on stderr, the URL on stdout.
    let script = dir.path().join("start-model.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = start ] || exit 9\necho 'building (about 9 minutes)' >&2\n\
             echo OPENAI_BASE_URL=http://127.0.0.1:{}/v1\necho OPENAI_API_KEY=local\n",
            llama.port()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let servers = format!("ollama={}", closed_port());
    let script_arg = script.display().to_string();
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hello", "--local-model-script", &script_arg],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "Started and answered.\n");
    assert!(
        run.stderr.contains("starting the local model with"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("building (about 9 minutes)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_configured_local_url_gets_its_window_and_a_cut_prompt_is_warned_about_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vllm = MockServer::with_routes(
        vec![
            // Both replies say 100 prompt tokens, far below the ~2,000 sent.
            Script::Sse(sse_tools(&[("c1", "glob", json!({"pattern": "*"}))])),
            Script::Sse(sse_text("Done.")),
        ],
        vec![(
            "/v1/models",
            json!({"data": [{"id": "served", "max_model_len": 32000}]}),
        )],
    )
    .await;
    let run = corecoder(
        dir.path(),
        &[
            ("OPENAI_BASE_URL", &vllm.url),
            ("CORECODER_MODEL", "served"),
        ],
        &["-p", "hello"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("32000 tokens (max_model_len"),
        "{}",
        run.stderr
    );
    let warned = run.stderr.matches("most likely cut the prompt").count();
    assert_eq!(warned, 1, "{}", run.stderr);
    assert!(run.stderr.contains("OLLAMA_CONTEXT_LENGTH=32768"));
    // CORECODER_MAX_CONTEXT, when given, is not replaced by the server's figure.
    let run = corecoder(
        dir.path(),
        &[
            ("OPENAI_BASE_URL", &vllm.url),
            ("CORECODER_MODEL", "served"),
            ("CORECODER_MAX_CONTEXT", "64000"),
        ],
        &["-p", "hello"],
    )
    .await;
    assert!(!run.stderr.contains("max_model_len"), "{}", run.stderr);
}

#[tokio::test]
async fn an_ollama_model_not_loaded_yet_is_loaded_to_learn_its_window_else_4096_is_assumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ollama = MockServer::with_routes(
        vec![Script::Sse(sse_text("ok"))],
        vec![
            ("/v1/models", models(&["qwen2.5-coder:latest"])),
            ("/api/ps", json!({"models": []})),
            ("/api/show", json!({"parameters": "temperature 0.2"})),
            (
                "/api/generate",
                json!({"model": "qwen2.5-coder:latest", "done": true}),
            ),
        ],
    )
    .await;
    let servers = format!("ollama={}", ollama.port());
    let run = corecoder(
        dir.path(),
        &[("CORECODER_LOCAL_SERVERS", &servers)],
        &["-p", "hello"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let paths = ollama.paths();
    let load = paths.iter().position(|p| p == "/api/generate");
    assert!(load.is_some(), "the model was loaded: {paths:?}");
    assert_eq!(
        paths.iter().filter(|p| *p == "/api/ps").count(),
        2,
        "{paths:?}"
    );
    assert!(
        run.stderr.contains("4096 tokens (assumed"),
        "{}",
        run.stderr
    );
}
