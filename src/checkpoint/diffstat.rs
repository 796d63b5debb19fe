//! The preview of a restore as a diff-stat: per path what happens and how many lines, as data
//! and as text (`Display`); printing is `render`'s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use super::objects::Objects;
use super::plan::{ChangeKind, Plan};
use super::snapshot::{Entry, Kind};

/// Texts larger than this are counted in bytes, not lines (a line diff of megabytes is slow).
const MAX_DIFF_BYTES: u64 = 1 << 20;
/// Longest a line diff of one file may take; past it the counts are approximate.
const DIFF_TIMEOUT: Duration = Duration::from_millis(200);
const BAR_WIDTH: usize = 40;

/// One path of the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub path: PathBuf,
    pub kind: ChangeKind,
    pub conflict: bool,
    /// Lines the restore adds and removes, when both sides are text.
    pub lines: Option<(usize, usize)>,
    /// Sizes before and after the restore (bytes), for a file.
    pub bytes: (u64, u64),
    /// Mode bits before and after the restore.
    pub modes: (u32, u32),
    pub is_dir: bool,
}

/// The whole preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffStat {
    pub files: Vec<FileStat>,
}

impl DiffStat {
    /// Counts lines for every change of `plan` (reading the workspace's and the store's
    /// contents; a side that cannot be read is counted in bytes only).
    pub(crate) fn of(plan: &Plan, workspace: &Path, objects: &Objects) -> DiffStat {
        let files = plan
            .changes
            .iter()
            .map(|c| {
                let now = c
                    .current
                    .as_ref()
                    .and_then(|e| disk_text(&workspace.join(&c.path), e));
                let then = c.target.as_ref().and_then(|e| stored_text(objects, e));
                let lines = match (c.kind, &now, &then) {
                    (ChangeKind::NotRestorable | ChangeKind::Mode, _, _) => None,
                    (_, Some(a), Some(b)) => Some(count(a, b)),
                    (_, Some(a), None) if c.target.is_none() => Some(count(a, &[])),
                    (_, None, Some(b)) if c.current.is_none() => Some(count(&[], b)),
                    _ => None,
                };
                let size =
                    |e: &Option<Entry>| e.as_ref().filter(|e| !e.is_dir()).map_or(0, |e| e.size);
                let mode = |e: &Option<Entry>| e.as_ref().map_or(0, |e| e.mode);
                FileStat {
                    path: c.path.clone(),
                    kind: c.kind,
                    conflict: c.conflict,
                    lines,
                    bytes: (size(&c.current), size(&c.target)),
                    modes: (mode(&c.current), mode(&c.target)),
                    is_dir: [&c.current, &c.target]
                        .iter()
                        .any(|e| e.as_ref().is_some_and(Entry::is_dir)),
                }
            })
            .collect();
        DiffStat { files }
    }
}

fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0)
}

fn disk_text(path: &Path, entry: &Entry) -> Option<Vec<u8>> {
    if !matches!(entry.kind, Kind::File(_)) || entry.size > MAX_DIFF_BYTES {
        return None;
    }
    crate::durable::read_regular(path)
        .ok()
        .filter(|b| is_text(b))
}

fn stored_text(objects: &Objects, entry: &Entry) -> Option<Vec<u8>> {
    let hash = entry.hash()?;
    if entry.size > MAX_DIFF_BYTES {
        return None;
    }
    objects.get(hash).ok().filter(|b| is_text(b))
}

/// (insertions, deletions) turning `now` into `then`.
fn count(now: &[u8], then: &[u8]) -> (usize, usize) {
    let (now, then) = (String::from_utf8_lossy(now), String::from_utf8_lossy(then));
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(now.as_ref(), then.as_ref());
    diff.iter_all_changes()
        .fold((0, 0), |(ins, del), change| match change.tag() {
            ChangeTag::Insert => (ins + 1, del),
            ChangeTag::Delete => (ins, del + 1),
            ChangeTag::Equal => (ins, del),
        })
}

/// `1.5 MiB`, `300 B`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for DiffStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.files.is_empty() {
            return writeln!(f, " nothing to restore: the workspace is as it was");
        }
        let shown = |s: &FileStat| {
            let slash = if s.is_dir { "/" } else { "" };
            format!("{}{slash}", s.path.display())
        };
        let width = self
            .files
            .iter()
            .map(|s| shown(s).chars().count())
            .max()
            .unwrap_or(0);
        let most = self
            .files
            .iter()
            .filter_map(|s| s.lines.map(|(a, d)| a + d))
            .max()
            .unwrap_or(0);
        let (mut ins, mut del, mut conflicts, mut lost) = (0, 0, 0, 0);
        for s in &self.files {
            if s.kind == ChangeKind::NotRestorable {
                lost += 1;
                let size = if s.bytes.1 > 0 { s.bytes.1 } else { s.bytes.0 };
                writeln!(f, " not restorable: {} ({})", shown(s), human_bytes(size))?;
                continue;
            }
            let action = match s.kind {
                ChangeKind::Modified => "restore",
                ChangeKind::Created => "remove",
                ChangeKind::Deleted => "bring back",
                ChangeKind::Mode => "mode",
                ChangeKind::TypeChanged => "replace",
                ChangeKind::NotRestorable => "",
            };
            let detail = match (s.kind, s.lines) {
                (ChangeKind::Mode, _) => format!("{:o} -> {:o}", s.modes.0, s.modes.1),
                (_, _) if s.is_dir => "directory".to_string(),
                (_, Some((a, d))) => {
                    ins += a;
                    del += d;
                    let total = a + d;
                    let scale = |n: usize| {
                        if most <= BAR_WIDTH {
                            n
                        } else {
                            (n * BAR_WIDTH).div_ceil(most)
                        }
                    };
                    format!(
                        "{total:>4} {}{}",
                        "+".repeat(scale(a)),
                        "-".repeat(scale(d))
                    )
                }
                (_, None) => format!("Bin {} -> {} bytes", s.bytes.0, s.bytes.1),
            };
            let path = shown(s);
            let pad = width.saturating_sub(path.chars().count());
            write!(f, " {action:<10} {path}{} | {detail}", " ".repeat(pad))?;
            if s.conflict {
                conflicts += 1;
                write!(
                    f,
                    "  CONFLICT: changed after the turn ended; kept unless forced"
                )?;
            }
            writeln!(f)?;
        }
        let n = self.files.len();
        write!(
            f,
            " {n} path{} changed, {ins} insertion{}(+), {del} deletion{}(-)",
            if n == 1 { "" } else { "s" },
            if ins == 1 { "" } else { "s" },
            if del == 1 { "" } else { "s" },
        )?;
        if conflicts > 0 {
            write!(
                f,
                "; {conflicts} conflict{}",
                if conflicts == 1 { "" } else { "s" }
            )?;
        }
        if lost > 0 {
            write!(f, "; {lost} not restorable")?;
        }
        writeln!(f)
    }
}
