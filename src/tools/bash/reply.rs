//! The reply to the model from two captured pipes: stdout, then `[stderr]` and stderr, then
//! `[exit code: N]` when non-zero (or `(no output)`), then a timeout note. Over 15,000
//! characters it shows the first 6,000 and the last 3,000, and saves the whole text, in that
//! same layout, to a file in the spill directory (cut at the directory's cap) that the note names.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use tempfile::NamedTempFile;

use super::capture::{Capture, Spill, byte_after_chars, floor_boundary, last_chars};
use super::spill::SpillDir;
use super::{HEAD, MAX_OUTPUT, TAIL};

/// A piece of the reply: fixed text, or a pipe's output without its trailing whitespace (with
/// the pipe's index: 0 stdout, 1 stderr).
enum Part<'a> {
    Text(String),
    Pipe(&'a Capture, usize),
}

impl Part<'_> {
    fn chars(&self) -> u64 {
        match self {
            Part::Text(t) => t.chars().count() as u64,
            Part::Pipe(c, _) => c.shown_chars(),
        }
    }

    fn first(&self, n: u64) -> &str {
        match self {
            Part::Text(t) => &t[..byte_after_chars(t, usize::try_from(n).unwrap_or(usize::MAX))],
            Part::Pipe(c, _) => c.first(n),
        }
    }

    fn last(&self, n: u64) -> &str {
        match self {
            Part::Text(t) => last_chars(t, usize::try_from(n).unwrap_or(usize::MAX)),
            Part::Pipe(c, _) => c.last(n),
        }
    }

    /// What the saved copy gets of this part.
    fn source(&self) -> Source {
        match self {
            Part::Text(t) => Source::Text(t.clone()),
            Part::Pipe(c, pipe) => match c.whole() {
                Some(text) => Source::Text(text.to_string()),
                None => Source::Pipe(*pipe, c.shown_bytes()),
            },
        }
    }
}

/// What goes into the saved copy, in order; `Pipe(i, len)`: the first `len` bytes of pipe
/// `i`'s spill file.
enum Source {
    Text(String),
    Pipe(usize, u64),
}

/// The reply for a finished command; `timed_out` is its timeout in seconds when it hit it.
pub fn reply(
    stdout: Capture,
    stderr: Capture,
    status: Option<i32>,
    timed_out: Option<u64>,
    dir: &SpillDir,
) -> String {
    let mut parts = Vec::new();
    if stdout.shown_chars() > 0 {
        parts.push(Part::Pipe(&stdout, 0));
    }
    if stderr.shown_chars() > 0 {
        let sep = if parts.is_empty() { "" } else { "\n" };
        parts.push(Part::Text(format!("{sep}[stderr]\n")));
        parts.push(Part::Pipe(&stderr, 1));
    }
    if let Some(code) = status.filter(|c| *c != 0) {
        let sep = if parts.is_empty() { "" } else { "\n" };
        parts.push(Part::Text(format!("{sep}[exit code: {code}]")));
    }
    if parts.is_empty() {
        parts.push(Part::Text("(no output)".to_string()));
    }
    if let Some(secs) = timed_out {
        parts.push(Part::Text(format!(
            "\n[timed out after {secs}s; the command and its child processes were killed]"
        )));
    }
    let total: u64 = parts.iter().map(Part::chars).sum();
    if total <= MAX_OUTPUT as u64 {
        // Each part is at most a reply long, so each pipe's text is whole in memory.
        return parts.iter().map(|p| p.first(total)).collect();
    }
    let head = head(&parts, HEAD as u64);
    let tail = tail(&parts, TAIL as u64);
    let sources: Vec<Source> = parts.iter().map(Part::source).collect();
    let spills = [Some(stdout.into_spill()), Some(stderr.into_spill())];
    let saved = match save(sources, spills, dir) {
        Ok((path, false)) => format!("; full output saved to {}", path.display()),
        Ok((path, true)) => format!(
            "; cut at {cap} MiB, the first {cap} MiB saved to {}",
            path.display(),
            cap = dir.cap_mib()
        ),
        Err(e) => format!("; the full output could not be saved: {e}"),
    };
    format!("{head}\n\n... truncated ({total} chars total{saved}) ...\n\n{tail}")
}

/// The first `n` characters across the parts.
fn head(parts: &[Part], mut n: u64) -> String {
    let mut out = String::new();
    for part in parts {
        let piece = part.first(n);
        n -= piece.chars().count() as u64;
        out.push_str(piece);
    }
    out
}

/// The last `n` characters across the parts.
fn tail(parts: &[Part], mut n: u64) -> String {
    let mut pieces = Vec::new();
    for part in parts.iter().rev() {
        let piece = part.last(n);
        n -= piece.chars().count() as u64;
        pieces.push(piece);
    }
    pieces.reverse();
    pieces.concat()
}

/// Writes the sources, in order, to one file of at most the cap; returns its path and whether
/// it was cut. The first pipe's spill file becomes the saved copy when the output starts with
/// it, so the biggest part is not copied. On failure no file is left.
fn save(
    sources: Vec<Source>,
    mut spills: [Option<Spill>; 2],
    dir: &SpillDir,
) -> Result<(PathBuf, bool), String> {
    let mut spill_file = |pipe: usize| match spills.get_mut(pipe).and_then(Option::take) {
        Some(Spill::Writing { file, written, .. }) => Ok((file, written)),
        Some(Spill::Failed(e)) => Err(e),
        Some(Spill::None) | None => Err("the saved copy is missing".to_string()),
    };
    let failed = |e: io::Error| format!("cannot write the saved copy: {e}");
    let mut sources = sources.into_iter().peekable();
    let (mut out, mut written) = match sources.peek() {
        Some(&Source::Pipe(pipe, len)) => {
            sources.next();
            let (file, saved) = spill_file(pipe)?;
            let kept = len.min(saved);
            file.as_file().set_len(kept).map_err(failed)?;
            file.as_file().seek(SeekFrom::End(0)).map_err(failed)?;
            if kept < len {
                return keep(file, true);
            }
            (file, kept)
        }
        _ => (
            dir.file()
                .map_err(|e| format!("cannot create the saved copy: {e}"))?,
            0,
        ),
    };
    let cap = dir.cap();
    for source in sources {
        let room = cap.saturating_sub(written);
        let (added, whole) = match source {
            Source::Text(t) => {
                let part = &t[..floor_boundary(&t, usize::try_from(room).unwrap_or(usize::MAX))];
                write_text(&mut out, part)?;
                (part.len() as u64, part.len() == t.len())
            }
            Source::Pipe(pipe, len) => {
                let (file, saved) = spill_file(pipe)?;
                let have = len.min(saved);
                let n = char_floor(file.as_file(), have.min(room), have).map_err(failed)?;
                copy(file.as_file(), n, out.as_file_mut()).map_err(failed)?;
                (n, n == len)
            }
        };
        written += added;
        if !whole {
            return keep(out, true);
        }
    }
    keep(out, false)
}

fn write_text(out: &mut NamedTempFile, text: &str) -> Result<(), String> {
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the saved copy: {e}"))
}

fn keep(file: NamedTempFile, cut: bool) -> Result<(PathBuf, bool), String> {
    file.keep()
        .map(|(_, path)| (path, cut))
        .map_err(|e| format!("cannot keep the saved copy: {}", e.error))
}

/// The largest character boundary at or below `at` in a file of UTF-8 text `len` bytes long.
fn char_floor(file: &File, at: u64, len: u64) -> io::Result<u64> {
    if at >= len {
        return Ok(len);
    }
    let from = at.saturating_sub(3);
    let mut buf = [0u8; 4];
    let n = usize::try_from(at - from + 1).unwrap_or(4);
    file.read_exact_at(&mut buf[..n], from)?;
    // A boundary is a byte that does not continue a character.
    let back = buf[..n].iter().rev().position(|b| b & 0xC0 != 0x80);
    Ok(back.map_or(from, |b| at - b as u64))
}

/// Appends the first `n` bytes of `from` to `to`.
fn copy(mut from: &File, n: u64, to: &mut File) -> io::Result<()> {
    from.seek(SeekFrom::Start(0))?;
    let copied = io::copy(&mut from.take(n), to)?;
    if copied < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the spill file is shorter than what was written",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
