//! Keeping the store within its budget.
//!
//! A stored content is needed as long as some kept state names it: the state before each kept
//! turn (what an undo restores) and each live session's newest state (its next turn's "before"
//! and its walk's cache). Every content gets the time of the newest turn that needs it
//! (forever for a live session's newest state); dropping the turns older than a time `T`
//! frees exactly the contents whose time is at most `T`. So gc finds the smallest `T` that
//! brings the store under budget, drops the turns up to it (oldest first, across sessions),
//! rebases each trimmed session on its oldest kept state, removes dead sessions left with no
//! turn, and deletes every content no kept state names (the intermediate rounds' contents go
//! at the first gc, budget or not).
//!
//! Gc holds the store's lock exclusively, so no snapshot is writing meanwhile, and it never
//! drops a live session's newest state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::chain::Chain;
use super::lock::{self, Lock};
use super::snapshot::Snapshot;
use super::store::Store;
use super::turns::{self, Checkpoint};
use super::{CheckpointError, Hash, TrimNotice, io_at, write_atomic};

/// What a gc did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Store size (bytes on disk) before and after.
    pub before: u64,
    pub after: u64,
    pub budget: u64,
    pub removed_objects: usize,
    /// Sessions whose oldest turns were dropped, with how many.
    pub trimmed: Vec<(String, usize)>,
    /// Sessions no process had open whose every turn was dropped.
    pub removed_sessions: Vec<String>,
    /// Still over budget: the live sessions' newest states alone take more.
    pub over_budget: bool,
}

struct Sess {
    id: String,
    dir: PathBuf,
    chain: Chain,
    turns: Vec<Checkpoint>,
    head: Option<u64>,
    /// Held while gc runs when nobody else had the session open.
    dead: Option<Lock>,
}

impl Sess {
    /// The key up to which this session's newest state may be dropped (`None`: never).
    fn head_key(&self, head_ns: i64) -> Option<i64> {
        self.dead.as_ref()?;
        Some(self.turns.last().map_or(head_ns, |t| t.time_ns))
    }
}

impl Store {
    /// Brings the store within its budget; see the module's doc.
    pub fn gc(&self) -> Result<GcReport, CheckpointError> {
        let _lock = lock::exclusive(&self.root.join("lock"))?;
        clean_dir(&self.root.join("tmp"));
        let before = self.size()?.bytes;
        let sessions = self.load_sessions()?;
        // Each content's key: the newest drop key among the states naming it.
        let mut need: HashMap<Hash, Option<i64>> = HashMap::new();
        let mut keys = Vec::new();
        for s in &sessions {
            keys.extend(s.turns.iter().map(|t| t.time_ns));
            mark_session(s, &mut need, &mut keys);
        }
        let objects = self.objects().list()?;
        let records: u64 = before - objects.iter().map(|o| o.disk).sum::<u64>().min(before);
        let size_after = |cut: Option<i64>| -> u64 {
            records
                + objects
                    .iter()
                    .filter(|o| need.get(&o.hash).is_some_and(|k| kept(*k, cut)))
                    .map(|o| o.disk)
                    .sum::<u64>()
        };
        keys.sort_unstable();
        keys.dedup();
        let mut cut = None;
        if size_after(None) > self.limits.budget {
            cut = keys
                .iter()
                .copied()
                .find(|k| size_after(Some(*k)) <= self.limits.budget);
            if cut.is_none() {
                cut = keys.last().copied();
            }
        }
        let mut report = GcReport {
            before,
            budget: self.limits.budget,
            ..GcReport::default()
        };
        if let Some(cut) = cut {
            for s in &sessions {
                trim(s, cut, &mut report)?;
            }
        }
        let objects_store = self.objects();
        for o in &objects {
            if !need.get(&o.hash).is_some_and(|k| kept(*k, cut)) {
                objects_store.remove(&o.hash)?;
                report.removed_objects += 1;
            }
        }
        report.after = self.size()?.bytes;
        report.over_budget = report.after > self.limits.budget;
        Ok(report)
    }

    fn load_sessions(&self) -> Result<Vec<Sess>, CheckpointError> {
        let dir = self.sessions_dir();
        let mut out = Vec::new();
        for name in std::fs::read_dir(&dir).map_err(io_at(&dir))? {
            let name = name.map_err(io_at(&dir))?;
            let path = name.path();
            if !path.is_dir() {
                continue;
            }
            let dead = lock::try_exclusive(&path.join("lock"))?;
            if dead.is_some() {
                clean_temps(&path);
            }
            let chain = Chain::new(&path);
            out.push(Sess {
                id: name.file_name().to_string_lossy().into_owned(),
                head: chain.seqs()?.last().copied(),
                turns: turns::read_all(&path).unwrap_or_default(),
                dir: path,
                chain,
                dead,
            });
        }
        Ok(out)
    }
}

/// Whether a content with drop key `key` survives dropping everything up to `cut`.
fn kept(key: Option<i64>, cut: Option<i64>) -> bool {
    match (key, cut) {
        (None, _) | (_, None) => true,
        (Some(k), Some(c)) => k > c,
    }
}

/// Gives every content the session's states name its drop key (the newest wins; `None` is
/// forever). A session whose records cannot be replayed keeps every content they name.
fn mark_session(s: &Sess, need: &mut HashMap<Hash, Option<i64>>, keys: &mut Vec<i64>) {
    let mut bump = |h: &Hash, key: Option<i64>| {
        let slot = need.entry(*h).or_insert(key);
        *slot = match (*slot, key) {
            (None, _) | (_, None) => None,
            (Some(a), Some(b)) => Some(a.max(b)),
        };
    };
    let replayed = s.chain.replay(|seq, state: &Snapshot| {
        for t in s.turns.iter().filter(|t| t.before == seq) {
            state.hashes().for_each(|h| bump(h, Some(t.time_ns)));
        }
        if Some(seq) == s.head {
            let key = s.head_key(state.taken_ns);
            if let Some(k) = key {
                keys.push(k);
            }
            state.hashes().for_each(|h| bump(h, key));
        }
    });
    if replayed.is_err() {
        for seq in s.chain.seqs().unwrap_or_default() {
            if let Ok(record) = s.chain.read(seq) {
                for (_, e) in &record.delta.upserts {
                    if let Some(h) = e.hash() {
                        bump(h, None);
                    }
                }
            }
        }
    }
}

/// Drops the session's turns taken at or before `cut`.
fn trim(s: &Sess, cut: i64, report: &mut GcReport) -> Result<(), CheckpointError> {
    let dropped: Vec<&Checkpoint> = s.turns.iter().filter(|t| t.time_ns <= cut).collect();
    let all_dropped = dropped.len() == s.turns.len();
    if s.dead.is_some() && all_dropped {
        let head_ns = match s.head {
            Some(seq) => s.chain.read(seq).map_or(i64::MIN, |r| r.taken_ns),
            None => i64::MIN,
        };
        if s.head_key(head_ns).is_some_and(|k| k <= cut) {
            std::fs::remove_dir_all(&s.dir).map_err(io_at(&s.dir))?;
            report.removed_sessions.push(s.id.clone());
            return Ok(());
        }
    }
    if dropped.is_empty() {
        return Ok(());
    }
    let base = s.turns.get(dropped.len()).map(|t| t.before).or(s.head);
    if let Some(base) = base {
        let state = s.chain.state_at(base)?;
        s.chain.rebase(base, &state)?;
    }
    for t in &dropped {
        turns::remove(&s.dir, t.turn)?;
    }
    let notice_path = s.dir.join("trimmed");
    let earlier = std::fs::read(&notice_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<TrimNotice>(&b).ok())
        .map_or(0, |n| n.dropped_turns);
    let notice = TrimNotice {
        dropped_turns: earlier + dropped.len(),
    };
    let bytes = serde_json::to_vec(&notice).map_err(|e| io_at(&notice_path)(e.into()))?;
    write_atomic(&notice_path, &bytes)?;
    report.trimmed.push((s.id.clone(), dropped.len()));
    Ok(())
}

/// Removes every file in `dir` (temp files a killed writer left; no writer runs now).
fn clean_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
}

/// Removes the `.tmp-*` files a killed process left in a session's directory.
fn clean_temps(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
