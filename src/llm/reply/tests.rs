use super::calls::merge_name;
use super::*;
use serde_json::json;

fn build(payloads: &[&str]) -> ReplyBuilder {
    let mut b = ReplyBuilder::new();
    for p in payloads {
        b.apply(&SseEvent {
            event: None,
            data: p.to_string(),
        })
        .expect("within the limit");
    }
    b
}

#[test]
fn tool_call_arguments_object_is_serialised() {
    let b = build(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"bash","arguments":{"command":"ls"}}}]}}]}"#,
    ]);
    assert_eq!(
        b.wire_calls(),
        [(
            Some("c1".into()),
            "bash".into(),
            r#"{"command":"ls"}"#.into()
        )]
    );
}

#[test]
fn new_id_on_reused_index_starts_a_new_call() {
    let b = build(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"x","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"y","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]}"#,
    ]);
    let calls = b.wire_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1], (Some("b".into()), "y".into(), "{}".into()));
}

#[test]
fn index_less_deltas_continue_the_latest_call_and_several_in_one_delta_are_separate() {
    let b = build(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"g1","function":{"name":"a","arguments":"{\"x\""}},{"id":"g2","function":{"name":"b","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":""}}]}}]}"#,
    ]);
    assert_eq!(b.wire_calls().len(), 2);
}

#[test]
fn names_are_never_clobbered_and_fragments_extend() {
    let mut n = String::new();
    for piece in ["read", "read_file", "", "read_file"] {
        merge_name(&mut n, Some(&Value::String(piece.into())));
    }
    assert_eq!(n, "read_file");
    merge_name(&mut n, Some(&Value::String("_x".into())));
    assert_eq!(n, "read_file_x");
}

#[test]
fn unknown_per_call_fields_are_kept_for_echo() {
    let b = build(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"t","function":{"name":"f","arguments":"{}"},"extra_content":{"google":{"thought_signature":"sig"}}}]},"finish_reason":"stop"}]}"#,
    ]);
    let reply = b.finish("r1");
    let call = &reply.tool_calls[0];
    assert_eq!(
        call.extra["extra_content"]["google"]["thought_signature"],
        "sig"
    );
    let wire = serde_json::to_value(call).unwrap();
    assert_eq!(wire["extra_content"]["google"]["thought_signature"], "sig");
}

#[test]
fn legacy_function_call_becomes_a_tool_call_with_generated_id() {
    let b = build(&[
        r#"{"choices":[{"delta":{"function_call":{"name":"bash","arguments":"{\"comm"}}}]}"#,
        r#"{"choices":[{"delta":{"function_call":{"arguments":"and\":\"ls\"}"}},"finish_reason":"function_call"}]}"#,
    ]);
    let reply = b.finish("seed");
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].id, "call_seed_0");
    assert_eq!(
        reply.tool_calls[0].function.arguments,
        r#"{"command":"ls"}"#
    );
}

#[test]
fn empty_arguments_become_empty_object() {
    let b = build(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"glob"}}]},"finish_reason":"tool_calls"}]}"#,
    ]);
    assert_eq!(b.finish("s").tool_calls[0].function.arguments, "{}");
}

#[test]
fn in_stream_error_string_or_object_is_recorded() {
    assert_eq!(build(&[r#"{"error":"boom"}"#]).error(), Some("boom"));
    assert_eq!(
        build(&[r#"{"error":{"message":"over","code":400}}"#]).error(),
        Some("over")
    );
    assert_eq!(build(&[r#"{"error":null,"choices":[]}"#]).error(), None);
}

#[test]
fn usage_falls_back_to_choice_and_x_groq_and_null_fields_count_zero() {
    let b = build(&[
        r#"{"choices":[{"delta":{},"usage":{"prompt_tokens":5,"completion_tokens":null}}]}"#,
    ]);
    let u = b.finish("s").usage.unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (5, 0));
    let b =
        build(&[r#"{"choices":[],"x_groq":{"usage":{"prompt_tokens":1,"completion_tokens":2}}}"#]);
    assert_eq!(b.finish("s").usage.unwrap().completion_tokens, 2);
}

#[test]
fn missing_finish_and_done_means_incomplete() {
    let b = build(&[r#"{"choices":[{"delta":{"content":"par"}}]}"#]);
    assert!(!b.is_complete());
    let b = build(&[r#"{"choices":[{"delta":{"content":"x"}}]}"#, "[DONE]"]);
    assert!(b.is_complete() && b.is_done());
}

#[test]
fn events_after_done_are_ignored_whichever_read_they_arrive_in() {
    let b = build(&[
        r#"{"choices":[{"delta":{"content":"a"}}]}"#,
        "[DONE]",
        r#"{"choices":[{"delta":{"content":"b"},"finish_reason":"stop"}]}"#,
    ]);
    assert_eq!((b.text(), b.chunks(), b.finish_reason()), ("a", 1, None));
    let mut b = ReplyBuilder::new();
    b.apply(&SseEvent {
        event: None,
        data: "[DONE]".into(),
    })
    .expect("within the limit");
    b.apply(&SseEvent {
        event: Some("error".into()),
        data: "late".into(),
    })
    .expect("within the limit");
    assert_eq!(b.error(), None);
}

#[test]
fn non_streamed_completion_body_is_understood() {
    let b = build(&[
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
    ]);
    assert_eq!(b.text(), "hi");
    assert!(b.is_complete());
}

fn content(text: &str) -> SseEvent {
    SseEvent {
        event: None,
        data: json!({"choices":[{"delta":{"content": text}}]}).to_string(),
    }
}

#[test]
fn the_reply_limit_is_64_bytes_a_token_between_8_mib_and_1_gib() {
    assert_eq!(reply_limit(4096), 8 << 20);
    assert_eq!(reply_limit(0), 8 << 20);
    assert_eq!(reply_limit(1_000_000), 64_000_000);
    assert_eq!(reply_limit(u32::MAX), 1 << 30);
    assert_eq!(ReplyBuilder::new().limit, reply_limit(4096));
}

#[test]
fn a_reply_past_its_limit_fails_for_good_and_stops_growing() {
    let mut b = ReplyBuilder::with_limit(100);
    let piece = "x".repeat(30);
    for _ in 0..3 {
        assert_eq!(b.apply(&content(&piece)).map(|d| d.text), Ok(piece.clone()));
    }
    let over = Err(ReplyTooLarge { limit: 100 });
    assert_eq!(b.apply(&content(&piece)), over);
    let held = b.size();
    assert_eq!(
        held, 120,
        "the event that crossed the limit is the last one taken"
    );
    assert_eq!(b.apply(&content("y")), over);
    assert_eq!(
        b.apply_chunk(&json!({"choices":[{"delta":{"content":"y"}}]})),
        over
    );
    assert_eq!(b.size(), held);
}

#[test]
fn reasoning_refusal_and_tool_calls_count_towards_the_limit() {
    let limit = 1000;
    let events = [
        json!({"choices":[{"delta":{"reasoning_content": "r".repeat(600)}}]}),
        json!({"choices":[{"delta":{"refusal": "n".repeat(600)}}]}),
        json!({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c",
            "function":{"name":"bash","arguments": "a".repeat(600)}}]}}]}),
        json!({"choices":[{"delta":{"function_call":{"name":"f","arguments": "a".repeat(600)}}}]}),
    ];
    for ev in &events {
        let mut b = ReplyBuilder::with_limit(limit);
        let ev = SseEvent {
            event: None,
            data: ev.to_string(),
        };
        assert!(b.apply(&ev).is_ok(), "600 bytes fit: {}", ev.data);
        assert_eq!(b.apply(&ev), Err(ReplyTooLarge { limit }), "{}", ev.data);
    }
    // Calls that carry nothing still add up.
    let mut b = ReplyBuilder::with_limit(limit);
    let mut result = Ok(Delta::default());
    for i in 0..100 {
        let chunk = json!({"choices":[{"delta":{"tool_calls":[{"index": i}]}}]});
        result = b.apply_chunk(&chunk);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(ReplyTooLarge { limit }));
}
