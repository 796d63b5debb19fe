//! Pure SSE decoding: bytes → events, per the WHATWG event-stream rules.
//!
//! Line endings LF, CRLF and lone CR (also split across network reads), comment lines,
//! `event:`/`id:`/`retry:` fields, several `data:` lines joined with `\n`, `data:` without a
//! space, and a last event that ends without its blank line. Nothing here does I/O or knows
//! about JSON: `reply.rs` reads the payloads.
//!
//! What the decoder holds is bounded: a line, together with the data its event has gathered so
//! far, may not pass [`MAX_EVENT_BYTES`]. A server that sends a line without end (or an event
//! without its blank line) fails the stream with [`EventTooLarge`] instead of growing the
//! buffer until memory runs out.

/// The most one unfinished line plus the data of its event may hold: 16 MiB. Real events are a
/// few hundred bytes; the largest legitimate ones (a whole non-streamed completion, a tool
/// call's arguments in one piece) are far below this.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// One dispatched server-sent event. `event` is `None` for the default `message` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// A line (or the event it belongs to) grew past the decoder's limit without ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the provider sent more than {limit} bytes in one event-stream line or event without ending it"
)]
pub struct EventTooLarge {
    pub limit: usize,
}

/// Incremental WHATWG event-stream decoder: feed it network reads of any size.
#[derive(Debug)]
pub struct SseDecoder {
    line: Vec<u8>,
    // A `\r` ended the previous read; a `\n` starting the next one belongs to it (CRLF split
    // across two network reads must not produce an empty line, which would dispatch early).
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    limit: usize,
    failed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder whose line-plus-event limit is `limit` bytes instead of [`MAX_EVENT_BYTES`].
    pub fn with_limit(limit: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            limit,
            failed: false,
        }
    }

    /// Decodes `bytes`, returning every event completed by them.
    ///
    /// When a line or event passes the limit, its buffers are released and the decoder fails
    /// for good: this call fails, unless events were completed before that point in `bytes`;
    /// those are returned and the next call (`push` or `finish`) fails. So the events a
    /// stream delivers before the overflow do not depend on how it was cut into reads.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>, EventTooLarge> {
        if self.failed {
            return Err(self.too_large());
        }
        let mut out = Vec::new();
        while !bytes.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if bytes[0] == b'\n' {
                    bytes = &bytes[1..];
                    continue;
                }
            }
            let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n');
            let piece = &bytes[..end.unwrap_or(bytes.len())];
            if !self.take(piece) {
                return match out.is_empty() {
                    true => Err(self.too_large()),
                    false => Ok(out),
                };
            }
            let Some(end) = end else {
                break;
            };
            self.after_cr = bytes[end] == b'\r';
            self.end_line(&mut out);
            bytes = &bytes[end + 1..];
        }
        Ok(out)
    }

    /// End of stream: a last event without its blank line is still delivered (lenient; several
    /// servers close right after the final `data:` line). Fails if the decoder has failed.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, EventTooLarge> {
        if self.failed {
            return Err(self.too_large());
        }
        if !self.line.is_empty() {
            let mut out = Vec::new();
            self.end_line(&mut out);
        }
        Ok(self.dispatch())
    }

    fn too_large(&self) -> EventTooLarge {
        EventTooLarge { limit: self.limit }
    }

    /// Adds `piece` to the current line; false (and the decoder fails) when the line and its
    /// event's data would pass the limit. Capacity is reserved by hand so the buffer itself
    /// never exceeds the limit either.
    fn take(&mut self, piece: &[u8]) -> bool {
        let held = self.line.len() + self.data.len() + usize::from(self.has_data);
        if piece.len() > self.limit.saturating_sub(held) {
            self.failed = true;
            self.line = Vec::new();
            self.data = String::new();
            self.event = None;
            self.has_data = false;
            return false;
        }
        let needed = self.line.len() + piece.len();
        if needed > self.line.capacity() {
            let room = self.limit - (held - self.line.len());
            let target = needed.max(self.line.capacity() * 2).min(room);
            self.line.reserve_exact(target - self.line.len());
        }
        self.line.extend_from_slice(piece);
        true
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        // Taken, not copied: a long line is not held twice.
        let line = match String::from_utf8(std::mem::take(&mut self.line)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if line.is_empty() {
            out.extend(self.dispatch());
            return;
        }
        if line.starts_with(':') {
            return; // comment: keep-alives, `: OPENROUTER PROCESSING`
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {} // `id:`, `retry:` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        let data = std::mem::take(&mut self.data);
        let event = event.filter(|e| !e.is_empty() && e != "message");
        Some(SseEvent { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(d.push(c).expect("within the limit"));
        }
        out.extend(d.finish().expect("within the limit"));
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn decoder_accepts_lf_crlf_and_lone_cr() {
        let ev = decode_all(&[b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n"]);
        assert_eq!(data(&ev), ["a", "b", "c", "d"]);
    }

    #[test]
    fn decoder_handles_crlf_split_across_reads() {
        let ev = decode_all(&[b"data: a\r", b"\n", b"data: b\r\n\r", b"\ndata: c\r\n\r\n"]);
        // `a` and `b` are one event: the split CRLF never produced an empty line between them.
        assert_eq!(data(&ev), ["a\nb", "c"]);
    }

    #[test]
    fn decoder_joins_multiline_data_and_strips_one_space() {
        let ev = decode_all(&[b"data:{\"a\":\ndata:  1}\n\n"]);
        assert_eq!(data(&ev), ["{\"a\":\n 1}"]);
    }

    #[test]
    fn decoder_ignores_comments_ids_and_retry_and_keeps_event_type() {
        let ev = decode_all(&[
            b": OPENROUTER PROCESSING\n\nid: 7\nretry: 10\nevent: message\ndata: x\n\nevent: error\ndata: y\n\nretry: 5\n\n",
        ]);
        assert_eq!(data(&ev), ["x", "y"]);
        assert_eq!(ev[0].event, None);
        assert_eq!(ev[1].event.as_deref(), Some("error"));
    }

    #[test]
    fn decoder_delivers_last_event_without_blank_line() {
        let ev = decode_all(&[b"data: last"]);
        assert_eq!(data(&ev), ["last"]);
    }

    #[test]
    fn decoder_keeps_multibyte_characters_split_across_reads() {
        let bytes = "data: héllo 😊\n\n".as_bytes();
        let ev = decode_all(&[&bytes[..8], &bytes[8..14], &bytes[14..]]);
        assert_eq!(data(&ev), ["héllo 😊"]);
    }

    #[test]
    fn a_line_without_end_fails_at_the_limit_and_the_buffer_never_passes_it() {
        let mut d = SseDecoder::with_limit(100);
        for _ in 0..100 {
            assert_eq!(d.push(b"x"), Ok(vec![]));
            assert!(d.line.capacity() <= 100, "capacity {}", d.line.capacity());
        }
        assert_eq!(d.push(b"x"), Err(EventTooLarge { limit: 100 }));
        assert_eq!(d.line.capacity(), 0, "the buffer is released");
        // Failed for good: later reads, even harmless ones, and the end of the stream.
        assert_eq!(
            d.push(b"\n\ndata: ok\n\n"),
            Err(EventTooLarge { limit: 100 })
        );
        assert_eq!(d.push(b""), Err(EventTooLarge { limit: 100 }));
        assert_eq!(d.finish(), Err(EventTooLarge { limit: 100 }));
    }

    #[test]
    fn events_completed_before_the_overflow_in_the_same_read_are_delivered_first() {
        let mut stream = b"data: a\n\ndata: [DONE]\n\ndata: ".to_vec();
        stream.resize(500, b'z');
        let mut d = SseDecoder::with_limit(100);
        assert_eq!(data(&d.push(&stream).unwrap()), ["a", "[DONE]"]);
        assert_eq!(d.finish(), Err(EventTooLarge { limit: 100 }));
        // The same stream byte by byte: the same events, then the same failure.
        let mut d = SseDecoder::with_limit(100);
        let mut events = Vec::new();
        let mut failure = None;
        for b in &stream {
            match d.push(&[*b]) {
                Ok(ev) => events.extend(ev),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        assert_eq!(data(&events), ["a", "[DONE]"]);
        assert_eq!(failure, Some(EventTooLarge { limit: 100 }));
    }

    #[test]
    fn one_big_read_past_the_limit_fails_without_buffering_it() {
        let mut d = SseDecoder::with_limit(1000);
        let mut big = b"data: ".to_vec();
        big.resize(5000, b'a');
        assert_eq!(d.push(&big), Err(EventTooLarge { limit: 1000 }));
        assert!(d.line.capacity() <= 1000);
    }

    #[test]
    fn an_event_that_gathers_data_lines_without_its_blank_line_is_bounded_too() {
        let mut d = SseDecoder::with_limit(100);
        let mut result = Ok(vec![]);
        for _ in 0..20 {
            result = d.push(b"data: 0123456789\n");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(EventTooLarge { limit: 100 }));
        assert!(d.data.len() <= 100);
    }

    #[test]
    fn lines_and_events_up_to_the_limit_are_decoded() {
        let mut d = SseDecoder::with_limit(16);
        // `data: 0123456789` is 16 bytes: exactly the limit, in one read or byte by byte.
        assert_eq!(
            data(&d.push(b"data: 0123456789\n\n").unwrap()),
            ["0123456789"]
        );
        let mut events = Vec::new();
        for b in b"data: 0123456789\r\n\r\n" {
            events.extend(d.push(&[*b]).unwrap());
        }
        assert_eq!(data(&events), ["0123456789"]);
        // Comments are dropped at their end and hold nothing afterwards.
        for _ in 0..10 {
            assert_eq!(d.push(b": keep-alive 012\n"), Ok(vec![]));
        }
    }

    #[test]
    fn the_default_limit_is_sixteen_mebibytes() {
        assert_eq!(SseDecoder::new().limit, 16 * 1024 * 1024);
        assert_eq!(MAX_EVENT_BYTES, 16 * 1024 * 1024);
    }
}
