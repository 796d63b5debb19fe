//! `corecoder undo`: the REPL's `/undo` from the shell, for the newest session of a workspace
//! (so a `-p` run can be undone) or one named by `--session`.
//!
//! Nobody is asked without a terminal: the preview is printed and the run exits 1 unless
//! `--yes` was given. A session a live corecoder holds is refused (undo it there: two
//! processes must not restore one workspace at once).

use std::path::Path;

use crate::checkpoint::{Limits, SessionInfo, Store};
use crate::cli::UndoArgs;
use crate::error::exit;
use crate::render;
use crate::session::{SessionError, SessionStore};

use super::{cut_point, open_store, text};

/// What `corecoder undo` works with.
pub struct UndoCommand<'a> {
    pub args: &'a UndoArgs,
    /// The project root of the working directory (whose newest session is undone).
    pub workspace: &'a Path,
    pub home: &'a Path,
    pub limits: Limits,
    pub sessions: &'a SessionStore,
    pub color: bool,
    /// Asks the person a yes/no question; `None` when nobody can be asked.
    pub ask: Option<&'a dyn Fn(&str) -> bool>,
}

/// Runs it; `Ok` is the exit code, `Err` a message for the person.
pub fn run(c: &UndoCommand) -> Result<u8, String> {
    let store = open_store(c.home, c.limits).map_err(|e| e.to_string())?;
    if c.args.gc {
        let r = store.gc().map_err(|e| e.to_string())?;
        let size = store.size().map_err(|e| e.to_string())?;
        render::plain(&format!(
            "gc: {} contents removed, {} session(s) trimmed, {} removed\n{size}\n",
            r.removed_objects,
            r.trimmed.len(),
            r.removed_sessions.len()
        ));
        return Ok(exit::OK);
    }
    let info = pick(&store, c)?;
    if info.live && !c.args.list {
        return Err(format!(
            "session {} is open in a running corecoder: use /undo there",
            info.id
        ));
    }
    let mut history = store
        .session(&info.id, &info.workspace)
        .map_err(|e| e.to_string())?;
    if c.args.list {
        let turns = history.checkpoints().map_err(|e| e.to_string())?;
        let size = store
            .size()
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        render::plain(&format!(
            "Session {} in {}\n{}",
            info.id,
            info.workspace.display(),
            text::list(&turns, &size)
        ));
        return Ok(exit::OK);
    }
    let preview = history
        .preview_undo(c.args.turns)
        .map_err(|e| e.to_string())?;
    render::plain(&format!(
        "Session {} in {}\n{preview}",
        info.id,
        info.workspace.display()
    ));
    let conflicts = preview.plan.conflicts().count();
    let force = match (c.args.yes, c.ask) {
        (true, _) => c.args.force,
        (false, None) => {
            render::notice(c.color, "Nothing undone: run again with --yes to do it.");
            return Ok(exit::ERROR);
        }
        (false, Some(ask)) => {
            if !ask("Undo? (files and conversation) [y/N] ") {
                render::notice(c.color, "Nothing undone.");
                return Ok(exit::ERROR);
            }
            c.args.force
                || (conflicts > 0
                    && ask(&format!(
                        "{conflicts} path(s) changed after the turn ended (CONFLICT above). \
                         Overwrite them too? [y/N] "
                    )))
        }
    };
    let report = history.undo(&preview, force).map_err(|e| e.to_string())?;
    render::plain(&text::report(&report));
    if let Some(first) = preview.turns.first().filter(|_| report.failed.is_empty()) {
        cut_conversation(c, &info.id, first);
        render::plain(&format!("The undone prompt was:\n{}\n", first.prompt));
    }
    Ok(if report.failed.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    })
}

/// The session asked for, or the workspace's newest one.
fn pick(store: &Store, c: &UndoCommand) -> Result<SessionInfo, String> {
    let err = |e: crate::checkpoint::CheckpointError| e.to_string();
    match &c.args.session {
        Some(id) => store
            .sessions()
            .map_err(err)?
            .into_iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| format!("no checkpoints for session {id}")),
        None => store
            .sessions_for(c.workspace)
            .map_err(err)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no checkpoints for {}", c.workspace.display())),
    }
}

/// The saved conversation, cut before the undone turn (so `-c` goes on from there).
fn cut_conversation(c: &UndoCommand, id: &str, first: &crate::checkpoint::Checkpoint) {
    let cut = || -> Result<bool, SessionError> {
        let _claim = c.sessions.claim(id)?;
        let mut session = c.sessions.load(id)?;
        let Some(at) = cut_point(&session.messages, first) else {
            return Ok(false);
        };
        session.messages.truncate(at);
        c.sessions.save(&session)?;
        Ok(true)
    };
    match cut() {
        Ok(true) => {}
        Ok(false) => render::notice(
            c.color,
            "the conversation was compacted since that turn: it is kept as it is",
        ),
        Err(SessionError::NotFound { .. }) => render::notice(
            c.color,
            &format!(
                "no saved conversation {id} (saved under another name with /save?): only the \
                 files were restored"
            ),
        ),
        Err(e) => render::error(c.color, &format!("the conversation was not cut: {e}")),
    }
}
