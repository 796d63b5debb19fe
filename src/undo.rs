//! Undo as a running session uses it: when checkpoints are taken, and what `/undo` does.
//!
//! The store (`checkpoint`) knows how to snapshot and restore; this handle knows *when*:
//! - the session's first snapshot runs on a thread of its own when the session opens, so the
//!   first prompt never waits for it (a turn's first change does, when it comes that soon);
//! - [`Undo::begin_turn`] (the agent, as a turn starts) only notes the prompt;
//! - [`Undo::before_change`] (the dispatcher, before any call that may change files: an edit,
//!   a write, a shell command, an MCP tool) takes the turn's checkpoint once, before the first;
//! - [`Undo::round_done`] (the agent, after each round of tool calls) snapshots when the round
//!   may have changed something;
//! - [`Undo::end_turn`] (the session, when a turn ended in any way, Ctrl-C included) records a
//!   turn that changed nothing as a checkpoint too (one walk, its state before and after), so
//!   `/undo` always means "the last turn", and snapshots what a stopped round left.
//!
//! Every walk runs on a blocking thread under one mutex; a caller dropped meanwhile (Ctrl-C)
//! leaves the state consistent because the walk finishes and records itself. Nothing here
//! prints: what the person should hear is queued and drained by the caller.

pub mod command;
mod conversation;
pub mod text;

pub use conversation::cut_point;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::checkpoint::{
    Checkpoint, CheckpointError, Limits, RestoreReport, SessionHistory, Store, TurnStart,
    UndoPreview,
};

/// Stored bytes after which a session runs gc (besides once at its start): an eighth of the
/// budget, at most this.
const GC_EVERY: u64 = 64 << 20;

/// One session's checkpoints, shared by the dispatcher, the agent and the REPL.
pub struct Undo {
    shared: Arc<Shared>,
}

struct Shared {
    /// Held while a walk runs (blocking threads and the REPL's thread only).
    slot: Mutex<Slot>,
    /// The turn in progress: cheap, never held across a walk.
    pending: Mutex<Pending>,
    /// The session's first snapshot finished (set under the slot's lock).
    first_done: AtomicBool,
    /// A call that may change files ran since the last snapshot (mirrors `Slot::dirty`, so a
    /// round without one never waits for the slot).
    dirty: AtomicBool,
    /// Notices for the person, read without the slot (which a walk may hold for seconds).
    outbox: Mutex<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
struct Pending {
    /// Counts the turns begun in this process; 0 = none yet.
    seq: u64,
    prompt: String,
    history_len: u64,
}

struct Slot {
    store: Option<Store>,
    history: Option<SessionHistory>,
    /// Why there is no history (said once, then kept for `/undo`).
    off: Option<String>,
    /// The `Pending::seq` whose checkpoint was taken.
    begun: u64,
    /// A call that may change files ran since the last snapshot.
    dirty: bool,
    stored_since_gc: u64,
    notices: Vec<String>,
}

impl Slot {
    fn off(reason: String) -> Slot {
        Slot {
            store: None,
            history: None,
            off: Some(reason),
            begun: 0,
            dirty: false,
            stored_since_gc: 0,
            notices: Vec::new(),
        }
    }

    /// Turns a failure into a notice; a workspace over the budget switches undo off.
    fn failed(&mut self, what: &str, e: CheckpointError) {
        if let CheckpointError::TooLarge { .. } = e {
            self.history = None;
            self.notices
                .push(format!("undo is off for this session: {e}"));
            self.off = Some(e.to_string());
        } else {
            self.notices.push(format!("undo: {what}: {e}"));
        }
    }

    /// Gc when this session stored enough since the last one (or `force`), and the trim notice.
    fn maybe_gc(&mut self, force: bool) {
        let every = self
            .store
            .as_ref()
            .map_or(GC_EVERY, |s| (s.limits().budget / 8).min(GC_EVERY));
        if !force && self.stored_since_gc < every {
            return;
        }
        self.stored_since_gc = 0;
        if let Some(store) = &self.store
            && let Err(e) = store.gc()
        {
            self.notices
                .push(format!("undo: keeping the store in budget: {e}"));
        }
        if let Some(history) = self.history.as_mut() {
            match history.take_trim_notice() {
                Ok(Some(notice)) => self.notices.push(notice.to_string()),
                Ok(None) => {}
                Err(e) => self.notices.push(format!("undo: {e}")),
            }
        }
    }

    fn begin(&mut self, pending: &Pending) {
        if self.begun == pending.seq {
            return;
        }
        self.begun = pending.seq;
        let Some(history) = self.history.as_mut() else {
            return;
        };
        let start = TurnStart {
            prompt: &pending.prompt,
            history_len: pending.history_len,
        };
        match history.begin_turn(start) {
            Ok((_, report)) => self.stored_since_gc += report.stored_bytes,
            Err(e) => self.failed("could not take this turn's checkpoint", e),
        }
    }

    fn after(&mut self) {
        self.dirty = false;
        let Some(history) = self.history.as_mut() else {
            return;
        };
        match history.after_round() {
            Ok(report) => self.stored_since_gc += report.stored_bytes,
            Err(e) => self.failed("could not snapshot the round's changes", e),
        }
    }
}

/// Opens the store, `~/.corecoder/checkpoints`. Snapshots never record `~/.corecoder` (the
/// sessions change every round) nor the REPL's history, should a workspace contain them.
pub fn open_store(home: &Path, limits: Limits) -> Result<Store, CheckpointError> {
    let own = home.join(".corecoder");
    Ok(Store::open(&own.join("checkpoints"), limits)?
        .skipping(own)
        .skipping(home.join(".corecoder_history")))
}

impl Undo {
    /// Undo switched off, with why (`/undo` says it).
    pub fn off(reason: impl Into<String>) -> Undo {
        Undo::with_slot(Slot::off(reason.into()))
    }

    fn with_slot(slot: Slot) -> Undo {
        Undo {
            shared: Arc::new(Shared {
                slot: Mutex::new(slot),
                pending: Mutex::default(),
                first_done: AtomicBool::new(true),
                dirty: AtomicBool::new(false),
                outbox: Mutex::default(),
            }),
        }
    }

    /// Opens session `id`'s history for `workspace` and starts its first snapshot on a thread
    /// of its own. A store that cannot be opened leaves undo off, with a notice.
    pub fn open(store: Store, id: &str, workspace: &Path) -> Undo {
        let undo = Undo::off("undo is starting");
        undo.switch(store, id, workspace);
        undo
    }

    /// Points the handle at another session (`/reset`): its own history from now on.
    pub fn switch(&self, store: Store, id: &str, workspace: &Path) {
        let shared = Arc::clone(&self.shared);
        let (id, workspace) = (id.to_string(), workspace.to_path_buf());
        let mut slot = lock(&self.shared.slot);
        slot.history = None;
        slot.begun = lock(&self.shared.pending).seq;
        slot.dirty = false;
        self.shared.dirty.store(false, Ordering::SeqCst);
        match store.session(&id, &workspace) {
            Ok(history) => {
                slot.history = Some(history);
                slot.off = None;
            }
            Err(e) => {
                slot.off = Some(e.to_string());
                lock(&self.shared.outbox).push(format!("undo is off for this session: {e}"));
            }
        }
        slot.store = Some(store);
        self.shared.first_done.store(false, Ordering::SeqCst);
        drop(slot);
        let spawned = std::thread::Builder::new()
            .name("first-snapshot".into())
            .spawn(move || {
                let mut slot = lock(&shared.slot);
                if let Some(history) = slot.history.as_mut() {
                    match history.snapshot() {
                        Ok(report) => slot.stored_since_gc += report.stored_bytes,
                        Err(e) => slot.failed("the first snapshot failed", e),
                    }
                }
                slot.maybe_gc(true);
                shared.first_done.store(true, Ordering::SeqCst);
                let said = std::mem::take(&mut slot.notices);
                lock(&shared.outbox).extend(said);
            });
        if let Err(e) = spawned {
            self.shared.first_done.store(true, Ordering::SeqCst);
            lock(&self.shared.outbox).push(format!("undo: cannot start the first snapshot: {e}"));
        }
    }

    /// A turn starts: `prompt` goes back into the input line if it is undone, and the
    /// conversation is cut at `history_len` messages.
    pub fn begin_turn(&self, prompt: &str, history_len: usize) {
        let mut pending = lock(&self.shared.pending);
        pending.seq += 1;
        pending.prompt = prompt.to_string();
        pending.history_len = history_len as u64;
    }

    /// Before a call that may change files: the turn's checkpoint, once. Returns the notices.
    pub async fn before_change(&self) -> Vec<String> {
        self.blocking(|slot, pending| {
            slot.begin(pending);
            slot.dirty = true;
        })
        .await
    }

    /// After a round of tool calls: a snapshot when a call may have changed something.
    pub async fn round_done(&self) -> Vec<String> {
        if !self.shared.dirty.load(Ordering::SeqCst) {
            return self.take_notices();
        }
        self.blocking(|slot, _| {
            if slot.dirty {
                slot.after();
            }
        })
        .await
    }

    /// After a turn, however it ended: a turn that changed nothing still gets its checkpoint
    /// (so `/undo` undoes the last turn), a stopped round's changes are snapshotted.
    pub async fn end_turn(&self) -> Vec<String> {
        // While the first snapshot runs, no call that could change a file has run this turn
        // (it would have waited for the snapshot): a turn that changed nothing does not wait
        // for it (a `-p` question would otherwise exit only after the whole workspace was
        // read). It is then not recorded: there would be nothing to restore.
        if !self.shared.first_done.load(Ordering::SeqCst) {
            return Vec::new();
        }
        self.blocking(|slot, pending| {
            if pending.seq == 0 {
                return;
            }
            if slot.begun != pending.seq {
                // Nothing that could change a file ran: the state now is the turn's "before"
                // and "after" (one walk), so edits made meanwhile are never undone with it.
                slot.begin(pending);
                if let Some(history) = slot.history.as_mut()
                    && let Err(e) = history.close_unchanged()
                {
                    slot.failed("could not record this turn", e);
                }
            } else {
                // Also when no call was marked: a Stop hook or a PostToolUse hook of a
                // read-only call (a formatter) may have changed files after the last round.
                slot.after();
            }
            slot.maybe_gc(false);
        })
        .await
    }

    /// Runs `f` on a blocking thread with the slot locked; returns the queued notices.
    async fn blocking(&self, f: impl FnOnce(&mut Slot, &Pending) + Send + 'static) -> Vec<String> {
        let shared = Arc::clone(&self.shared);
        let job = tokio::task::spawn_blocking(move || {
            let pending = lock(&shared.pending).clone();
            let mut slot = lock(&shared.slot);
            f(&mut slot, &pending);
            // A checkpoint taken before the first snapshot's thread got the lock walked the
            // workspace itself: `end_turn` must not take this turn for one without changes.
            if pending.seq != 0 && slot.begun == pending.seq {
                shared.first_done.store(true, Ordering::SeqCst);
            }
            shared.dirty.store(slot.dirty, Ordering::SeqCst);
            let mut said = std::mem::take(&mut *lock(&shared.outbox));
            said.append(&mut slot.notices);
            said
        });
        job.await
            .unwrap_or_else(|e| vec![format!("undo: a snapshot stopped unexpectedly: {e}")])
    }

    /// What the person should hear now (outside a turn: after `/reset`, at start-up).
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.outbox))
    }

    /// The turns that can be undone, oldest first, and the store's size line.
    pub fn checkpoints(&self) -> Result<(Vec<Checkpoint>, String), String> {
        let slot = lock(&self.shared.slot);
        let history = history(&slot)?;
        let list = history.checkpoints().map_err(|e| e.to_string())?;
        let size = match &slot.store {
            Some(store) => store
                .size()
                .map_or_else(|e| e.to_string(), |s| s.to_string()),
            None => String::new(),
        };
        Ok((list, size))
    }

    /// What undoing the last `turns` turns would do.
    pub fn preview(&self, turns: usize) -> Result<UndoPreview, String> {
        let mut slot = lock(&self.shared.slot);
        let history = history_mut(&mut slot)?;
        history.preview_undo(turns).map_err(|e| e.to_string())
    }

    /// Restores what `preview` showed (conflicts too when `force`).
    pub fn apply(&self, preview: &UndoPreview, force: bool) -> Result<RestoreReport, String> {
        let mut slot = lock(&self.shared.slot);
        slot.dirty = false;
        self.shared.dirty.store(false, Ordering::SeqCst);
        let history = history_mut(&mut slot)?;
        history.undo(preview, force).map_err(|e| e.to_string())
    }
}

fn history<'a>(slot: &'a MutexGuard<'_, Slot>) -> Result<&'a SessionHistory, String> {
    slot.history
        .as_ref()
        .ok_or_else(|| slot.off.clone().unwrap_or_else(|| "undo is off".into()))
}

fn history_mut<'a>(slot: &'a mut MutexGuard<'_, Slot>) -> Result<&'a mut SessionHistory, String> {
    let off = slot.off.clone();
    slot.history
        .as_mut()
        .ok_or_else(|| off.unwrap_or_else(|| "undo is off".into()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
