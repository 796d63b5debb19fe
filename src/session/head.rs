//! What `-c` and `/sessions` need from a session file, read without reading the file whole.
//!
//! Every corecoder writes `id`, `model`, `saved_at` and `cwd` before the long `messages` list
//! (CoreCoder writes the same order without `cwd`), so the keys before `messages` are the
//! header. Parsing streams from the file and stops there, or, for a listing, at the first user
//! prompt; it never reads more than [`HEAD_LIMIT`] bytes, so a 500 MiB conversation of another
//! project costs `-c` a few kilobytes. A `cwd` written after `messages` is not seen: no writer
//! we know does that. This file does not decide which file to read: that is `session.rs`.

use std::fmt;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::SessionSummary;
use super::format::content_text;

/// The most of one file a header read consumes. Far above any real header (an id of at most
/// 100 characters, a model name, a time stamp and a path) and above most first prompts; a
/// first prompt beyond it is listed without a preview.
pub(super) const HEAD_LIMIT: u64 = 1 << 20;

/// How much of the first prompt a listing shows.
const PREVIEW_CHARS: usize = 60;

/// Whether the first prompt is wanted (a listing) or only the header (`-c`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Header,
    Preview,
}

/// What was read before parsing stopped.
#[derive(Default)]
struct Head {
    model: Option<String>,
    saved_at: Option<String>,
    cwd: Option<String>,
    preview: Option<String>,
    /// A JSON object whose header parsed: everything before `messages`, or the whole object.
    is_session: bool,
}

/// A listing row for the file `id` names, read from `file`; `None` when it does not start as
/// a session file does (not a JSON object, or a header key of the wrong type).
pub(super) fn summary(id: String, file: impl Read, want: Want) -> Option<SessionSummary> {
    let mut head = Head::default();
    let reader = BufReader::new(file.take(HEAD_LIMIT));
    let mut de = serde_json::Deserializer::from_reader(reader);
    // Stopping early leaves the object unfinished, which serde_json reports as an error; what
    // was read before that is in `head`, and `is_session` says whether it is enough.
    let _ = de.deserialize_map(HeadVisitor {
        head: &mut head,
        want,
    });
    head.is_session.then(|| SessionSummary {
        id,
        model: head.model.unwrap_or_else(|| "?".into()),
        saved_at: head.saved_at.unwrap_or_else(|| "?".into()),
        cwd: head.cwd.map(PathBuf::from),
        preview: head.preview.unwrap_or_default(),
    })
}

struct HeadVisitor<'a> {
    head: &'a mut Head,
    want: Want,
}

impl<'de> Visitor<'de> for HeadVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a session object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "model" => self.head.model = map.next_value()?,
                "saved_at" => self.head.saved_at = map.next_value()?,
                "cwd" => self.head.cwd = map.next_value()?,
                "messages" => {
                    self.head.is_session = true;
                    if self.want == Want::Preview {
                        map.next_value_seed(FirstPrompt(&mut self.head.preview))?;
                    }
                    // Stop here: the rest may be hundreds of megabytes.
                    return Ok(());
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        self.head.is_session = true;
        Ok(())
    }
}

/// Reads messages one at a time until the first user prompt with text, which it keeps as a
/// preview line; the messages after it are not read.
struct FirstPrompt<'a>(&'a mut Option<String>);

#[derive(Deserialize)]
struct PreviewMessage {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<Value>,
}

impl<'de> DeserializeSeed<'de> for FirstPrompt<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FirstPrompt<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(m) = seq.next_element::<PreviewMessage>()? {
            let text = m.content.as_ref().map(content_text).unwrap_or_default();
            if m.role.as_deref() == Some("user") && !text.trim().is_empty() {
                *self.0 = Some(preview_line(&text));
                return Ok(());
            }
        }
        Ok(())
    }
}

/// `text` with whitespace collapsed to single spaces, cut with `…`.
fn preview_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= PREVIEW_CHARS {
        return line;
    }
    let cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::Path;

    use super::*;
    use crate::session::format::CORECODER_FILE;

    fn row(bytes: &[u8], want: Want) -> Option<SessionSummary> {
        summary("x".into(), Cursor::new(bytes.to_vec()), want)
    }

    #[test]
    fn summary_shows_first_prompt_on_one_cut_line() {
        let r = row(CORECODER_FILE.as_bytes(), Want::Preview).unwrap();
        assert_eq!(r.saved_at, "2025-01-31 14:25:01");
        assert_eq!(r.preview, "请帮我修复这个 bug");
        let file = serde_json::json!({"cwd": "/a", "messages": [
            {"role": "assistant", "content": "not this"},
            {"role": "user", "content": "  \n "},
            {"role": "user", "content": format!("  first\n\tline {}", "word ".repeat(30))},
        ]});
        let r = row(file.to_string().as_bytes(), Want::Preview).unwrap();
        assert_eq!((r.model.as_str(), r.saved_at.as_str()), ("?", "?"));
        assert_eq!(r.cwd.as_deref(), Some(Path::new("/a")));
        assert!(
            r.preview.starts_with("first line word word"),
            "{}",
            r.preview
        );
        assert!(r.preview.ends_with("wor…"), "{}", r.preview);
        assert_eq!(r.preview.chars().count(), PREVIEW_CHARS);
        for not_a_session in [
            &b"[1]"[..],
            b"",
            b"garbage",
            br#"{"model": 5}"#,
            b"{\"id\": \"\xff",
        ] {
            assert!(row(not_a_session, Want::Preview).is_none());
        }
    }

    #[test]
    fn header_is_read_without_the_messages_after_it() {
        // Everything after `messages` is garbage: a header read must not get that far.
        let file = b"{\"id\": \"s\", \"model\": \"m\", \"saved_at\": \"2026-01-01 00:00:00\",\n  \"cwd\": \"/p\",\n  \"messages\": [ \xff\xfe not json at all";
        let r = row(file, Want::Header).unwrap();
        assert_eq!(r.cwd.as_deref(), Some(Path::new("/p")));
        assert_eq!((r.model.as_str(), r.preview.as_str()), ("m", ""));
        // A listing reads up to the first prompt and no further.
        let file = br#"{"cwd": "/p", "messages": [{"role": "user", "content": "hi"}, {"ro"#;
        assert_eq!(row(file, Want::Preview).unwrap().preview, "hi");
        // A header that never ends within the limit is not a session.
        let huge = format!("{{\"model\": \"{}", "m".repeat(HEAD_LIMIT as usize));
        assert!(row(huge.as_bytes(), Want::Header).is_none());
    }

    #[test]
    fn header_read_stops_at_the_limit() {
        /// Endless blanks after the header: reading to the end would never return.
        struct Endless(Cursor<Vec<u8>>, u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                buf.fill(b' ');
                self.1 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let start = br#"{"model": "m", "cwd": "/p", "messages": [{"role": "user", "content": "#;
        let mut endless = Endless(Cursor::new(start.to_vec()), 0);
        let r = summary("x".into(), &mut endless, Want::Preview).unwrap();
        assert_eq!(
            (r.cwd.as_deref(), r.preview.as_str()),
            (Some(Path::new("/p")), "")
        );
        assert!(
            endless.1 <= HEAD_LIMIT,
            "read {} bytes past the header",
            endless.1
        );
    }
}
