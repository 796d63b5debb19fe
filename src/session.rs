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
//! Only one process saves to a session file: each live session is claimed with an advisory
//! lock (`claim.rs`) that dies with its process, and a process resuming a session that another
//! live process holds forks it, a new id with the history copied, instead of overwriting it.
//! `-c` learns each file's directory from its header alone (`head.rs`), never the whole file.
//!
//! This file deliberately does not decide *when* to save (the agent loop and the REPL do), does
//! not know where the directory is (the binary passes `~/.corecoder/sessions`) and does not
//! print: listing returns data and `render` shows it.

use std::fs::{self, DirBuilder};
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::message::Message;
use crate::tools::todo::TodoItem;
use atomic::{Durability, atomic_write};

mod atomic;
mod claim;
mod format;
mod head;
mod id;

pub use claim::{Busy, Claim};
pub use id::{MAX_ID_LEN, new_id, sanitize_id};

/// How many fresh ids to try before giving up; one collides once in billions of sessions.
const NEW_ID_ATTEMPTS: usize = 16;

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
    #[error("session {id:?} is open in another corecoder process{}",
        busy.pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    InUse { id: String, busy: Busy },
    #[error("cannot lock session {id:?} in {}: {source}", dir.display())]
    Lock {
        id: String,
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// A session resumed by [`SessionStore::open`], with this process's claim on it.
#[derive(Debug)]
pub struct Opened {
    pub session: Session,
    pub claim: Claim,
    /// When another live process holds the session asked for: its id and owner (the error
    /// that says so). `session` is then a copy under the new id `claim` holds, already saved.
    pub forked_from: Option<SessionError>,
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
    /// The task list (`todo_write`) when the session was saved; stored after `messages`.
    pub todos: Vec<TodoItem>,
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
            todos: Vec::new(),
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
        self.create_root().map_err(write_err)?;
        atomic_write(&self.root, &path, &bytes, durability).map_err(write_err)?;
        Ok(path)
    }

    /// Conversations can hold pasted secrets: a new directory is private to the user.
    fn create_root(&self) -> std::io::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
    }

    /// `/save name`: sanitises `raw_name`, claims it, saves the session under it, and removes
    /// the file under the old id so `/sessions` shows the conversation once; `claim` then holds
    /// the new name and the old one is released. A name another live process holds is
    /// refused (`InUse`). On error the session and `claim` keep their old id.
    pub fn save_as(
        &self,
        session: &mut Session,
        claim: &mut Claim,
        raw_name: &str,
    ) -> Result<PathBuf, SessionError> {
        let name = sanitize_id(raw_name).ok_or_else(|| SessionError::InvalidId(raw_name.into()))?;
        if name == session.id {
            return self.save(session);
        }
        let named = self.claim(&name)?;
        let old = std::mem::replace(&mut session.id, name);
        let path = match self.save(session) {
            Ok(path) => path,
            Err(e) => {
                session.id = old;
                return Err(e);
            }
        };
        if let Ok(old_path) = self.path_for(&old) {
            // The named copy is safely on disk; a stale autosave left behind is harmless.
            let _ = fs::remove_file(old_path);
        }
        *claim = named;
        Ok(path)
    }

    /// Claims `id` (already sanitised) for this process until the claim is dropped; `InUse`
    /// when another live corecoder holds it. Creates the directory.
    pub fn claim(&self, id: &str) -> Result<Claim, SessionError> {
        self.path_for(id)?;
        let lock_err = |source| SessionError::Lock {
            id: id.into(),
            dir: self.root.clone(),
            source,
        };
        self.create_root().map_err(lock_err)?;
        match claim::acquire(&self.root, id).map_err(lock_err)? {
            Ok(claim) => Ok(claim),
            Err(busy) => Err(SessionError::InUse {
                id: id.into(),
                busy,
            }),
        }
    }

    /// A new session id, claimed, that no file and no live process uses yet.
    pub fn claim_new(&self) -> Result<Claim, SessionError> {
        self.claim_unused(new_id)
    }

    /// The first id from `next_id` that is neither claimed nor saved, claimed. Claiming before
    /// looking for the file closes the race with a process that picks the same id.
    fn claim_unused(&self, mut next_id: impl FnMut() -> String) -> Result<Claim, SessionError> {
        let mut last = String::new();
        for _ in 0..NEW_ID_ATTEMPTS {
            last = next_id();
            match self.claim(&last) {
                Ok(claim) if !self.path_for(&last)?.exists() => return Ok(claim),
                Ok(_) | Err(SessionError::InUse { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Err(SessionError::Lock {
            id: last,
            dir: self.root.clone(),
            source: std::io::Error::other("every new session id tried was taken"),
        })
    }

    /// Resumes the session `raw_id` names (`-r`, `-c`), claimed by this process. When another
    /// live process holds it, the history is copied to a new id, saved at once, and that copy
    /// is resumed instead (`forked_from` says so): two processes never write one file. The
    /// claim comes before the read, so an owner that saves and exits in between is not lost.
    pub fn open(&self, raw_id: &str) -> Result<Opened, SessionError> {
        let id = sanitize_id(raw_id).ok_or_else(|| SessionError::InvalidId(raw_id.into()))?;
        match self.claim(&id) {
            Ok(claim) => Ok(Opened {
                session: self.load(&id)?,
                claim,
                forked_from: None,
            }),
            Err(busy @ SessionError::InUse { .. }) => {
                // The owner replaces the file by rename, so this is one of its complete saves.
                let mut session = self.load(&id)?;
                let claim = self.claim_new()?;
                session.id = claim.id().to_string();
                self.autosave(&session)?;
                Ok(Opened {
                    session,
                    claim,
                    forked_from: Some(busy),
                })
            }
            Err(e) => Err(e),
        }
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

    /// The id of the newest session that ran in `cwd` (for `-c/--continue`, which then
    /// [`open`](Self::open)s it); `None` when there is none or no directory yet. Only each
    /// file's header is read, never a whole file. Files that are not sessions are passed over;
    /// if the newest match cannot be loaded, `open` says so: silently resuming an older
    /// conversation would surprise more than a message naming the broken file.
    pub fn latest_for_dir(&self, cwd: &Path) -> Result<Option<String>, SessionError> {
        let candidates = self.candidates().map_err(|source| SessionError::List {
            dir: self.root.clone(),
            source,
        })?;
        for (path, id) in candidates {
            // `Path` equality compares components, so `/a/` matches `/a`.
            let same_dir = read_summary(&path, id.clone(), head::Want::Header)
                .is_some_and(|s| s.cwd.is_some_and(|stored| stored == cwd));
            if same_dir {
                return Ok(Some(id));
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
/// A listing row from the start of the file at `path` (see `head.rs`).
fn read_summary(path: &Path, id: String, want: head::Want) -> Option<SessionSummary> {
    head::summary(id, fs::File::open(path).ok()?, want)
}

#[cfg(test)]
mod tests;
