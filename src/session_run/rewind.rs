//! What undo does to a live session: the files (through [`Undo`](crate::undo::Undo)) and the
//! conversation, cut back to before the undone turn and saved.

use crate::checkpoint::UndoPreview;
use crate::render;
use crate::undo::{cut_point, text};

use super::SessionRun;

impl SessionRun {
    /// After every turn, however it ended (the REPL and `-p` call it).
    pub async fn end_turn(&self) {
        for notice in self.undo.end_turn().await {
            render::notice(self.color, &notice);
        }
    }

    /// Says what the checkpoints queued outside a turn (a failed first snapshot, a trim).
    pub fn undo_notices(&self) {
        for notice in self.undo.take_notices() {
            render::notice(self.color, &notice);
        }
    }

    /// `/checkpoints`: the undoable turns, numbered by how many turns back.
    pub fn checkpoints_text(&self) -> Result<(String, usize), String> {
        let (turns, size) = self.undo.checkpoints()?;
        Ok((text::list(&turns, &size), turns.len()))
    }

    /// What `/undo turns` would do (walks the workspace to compare).
    pub fn undo_preview(&self, turns: usize) -> Result<UndoPreview, String> {
        self.undo.preview(turns)
    }

    /// Restores the files `preview` showed and cuts the conversation before the oldest undone
    /// turn. Returns that turn's prompt, for the input line.
    pub fn undo_apply(&mut self, preview: &UndoPreview, force: bool) -> Result<String, String> {
        let report = self.undo.apply(preview, force)?;
        render::plain(&text::report(&report));
        let Some(first) = preview.turns.first() else {
            return Ok(String::new());
        };
        if !report.failed.is_empty() {
            render::notice(
                self.color,
                "some files could not be restored: the conversation is kept as it is",
            );
            return Ok(first.prompt.clone());
        }
        let messages = self.agent.messages();
        match cut_point(messages, first) {
            Some(at) => {
                let kept = messages[..at].to_vec();
                self.agent.set_messages(kept);
                super::write(
                    &self.store,
                    &self.meta,
                    self.agent.messages(),
                    &self.ctx.todos,
                    self.color,
                );
            }
            None => render::notice(
                self.color,
                "the conversation was compacted since that turn: it is kept as it is",
            ),
        }
        Ok(first.prompt.clone())
    }
}
