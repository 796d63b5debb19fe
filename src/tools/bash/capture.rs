//! One pipe's output, kept in bounded memory while it is read.
//!
//! The reply shows at most the output's first 6,000 and last 3,000 characters; what a pipe
//! delivers is decoded as it arrives (invalid UTF-8 becomes U+FFFD exactly as
//! `String::from_utf8_lossy` would make it of the whole stream) and only the part a reply can
//! show stays in memory: the first [`HEAD_KEEP`] characters, and the last [`TAIL`] characters
//! before the trailing whitespace the reply trims (plus the last [`TAIL`] of that whitespace, in
//! case more text follows). Everything past the head also goes to a spill file as it is read, up
//! to the spill directory's cap; past the cap the pipe is still read, only not saved.

use std::io::Write;

use tempfile::NamedTempFile;

use super::spill::SpillDir;

/// Characters of the start kept in memory: a whole reply's worth, so a short output needs no
/// file at all.
pub const HEAD_KEEP: usize = super::MAX_OUTPUT;
/// Characters of the end a reply shows.
pub const TAIL: usize = super::TAIL;

#[derive(Default)]
pub struct Capture {
    /// Raw bytes read, for the collector's "is output still flowing" check.
    bytes_read: u64,
    /// The start of a character split across reads (at most 3 bytes).
    partial: Vec<u8>,
    /// Decoded characters and their UTF-8 bytes so far.
    chars: u64,
    bytes: u64,
    /// Bytes up to the end of the last non-whitespace character.
    trimmed_bytes: u64,
    head: String,
    head_chars: usize,
    /// At least the last `TAIL` characters up to the last non-whitespace one.
    tail: String,
    /// The whitespace after it: its length in characters and at least its last `TAIL`
    /// characters.
    trailing_ws: u64,
    trailing: String,
    spill: Spill,
}

/// The spill file of one pipe.
#[derive(Default)]
pub enum Spill {
    /// The head still holds everything.
    #[default]
    None,
    Writing {
        file: NamedTempFile,
        written: u64,
        /// The cap was reached: the file holds a prefix of the text.
        cut: bool,
    },
    /// The file could not be made or written; only the head and the tail are kept.
    Failed(String),
}

impl Capture {
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Takes in one read's bytes.
    pub fn feed(&mut self, bytes: &[u8], dir: &SpillDir) {
        self.bytes_read += bytes.len() as u64;
        let mut joined;
        let bytes = if self.partial.is_empty() {
            bytes
        } else {
            joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(bytes);
            &joined[..]
        };
        let complete = bytes.len() - incomplete_suffix(bytes);
        self.partial.extend_from_slice(&bytes[complete..]);
        let text = String::from_utf8_lossy(&bytes[..complete]);
        self.push(&text, dir);
    }

    /// The pipe is closed: a character left unfinished counts as one U+FFFD.
    pub fn finish(&mut self, dir: &SpillDir) {
        if !std::mem::take(&mut self.partial).is_empty() {
            self.push("\u{FFFD}", dir);
        }
    }

    fn push(&mut self, text: &str, dir: &SpillDir) {
        if text.is_empty() {
            return;
        }
        let before_bytes = self.bytes;
        self.chars += text.chars().count() as u64;
        self.bytes += text.len() as u64;
        let room = HEAD_KEEP - self.head_chars;
        let into_head = if room > 0 {
            let end = byte_after_chars(text, room);
            self.head.push_str(&text[..end]);
            self.head_chars += text[..end].chars().count();
            end
        } else {
            0
        };
        if self.chars > HEAD_KEEP as u64 {
            self.spill_text(text, into_head, dir);
        }
        let body = text.trim_end();
        if !body.is_empty() {
            // The whitespace before this text no longer trails.
            self.tail.push_str(&self.trailing);
            self.tail.push_str(last_chars(body, TAIL));
            keep_last(&mut self.tail, TAIL);
            self.trailing.clear();
            self.trailing_ws = 0;
            self.trimmed_bytes = before_bytes + body.len() as u64;
        }
        let ws = &text[body.len()..];
        self.trailing.push_str(last_chars(ws, TAIL));
        keep_last(&mut self.trailing, TAIL);
        self.trailing_ws += ws.chars().count() as u64;
    }

    /// Writes what the head did not take; the first time, the head too.
    fn spill_text(&mut self, text: &str, into_head: usize, dir: &SpillDir) {
        if matches!(self.spill, Spill::None) {
            self.spill = match dir.file() {
                Ok(file) => Spill::Writing {
                    file,
                    written: 0,
                    cut: false,
                },
                Err(e) => Spill::Failed(format!("cannot create the saved copy: {e}")),
            };
            let head = std::mem::take(&mut self.head);
            self.write(&head, dir.cap());
            self.head = head;
        }
        self.write(&text[into_head..], dir.cap());
    }

    fn write(&mut self, text: &str, cap: u64) {
        let Spill::Writing { file, written, cut } = &mut self.spill else {
            return;
        };
        if *cut {
            return;
        }
        let room = usize::try_from(cap.saturating_sub(*written)).unwrap_or(usize::MAX);
        let part = &text[..floor_boundary(text, room)];
        match file.write_all(part.as_bytes()) {
            Ok(()) => {
                *written += part.len() as u64;
                *cut = part.len() < text.len();
            }
            Err(e) => self.spill = Spill::Failed(format!("cannot write the saved copy: {e}")),
        }
    }

    /// Characters of the text without its trailing whitespace (what the reply shows).
    pub fn shown_chars(&self) -> u64 {
        self.chars - self.trailing_ws
    }

    /// The first `n` shown characters (`n` at most [`HEAD_KEEP`]).
    pub fn first(&self, n: u64) -> &str {
        let n = usize::try_from(n.min(self.shown_chars())).unwrap_or(HEAD_KEEP);
        &self.head[..byte_after_chars(&self.head, n)]
    }

    /// The last `n` shown characters (`n` at most [`TAIL`]).
    pub fn last(&self, n: u64) -> &str {
        let n = usize::try_from(n.min(self.shown_chars())).unwrap_or(TAIL);
        last_chars(&self.tail, n)
    }

    /// The shown text's length in bytes.
    pub fn shown_bytes(&self) -> u64 {
        self.trimmed_bytes
    }

    /// The whole shown text, when it is all in memory.
    pub fn whole(&self) -> Option<&str> {
        let end = usize::try_from(self.trimmed_bytes).ok()?;
        (self.shown_chars() <= self.head_chars as u64)
            .then(|| self.head.get(..end))
            .flatten()
    }

    pub fn into_spill(self) -> Spill {
        self.spill
    }
}

/// How many bytes at the end of `bytes` start a character the next read may finish.
fn incomplete_suffix(bytes: &[u8]) -> usize {
    let n = bytes.len();
    // A character is at most 4 bytes: its start is among the last 3 if it is unfinished.
    for back in 1..=n.min(3) {
        let b = bytes[n - back];
        if b & 0xC0 != 0x80 {
            // A lead byte (or ASCII): unfinished when what follows is a valid prefix.
            return match std::str::from_utf8(&bytes[n - back..]) {
                Err(e) if e.error_len().is_none() => back,
                _ => 0,
            };
        }
    }
    0
}

/// The byte index after the first `n` characters of `s` (its length when shorter).
pub fn byte_after_chars(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The last `n` characters of `s`.
pub fn last_chars(s: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    let start = s.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
    &s[start..]
}

/// Keeps at least the last `n` characters of `s`, dropping the front only once it has grown
/// past `8 n` bytes (at least `2 n` characters), so that appending costs O(1) a byte amortized
/// and the string stays under `12 n` bytes when pieces of at most `n` characters are appended.
fn keep_last(s: &mut String, n: usize) {
    if s.len() > 8 * n {
        let start = s.len() - last_chars(s, n).len();
        s.drain(..start);
    }
}

/// The largest character boundary of `s` at or below `at`.
pub fn floor_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}
