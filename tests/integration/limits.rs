//! The bounds on one reply, against servers that never stop: the reply's size (from
//! `max_tokens`), one event-stream line, and bytes that add nothing. Each ends the turn with a
//! message that says which bound, at once and without a retry.

use std::time::Duration;

use corecoder::llm::openai::{ClientSettings, OpenAiClient};
use corecoder::llm::{ChatRequest, Llm, LlmError, Reply, StreamEvent};
use corecoder::message::Message;
use serde_json::json;

use crate::binary::corecoder;
use crate::support::{MockServer, Script};

/// Far more than any of these needs (each is a second or two in a debug build); without the
/// bounds, each of them streamed until this ran out.
const GIVE_UP: Duration = Duration::from_secs(60);

fn client(server: &MockServer) -> OpenAiClient {
    OpenAiClient::new(ClientSettings {
        base_url: server.url.clone(),
        api_key: None,
        model: "test-model".into(),
        max_tokens: 4096,
        temperature: 0.0,
        idle_timeout: Some(Duration::from_secs(30)),
    })
    .expect("client")
}

/// Asks once; returns the outcome and how many bytes of text and reasoning were shown.
async fn ask(server: &MockServer) -> (Result<Reply, LlmError>, usize) {
    let client = client(server);
    let messages = [Message::user("hello")];
    let request = ChatRequest {
        system: "",
        context: None,
        messages: &messages,
        tail: None,
        tools: &[],
    };
    let mut shown = 0;
    let mut sink = |ev: StreamEvent| {
        if let StreamEvent::Text(t) | StreamEvent::Reasoning(t) = ev {
            shown += t.len();
        }
    };
    let result = tokio::time::timeout(GIVE_UP, client.stream(request, &mut sink))
        .await
        .expect("the stream is cut off by a bound, long before this");
    (result, shown)
}

fn content(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"choices":[{"index":0,"delta":{"content":text}}]})
    )
}

#[tokio::test]
async fn a_server_streaming_text_forever_fails_the_turn_at_the_reply_limit() {
    let forever = Script::SseThenRepeat(vec![], content(&"word ".repeat(800)));
    let server = MockServer::start(vec![forever]).await;
    let (result, shown) = ask(&server).await;
    let err = result.expect_err("no reply is that long");
    assert_eq!(
        err,
        LlmError::ReplyTooLarge {
            limit: 8 << 20,
            max_tokens: 4096
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("8388608 bytes (8 MiB)") && msg.contains("max_tokens = 4096"),
        "{msg}"
    );
    assert!(shown <= (8 << 20) + 4000, "shown {shown} bytes");
    assert_eq!(
        server.requests().len(),
        1,
        "a reply that large is not retried"
    );
}

#[tokio::test]
async fn reasoning_forever_is_bounded_the_same_way() {
    let piece = format!(
        "data: {}\n\n",
        json!({"choices":[{"delta":{"reasoning_content": "hmm ".repeat(1000)}}]})
    );
    let server = MockServer::start(vec![Script::SseThenRepeat(vec![], piece)]).await;
    let (result, _) = ask(&server).await;
    assert!(matches!(
        result,
        Err(LlmError::ReplyTooLarge { limit, .. }) if limit == 8 << 20
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_line_that_never_ends_fails_at_sixteen_mib() {
    let endless = Script::SseThenRepeat(vec!["data: ".into()], "a".repeat(64 * 1024));
    let server = MockServer::start(vec![endless]).await;
    let (result, _) = ask(&server).await;
    let err = result.expect_err("no line is that long");
    assert_eq!(err, LlmError::EventTooLarge { limit: 16 << 20 });
    assert!(
        err.to_string()
            .contains("more than 16777216 bytes (16 MiB) in one event-stream line"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn keep_alives_forever_fail_after_64_mib_without_content() {
    let comment = format!(": {}\n\n", "keep-alive ".repeat(6000));
    let server =
        MockServer::start(vec![Script::SseThenRepeat(vec![content("Hel")], comment)]).await;
    let (result, shown) = ask(&server).await;
    assert_eq!(shown, 3);
    match result {
        Err(LlmError::NoContent { bytes }) => assert!(bytes > 64 << 20, "{bytes}"),
        other => panic!("expected NoContent, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn the_binary_ends_an_endless_reply_with_the_reason_and_exit_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let forever = Script::SseThenRepeat(vec![], content(&"word ".repeat(800)));
    let server = MockServer::start(vec![forever]).await;
    let run = tokio::time::timeout(
        GIVE_UP,
        corecoder(
            dir.path(),
            &[
                ("OPENAI_BASE_URL", &server.url),
                ("CORECODER_MAX_TOKENS", "200000"),
            ],
            &["-p", "hello"],
        ),
    )
    .await
    .expect("the run ends at the limit");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // 200,000 tokens × 64 bytes: above the 8 MiB floor, so the setting is what counts.
    assert!(
        run.stderr
            .contains("the reply grew past 12800000 bytes (12.2 MiB)")
            && run.stderr.contains("max_tokens = 200000"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
}
