//! Saved conversations: the [`SessionStore`] that saves, loads and lists them in one directory.
//!
//! Files are CoreCoder's `{id, model, saved_at, messages}` JSON plus a `cwd` key CoreCoder
//! ignores, so either program resumes the other's sessions (the shape is `format.rs`). An id is
//! sanitised exactly as CoreCoder does before it becomes a file name (`id.rs`), which is what
//! keeps every read and write inside the store's directory. Saves are atomic (temp file, write,
//! rename), so a crash of corecoder loses at most the round in flight. `/save` also fsyncs, so
//! a named session survives a power loss; the per-round autosave does not, because two fsyncs
//! a round cost more than the rest of a round (benchmarked: ~7 ms of a ~10 ms round on disk).
//!
//! `-c` learns each file's directory from its header alone (`head.rs`), never the whole file.
//!
//! This file deliberately does not decide *when* to save (the agent loop and the REPL do), does
//! not know where the directory is (the binary passes `~/.corecoder/sessions`) and does not
//! print: listing returns data and `render` shows it.

use std::fs::{self, DirBuilder};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::message::Message;

mod format;
mod head;
mod id;

pub use id::{MAX_ID_LEN, new_id, sanitize_id};

/// Why a session could not be saved or resumed; each names the id or file involved.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("invalid session id {0:?}: use letters, digits, '.', '_' or '-'")]
    InvalidId(String),
    #[error("no session named {id:?} in {}", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("cannot read session file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("session file {} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write session file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list sessions in {}: {source}", dir.display())]
    List {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// One conversation as the agent resumes it. Plain data: `/save name` changes `id` (see
/// [`SessionStore::save_as`]) and every later autosave goes to the new name.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub model: String,
    /// The directory the conversation ran in; `None` for files CoreCoder wrote.
    pub cwd: Option<PathBuf>,
    pub messages: Vec<Message>,
    /// CoreCoder's local `YYYY-MM-DD HH:MM:SS` as read from disk; `None` until first saved.
    /// [`SessionStore::save`] stamps the current time and does not read this.
    pub saved_at: Option<String>,
}

impl Session {
    /// A fresh, unsaved session with a new id.
    pub fn new(model: impl Into<String>, cwd: Option<PathBuf>) -> Self {
        Session {
            id: new_id(),
            model: model.into(),
            cwd,
            messages: Vec::new(),
            saved_at: None,
        }
    }
}

/// One row of `/sessions`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    /// The id that resumes it (the file name, which is what `load` looks up).
    pub id: String,
    /// `?` when the file does not say, as CoreCoder shows it.
    pub model: String,
    pub saved_at: String,
    pub cwd: Option<PathBuf>,
    /// The first user prompt on one line, cut to about 60 characters.
    pub preview: String,
}

/// The sessions directory. Holds no other state, so cloning or rebuilding it is free.
#[derive(Debug, Clone)]
pub struct SessionStore {
    root: PathBuf,
}

impl SessionStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SessionStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `session` to `<root>/<id>.json` atomically, creating the directory, and returns
    /// the path. The id must already be sanitised (see [`sanitize_id`]): silently writing a
    /// different name than the caller holds would make the next autosave split the session.
    pub fn save(&self, session: &Session) -> Result<PathBuf, SessionError> {
        self.write(session, Durability::Synced)
    }

    /// Like [`save`](Self::save) but without fsync: for the save after every round, where
    /// waiting for the disk would dominate the round and the next round saves again.
    pub fn autosave(&self, session: &Session) -> Result<PathBuf, SessionError> {
        self.write(session, Durability::Atomic)
    }

    fn write(&self, session: &Session, durability: Durability) -> Result<PathBuf, SessionError> {
        let path = self.path_for(&session.id)?;
        let write_err = |source| SessionError::Write {
            path: path.clone(),
            source,
        };
        let bytes = format::encode(session, crate::clock::LocalTime::now().saved_at())
            .map_err(|e| write_err(e.into()))?;
        // Conversations can hold pasted secrets: a new directory is private to the user.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(write_err)?;
        atomic_write(&self.root, &path, &bytes, durability).map_err(write_err)?;
        Ok(path)
    }

    /// `/save name`: sanitises `raw_name`, saves the session under it, and removes the file
    /// under the old id so `/sessions` shows the conversation once. On error the session keeps
    /// its old id.
    pub fn save_as(&self, session: &mut Session, raw_name: &str) -> Result<PathBuf, SessionError> {
        let name = sanitize_id(raw_name).ok_or_else(|| SessionError::InvalidId(raw_name.into()))?;
        let old = std::mem::replace(&mut session.id, name);
        let path = match self.save(session) {
            Ok(path) => path,
            Err(e) => {
                session.id = old;
                return Err(e);
            }
        };
        if old != session.id
            && let Ok(old_path) = self.path_for(&old)
        {
            // The named copy is safely on disk; a stale autosave left behind is harmless.
            let _ = fs::remove_file(old_path);
        }
        Ok(path)
    }

    /// Loads the session `raw_id` names, after sanitising it as CoreCoder does (so
    /// `../../x` reads `<root>/x.json` and nothing outside the directory).
    pub fn load(&self, raw_id: &str) -> Result<Session, SessionError> {
        let id = sanitize_id(raw_id).ok_or_else(|| SessionError::InvalidId(raw_id.into()))?;
        let path = self.path_for(&id)?;
        let bytes = fs::read(&path).map_err(|source| match source.kind() {
            ErrorKind::NotFound => SessionError::NotFound {
                id: id.clone(),
                dir: self.root.clone(),
            },
            _ => SessionError::Read {
                path: path.clone(),
                source,
            },
        })?;
        format::decode(id, &bytes).map_err(|reason| SessionError::Corrupt { path, reason })
    }

    /// The newest session that ran in `cwd` (for `-c/--continue`); `None` when there is none
    /// or no directory yet. Only each file's header is read, never a whole file. Files that
    /// are not sessions are passed over while searching, but if the newest match cannot be
    /// loaded that is the error: silently resuming an older conversation would surprise more
    /// than a message naming the broken file.
    pub fn latest_for_dir(&self, cwd: &Path) -> Result<Option<Session>, SessionError> {
        let candidates = self.candidates().map_err(|source| SessionError::List {
            dir: self.root.clone(),
            source,
        })?;
        for (path, id) in candidates {
            // `Path` equality compares components, so `/a/` matches `/a`.
            let same_dir = read_summary(&path, id.clone(), head::Want::Header)
                .is_some_and(|s| s.cwd.is_some_and(|stored| stored == cwd));
            if same_dir {
                return self.load(&id).map(Some);
            }
        }
        Ok(None)
    }

    /// Up to `limit` sessions, newest first, each read up to its first prompt only. A file
    /// that does not start as a session is left out rather than hiding every other session
    /// behind one bad file.
    pub fn list(&self, limit: usize) -> Vec<SessionSummary> {
        let candidates = self.candidates().unwrap_or_default();
        candidates
            .into_iter()
            .filter_map(|(path, id)| read_summary(&path, id, head::Want::Preview))
            .take(limit)
            .collect()
    }

    /// `<root>/<id>.json` for an id that is already in sanitised form, else `InvalidId`. The
    /// sanitised alphabet has no separator and cannot spell `..`, so the join stays in `root`.
    fn path_for(&self, id: &str) -> Result<PathBuf, SessionError> {
        if sanitize_id(id).as_deref() != Some(id) {
            return Err(SessionError::InvalidId(id.into()));
        }
        Ok(self.root.join(format!("{id}.json")))
    }

    /// Session files with their ids, newest first. Ordered by modification time rather than
    /// `saved_at`, which is local wall-clock time to the second and jumps with time zones and
    /// DST; ties fall back to the name, which for generated ids is CoreCoder's own order.
    fn candidates(&self) -> std::io::Result<Vec<(PathBuf, String)>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut found: Vec<(SystemTime, String, PathBuf)> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            // A name `load` would change (spaces, a leading dot) could not be resumed by it.
            if sanitize_id(id).as_deref() != Some(id) {
                continue;
            }
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if meta.is_file() {
                let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                found.push((mtime, id.to_string(), path));
            }
        }
        found.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
        Ok(found.into_iter().map(|(_, id, path)| (path, id)).collect())
    }
}
/// Whether a save waits for the disk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Atomic against a crash of this process: readers see the old file or the new one.
    Atomic,
    /// Also on the disk before returning (file and directory fsynced), so it survives a power
    /// loss.
    Synced,
}

/// Temp file beside the target, write, (fsync,) rename: readers and a crash see the old file
/// or the new one. The rename replaces a symlink rather than writing through it.
fn atomic_write(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> std::io::Result<()> {
    let synced = durability == Durability::Synced;
    let mut tmp = tempfile::Builder::new()
        .prefix(".session-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if synced {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable; failing here does not undo the write, so ignore it.
    if synced && let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
/// A listing row from the start of the file at `path` (see `head.rs`).
fn read_summary(path: &Path, id: String, want: head::Want) -> Option<SessionSummary> {
    head::summary(id, fs::File::open(path).ok()?, want)
}

#[cfg(test)]
mod tests;
