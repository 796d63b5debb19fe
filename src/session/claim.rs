//! Which process owns a session: a [`Claim`] is an advisory `flock` on `<root>/.<id>.lock`,
//! held for as long as the claim lives. The kernel drops the lock when the process dies,
//! however it dies, so a `kill -9` never leaves a session locked; `flock` is atomic, so of two
//! processes claiming the same id at the same moment exactly one gets it.
//!
//! Only the owner saves to a session's file; `session.rs` makes a second process fork instead.
//! The lock file holds the owner's pid, only to say who has it. It is removed when the claim
//! is dropped, while still locked; a process that opened it just before then locks a file no
//! longer in the directory, so after locking we check that the name still leads to the file we
//! locked and start over if not. Without that check two processes could each lock a different
//! file of the same name. A lock file left by a killed process is unlocked and is reused.
//!
//! The descriptor is opened close-on-exec (std's default), so commands the agent starts do not
//! inherit the lock and cannot keep a session locked after corecoder exits.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// How often to start over when the lock file is removed under us; each retry needs another
/// process to release the same session in between, so a few are plenty.
const ATTEMPTS: usize = 16;

/// This process's ownership of one session id, released (and its lock file removed) on drop.
#[derive(Debug)]
pub struct Claim {
    id: String,
    path: PathBuf,
    // Held only for its lock; closing it on drop is what releases the session.
    _file: File,
}

impl Claim {
    /// The session id this process owns.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Removed while still locked (the file closes after this), see the module comment.
        let _ = fs::remove_file(&self.path);
    }
}

/// Another live process owns the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// The owner's pid as it wrote it, when it could be read.
    pub pid: Option<u32>,
}

/// `<root>/.<id>.lock`. Ids never start with `.`, so no lock file is a session file.
pub(super) fn lock_path(root: &Path, id: &str) -> PathBuf {
    root.join(format!(".{id}.lock"))
}

/// Claims `id` in `root` (which must exist): `Err(Busy)` inside `Ok` when a live process
/// already has it, an I/O error when the lock file cannot be opened or locked.
pub(super) fn acquire(root: &Path, id: &str) -> io::Result<Result<Claim, Busy>> {
    let path = lock_path(root, id);
    for _ in 0..ATTEMPTS {
        match lock(open(&path)?, &path)? {
            Step::Locked(file) => {
                return Ok(Ok(Claim {
                    id: id.to_string(),
                    path,
                    _file: file,
                }));
            }
            Step::Busy(busy) => return Ok(Err(busy)),
            Step::Replaced => {}
        }
    }
    Err(io::Error::other(format!(
        "{} kept being replaced while locking it",
        path.display()
    )))
}

/// What one attempt at locking came to.
enum Step {
    /// Locked, and still the file the name leads to; our pid is written in it.
    Locked(File),
    Busy(Busy),
    /// Its owner removed it between our open and our lock: start over.
    Replaced,
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Locks `file`, opened from `path`, and checks that `path` still names it.
fn lock(file: File, path: &Path) -> io::Result<Step> {
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let pid = fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            return Ok(Step::Busy(Busy { pid }));
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let locked = file.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(now) if (now.dev(), now.ino()) == (locked.dev(), locked.ino()) => {
            file.set_len(0)?;
            (&file).write_all(std::process::id().to_string().as_bytes())?;
            Ok(Step::Locked(file))
        }
        Ok(_) => Ok(Step::Replaced),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Step::Replaced),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The race the check after locking closes, step by step: a claimer opens the lock file,
    /// its owner releases (removing the file), a third process claims (a new file), and only
    /// then does the first claimer lock the file it opened.
    #[test]
    fn locking_a_removed_lock_file_is_not_a_claim() {
        let dir = tempfile::tempdir().unwrap();
        let owner = acquire(dir.path(), "x").unwrap().unwrap();
        let path = lock_path(dir.path(), "x");
        let opened_early = open(&path).unwrap();
        drop(owner);
        let third = acquire(dir.path(), "x").unwrap().unwrap();
        assert!(matches!(lock(opened_early, &path).unwrap(), Step::Replaced));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
        assert!(
            acquire(dir.path(), "x").unwrap().is_err(),
            "still held by the third"
        );
        drop(third);
        assert!(!path.exists());
    }

    /// Many claimers at once, each releasing (which removes the lock file) and claiming again:
    /// never two owners, including when one locks a file another has just removed.
    #[test]
    fn concurrent_claims_never_give_two_owners() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let owners = AtomicUsize::new(0);
        let won = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        if let Ok(claim) = acquire(dir.path(), "hot").unwrap() {
                            assert_eq!(owners.fetch_add(1, Ordering::SeqCst), 0, "two owners");
                            won.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(100));
                            owners.fetch_sub(1, Ordering::SeqCst);
                            drop(claim);
                        }
                    }
                });
            }
        });
        assert!(won.load(Ordering::SeqCst) > 0);
    }
}
