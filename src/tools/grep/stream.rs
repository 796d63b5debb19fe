//! One file's search, streamed: the file is read a block at a time, so what a search holds is
//! bounded by [`Limits`] whatever the file's size.
//!
//! - Binary: every block is checked for a NUL byte before it is searched (ripgrep's default,
//!   "quit on NUL"). A NUL in the first block means a binary file, skipped at the cost of one
//!   read; a NUL later stops the search there, and [`Found::binary_at`] says where, so the hits
//!   already found are kept and the reply can say the rest was not searched.
//! - Long lines: a line is held whole up to [`Limits::line_cap`]; past that its first
//!   `line_cap` bytes are searched as the line and the rest is read past, not kept, up to the
//!   next newline ([`Found::long_lines`] records it). A 1 GiB line with no newline costs
//!   `line_cap` of memory, not 1 GiB.
//! - Matches never span lines, as in grep and ripgrep: a regex that could match a newline
//!   (`\s`, `[^x]`) only counts where it matches within one line.

use std::io::{self, Read};

use regex::bytes::Regex;

#[cfg(test)]
mod tests;

/// Matching lines are shown cut to this many characters.
const MAX_LINE: usize = 300;

/// The default line cap; the tool's description and notes say "1 MiB".
pub(crate) const LINE_CAP: usize = 1 << 20;

/// How much of a file one search holds.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes asked for per read, and so the granularity of binary detection.
    pub block: usize,
    /// The longest line kept whole; longer lines are searched in their first `line_cap` bytes.
    pub line_cap: usize,
}

impl Default for Limits {
    /// 64 KiB blocks (ripgrep's buffer size) and 1 MiB lines: a search holds at most
    /// ~1.1 MiB, minified bundles of a few hundred KiB a line are searched whole.
    fn default() -> Self {
        Limits {
            block: 64 << 10,
            line_cap: LINE_CAP,
        }
    }
}

/// What one file's search found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Matching lines, counted once each however many matches they hold.
    pub total: usize,
    /// The first few matching lines: (1-based line number, text cut to [`MAX_LINE`] chars).
    pub lines: Vec<(usize, String)>,
    /// The offset of the first NUL byte: the search stopped at the block holding it.
    pub binary_at: Option<u64>,
    /// Lines longer than the line cap, searched only in their first `line_cap` bytes.
    pub long_lines: Vec<usize>,
    /// The most bytes the search's buffer held at once: its memory, whatever the file's size.
    pub held_at_most: usize,
}

/// Searches `reader` for lines `re` matches, keeping the first `keep` of them. `size_hint`
/// (the file's length, if known) sizes the first buffer, so a small file costs its own size.
///
/// Memory: one buffer of at most `line_cap + block` bytes, plus the kept lines.
pub(crate) fn search_reader(
    mut reader: impl Read,
    size_hint: Option<u64>,
    re: &Regex,
    keep: usize,
    limits: Limits,
) -> io::Result<Found> {
    let mut found = Found::default();
    // One more byte than the file holds: the first read takes it all, the next finds the end.
    let first = size_hint.map_or(limits.block, |len| {
        usize::try_from(len).map_or(limits.block, |len| len.saturating_add(1).min(limits.block))
    });
    // `buf` is zeroed once, grown only when full; `buf[..len]` is unsearched: it starts line
    // `line_no` and, between reads, holds no newline (a line whose end is still to come).
    let mut buf = vec![0u8; first.max(1)];
    let mut len = 0;
    let mut line_no = 1;
    let mut offset: u64 = 0; // bytes read before the new ones
    let mut skipping = false; // reading past the tail of a line longer than the cap
    loop {
        if len == buf.len() {
            // Full of one unfinished line, shorter than the cap: room for one more block.
            // Exact, not doubled, so `buf` stays within `line_cap + block`.
            buf.reserve_exact(limits.block);
            buf.resize(len + limits.block, 0);
        }
        found.held_at_most = found.held_at_most.max(buf.capacity());
        let n = read_some(&mut reader, &mut buf[len..])?;
        if let Some(i) = memchr::memchr(0, &buf[len..len + n]) {
            found.binary_at = Some(offset + i as u64);
            return Ok(found);
        }
        offset += n as u64;
        if n == 0 {
            if !skipping {
                search_lines(re, &buf[..len], line_no, keep, &mut found);
            }
            return Ok(found);
        }
        let mut start = len; // where the new bytes begin
        len += n;
        if skipping {
            // `len` was 0: all of `buf[..len]` is new.
            let Some(i) = memchr::memchr(b'\n', &buf[..len]) else {
                len = 0;
                continue;
            };
            buf.copy_within(i + 1..len, 0);
            len -= i + 1;
            start = 0;
            line_no += 1;
            skipping = false;
        }
        // Only the new bytes can hold a newline: search every line they complete.
        if let Some(i) = memchr::memrchr(b'\n', &buf[start..len]) {
            let end = start + i + 1;
            search_lines(re, &buf[..end], line_no, keep, &mut found);
            line_no += memchr::memchr_iter(b'\n', &buf[..end]).count();
            buf.copy_within(end..len, 0);
            len -= end;
        }
        if len >= limits.line_cap {
            // One line past the cap: search its head as the line, read past the rest.
            search_lines(re, &buf[..limits.line_cap], line_no, keep, &mut found);
            found.long_lines.push(line_no);
            len = 0;
            skipping = true;
        }
    }
}

/// One `read`, retried when interrupted.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Counts the lines of `bytes` (whole lines; the last may lack its newline) that `re` matches
/// within the line, numbering from `first_line`, and keeps the first `keep` in `found`.
fn search_lines(re: &Regex, bytes: &[u8], first_line: usize, keep: usize, found: &mut Found) {
    // `pos` is always the start of a line; `line_no` is its number.
    let (mut pos, mut line_no) = (0, first_line);
    while pos < bytes.len() {
        let Some(m) = re.find_at(bytes, pos) else {
            break;
        };
        if m.start() == bytes.len() && bytes.ends_with(b"\n") {
            break; // an empty match after the final newline is not a line
        }
        let line_start =
            memchr::memrchr(b'\n', &bytes[pos..m.start()]).map_or(pos, |i| pos + i + 1);
        line_no += memchr::memchr_iter(b'\n', &bytes[pos..line_start]).count();
        let line_end =
            memchr::memchr(b'\n', &bytes[m.start()..]).map_or(bytes.len(), |i| m.start() + i);
        let line = &bytes[line_start..line_end];
        // A match that runs past the line's end counts only if the line matches on its own.
        if m.end() <= line_end || re.is_match(line) {
            found.total += 1;
            if found.lines.len() < keep {
                found.lines.push((line_no, cut_line(line)));
            }
        }
        pos = line_end + 1;
        line_no += 1;
    }
}

fn cut_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end();
    match text.char_indices().nth(MAX_LINE) {
        Some((at, _)) => format!("{}… [line cut]", &text[..at]),
        None => text.to_string(),
    }
}
