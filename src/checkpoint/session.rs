//! One session's checkpoints, as the dispatcher and the REPL use them:
//!
//! - [`SessionHistory::snapshot`] once when the session starts (in the background: the first
//!   one of a workspace reads every file);
//! - [`SessionHistory::begin_turn`] before a turn's first mutating tool call;
//! - [`SessionHistory::after_round`] after each round that ran a mutating call;
//! - [`SessionHistory::checkpoints`] for `/checkpoints`; [`SessionHistory::preview_undo`] then
//!   [`SessionHistory::undo`] for `/undo N` and `corecoder undo`.
//!
//! The handle keeps the newest snapshot in memory as the next walk's stat cache; everything
//! else is read from the session's directory, so a new process sees what an old one left.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chain::{Chain, Frame};
use super::diffstat::DiffStat;
use super::lock::{self, Lock};
use super::objects::Objects;
use super::plan::plan_restore;
use super::preview::UndoPreview;
use super::record::Record;
use super::restore::{RestoreReport, restore};
use super::scan::Scanner;
use super::snapshot::Snapshot;
use super::turns::{Checkpoint, TurnStart};
use super::{CheckpointError, Limits, io_at, now_ns, walk, write_atomic};

/// What one snapshot did.
#[derive(Debug, Clone, Default)]
pub struct SnapshotReport {
    /// Paths recorded (files, symlinks, directories).
    pub entries: usize,
    /// Files read because their stat changed.
    pub read: usize,
    /// Bytes of new contents written to the store.
    pub stored_bytes: u64,
    /// Bytes of the record written (0 when nothing changed).
    pub record_bytes: u64,
    /// Paths that could not be recorded fully, and why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Said once after gc dropped some of this session's oldest turns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrimNotice {
    pub dropped_turns: usize,
}

impl fmt::Display for TrimNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the undo history was trimmed to fit the checkpoint budget: the {} oldest turn(s) \
             can no longer be undone",
            self.dropped_turns
        )
    }
}

pub struct SessionHistory {
    objects: Objects,
    limits: Limits,
    store_lock: PathBuf,
    id: String,
    dir: PathBuf,
    workspace: PathBuf,
    scanner: Scanner,
    chain: Chain,
    /// The log's length after this handle last read or appended to it.
    log_len: Option<u64>,
    /// The newest turn number given out.
    last_turn: u32,
    /// The newest record's seq and state, when this handle knows it matches the disk.
    /// Shared with `current` (the state before the turn) without a copy.
    head: Option<(u64, Arc<Snapshot>)>,
    /// The turn `after_round` updates, with the state before it.
    current: Option<(Checkpoint, Arc<Snapshot>)>,
    _lock: Lock,
}

impl SessionHistory {
    pub(crate) fn open(
        store_root: &Path,
        skip: &[PathBuf],
        limits: Limits,
        id: &str,
        workspace: &Path,
    ) -> Result<SessionHistory, CheckpointError> {
        let workspace = std::fs::canonicalize(workspace).map_err(io_at(workspace))?;
        let dir = store_root.join("sessions").join(id);
        std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let lock = lock::shared(&dir.join("lock"))?;
        let ws_file = dir.join("workspace");
        if std::fs::symlink_metadata(&ws_file).is_err() {
            use std::os::unix::ffi::OsStrExt;
            write_atomic(&ws_file, workspace.as_os_str().as_bytes())?;
        }
        let chain = Chain::new(&dir);
        let workspace_for_scan = workspace.clone();
        // Not while gc rewrites records.
        let store_lock = lock::shared(&store_root.join("lock"))?;
        let parsed = chain.parse()?;
        // A head that cannot be read (a damaged record) is forgotten: the next snapshot is full.
        let head = parsed.last_seq().and_then(|seq| {
            let state = parsed.state_at(chain.path(), seq).ok()?;
            Some((seq, Arc::new(state)))
        });
        drop(store_lock);
        Ok(SessionHistory {
            objects: Objects::new(store_root),
            limits,
            store_lock: store_root.join("lock"),
            id: id.to_string(),
            dir,
            workspace,
            scanner: Scanner::new(&workspace_for_scan, skip),
            chain,
            log_len: Some(parsed.valid_len),
            last_turn: parsed.turns.keys().next_back().copied().unwrap_or(0),
            head,
            current: None,
            _lock: lock,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The workspace (canonical path) this session snapshots.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The newest snapshot this handle took or loaded.
    pub fn head(&self) -> Option<&Snapshot> {
        self.head.as_ref().map(|(_, s)| s.as_ref())
    }

    /// Walks the workspace and records what changed since the newest snapshot.
    pub fn snapshot(&mut self) -> Result<SnapshotReport, CheckpointError> {
        let _store = lock::shared(&self.store_lock)?;
        self.snapshot_locked()
    }

    /// [`Self::snapshot`] with the store's lock held (so gc waits).
    fn snapshot_locked(&mut self) -> Result<SnapshotReport, CheckpointError> {
        std::fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        // Whether the log still ends with this handle's head (gc may have rewritten it).
        let on_disk = self.chain.len()?;
        let known = self.head.as_ref().map(|(h, _)| *h);
        let (head_matches, next_seq) = match known {
            Some(h) if Some(on_disk) == self.log_len => (true, h + 1),
            _ => {
                let parsed = self.chain.parse()?;
                if parsed.valid_len == on_disk {
                    // Known again, so the next quiet round does not read the log.
                    self.log_len = Some(on_disk);
                }
                let last = parsed.last_seq();
                (known.is_some() && known == last, last.map_or(1, |l| l + 1))
            }
        };
        let empty = Snapshot::default();
        let prev = self.head.as_ref().map_or(&empty, |(_, s)| s.as_ref());
        let walked = walk::take(&self.scanner, prev, &self.objects, &self.limits)?;
        let mut report = SnapshotReport {
            entries: walked.snapshot.as_ref().map_or(prev.len(), Snapshot::len),
            read: walked.read,
            stored_bytes: walked.stored,
            record_bytes: 0,
            skipped: walked.skipped,
        };
        let snapshot = match walked.snapshot {
            // Nothing changed: the head stands, verified as of this walk.
            // (When the head is also the state before the turn, its time stays: a few more
            // files may be read again, none is missed.)
            None if head_matches => {
                if let Some(state) = self.head.as_mut().and_then(|(_, s)| Arc::get_mut(s)) {
                    state.taken_ns = walked.taken_ns;
                }
                return Ok(report);
            }
            None => Snapshot {
                taken_ns: walked.taken_ns,
                ..prev.clone()
            },
            Some(snapshot) => snapshot,
        };
        let record = if head_matches {
            let delta = prev.delta_to(&snapshot);
            if delta.is_empty() {
                if let Some((_, state)) = self.head.as_mut() {
                    *state = Arc::new(snapshot);
                }
                return Ok(report);
            }
            Record {
                full: false,
                taken_ns: snapshot.taken_ns,
                delta,
            }
        } else {
            Record {
                full: true,
                taken_ns: snapshot.taken_ns,
                delta: empty.delta_to(&snapshot),
            }
        };
        let seq = next_seq;
        let frame = Frame::record(seq, &record);
        if let Frame::Record(_, payload) = &frame {
            report.record_bytes = payload.len() as u64;
        }
        self.append(&[frame])?;
        self.head = Some((seq, Arc::new(snapshot)));
        Ok(report)
    }

    /// Records the state before a turn's first mutating call: a snapshot, then the turn's
    /// checkpoint (numbered one past the newest). Returns the checkpoint.
    pub fn begin_turn(
        &mut self,
        start: TurnStart<'_>,
    ) -> Result<(Checkpoint, SnapshotReport), CheckpointError> {
        // A failure below must not leave this turn's changes to the previous turn.
        self.current = None;
        let _store = lock::shared(&self.store_lock)?;
        let report = self.snapshot_locked()?;
        let before = self.head_seq()?;
        let turn = self.last_turn.saturating_add(1);
        let checkpoint = Checkpoint {
            turn,
            prompt: start.prompt.to_string(),
            time_ns: now_ns(),
            history_len: start.history_len,
            before,
            after: None,
            touched: Vec::new(),
            touched_count: 0,
        };
        self.append(&[Frame::turn(&checkpoint)])?;
        self.last_turn = turn;
        let before_state = self
            .head
            .as_ref()
            .map_or_else(Arc::default, |(_, s)| Arc::clone(s));
        self.current = Some((checkpoint.clone(), before_state));
        Ok((checkpoint, report))
    }

    /// Records the state after a round with mutations and what the current turn has touched.
    pub fn after_round(&mut self) -> Result<SnapshotReport, CheckpointError> {
        let _store = lock::shared(&self.store_lock)?;
        let report = self.snapshot_locked()?;
        let after = self.head_seq()?;
        // A round that changed nothing leaves the checkpoint as it is (no write).
        if let Some((checkpoint, before)) = self.current.as_mut()
            && checkpoint.after != Some(after)
        {
            if let Some((_, head)) = &self.head {
                checkpoint.set_touched(&before.changed_paths(head));
            }
            checkpoint.after = Some(after);
            let frame = Frame::turn(checkpoint);
            self.append(&[frame])?;
        }
        Ok(report)
    }

    /// Closes the current turn as one that changed nothing (no call that could change a file
    /// ran): the state after it is the state before it, without a walk, so what someone else
    /// changed meanwhile is never counted as the turn's.
    pub fn close_unchanged(&mut self) -> Result<(), CheckpointError> {
        let _store = lock::shared(&self.store_lock)?;
        if let Some((checkpoint, _)) = self.current.as_mut()
            && checkpoint.after.is_none()
        {
            checkpoint.after = Some(checkpoint.before);
            let frame = Frame::turn(checkpoint);
            self.append(&[frame])?;
        }
        Ok(())
    }

    fn append(&mut self, frames: &[Frame]) -> Result<(), CheckpointError> {
        self.log_len = Some(self.chain.append(frames, self.log_len)?);
        Ok(())
    }

    fn head_seq(&self) -> Result<u64, CheckpointError> {
        self.head
            .as_ref()
            .map(|(seq, _)| *seq)
            .ok_or_else(|| CheckpointError::Corrupt {
                path: self.dir.clone(),
                reason: "no snapshot was recorded".into(),
            })
    }

    /// The turns that can be undone, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, CheckpointError> {
        Ok(self.chain.parse()?.turns())
    }

    /// What undoing the last `turns` turns would do: restore the state before the oldest of
    /// them, with whatever changed after the newest one ended marked as a conflict.
    pub fn preview_undo(&mut self, turns: usize) -> Result<UndoPreview, CheckpointError> {
        let parsed = self.chain.parse()?;
        let all = parsed.turns();
        if turns == 0 || turns > all.len() {
            return Err(CheckpointError::NoCheckpoint(turns));
        }
        let _store = lock::shared(&self.store_lock)?;
        let undone = all[all.len() - turns..].to_vec();
        let (first, last) = (&undone[0], &undone[undone.len() - 1]);
        let path = self.chain.path();
        let target = parsed.state_at(path, first.before)?;
        let last_state = parsed.state_at(path, last.after.unwrap_or(last.before))?;
        self.snapshot_locked()?;
        let current = self.head().cloned().unwrap_or_default();
        let plan = plan_restore(&target, &current, &last_state);
        let diffstat = DiffStat::of(&plan, &self.workspace, &self.objects);
        Ok(UndoPreview {
            turns: undone,
            plan,
            diffstat,
            current,
        })
    }

    /// Applies a preview: conflicts only when `force`. Refuses when the workspace changed
    /// since the preview (preview again). The undone turns' checkpoints are dropped when
    /// nothing failed, and a new snapshot becomes the cache.
    pub fn undo(
        &mut self,
        preview: &UndoPreview,
        force: bool,
    ) -> Result<RestoreReport, CheckpointError> {
        let _store = lock::shared(&self.store_lock)?;
        self.snapshot_locked()?;
        let now = self.head().cloned().unwrap_or_default();
        let changed = preview.current.changed_paths(&now);
        if !changed.is_empty() {
            return Err(CheckpointError::ChangedSincePreview(changed));
        }
        let report = restore(&self.workspace, &self.objects, &preview.plan, force);
        if report.failed.is_empty() {
            let undone: Vec<Frame> = preview
                .turns
                .iter()
                .map(|c| Frame::Undone(c.turn))
                .collect();
            self.append(&undone)?;
            if let Some(first) = preview.turns.first() {
                self.last_turn = first.turn.saturating_sub(1);
            }
        }
        self.current = None;
        self.snapshot_locked()?;
        Ok(report)
    }

    /// Whether gc trimmed this session's history since the last call (said once).
    pub fn take_trim_notice(&mut self) -> Result<Option<TrimNotice>, CheckpointError> {
        let path = self.dir.join("trimmed");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_at(&path)(e)),
        };
        std::fs::remove_file(&path).map_err(io_at(&path))?;
        Ok(serde_json::from_slice(&bytes).ok())
    }
}
