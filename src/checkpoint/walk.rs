//! Taking a snapshot: a stat walk of the workspace, then the files whose stat changed since the
//! previous snapshot are read (on every core), hashed and stored.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::objects::Objects;
use super::scan::Scanner;
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
    /// `None` when every path is recorded exactly as in the previous snapshot (the common
    /// quiet round, which then builds and compares no new map).
    pub snapshot: Option<Snapshot>,
    pub taken_ns: i64,
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
    scanner: &Scanner,
    prev: &Snapshot,
    objects: &Objects,
    limits: &Limits,
) -> Result<Walked, CheckpointError> {
    let taken_ns = now_ns();
    let root = scanner.root();
    let (found, mut skipped) = scanner.walk();
    let mut entries = Vec::with_capacity(found.len());
    let mut to_read = Vec::new();
    let mut all_same = true;
    for (rel, ft, mut entry) in found {
        let old = prev.get(&rel);
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
        } else if !ft.is_file() {
            // A FIFO, socket or device: never opened (that could block or have effects).
            skipped.push((rel, "not a regular file; not recorded".into()));
            continue;
        } else if entry.size > limits.max_file_size {
            entry.kind = Kind::File(Content::TooBig);
        } else {
            let cached = old.filter(|old| {
                old.same_stat(&entry)
                    && old.hash().is_some()
                    && entry.mtime_ns.max(entry.ctime_ns) < prev.taken_ns - RACY_NS
            });
            match cached {
                Some(old) => entry.kind = old.kind.clone(),
                None => {
                    to_read.push((rel, entry.size));
                    continue;
                }
            }
        }
        all_same = all_same && old == Some(&entry);
        entries.push((rel, entry));
    }
    // A workspace far larger than the budget (a home directory, a disk of data) is refused
    // before a byte is copied, not copied and then collected.
    let to_store: u64 = to_read.iter().map(|(_, size)| size).sum();
    if to_store > limits.budget {
        return Err(CheckpointError::TooLarge {
            bytes: to_store,
            budget: limits.budget,
        });
    }
    let to_read: Vec<PathBuf> = to_read.into_iter().map(|(rel, _)| rel).collect();
    let read = to_read.len();
    let same = |rel: &Path, entry: &Entry| prev.get(rel) == Some(entry);
    let (stored, read_entries) = read_all(root, to_read, objects, limits, scanner.workers)?;
    for (rel, result) in read_entries {
        match result {
            Ok(entry) => {
                all_same = all_same && same(&rel, &entry);
                entries.push((rel, entry));
            }
            Err((entry, why)) => {
                if let Some(entry) = entry {
                    all_same = all_same && same(&rel, &entry);
                    entries.push((rel.clone(), entry));
                }
                skipped.push((rel, why));
            }
        }
    }
    skipped.sort();
    let snapshot = (!all_same || entries.len() != prev.len())
        .then(|| Snapshot::from_entries(entries, taken_ns));
    Ok(Walked {
        snapshot,
        taken_ns,
        read,
        stored,
        skipped,
    })
}

pub(crate) fn stat_entry(meta: &Metadata) -> Entry {
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
    workers: usize,
) -> Result<(u64, Vec<(PathBuf, ReadResult)>), CheckpointError> {
    let workers = workers.min(paths.len().div_ceil(16)).max(1);
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
