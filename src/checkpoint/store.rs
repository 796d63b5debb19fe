//! The store's directory: opening it, the sessions in it, its size.

use std::fmt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::chain::Chain;
use super::diffstat::human_bytes;
use super::objects::Objects;
use super::session::SessionHistory;
use super::{CheckpointError, Limits, io_at, lock};

/// The checkpoint store (the caller passes `~/.corecoder/checkpoints`).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) root: PathBuf,
    pub(crate) limits: Limits,
    /// Paths a snapshot never records besides the store (corecoder's own files, when a
    /// workspace contains the home directory).
    pub(crate) skip: Vec<PathBuf>,
}

/// A session that has checkpoints, as `corecoder undo` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    /// The workspace it snapshots (canonical).
    pub workspace: PathBuf,
    pub checkpoints: usize,
    /// When its newest checkpoint was taken (ns since the epoch; 0 without one).
    pub newest_ns: i64,
    /// Whether a process has it open now.
    pub live: bool,
}

/// What the store takes on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreSize {
    /// Bytes on disk (allocated blocks) of contents, records and checkpoints.
    pub bytes: u64,
    pub objects: usize,
    pub sessions: usize,
    pub checkpoints: usize,
    pub budget: u64,
}

impl fmt::Display for StoreSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checkpoint store: {} of {} ({} session{}, {} undoable turn{}, {} stored contents)",
            human_bytes(self.bytes),
            human_bytes(self.budget),
            self.sessions,
            if self.sessions == 1 { "" } else { "s" },
            self.checkpoints,
            if self.checkpoints == 1 { "" } else { "s" },
            self.objects
        )
    }
}

impl Store {
    /// Opens (creating, private to the user) the store at `root`.
    pub fn open(root: &Path, limits: Limits) -> Result<Store, CheckpointError> {
        for dir in [
            root.to_path_buf(),
            root.join("objects"),
            root.join("tmp"),
            root.join("sessions"),
        ] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io_at(&dir))?;
        }
        Ok(Store {
            root: root.to_path_buf(),
            limits,
            skip: vec![root.to_path_buf()],
        })
    }

    /// Never records `path` (absolute) in a snapshot: corecoder's own sessions and history,
    /// which change every round and must not be "restored".
    pub fn skipping(mut self, path: PathBuf) -> Store {
        self.skip.push(path);
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn objects(&self) -> Objects {
        Objects::new(&self.root)
    }

    pub(crate) fn sessions_dir(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// Opens session `id`'s history for `workspace`, with what an earlier process left. The
    /// id must be a saved session's id (letters, digits, `.`, `_`, `-`).
    pub fn session(&self, id: &str, workspace: &Path) -> Result<SessionHistory, CheckpointError> {
        if crate::session::sanitize_id(id).as_deref() != Some(id) {
            return Err(CheckpointError::InvalidSession(id.to_string()));
        }
        SessionHistory::open(&self.root, &self.skip, self.limits, id, workspace)
    }

    /// Every session in the store, newest checkpoint first.
    pub fn sessions(&self) -> Result<Vec<SessionInfo>, CheckpointError> {
        let dir = self.sessions_dir();
        let mut out = Vec::new();
        for name in std::fs::read_dir(&dir).map_err(io_at(&dir))? {
            let name = name.map_err(io_at(&dir))?;
            let Some(id) = name.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if crate::session::sanitize_id(&id).as_deref() != Some(id.as_str()) {
                continue;
            }
            let path = name.path();
            let workspace = match std::fs::read(path.join("workspace")) {
                Ok(bytes) => {
                    use std::os::unix::ffi::OsStringExt;
                    PathBuf::from(std::ffi::OsString::from_vec(bytes))
                }
                Err(_) => continue,
            };
            let checkpoints = Chain::new(&path)
                .parse()
                .map(|p| p.turns())
                .unwrap_or_default();
            let live = lock::try_exclusive(&path.join("lock"))?.is_none();
            out.push(SessionInfo {
                id,
                workspace,
                checkpoints: checkpoints.len(),
                newest_ns: checkpoints.last().map_or(0, |c| c.time_ns),
                live,
            });
        }
        out.sort_by(|a, b| b.newest_ns.cmp(&a.newest_ns).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The sessions of `workspace`, newest first (`corecoder undo` takes the first).
    pub fn sessions_for(&self, workspace: &Path) -> Result<Vec<SessionInfo>, CheckpointError> {
        let canon = std::fs::canonicalize(workspace).map_err(io_at(workspace))?;
        let mut all = self.sessions()?;
        all.retain(|s| s.workspace == canon);
        Ok(all)
    }

    /// What the store takes on disk now.
    pub fn size(&self) -> Result<StoreSize, CheckpointError> {
        let objects = self.objects().list()?.len();
        let (mut sessions, mut checkpoints) = (0, 0);
        let dir = self.sessions_dir();
        for name in std::fs::read_dir(&dir).map_err(io_at(&dir))?.flatten() {
            sessions += 1;
            checkpoints += Chain::new(&name.path())
                .parse()
                .map_or(0, |p| p.turns.len());
        }
        Ok(StoreSize {
            bytes: self.disk_bytes()?,
            objects,
            sessions,
            checkpoints,
            budget: self.limits.budget,
        })
    }

    /// Bytes on disk (allocated blocks) of contents and session files.
    pub(crate) fn disk_bytes(&self) -> Result<u64, CheckpointError> {
        let mut bytes: u64 = self.objects().list()?.iter().map(|o| o.disk).sum();
        let dir = self.sessions_dir();
        for name in std::fs::read_dir(&dir).map_err(io_at(&dir))?.flatten() {
            for file in std::fs::read_dir(name.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                bytes += file.metadata().map_or(0, |m| m.blocks() * 512);
            }
        }
        Ok(bytes)
    }
}
