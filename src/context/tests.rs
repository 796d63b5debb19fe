//! The context manager's pure parts: the heuristic, snipping, splits, the anchor, the checks
//! of the first request and of cut prompts.

use super::*;
use crate::message::{FunctionCall, ToolCall};

fn call(id: &str) -> Message {
    Message::Assistant {
        content: None,
        tool_calls: vec![ToolCall {
            id: id.into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "bash".into(),
                arguments: "{}".into(),
            },
            extra: Default::default(),
        }],
    }
}

#[test]
fn heuristic_counts_cjk_denser_than_prose() {
    assert_eq!(approx_tokens("hello world, this is prose"), 7);
    assert_eq!(approx_tokens("你好世界你好"), 4);
    // Symbol-dense code uses 2.8 chars per token.
    assert_eq!(approx_tokens("{a:[1,2],b:{c:3}}"), 6);
}

#[test]
fn snip_keeps_first_and_last_three_lines_of_long_tool_output() {
    let long: String = (0..200)
        .map(|i| format!("line {i:04} of output\n"))
        .collect();
    let mut msgs = vec![Message::tool("a", long), Message::tool("b", "short")];
    assert!(snip_tool_outputs(&mut msgs));
    let text = msgs[0].text();
    assert!(text.starts_with("line 0000 of output\nline 0001"));
    assert!(text.contains("(200 lines, snipped to save context)"));
    assert!(text.ends_with("line 0199 of output"));
    assert_eq!(msgs[1].text(), "short");
}

#[test]
fn split_never_separates_tool_result_from_its_call() {
    let msgs = vec![
        Message::user("u"),
        call("1"),
        Message::tool("1", "r"),
        Message::tool("1b", "r"),
        Message::assistant("done"),
    ];
    // Keeping 3 would start the tail at a tool message; the split moves back to the call.
    assert_eq!(safe_split(&msgs, 3), 1);
}

#[test]
fn extraction_finds_paths_and_errors() {
    let msgs = vec![Message::tool("x", "src/main.rs:3: error: boom\nok")];
    let info = extract_key_info(&msgs);
    assert!(info.contains("src/main.rs"), "{info}");
    assert!(
        info.contains("Errors seen: src/main.rs:3: error: boom"),
        "{info}"
    );
}

#[test]
fn reported_prompt_tokens_anchor_the_estimate() {
    let mut cm = ContextManager::new(1000);
    let msgs = vec![Message::user("a"), Message::assistant("bbbbbbb")];
    assert_eq!(cm.record_usage(1, &msgs[..1], 500), None);
    assert_eq!(cm.estimate(1, &msgs), 500 + estimate_messages(&msgs[1..]));
    cm.forget_usage();
    assert!(cm.estimate(1, &msgs) < 50);
}

#[test]
fn a_first_request_over_half_the_window_is_warned_about_once() {
    let mut cm = ContextManager::new(4096).with_fix("use -c 32768");
    let msgs = vec![Message::user("word ".repeat(400))];
    let warning = cm.preflight(1_800, &msgs).expect("warned");
    assert!(
        warning.contains("context window of 4096 tokens"),
        "{warning}"
    );
    assert!(warning.contains("use -c 32768"), "{warning}");
    assert_eq!(
        cm.preflight(1_800, &msgs),
        None,
        "only before the first request"
    );
    let mut roomy = ContextManager::new(32_768);
    assert_eq!(roomy.preflight(1_800, &msgs), None);
}

#[test]
fn a_reported_size_far_below_the_estimate_is_not_trusted_and_told_once() {
    let mut cm = ContextManager::new(100_000);
    let msgs = vec![Message::user("x".repeat(34_000))];
    let estimate = 2_000 + estimate_messages(&msgs);
    // A 4,096-token window that kept only the end of a ~12,000-token prompt.
    let cut = cm.record_usage(2_000, &msgs, 4_096);
    assert_eq!(
        cut,
        Some(Truncated {
            estimate,
            reported: 4_096
        })
    );
    // The cut figure is not the anchor: the estimate stays the heuristic one.
    assert_eq!(cm.estimate(2_000, &msgs), estimate);
    assert_eq!(cm.record_usage(2_000, &msgs, 4_096), None, "told once");
    // A plausible figure (the heuristic overestimates a little) anchors as before.
    assert_eq!(cm.record_usage(2_000, &msgs, 11_000), None);
    assert_eq!(cm.estimate(0, &msgs), 11_000);
    // Small requests are never judged.
    let mut small = ContextManager::new(100_000);
    assert_eq!(small.record_usage(100, &[Message::user("hi")], 10), None);
}
