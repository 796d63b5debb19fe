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
