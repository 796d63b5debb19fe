//! What a restore would do, decided from three snapshots without touching the disk.

use std::path::PathBuf;

use super::snapshot::{Content, Entry, Kind, Snapshot, merge};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The content (or link target) differs: the checkpoint's is written back.
    Modified,
    /// Not in the checkpoint: removed (a directory only once empty).
    Created,
    /// Only in the checkpoint: brought back.
    Deleted,
    /// Only the mode bits differ.
    Mode,
    /// A file, link or directory became another kind: removed, then the old one brought back.
    TypeChanged,
    /// The checkpoint does not hold the bytes (larger than the limit, or unreadable then).
    NotRestorable,
}

/// One path a restore changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Relative to the workspace.
    pub path: PathBuf,
    pub kind: ChangeKind,
    /// The state the restore leaves (`None`: the path is removed).
    pub target: Option<Entry>,
    /// The state now (`None`: nothing there).
    pub current: Option<Entry>,
    /// The path changed after the last undone turn ended (someone else's change): skipped
    /// unless the restore is forced.
    pub conflict: bool,
}

/// Every change a restore makes, in path order (a directory before what is inside it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn conflicts(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.conflict)
    }

    pub fn not_restorable(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::NotRestorable)
    }
}

/// Compares `target` (the checkpoint), `current` (the workspace now) and `last` (the state the
/// last undone turn left): every path where `current` differs from `target` is a change; one
/// where `current` also differs from `last` was changed by someone else since, a conflict.
pub fn plan_restore(target: &Snapshot, current: &Snapshot, last: &Snapshot) -> Plan {
    let mut changes = Vec::new();
    merge(&target.entries, &current.entries, |path, t, c| {
        let kind = match (t, c) {
            (Some(t), Some(c)) if t.same_state(c) => return,
            (None, None) => return,
            (None, Some(_)) => ChangeKind::Created,
            (Some(t), _) if !restorable(t) => ChangeKind::NotRestorable,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(t), Some(c)) => match (&t.kind, &c.kind) {
                (Kind::File(a), Kind::File(b)) if a == b => ChangeKind::Mode,
                (Kind::Symlink(a), Kind::Symlink(b)) if a == b => ChangeKind::Mode,
                (Kind::Dir, Kind::Dir) => ChangeKind::Mode,
                (Kind::File(_), Kind::File(_)) | (Kind::Symlink(_), Kind::Symlink(_)) => {
                    ChangeKind::Modified
                }
                _ => ChangeKind::TypeChanged,
            },
        };
        let conflict = !same(c, last.get(path));
        changes.push(Change {
            path: path.to_path_buf(),
            kind,
            target: t.cloned(),
            current: c.cloned(),
            conflict,
        });
    });
    Plan { changes }
}

fn restorable(entry: &Entry) -> bool {
    !matches!(
        entry.kind,
        Kind::File(Content::TooBig | Content::Unreadable)
    )
}

fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.same_state(b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
