use super::*;

#[test]
fn retry_delay_prefers_milliseconds_and_caps_at_a_minute() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", "2".parse().unwrap());
    assert_eq!(retry_delay(&h), Some(Duration::from_secs(2)));
    h.insert("retry-after-ms", "1500".parse().unwrap());
    assert_eq!(retry_delay(&h), Some(Duration::from_millis(1500)));
    let mut h = HeaderMap::new();
    h.insert("retry-after", "3600".parse().unwrap());
    assert_eq!(retry_delay(&h), Some(Duration::from_secs(60)));
}

#[test]
fn error_text_reads_every_common_shape() {
    let shapes = [
        r#"{"error":{"message":"bad key","type":"auth"}}"#,
        r#"{"error":"bad key"}"#,
        r#"{"object":"error","message":"bad key"}"#,
        r#"[{"error":{"message":"bad key"}}]"#,
        r#"{"message":"bad key"}"#,
    ];
    for s in shapes {
        assert_eq!(error_text(s, None), "bad key", "{s}");
    }
    assert_eq!(
        error_text("<html>\n<b>502</b> Bad Gateway</html>", None),
        "<html> <b>502</b> Bad Gateway</html>"
    );
    assert_eq!(error_text("", Some("Bad Gateway")), "Bad Gateway");
}

#[test]
fn backoff_doubles_from_one_second() {
    let waits: Vec<u64> = (1..=3).map(|r| backoff(r).as_secs()).collect();
    assert_eq!(waits, [1, 2, 4]);
}

#[test]
fn the_tail_rides_on_a_last_user_or_tool_message_and_stands_alone_otherwise() {
    let tool = [Message::user("go"), Message::tool("c1", "ok")];
    let (history, last) = split_tail(&tool, Some("[todo]"));
    assert_eq!(history, &tool[..1]);
    assert_eq!(last, Some(Message::tool("c1", "ok\n\n[todo]")));
    let user = [Message::user("go")];
    let (history, last) = split_tail(&user, Some("[todo]"));
    assert!(history.is_empty());
    assert_eq!(last, Some(Message::user("go\n\n[todo]")));
    let answered = [Message::user("go"), Message::assistant("done")];
    let (history, last) = split_tail(&answered, Some("[todo]"));
    assert_eq!((history.len(), last), (2, Some(Message::user("[todo]"))));
    assert_eq!(split_tail(&tool, None), (&tool[..], None));
}
