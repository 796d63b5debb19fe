//! One checkpoint per turn: what the turn was asked, when, which snapshot records hold the
//! state before it and the state it left, and what it touched. Kept as JSON frames in the
//! session's log (`chain.rs`), a new frame after each round with changes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
