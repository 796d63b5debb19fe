//! `OpenAiClient` against the local server: the request it sends, and every fault policy.
//! Waits run on tokio's paused clock, so backoff and timeouts are checked exactly and fast.

use std::time::Duration;

use corecoder::llm::openai::{ClientSettings, OpenAiClient};
use corecoder::llm::{ChatRequest, Llm, LlmError, Reply, StreamEvent};
use corecoder::message::Message;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::support::{MockServer, Script, sse_text, sse_tools};

/// A client for `server`. No idle timeout: on tokio's paused clock a timer that races real
/// socket I/O may fire early, so only the test about the timeout itself sets one.
fn client(server: &MockServer, key: Option<&str>) -> OpenAiClient {
    client_with_idle(server, key, None)
}

fn client_with_idle(
    server: &MockServer,
    key: Option<&str>,
    idle: Option<Duration>,
) -> OpenAiClient {
    OpenAiClient::new(ClientSettings {
        base_url: server.url.clone(),
        api_key: key.map(str::to_string),
        model: "test-model".into(),
        max_tokens: 4096,
        temperature: 0.0,
        idle_timeout: idle,
    })
    .expect("client")
}

async fn ask(client: &OpenAiClient) -> (Result<Reply, LlmError>, Vec<StreamEvent>) {
    let messages = [Message::user("hello")];
    let tools =
        [json!({"type":"function","function":{"name":"bash","parameters":{"type":"object"}}})];
    let request = ChatRequest {
        system: "be brief",
        context: None,
        messages: &messages,
        tail: None,
        tools: &tools,
    };
    let mut events = Vec::new();
    let result = client.stream(request, &mut |ev| events.push(ev)).await;
    (result, events)
}

fn waits(events: &[StreamEvent]) -> Vec<Duration> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Retrying { wait, .. } => Some(*wait),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn request_carries_stream_tools_limits_and_usage_option() {
    let server = MockServer::start(vec![Script::Sse(sse_text("hi there"))]).await;
    let (reply, _) = ask(&client(&server, Some("sk-test"))).await;
    assert_eq!(reply.expect("reply").text, "hi there");
    let req = &server.requests()[0];
    let body = &req.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["max_tokens"], 4096);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["tools"][0]["function"]["name"], "bash");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "hello"})
    );
    assert_eq!(req.headers["authorization"], "Bearer sk-test");
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let server = MockServer::start(vec![Script::Sse(sse_text("ok"))]).await;
    ask(&client(&server, None)).await.0.expect("reply");
    assert!(!server.requests()[0].headers.contains_key("authorization"));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_as_long_as_retry_after_says() {
    let limited =
        Script::status(429, r#"{"error":{"message":"slow down"}}"#).with_header("retry-after", "7");
    let server = MockServer::start(vec![limited, Script::Sse(sse_text("done"))]).await;
    let start = Instant::now();
    let (reply, events) = ask(&client(&server, None)).await;
    assert_eq!(reply.expect("reply").text, "done");
    assert_eq!(waits(&events), [Duration::from_secs(7)]);
    assert!(start.elapsed() >= Duration::from_secs(7));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_ms_wins_and_waits_are_capped_at_a_minute() {
    let a = Script::status(429, "{}")
        .with_header("retry-after-ms", "250")
        .with_header("retry-after", "9");
    let b = Script::status(429, "{}").with_header("retry-after", "3600");
    let server = MockServer::start(vec![a, b, Script::Sse(sse_text("ok"))]).await;
    let (reply, events) = ask(&client(&server, None)).await;
    reply.expect("reply");
    assert_eq!(
        waits(&events),
        [Duration::from_millis(250), Duration::from_secs(60)]
    );
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_then_success_backs_off_one_second() {
    let server = MockServer::start(vec![
        Script::status(503, "busy"),
        Script::Sse(sse_text("fine")),
    ])
    .await;
    let (reply, events) = ask(&client(&server, None)).await;
    assert_eq!(reply.expect("reply").text, "fine");
    assert_eq!(waits(&events), [Duration::from_secs(1)]);
}

#[tokio::test(start_paused = true)]
async fn persistent_bad_gateway_gives_up_after_four_attempts_with_exponential_backoff() {
    let page = Script::Status {
        code: 502,
        headers: vec![],
        content_type: "text/html",
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
    };
    let server = MockServer::start(vec![
        page.clone(),
        page.clone(),
        page.clone(),
        page.clone(),
        page,
    ])
    .await;
    let (reply, events) = ask(&client(&server, None)).await;
    let err = reply.expect_err("must fail");
    assert!(
        matches!(&err, LlmError::Http { status: 502, message } if message.contains("502 Bad Gateway")),
        "{err}"
    );
    assert_eq!(waits(&events), [1, 2, 4].map(Duration::from_secs));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn unauthorized_fails_at_once_with_the_providers_message() {
    let body = r#"{"error":{"message":"Incorrect API key provided: sk-bad","type":"invalid_request_error"}}"#;
    let server = MockServer::start(vec![Script::status(401, body)]).await;
    let (reply, events) = ask(&client(&server, Some("sk-bad"))).await;
    assert_eq!(
        reply.expect_err("must fail"),
        LlmError::Http {
            status: 401,
            message: "Incorrect API key provided: sk-bad".into()
        }
    );
    assert!(waits(&events).is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_400_naming_stream_options_is_retried_once_without_it() {
    let rejected = Script::status(
        400,
        r#"{"error":{"message":"Unrecognized request argument supplied: stream_options"}}"#,
    );
    let server = MockServer::start(vec![rejected, Script::Sse(sse_text("ok"))]).await;
    let c = client(&server, None);
    assert_eq!(ask(&c).await.0.expect("reply").text, "ok");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].body.get("stream_options").is_some());
    assert!(reqs[1].body.get("stream_options").is_none());
}

#[tokio::test]
async fn rejected_max_tokens_and_temperature_are_adapted_and_remembered() {
    let no_max = Script::status(
        400,
        r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."}}"#,
    );
    let no_temp = Script::status(
        400,
        r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0 with this model."}}"#,
    );
    let server = MockServer::start(vec![
        no_max,
        no_temp,
        Script::Sse(sse_text("a")),
        Script::Sse(sse_text("b")),
    ])
    .await;
    let c = client(&server, None);
    ask(&c).await.0.expect("first");
    ask(&c).await.0.expect("second");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let last: &Value = &reqs[3].body;
    assert_eq!(last["max_completion_tokens"], 4096);
    assert!(last.get("max_tokens").is_none() && last.get("temperature").is_none());
}

#[tokio::test]
async fn other_400s_fail_without_retry() {
    let server = MockServer::start(vec![Script::status(
        400,
        r#"{"object":"error","message":"context too long"}"#,
    )])
    .await;
    let err = ask(&client(&server, None)).await.0.expect_err("fails");
    assert_eq!(
        err,
        LlmError::Http {
            status: 400,
            message: "context too long".into()
        }
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_cut_mid_way_is_retried_and_the_partial_text_discarded() {
    let full = sse_text("Hello, this is the whole answer.");
    let partial = full[..4].to_vec();
    let server = MockServer::start(vec![Script::SseThenCut(partial), Script::Sse(full)]).await;
    let (reply, events) = ask(&client(&server, None)).await;
    assert_eq!(
        reply.expect("reply").text,
        "Hello, this is the whole answer."
    );
    let discarded = events
        .iter()
        .position(|e| *e == StreamEvent::Discarded)
        .expect("discard marker");
    // Counting only what was shown after the discard marker, the answer appears exactly once.
    let after: String = events[discarded..]
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(after, "Hello, this is the whole answer.");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_keeps_breaking_is_an_error_after_two_restarts() {
    let partial = sse_text("never finishes")[..2].to_vec();
    let cut = Script::SseThenCut(partial);
    let server = MockServer::start(vec![cut.clone(), cut.clone(), cut]).await;
    let err = ask(&client(&server, None)).await.0.expect_err("fails");
    assert_eq!(err, LlmError::Incomplete { attempts: 3 });
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn silence_longer_than_the_idle_timeout_is_a_timeout() {
    let partial = sse_text("slow")[..2].to_vec();
    let hang = Script::SseThenHang(partial);
    let server = MockServer::start(vec![hang.clone(), hang.clone(), hang]).await;
    let start = Instant::now();
    let c = client_with_idle(&server, None, Some(Duration::from_secs(120)));
    let (reply, events) = ask(&c).await;
    assert_eq!(
        reply.expect_err("fails"),
        LlmError::Incomplete { attempts: 3 }
    );
    let reasons: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Retrying { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().all(|r| r.contains("no data for 120s")),
        "{reasons:?}"
    );
    // Three silent waits of 120 s and two backoffs (1 s, 2 s), on the paused clock.
    assert!(start.elapsed() >= Duration::from_secs(363));
}

#[tokio::test]
async fn a_200_that_is_not_an_event_stream_is_a_clear_error() {
    let html = Script::Status {
        code: 200,
        headers: vec![],
        content_type: "text/html",
        body: "<!doctype html><title>Login</title><p>Please sign in</p>".into(),
    };
    let server = MockServer::start(vec![html]).await;
    let err = ask(&client(&server, None)).await.0.expect_err("fails");
    assert!(
        matches!(&err, LlmError::NotEventStream(s) if s.contains("Please sign in")),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_non_streamed_json_completion_is_still_understood() {
    let body = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"plain json"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#;
    let server = MockServer::start(vec![Script::status(200, body)]).await;
    let reply = ask(&client(&server, None)).await.0.expect("reply");
    assert_eq!(reply.text, "plain json");
    assert_eq!(reply.usage.expect("usage").completion_tokens, 2);
}

#[tokio::test]
async fn an_error_inside_a_200_stream_fails_the_request() {
    let mut pieces = sse_tools(&[("c1", "bash", json!({"command": "ls"}))]);
    pieces.insert(
        2,
        "data: {\"error\":{\"message\":\"upstream overloaded\",\"code\":502}}\n\n".into(),
    );
    let server = MockServer::start(vec![Script::Sse(pieces)]).await;
    let err = ask(&client(&server, None)).await.0.expect_err("fails");
    assert_eq!(err, LlmError::InStream("upstream overloaded".into()));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let c = OpenAiClient::new(ClientSettings {
        // Credentials in the URL must not reach the message.
        base_url: format!("http://user:s3cret-pass@127.0.0.1:{port}/v1?api_key=sk-in-query"),
        api_key: None,
        model: "m".into(),
        max_tokens: 10,
        temperature: 0.0,
        idle_timeout: None,
    })
    .expect("client");
    tokio::time::pause();
    let (reply, events) = ask(&c).await;
    assert!(matches!(reply, Err(LlmError::Connect { .. })), "{reply:?}");
    assert_eq!(waits(&events).len(), 3);
    let said = reply.expect_err("refused").to_string();
    assert!(said.contains("[redacted]@127.0.0.1"), "{said}");
    assert!(
        !said.contains("s3cret") && !said.contains("sk-in-query"),
        "{said}"
    );
}
