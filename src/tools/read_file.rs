//! `read_file`: show part of a text file with line numbers.
//!
//! Reads only what it shows (a multi-gigabyte log costs the lines asked for), refuses binary
//! files instead of dumping them, and shows invalid UTF-8 lossily with a note. UTF-16 text with
//! a byte-order mark is transcoded to UTF-8 while reading (`encoding.rs`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::encoding::{Encoding, Utf16Reader};
use super::{Tool, ToolContext, ToolError, parse_args};
use crate::policy::Action;

const DEFAULT_LIMIT: usize = 2000;
const MAX_LINE: usize = 2000;
/// Files up to this size get an exact total line count in the "more remain" note.
const COUNT_LINES_UP_TO: u64 = 16 << 20;

pub struct ReadFile;

#[async_trait]
impl Tool for ReadFile {
    fn name(&self) -> &str {
        "read_file"
    }

    fn description(&self) -> &str {
        "Read a file's contents with line numbers. Always read a file before editing it. \
         Use offset and limit to page through long files."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "file_path": {"type": "string", "description": "Path to the file"},
                "offset": {"type": "integer", "description": "Start line (1-based). Default 1."},
                "limit": {"type": "integer", "description": "Max lines to read. Default 2000."}
            },
            "required": ["file_path"]
        })
    }

    fn action(&self, args: &Value, ctx: &ToolContext) -> Result<Action, ToolError> {
        let args: Args = parse_args(args.clone())?;
        Ok(Action::Read {
            paths: vec![ctx.resolve(&args.file_path)],
        })
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> Result<String, ToolError> {
        let args: Args = parse_args(args)?;
        let path = ctx.resolve(&args.file_path);
        let offset = args.offset.unwrap_or(1).max(1);
        let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
        let shown = args.file_path.clone();
        tokio::task::spawn_blocking(move || read_lines(&path, &shown, offset, limit))
            .await
            .map_err(|e| ToolError::failed(format!("read failed: {e}")))?
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    file_path: String,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// What a leading block says about a file that is not text, if anything.
pub fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF document"),
        (b"PK\x03\x04", "zip archive"),
        (b"\x1F\x8B", "gzip archive"),
        (b"\x7FELF", "ELF executable"),
        (b"BZh", "bzip2 archive"),
        (b"\xFD7zXZ", "xz archive"),
        (b"7z\xBC\xAF", "7z archive"),
        (b"\x28\xB5\x2F\xFD", "zstd archive"),
        (b"RIFF", "RIFF media file"),
        (b"\x00asm", "WebAssembly module"),
    ];
    if let Some((_, kind)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(kind);
    }
    head.contains(&0).then_some("binary data")
}

fn read_lines(path: &Path, shown: &str, offset: usize, limit: usize) -> Result<String, ToolError> {
    let fail = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::failed(format!("{shown} not found")),
        std::io::ErrorKind::PermissionDenied => {
            ToolError::failed(format!("permission denied reading {shown}"))
        }
        _ => ToolError::failed(format!("cannot read {shown}: {e}")),
    };
    let meta = std::fs::metadata(path).map_err(fail)?;
    if meta.is_dir() {
        return Err(ToolError::failed(format!(
            "{shown} is a directory; use glob or bash ls to list it"
        )));
    }
    // Opening a FIFO blocks until someone writes to it, and a device may never end: only
    // regular files are read.
    if !meta.is_file() {
        return Err(ToolError::failed(format!(
            "{shown} is not a regular file (a FIFO, socket or device); reading it could block \
             forever, so it is not read"
        )));
    }
    let mut file = File::open(path).map_err(fail)?;
    let mut head = vec![0u8; 8192];
    let n = read_up_to(&mut file, &mut head).map_err(fail)?;
    let head = &head[..n];
    let encoding = Encoding::sniff(head);
    let kind = if encoding.is_utf16() {
        utf16_binary_kind(head, encoding)
    } else {
        binary_kind(head)
    };
    if let Some(kind) = kind {
        return Err(ToolError::failed(format!(
            "{shown} is a binary file ({kind}, {} bytes); it cannot be shown as text",
            meta.len()
        )));
    }
    let mut reader: Box<dyn BufRead> = if encoding.is_utf16() {
        let bytes = head[2..].chain(file);
        Box::new(BufReader::new(Utf16Reader::new(bytes, encoding)))
    } else {
        Box::new(BufReader::new(head.chain(file)))
    };
    let mut out = String::new();
    let (mut lossy, mut line_no, mut more) = (false, 0usize, false);
    // A line costs what is shown of it: at most enough bytes for MAX_LINE + 1 characters are
    // kept (lines before `offset` keep none), so a 2 GiB line does not take 2 GiB.
    let mut raw = Vec::new();
    loop {
        let keep = if line_no + 1 < offset {
            0
        } else {
            (MAX_LINE + 1) * 4
        };
        if !next_line(&mut reader, keep, &mut raw).map_err(fail)? {
            break;
        }
        line_no += 1;
        if line_no < offset {
            continue;
        }
        if line_no >= offset + limit {
            more = true;
            break;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(&raw);
        let text = String::from_utf8_lossy(raw);
        lossy |= matches!(text, std::borrow::Cow::Owned(_));
        out.push_str(&format!("{line_no}\t{}\n", cut_line(&text)));
    }
    if out.is_empty() {
        return Ok(if line_no == 0 {
            "(empty file)".to_string()
        } else {
            format!("(the file has {line_no} lines; offset {offset} is past the end)")
        });
    }
    let last = line_no.min(offset + limit - 1);
    if more {
        let total = if meta.len() <= COUNT_LINES_UP_TO {
            count_lines(path, encoding)
                .map(|t| format!("{t} lines total"))
                .unwrap_or_default()
        } else {
            format!("{} bytes total", meta.len())
        };
        out.push_str(&format!(
            "... ({total}; showing lines {offset}-{last}; use offset={} to read on)\n",
            last + 1
        ));
    }
    if encoding.is_utf16() {
        out.push_str(&format!(
            "(note: the file is {} text, shown here as UTF-8; edit_file and write_file keep its \
             encoding)\n",
            encoding.label()
        ));
    }
    if lossy {
        out.push_str("(note: the file is not valid UTF-8; invalid bytes are shown as �)\n");
    }
    Ok(out.trim_end_matches('\n').to_string())
}

/// Reads the next line (without its `\n`) into `out`, keeping at most `keep` bytes of it and
/// skipping the rest; `false` at the end of the file.
fn next_line(reader: &mut impl BufRead, keep: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
    out.clear();
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let end = chunk.iter().position(|b| *b == b'\n');
        let take = end.unwrap_or(chunk.len());
        let room = keep.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..take.min(room)]);
        reader.consume(take + usize::from(end.is_some()));
        if end.is_some() {
            return Ok(true);
        }
    }
}

fn cut_line(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_LINE) {
        Some((at, _)) => format!("{}… [line cut at {MAX_LINE} characters]", &text[..at]).into(),
        None => text.into(),
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn count_lines(path: &Path, encoding: Encoding) -> Option<usize> {
    let bytes = std::fs::read(path).ok()?;
    if encoding.is_utf16() {
        let text = Encoding::decode(encoding, &bytes).ok()?;
        let newlines = text.matches('\n').count();
        return Some(newlines + usize::from(!text.is_empty() && !text.ends_with('\n')));
    }
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    Some(newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n")))
}

/// UTF-16 text has NUL bytes in every ASCII character: binary is a NUL code unit instead.
fn utf16_binary_kind(head: &[u8], encoding: Encoding) -> Option<&'static str> {
    let mut text = String::new();
    // Read errors cannot happen on a slice; an odd tail byte decodes as U+FFFD.
    let _ = Utf16Reader::new(&head[2..], encoding).read_to_string(&mut text);
    text.contains('\0').then_some("binary data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn read(dir: &Path, args: Value) -> Result<String, ToolError> {
        let ctx = ToolContext::new(dir.to_path_buf(), Arc::new(|_| {}));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(ReadFile.run(args, &ctx))
    }

    #[test]
    fn read_file_numbers_lines_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (1..=10).map(|i| format!("l{i}\r\n")).collect();
        std::fs::write(dir.path().join("f.txt"), body).unwrap();
        let out = read(
            dir.path(),
            json!({"file_path": "f.txt", "offset": 3, "limit": 2}),
        )
        .unwrap();
        assert_eq!(
            out,
            "3\tl3\n4\tl4\n... (10 lines total; showing lines 3-4; use offset=5 to read on)"
        );
    }

    #[test]
    fn read_file_shows_utf16_text_with_a_bom_in_either_byte_order() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (1..=3).map(|i| format!("zeile {i} ü\r\n")).collect();
        for enc in [Encoding::Utf16Le, Encoding::Utf16Be] {
            std::fs::write(dir.path().join("u.txt"), enc.encode(&body)).unwrap();
            let out = read(dir.path(), json!({"file_path": "u.txt", "limit": 2})).unwrap();
            assert!(
                out.starts_with("1\tzeile 1 ü\n2\tzeile 2 ü\n... (3 lines total;"),
                "{out}"
            );
            assert!(out.contains(enc.label()), "{out}");
        }
        let mut binary = Encoding::Utf16Le.encode("ab");
        binary.extend_from_slice(&[0, 0, 1, 2]);
        std::fs::write(dir.path().join("b.bin"), binary).unwrap();
        let err = read(dir.path(), json!({"file_path": "b.bin"})).unwrap_err();
        assert!(err.to_string().contains("binary file"), "{err}");
    }

    #[test]
    fn read_file_refuses_binary_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.png"), b"\x89PNG\r\n\x1a\n....").unwrap();
        let err = read(dir.path(), json!({"file_path": "x.png"})).unwrap_err();
        assert!(
            err.to_string()
                .contains("binary file (PNG image, 12 bytes)"),
            "{err}"
        );
        let err = read(dir.path(), json!({"file_path": "."})).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let err = read(dir.path(), json!({"file_path": "nope"})).unwrap_err();
        assert!(err.to_string().contains("nope not found"), "{err}");
    }

    #[test]
    fn read_file_shows_invalid_utf8_lossily_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.txt"), b"caf\xe9\n").unwrap();
        let out = read(dir.path(), json!({"file_path": "l.txt"})).unwrap();
        assert!(out.starts_with("1\tcaf�"), "{out}");
        assert!(out.contains("not valid UTF-8"));
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = read(dir.path(), json!({"file_path": "pipe"})).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_line_costs_only_what_is_shown_of_it() {
        // 16 MiB on one line, then a short one: the first keeps `keep` bytes, the rest is
        // skipped, and the next line is read whole.
        let mut data = vec![b'x'; 16 << 20];
        data.extend_from_slice(b"\nshort\n");
        let mut reader = BufReader::new(&data[..]);
        let mut line = Vec::new();
        assert!(next_line(&mut reader, 100, &mut line).unwrap());
        assert_eq!(line.len(), 100);
        assert!(line.capacity() < 1 << 20, "{}", line.capacity());
        assert!(next_line(&mut reader, 100, &mut line).unwrap());
        assert_eq!(line, b"short");
        assert!(!next_line(&mut reader, 100, &mut line).unwrap());
    }

    #[test]
    fn read_file_cuts_very_long_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.js"), "x".repeat(5000)).unwrap();
        let out = read(dir.path(), json!({"file_path": "m.js"})).unwrap();
        assert!(out.ends_with("… [line cut at 2000 characters]"));
        assert_eq!(
            out.len(),
            "1\t".len() + 2000 + "… [line cut at 2000 characters]".len()
        );
    }
}
