//! What a snapshot is: the workspace's files, symlinks and directories with their stat data and
//! content hashes, keyed by path relative to the workspace. Pure data; `walk.rs` takes one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Hash;

/// What a regular file's bytes are in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Stored(Hash),
    /// Larger than [`super::Limits::max_file_size`]: recorded by size only.
    TooBig,
    /// Could not be read (permissions): recorded by its stat only.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File(Content),
    Symlink(PathBuf),
    Dir,
}

/// One path's state. Directories keep only their mode (their times change with every file
/// added or removed, which says nothing a restore needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits with set-id and sticky bits (`st_mode & 0o7777`).
    pub mode: u32,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Entry {
    /// Whether a restore would leave `self` as `other`: same type, same bytes or link target,
    /// same mode. A file whose content is not stored compares by its stat, the only thing known.
    pub fn same_state(&self, other: &Entry) -> bool {
        if self.mode != other.mode {
            return false;
        }
        match (&self.kind, &other.kind) {
            (Kind::File(Content::Stored(a)), Kind::File(Content::Stored(b))) => a == b,
            (Kind::File(_), Kind::File(_)) => self.same_stat(other),
            (Kind::Symlink(a), Kind::Symlink(b)) => a == b,
            (Kind::Dir, Kind::Dir) => true,
            _ => false,
        }
    }

    /// Whether the stat data match, so the content need not be read again.
    pub(crate) fn same_stat(&self, other: &Entry) -> bool {
        std::mem::discriminant(&self.kind) == std::mem::discriminant(&other.kind)
            && self.mode == other.mode
            && self.size == other.size
            && self.mtime_ns == other.mtime_ns
            && self.ctime_ns == other.ctime_ns
            && self.ino == other.ino
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir)
    }

    /// The stored content's hash, for a regular file whose bytes are in the store.
    pub fn hash(&self) -> Option<&Hash> {
        match &self.kind {
            Kind::File(Content::Stored(h)) => Some(h),
            _ => None,
        }
    }
}

/// The workspace at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub(crate) entries: BTreeMap<PathBuf, Entry>,
    /// When the walk started (ns since the epoch): a file modified at about this time may
    /// change again within the clock's granularity, so the next walk reads it again.
    pub(crate) taken_ns: i64,
}

/// What changed between two snapshots, as a record stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    pub upserts: Vec<(PathBuf, Entry)>,
    pub removed: Vec<PathBuf>,
}

impl Delta {
    pub(crate) fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removed.is_empty()
    }
}

impl Snapshot {
    pub fn get(&self, path: &Path) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn entries(&self) -> impl Iterator<Item = (&Path, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_path(), e))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn taken_ns(&self) -> i64 {
        self.taken_ns
    }

    /// The hashes of every stored content this snapshot names.
    pub fn hashes(&self) -> impl Iterator<Item = &Hash> {
        self.entries.values().filter_map(Entry::hash)
    }

    /// Paths whose state (type, content, mode; not times) differs between `self` and `other`,
    /// in path order: what a turn touched.
    pub fn changed_paths(&self, other: &Snapshot) -> Vec<PathBuf> {
        let mut out = Vec::new();
        merge(&self.entries, &other.entries, |path, a, b| {
            let same = matches!((a, b), (Some(a), Some(b)) if a.same_state(b));
            if !same {
                out.push(path.to_path_buf());
            }
        });
        out
    }

    /// Everything `newer` records differently from `self`, stat data included.
    pub(crate) fn delta_to(&self, newer: &Snapshot) -> Delta {
        let mut delta = Delta::default();
        merge(&self.entries, &newer.entries, |path, old, new| {
            match (old, new) {
                (_, Some(n)) if old != Some(n) => {
                    delta.upserts.push((path.to_path_buf(), n.clone()))
                }
                (Some(_), None) => delta.removed.push(path.to_path_buf()),
                _ => {}
            }
        });
        delta
    }

    pub(crate) fn apply(&mut self, delta: &Delta, taken_ns: i64) {
        for path in &delta.removed {
            self.entries.remove(path);
        }
        for (path, entry) in &delta.upserts {
            self.entries.insert(path.clone(), entry.clone());
        }
        self.taken_ns = taken_ns;
    }
}

/// Calls `f` for every path of either map, in order, with its entry on each side.
pub(crate) fn merge<'a>(
    a: &'a BTreeMap<PathBuf, Entry>,
    b: &'a BTreeMap<PathBuf, Entry>,
    mut f: impl FnMut(&'a Path, Option<&'a Entry>, Option<&'a Entry>),
) {
    let (mut ia, mut ib) = (a.iter().peekable(), b.iter().peekable());
    loop {
        match (ia.peek(), ib.peek()) {
            (None, None) => return,
            (Some((pa, ea)), Some((pb, eb))) => match pa.cmp(pb) {
                std::cmp::Ordering::Less => {
                    f(pa, Some(ea), None);
                    ia.next();
                }
                std::cmp::Ordering::Greater => {
                    f(pb, None, Some(eb));
                    ib.next();
                }
                std::cmp::Ordering::Equal => {
                    f(pa, Some(ea), Some(eb));
                    ia.next();
                    ib.next();
                }
            },
            (Some((pa, ea)), None) => {
                f(pa, Some(ea), None);
                ia.next();
            }
            (None, Some((pb, eb))) => {
                f(pb, None, Some(eb));
                ib.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn file(hash: &[u8], mode: u32, mtime: i64) -> Entry {
        Entry {
            kind: Kind::File(Content::Stored(Hash::of(hash))),
            mode,
            size: hash.len() as u64,
            mtime_ns: mtime,
            ctime_ns: mtime,
            ino: 1,
        }
    }

    fn snap(items: &[(&str, Entry)]) -> Snapshot {
        Snapshot {
            entries: items
                .iter()
                .map(|(p, e)| (PathBuf::from(p), e.clone()))
                .collect(),
            taken_ns: 0,
        }
    }

    #[test]
    fn delta_applied_to_the_old_gives_the_new() {
        let old = snap(&[
            ("a", file(b"a", 0o644, 1)),
            ("b", file(b"b", 0o644, 1)),
            ("c", file(b"c", 0o644, 1)),
        ]);
        let new = snap(&[
            ("a", file(b"a", 0o644, 1)),
            ("b", file(b"b", 0o644, 2)),
            ("d", file(b"d", 0o600, 1)),
        ]);
        let delta = old.delta_to(&new);
        assert_eq!(delta.removed, [PathBuf::from("c")]);
        assert_eq!(delta.upserts.len(), 2);
        let mut replay = old.clone();
        replay.apply(&delta, 0);
        assert_eq!(replay, new);
        // A touch alone (b's mtime) is in the delta but is not a change of state.
        assert_eq!(
            old.changed_paths(&new),
            [PathBuf::from("c"), PathBuf::from("d")]
        );
    }

    #[test]
    fn same_state_compares_content_type_and_mode_not_times() {
        assert!(file(b"x", 0o644, 1).same_state(&file(b"x", 0o644, 9)));
        assert!(!file(b"x", 0o644, 1).same_state(&file(b"x", 0o755, 1)));
        assert!(!file(b"x", 0o644, 1).same_state(&file(b"y", 0o644, 1)));
        let mut big = file(b"x", 0o644, 1);
        big.kind = Kind::File(Content::TooBig);
        let mut touched = big.clone();
        touched.mtime_ns = 2;
        assert!(big.same_state(&big.clone()));
        assert!(!big.same_state(&touched));
    }
}
