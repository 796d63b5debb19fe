//! A snapshot on disk: a full listing or a delta against the session's previous record, as
//! lines of space-separated fields, ending with a checksum of everything before it.
//!
//! ```text
//! corecoder-checkpoint-record 1
//! full 1714000000123456789            (or: delta <taken_ns>)
//! + f 644 1200 <mtime_ns> <ctime_ns> <ino> <hash|big|unread> src/main.rs
//! + l 777 6 <mtime_ns> <ctime_ns> <ino> target link-name
//! + d 755 src
//! - removed/path
//! end <blake3 of the bytes above>
//! ```
//!
//! Paths and link targets are bytes: `%`, spaces, control bytes and DEL are written `%XX`, so
//! any name a Unix file system allows fits on one line. A path must be relative and plain (no
//! `..`, no `.`, no empty component): decoding refuses anything else, which is what keeps a
//! damaged or hostile record from naming a file outside the workspace.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, PathBuf};

use super::Hash;
use super::snapshot::{Content, Delta, Entry, Kind};

const MAGIC: &str = "corecoder-checkpoint-record 1";

/// One record: a full listing (`removed` empty) or the changes since the previous record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub full: bool,
    pub taken_ns: i64,
    pub delta: Delta,
}

pub(crate) fn encode(record: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + record.delta.upserts.len() * 120);
    out.extend_from_slice(MAGIC.as_bytes());
    out.push(b'\n');
    let head = if record.full { "full" } else { "delta" };
    out.extend_from_slice(format!("{head} {}\n", record.taken_ns).as_bytes());
    for (path, e) in &record.delta.upserts {
        match &e.kind {
            Kind::Dir => out.extend_from_slice(format!("+ d {:o} ", e.mode).as_bytes()),
            kind => {
                let (t, content) = match kind {
                    Kind::File(Content::Stored(h)) => ('f', h.to_hex().into_bytes()),
                    Kind::File(Content::TooBig) => ('f', b"big".to_vec()),
                    Kind::File(Content::Unreadable) => ('f', b"unread".to_vec()),
                    Kind::Symlink(target) => ('l', escape(target.as_os_str().as_bytes())),
                    Kind::Dir => ('d', Vec::new()),
                };
                let stat = format!(
                    "+ {t} {:o} {} {} {} {} ",
                    e.mode, e.size, e.mtime_ns, e.ctime_ns, e.ino
                );
                out.extend_from_slice(stat.as_bytes());
                out.extend_from_slice(&content);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&escape(path.as_os_str().as_bytes()));
        out.push(b'\n');
    }
    for path in &record.delta.removed {
        out.extend_from_slice(b"- ");
        out.extend_from_slice(&escape(path.as_os_str().as_bytes()));
        out.push(b'\n');
    }
    let sum = Hash::of(&out);
    out.extend_from_slice(format!("end {sum}\n").as_bytes());
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Record, String> {
    let body_end = bytes
        .strip_suffix(b"\n")
        .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
        .map(|i| i + 1)
        .ok_or("truncated (no end line)")?;
    let (body, end) = bytes.split_at(body_end);
    let sum = end
        .strip_prefix(b"end ")
        .and_then(|s| s.strip_suffix(b"\n"))
        .and_then(Hash::from_hex)
        .ok_or("truncated (no end line)")?;
    if Hash::of(body) != sum {
        return Err("checksum mismatch".into());
    }
    let mut lines = body.split(|&c| c == b'\n');
    if lines.next() != Some(MAGIC.as_bytes()) {
        return Err("not a checkpoint record (or a newer format)".into());
    }
    let head = lines.next().ok_or("no header")?;
    let head = std::str::from_utf8(head).map_err(|_| "bad header")?;
    let (full, taken_ns) = match head.split_once(' ') {
        Some(("full", t)) => (true, t),
        Some(("delta", t)) => (false, t),
        _ => return Err(format!("bad header {head:?}")),
    };
    let taken_ns = taken_ns.parse().map_err(|_| "bad time")?;
    let mut delta = Delta::default();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let at = |what: &str| format!("line {}: {what}", n + 3);
        match line.split_first() {
            Some((b'+', rest)) => delta
                .upserts
                .push(entry_line(rest.strip_prefix(b" ").unwrap_or(rest)).map_err(|e| at(&e))?),
            Some((b'-', rest)) => {
                let raw = rest.strip_prefix(b" ").ok_or_else(|| at("bad removal"))?;
                delta.removed.push(plain_path(raw).map_err(|e| at(&e))?);
            }
            _ => return Err(at("unknown line")),
        }
    }
    if full && !delta.removed.is_empty() {
        return Err("a full record removes paths".into());
    }
    Ok(Record {
        full,
        taken_ns,
        delta,
    })
}

fn entry_line(line: &[u8]) -> Result<(PathBuf, Entry), String> {
    let fields: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
    let num = |f: &[u8]| -> Result<i64, String> {
        std::str::from_utf8(f)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "bad number".to_string())
    };
    let mode = |f: &[u8]| -> Result<u32, String> {
        std::str::from_utf8(f)
            .ok()
            .and_then(|s| u32::from_str_radix(s, 8).ok())
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| "bad mode".to_string())
    };
    match fields.as_slice() {
        [b"d", m, path] => Ok((
            plain_path(path)?,
            Entry {
                kind: Kind::Dir,
                mode: mode(m)?,
                size: 0,
                mtime_ns: 0,
                ctime_ns: 0,
                ino: 0,
            },
        )),
        [t @ (b"f" | b"l"), m, size, mtime, ctime, ino, content, path] => {
            let kind = match (*t, *content) {
                (b"f", b"big") => Kind::File(Content::TooBig),
                (b"f", b"unread") => Kind::File(Content::Unreadable),
                (b"f", hex) => Kind::File(Content::Stored(Hash::from_hex(hex).ok_or("bad hash")?)),
                (_, target) => {
                    let target = unescape(target)?;
                    if target.is_empty() {
                        return Err("empty link target".into());
                    }
                    Kind::Symlink(PathBuf::from(OsString::from_vec(target)))
                }
            };
            let unsigned = |f| num(f).and_then(|n| u64::try_from(n).map_err(|e| e.to_string()));
            Ok((
                plain_path(path)?,
                Entry {
                    kind,
                    mode: mode(m)?,
                    size: unsigned(size)?,
                    mtime_ns: num(mtime)?,
                    ctime_ns: num(ctime)?,
                    ino: unsigned(ino)?,
                },
            ))
        }
        _ => Err("bad entry".into()),
    }
}

/// A relative path of plain components, written exactly as its components join.
fn plain_path(raw: &[u8]) -> Result<PathBuf, String> {
    let bytes = unescape(raw)?;
    let path = PathBuf::from(OsString::from_vec(bytes));
    let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
    let rebuilt: PathBuf = path.components().collect();
    if path.as_os_str().is_empty()
        || !plain
        || rebuilt.as_os_str() != path.as_os_str()
        || path.as_os_str().as_bytes().contains(&0)
    {
        return Err(format!("not a plain relative path: {}", path.display()));
    }
    Ok(path)
}

fn escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b <= b' ' || b == b'%' || b == 0x7f {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fn unescape(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("bad escape")?;
            let s = std::str::from_utf8(hex).map_err(|_| "bad escape")?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| "bad escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
