//! One checkpoint per turn, `t<turn>.json` in the session's directory: what the turn was asked,
//! when, which snapshot records hold the state before it and the state it left, and what it
//! touched. Small, rewritten atomically after each round with changes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CheckpointError, io_at, write_atomic};

/// At most this many touched paths are kept by name (the count is always exact).
const MAX_TOUCHED_NAMES: usize = 200;

/// What the caller knows when a turn starts mutating.
#[derive(Debug, Clone, Copy)]
pub struct TurnStart<'a> {
    /// The user's prompt, put back into the input line after an undo.
    pub prompt: &'a str,
    /// The conversation's length (messages) before this turn, where an undo cuts it.
    pub history_len: u64,
}

/// A turn that can be undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// 1 for the session's first checkpointed turn, then one more per turn.
    pub turn: u32,
    pub prompt: String,
    /// When the state before the turn was taken (ns since the epoch).
    pub time_ns: i64,
    pub history_len: u64,
    /// The record holding the state before the turn.
    pub before: u64,
    /// The record holding the state after the turn's last round with changes, if one was taken.
    pub after: Option<u64>,
    /// Paths the turn changed (created, deleted, modified, mode), the first ones by name.
    pub touched: Vec<String>,
    pub touched_count: usize,
}

impl Checkpoint {
    pub(crate) fn set_touched(&mut self, paths: &[PathBuf]) {
        self.touched_count = paths.len();
        self.touched = paths
            .iter()
            .take(MAX_TOUCHED_NAMES)
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
    }
}

pub(crate) fn file_name(turn: u32) -> String {
    format!("t{turn:06}.json")
}

pub(crate) fn write(dir: &Path, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let path = dir.join(file_name(checkpoint.turn));
    let bytes = serde_json::to_vec(checkpoint).map_err(|e| io_at(&path)(e.into()))?;
    write_atomic(&path, &bytes)
}

/// The session's checkpoints, oldest first. A file that does not parse is an error naming it.
pub(crate) fn read_all(dir: &Path) -> Result<Vec<Checkpoint>, CheckpointError> {
    let mut out = Vec::new();
    let names = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_at(dir)(e)),
    };
    for name in names {
        let name = name.map_err(io_at(dir))?;
        let file_name = name.file_name();
        let Some(turn) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix('t')?.strip_suffix(".json"))
        else {
            continue;
        };
        if turn.parse::<u32>().is_err() {
            continue;
        }
        let path = name.path();
        let bytes = std::fs::read(&path).map_err(io_at(&path))?;
        let checkpoint = serde_json::from_slice(&bytes).map_err(|e| CheckpointError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        out.push(checkpoint);
    }
    out.sort_by_key(|c: &Checkpoint| c.turn);
    Ok(out)
}

pub(crate) fn remove(dir: &Path, turn: u32) -> Result<(), CheckpointError> {
    let path = dir.join(file_name(turn));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_at(&path)(e)),
        _ => Ok(()),
    }
}
