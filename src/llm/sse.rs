//! Pure SSE decoding: bytes → events, per the WHATWG event-stream rules.
//!
//! Line endings LF, CRLF and lone CR (also split across network reads), comment lines,
//! `event:`/`id:`/`retry:` fields, several `data:` lines joined with `\n`, `data:` without a
//! space, and a last event that ends without its blank line. Nothing here does I/O or knows
//! about JSON: `reply.rs` reads the payloads.

/// One dispatched server-sent event. `event` is `None` for the default `message` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Incremental WHATWG event-stream decoder: feed it network reads of any size.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    // A `\r` ended the previous read; a `\n` starting the next one belongs to it (CRLF split
    // across two network reads must not produce an empty line, which would dispatch early).
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `bytes`, returning every event completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                b'\n' => self.end_line(&mut out),
                _ => self.line.push(b),
            }
        }
        out
    }

    /// End of stream: a last event without its blank line is still delivered (lenient; several
    /// servers close right after the final `data:` line).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty() {
            let mut out = Vec::new();
            self.end_line(&mut out);
        }
        self.dispatch()
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
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
        let mut out: Vec<SseEvent> = chunks.iter().flat_map(|c| d.push(c)).collect();
        out.extend(d.finish());
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
}
