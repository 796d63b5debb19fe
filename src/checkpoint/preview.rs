//! What an undo would do, as shown before it is done.

use std::fmt;

use super::diffstat::DiffStat;
use super::plan::Plan;
use super::snapshot::Snapshot;
use super::turns::Checkpoint;

/// What `/undo N` would do, shown before it is done.
#[derive(Debug, Clone)]
pub struct UndoPreview {
    /// The turns undone, oldest first; the first one's prompt goes back into the input line.
    pub turns: Vec<Checkpoint>,
    pub plan: Plan,
    pub diffstat: DiffStat,
    /// The workspace when the preview was made: `undo` refuses if it changed since.
    pub(super) current: Snapshot,
}

impl fmt::Display for UndoPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(first) = self.turns.first() {
            let n = self.turns.len();
            let prompt: String = first.prompt.chars().take(60).collect();
            let more = if first.prompt.chars().count() > 60 {
                "…"
            } else {
                ""
            };
            writeln!(
                f,
                "Undo {n} turn{} (back to before turn {}: {prompt:?}{more})",
                if n == 1 { "" } else { "s" },
                first.turn
            )?;
        }
        write!(f, "{}", self.diffstat)
    }
}
