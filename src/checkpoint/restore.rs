//! Applying a [`Plan`] to the workspace, inside it only.
//!
//! Every path is checked before it is touched: plain relative components, and every parent
//! from the workspace root down a real directory (`lstat`), never a symlink, so a turn that
//! replaced `src` by a link to `/etc` cannot make a restore write there (the link itself is
//! removed first, being a change of the plan). Paths not in the current snapshot (ignored
//! files) are never written over. Files go through `durable::replace`, so a crash leaves each
//! file old or new; the store's bytes are checked against their hash before they are written.
//!
//! Order: created files and links are removed (deepest first), then created directories once
//! empty; directories are brought back (shallowest first); files and links are written; modes
//! are set, directories last and deepest first so a read-only directory is filled first.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use super::objects::Objects;
use super::plan::{Change, ChangeKind, Plan};
use super::snapshot::{Entry, Kind};

/// What a restore did, path by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Written back, brought back, or given their mode again.
    pub restored: Vec<PathBuf>,
    /// Created by the undone turns and removed.
    pub removed: Vec<PathBuf>,
    /// Changed after the turn ended and left as they are (not forced).
    pub conflicts: Vec<PathBuf>,
    pub not_restorable: Vec<PathBuf>,
    /// Left alone on purpose, with why (a created directory that is not empty, a path in the
    /// way that the walk ignores).
    pub kept: Vec<(PathBuf, String)>,
    pub failed: Vec<(PathBuf, String)>,
}

pub(crate) fn restore(
    workspace: &Path,
    objects: &Objects,
    plan: &Plan,
    force: bool,
) -> RestoreReport {
    let mut report = RestoreReport::default();
    let mut active = Vec::new();
    for change in &plan.changes {
        if change.kind == ChangeKind::NotRestorable {
            report.not_restorable.push(change.path.clone());
        } else if change.conflict && !force {
            report.conflicts.push(change.path.clone());
        } else {
            active.push(change);
        }
    }
    let root = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let kind_of = |e: &Option<Entry>| e.as_ref().map(|e| std::mem::discriminant(&e.kind));
    // Directories that must be writable to be filled get their (writable) mode first.
    for c in &active {
        if c.kind == ChangeKind::Mode
            && c.target
                .as_ref()
                .is_some_and(|t| t.is_dir() && t.mode & 0o300 == 0o300)
        {
            step(&mut report, &c.path, set_mode(&root, c));
        }
    }
    for c in active.iter().rev() {
        let goes = c.current.is_some() && kind_of(&c.current) != kind_of(&c.target);
        if goes {
            let result = remove(&root, c);
            if c.target.is_none() {
                match result {
                    Ok(()) => report.removed.push(c.path.clone()),
                    Err(Why::Kept(why)) => report.kept.push((c.path.clone(), why)),
                    Err(Why::Failed(why)) => report.failed.push((c.path.clone(), why)),
                }
            } else if let Err(why) = result {
                report.failed.push((c.path.clone(), why.text()));
            }
        }
    }
    for c in &active {
        let target = c.target.as_ref();
        let result = match (c.kind, target.map(|t| &t.kind)) {
            (ChangeKind::Mode, _) if target.is_some_and(Entry::is_dir) => continue,
            (ChangeKind::Mode, _) => set_mode(&root, c),
            (_, Some(Kind::Dir)) => make_dir(&root, c),
            (_, Some(Kind::File(_) | Kind::Symlink(_))) => write(&root, objects, c),
            (_, None) => continue,
        };
        step(&mut report, &c.path, result);
    }
    for c in active.iter().rev() {
        if c.target.as_ref().is_some_and(Entry::is_dir)
            && c.current.as_ref().is_none_or(|now| {
                now.mode != c.target.as_ref().map_or(0, |t| t.mode) || !now.is_dir()
            })
        {
            step(&mut report, &c.path, set_mode(&root, c));
        }
    }
    report.restored.sort();
    report.restored.dedup();
    report
}

enum Why {
    Kept(String),
    Failed(String),
}

impl Why {
    fn text(self) -> String {
        match self {
            Why::Kept(s) | Why::Failed(s) => s,
        }
    }
}

impl From<std::io::Error> for Why {
    fn from(e: std::io::Error) -> Why {
        Why::Failed(e.to_string())
    }
}

fn step(report: &mut RestoreReport, path: &Path, result: Result<(), Why>) {
    match result {
        Ok(()) => report.restored.push(path.to_path_buf()),
        Err(Why::Kept(why)) => report.kept.push((path.to_path_buf(), why)),
        Err(Why::Failed(why)) => report.failed.push((path.to_path_buf(), why)),
    }
}

/// `root/rel` once `rel` is plain and every parent below `root` is a real directory.
fn inside(root: &Path, rel: &Path) -> Result<PathBuf, Why> {
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Why::Failed("not a plain relative path".into()));
    }
    let mut at = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in &parts[..parts.len() - 1] {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Why::Failed(format!(
                    "{} is a symlink; nothing is written through it",
                    at.strip_prefix(root).unwrap_or(&at).display()
                )));
            }
            Ok(_) => return Err(Why::Failed(format!("{} is not a directory", at.display()))),
            Err(e) => return Err(Why::Failed(format!("{}: {e}", at.display()))),
        }
    }
    Ok(root.join(rel))
}

fn remove(root: &Path, c: &Change) -> Result<(), Why> {
    let path = inside(root, &c.path)?;
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if meta.is_dir() {
        match std::fs::remove_dir(&path) {
            Err(e) if e.kind() == ErrorKind::DirectoryNotEmpty => Err(Why::Kept(
                "a directory the turn created that still holds files (ignored or kept)".into(),
            )),
            other => other.map_err(Why::from),
        }
    } else {
        std::fs::remove_file(&path).map_err(Why::from)
    }
}

fn make_dir(root: &Path, c: &Change) -> Result<(), Why> {
    let path = inside(root, &c.path)?;
    let mode = c.target.as_ref().map_or(0o755, |t| t.mode);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => return Err(Why::Kept("something the walk ignores is in the way".into())),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    std::fs::create_dir(&path)?;
    // The directory's own mode comes last (it may be read-only); keep it writable meanwhile.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode | 0o700))?;
    Ok(())
}

fn write(root: &Path, objects: &Objects, c: &Change) -> Result<(), Why> {
    let path = inside(root, &c.path)?;
    let Some(target) = &c.target else {
        return Ok(());
    };
    match std::fs::symlink_metadata(&path) {
        Ok(_) if c.current.is_none() => {
            return Err(Why::Kept("something the walk ignores is in the way".into()));
        }
        Ok(m) if m.file_type().is_symlink() || matches!(target.kind, Kind::Symlink(_)) => {
            if m.is_dir() {
                std::fs::remove_dir(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        _ => {}
    }
    match &target.kind {
        Kind::Symlink(to) => std::os::unix::fs::symlink(to, &path).map_err(Why::from),
        Kind::File(_) => {
            let hash = target
                .hash()
                .ok_or_else(|| Why::Failed("the content is not in the store".into()))?;
            let bytes = objects.get(hash).map_err(|e| Why::Failed(e.to_string()))?;
            crate::durable::replace(&path, &bytes)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(target.mode))?;
            Ok(())
        }
        Kind::Dir => Ok(()),
    }
}

fn set_mode(root: &Path, c: &Change) -> Result<(), Why> {
    let path = inside(root, &c.path)?;
    let Some(target) = &c.target else {
        return Ok(());
    };
    let meta = std::fs::symlink_metadata(&path)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(target.mode))?;
    Ok(())
}
