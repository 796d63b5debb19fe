//! Taking a snapshot: a stat walk of the workspace, then the files whose stat changed since the
//! previous snapshot are read (on every core), hashed and stored.

use std::collections::BTreeMap;
use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::objects::Objects;
use super::snapshot::{Content, Entry, Kind, Snapshot};
use super::{CheckpointError, Hash, Limits, now_ns};

/// A file modified this close to the previous walk's start may have changed again within the
/// file system's clock granularity without its mtime moving, so it is read again (git's
/// "racily clean" rule). Kernel file times tick at most every 10 ms.
const RACY_NS: i64 = 50_000_000;

/// Reads of a file that keeps changing while it is read, before it is recorded as changing.
const READ_ATTEMPTS: usize = 3;

/// What one walk produced.
#[derive(Debug)]
pub(crate) struct Walked {
    pub snapshot: Snapshot,
    /// Files read (their stat changed or was not trusted).
    pub read: usize,
    /// Bytes of new objects written to the store.
    pub stored: u64,
    /// Paths the walk could not record fully, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Snapshots `root` against `prev`. `skip` are paths (absolute) never to record, such as the
/// store itself when it lies inside the workspace.
pub(crate) fn take(
    root: &Path,
    prev: &Snapshot,
    objects: &Objects,
    limits: &Limits,
    skip: &[PathBuf],
) -> Result<Walked, CheckpointError> {
    let taken_ns = now_ns();
    let skip_rel = relative_skips(root, skip);
    let (found, mut skipped) = stat_walk(root, &skip_rel);
    let mut entries = BTreeMap::new();
    let mut to_read = Vec::new();
    for (rel, meta) in found {
        let ft = meta.file_type();
        let mut entry = stat_entry(&meta);
        if ft.is_dir() {
            entry.kind = Kind::Dir;
            entry.size = 0;
            (entry.mtime_ns, entry.ctime_ns, entry.ino) = (0, 0, 0);
        } else if ft.is_symlink() {
            match std::fs::read_link(root.join(&rel)) {
                Ok(target) => entry.kind = Kind::Symlink(target),
                Err(e) => {
                    skipped.push((rel, format!("cannot read the link: {e}")));
                    continue;
                }
            }
        } else if entry.size > limits.max_file_size {
            entry.kind = Kind::File(Content::TooBig);
        } else {
            let cached = prev.get(&rel).filter(|old| {
                old.same_stat(&entry)
                    && old.hash().is_some()
                    && entry.mtime_ns.max(entry.ctime_ns) < prev.taken_ns - RACY_NS
            });
            match cached {
                Some(old) => entry.kind = old.kind.clone(),
                None => {
                    to_read.push(rel);
                    continue;
                }
            }
        }
        entries.insert(rel, entry);
    }
    let read = to_read.len();
    let (stored, read_entries) = read_all(root, to_read, objects, limits)?;
    for (rel, result) in read_entries {
        match result {
            Ok(entry) => {
                entries.insert(rel, entry);
            }
            Err((entry, why)) => {
                if let Some(entry) = entry {
                    entries.insert(rel.clone(), entry);
                }
                skipped.push((rel, why));
            }
        }
    }
    skipped.sort();
    Ok(Walked {
        snapshot: Snapshot { entries, taken_ns },
        read,
        stored,
        skipped,
    })
}

fn relative_skips(root: &Path, skip: &[PathBuf]) -> Vec<PathBuf> {
    let canon_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    skip.iter()
        .filter_map(|p| {
            let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            canon.strip_prefix(&canon_root).ok().map(Path::to_path_buf)
        })
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

type Found = (Vec<(PathBuf, Metadata)>, Vec<(PathBuf, String)>);

/// Every path the ignore rules keep under `root` (not `root` itself), with its `lstat`.
fn stat_walk(root: &Path, skip_rel: &[PathBuf]) -> Found {
    let found = Mutex::new((Vec::new(), Vec::new()));
    let (owned_root, skip_rel) = (root.to_path_buf(), skip_rel.to_vec());
    WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(move |e| {
            e.file_name() != ".git"
                && !skip_rel
                    .iter()
                    .any(|s| e.path().strip_prefix(&owned_root).is_ok_and(|r| r == s))
        })
        .build_parallel()
        .run(|| {
            let found = &found;
            Box::new(move |entry| {
                let mut local = (Vec::new(), Vec::new());
                match entry {
                    Ok(entry) if entry.depth() > 0 => {
                        let rel = entry.path().strip_prefix(root).map(Path::to_path_buf);
                        match (rel, entry.metadata()) {
                            (Ok(rel), Ok(meta)) => local.0.push((rel, meta)),
                            (Ok(rel), Err(e)) => local.1.push((rel, e.to_string())),
                            (Err(_), _) => {}
                        }
                    }
                    Ok(_) => {}
                    Err(e) => local.1.push((error_path(&e, root), e.to_string())),
                }
                if let Ok(mut all) = found.lock() {
                    all.0.append(&mut local.0);
                    all.1.append(&mut local.1);
                }
                WalkState::Continue
            })
        });
    found.into_inner().unwrap_or_default()
}

fn error_path(e: &ignore::Error, root: &Path) -> PathBuf {
    match e {
        ignore::Error::WithPath { path, .. } => {
            path.strip_prefix(root).unwrap_or(path).to_path_buf()
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err, root)
        }
        _ => PathBuf::new(),
    }
}

fn stat_entry(meta: &Metadata) -> Entry {
    Entry {
        kind: Kind::File(Content::Unreadable),
        mode: meta.mode() & 0o7777,
        size: meta.size(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        ino: meta.ino(),
    }
}

/// A read file's entry, or why it could not be read (with what is known of it).
type ReadResult = Result<Entry, (Option<Entry>, String)>;

/// Reads, hashes and stores the files on all cores; returns the bytes written and the entries.
fn read_all(
    root: &Path,
    paths: Vec<PathBuf>,
    objects: &Objects,
    limits: &Limits,
) -> Result<(u64, Vec<(PathBuf, ReadResult)>), CheckpointError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4)
        .min(paths.len().div_ceil(16).max(1));
    let next = AtomicUsize::new(0);
    let out = Mutex::new((0u64, Vec::with_capacity(paths.len()), None));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut buf = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(rel) = paths.get(i) else { break };
                    let result = read_one(&root.join(rel), &mut buf, objects, limits);
                    let Ok(mut out) = out.lock() else { break };
                    match result {
                        Ok((entry, written)) => {
                            out.0 += written;
                            out.1.push((rel.clone(), entry));
                        }
                        Err(e) => {
                            out.2.get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    let (stored, entries, failed) = out.into_inner().unwrap_or_default();
    match failed {
        Some(e) => Err(e),
        None => Ok((stored, entries)),
    }
}

/// Reads one file (never following a symlink, never blocking on a FIFO) until two `fstat`s
/// around the read agree, hashes it and stores it. An error reading the file is the file's
/// problem (`Ok(Err(..))`); an error writing the store is the snapshot's (`Err`).
fn read_one(
    path: &Path,
    buf: &mut Vec<u8>,
    objects: &Objects,
    limits: &Limits,
) -> Result<(ReadResult, u64), CheckpointError> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            let known = std::fs::symlink_metadata(path).ok().map(|m| stat_entry(&m));
            return Ok((Err((known, format!("cannot read: {e}"))), 0));
        }
    };
    for _ in 0..READ_ATTEMPTS {
        let before = match stat_of(&file) {
            Ok(m) if m.is_file() => stat_entry(&m),
            Ok(_) => return Ok((Err((None, "not a regular file".into())), 0)),
            Err(e) => return Ok((Err((None, format!("cannot stat: {e}"))), 0)),
        };
        if before.size > limits.max_file_size {
            let entry = Entry {
                kind: Kind::File(Content::TooBig),
                ..before
            };
            return Ok((Ok(entry), 0));
        }
        buf.clear();
        if let Err(e) = read_from_start(&mut file, buf) {
            return Ok((Err((Some(before), format!("cannot read: {e}"))), 0));
        }
        let after = stat_of(&file).map(|m| stat_entry(&m)).ok();
        if after.as_ref().is_some_and(|a| a.same_stat(&before)) && buf.len() as u64 == before.size {
            let hash = Hash::of(buf);
            let written = objects.put(&hash, buf)?;
            let entry = Entry {
                kind: Kind::File(Content::Stored(hash)),
                ..before
            };
            return Ok((Ok(entry), if written { buf.len() as u64 } else { 0 }));
        }
    }
    // Still changing: keep the last bytes, with a stat no later walk can match.
    let hash = Hash::of(buf);
    let written = objects.put(&hash, buf)?;
    let meta = stat_of(&file).map_err(|e| CheckpointError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let entry = Entry {
        kind: Kind::File(Content::Stored(hash)),
        ctime_ns: -1,
        ..stat_entry(&meta)
    };
    Ok((Ok(entry), if written { buf.len() as u64 } else { 0 }))
}

fn stat_of(file: &File) -> std::io::Result<Metadata> {
    file.metadata()
}

fn read_from_start(file: &mut File, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.read_to_end(buf).map(|_| ())
}
