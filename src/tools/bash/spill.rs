//! Where `bash` keeps the full text of outputs too long for the reply, and who removes it.
//!
//! One directory per process, `$TMPDIR/corecoder-spill-<pid>-<random>` (mode 0700), created on
//! the first `bash` call (which keeps the small file the shell reports its directory in there
//! too). The [`SpillDir`] value owns it: `main` makes one per session and lends
//! it to the `bash` tool, so the directory and every file in it go when the session ends (normal
//! exit, `/exit`, Ctrl-D, an error). A process killed outright leaves its directory behind; the
//! next start removes the directories of processes that are gone ([`SpillDir::remove_stale`]):
//! a directory counts as stale when the pid in its name no longer runs and no one holds the
//! `flock` its owner takes on it (the lock covers a pid that lives in another pid namespace).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use tempfile::{NamedTempFile, TempDir};

const PREFIX: &str = "corecoder-spill-";
/// The most one saved output may take on disk, in MiB.
pub const DEFAULT_CAP_MIB: u64 = 64;

/// The owner of this process's spill directory; dropping it removes the directory.
pub struct SpillDir {
    parent: PathBuf,
    cap_mib: u64,
    held: Mutex<Option<Held>>,
}

/// The directory once made, and the lock that tells other processes it is in use.
struct Held {
    dir: TempDir,
    _lock: Option<File>,
}

impl SpillDir {
    /// A spill directory to be made under `parent` (usually `std::env::temp_dir()`) when first
    /// needed; nothing touches the disk until then.
    pub fn new(parent: PathBuf) -> Self {
        SpillDir {
            parent,
            cap_mib: DEFAULT_CAP_MIB,
            held: Mutex::new(None),
        }
    }

    /// Saved outputs are cut after `mib` MiB (64 by default).
    pub fn with_cap_mib(mut self, mib: u64) -> Self {
        self.cap_mib = mib.max(1);
        self
    }

    pub fn cap_mib(&self) -> u64 {
        self.cap_mib
    }

    /// The cap in bytes.
    pub fn cap(&self) -> u64 {
        self.cap_mib << 20
    }

    /// The directory, if a long output has made it.
    pub fn path(&self) -> Option<PathBuf> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref().map(|h| h.dir.path().to_path_buf())
    }

    /// A new empty file in the directory, made now if need be. It is deleted when dropped
    /// unless kept (`NamedTempFile::keep`); the directory's removal takes kept ones.
    pub fn file(&self) -> io::Result<NamedTempFile> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = match &mut *held {
            Some(h) => h,
            None => held.insert(self.make()?),
        };
        tempfile::Builder::new()
            .prefix("output-")
            .suffix(".txt")
            .tempfile_in(dir.dir.path())
    }

    fn make(&self) -> io::Result<Held> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(&self.parent)?;
        // Without the lock the pid in the name still protects the directory; the lock only
        // adds safety across pid namespaces, so failing to take it is no reason to stop.
        let lock = File::open(dir.path())
            .ok()
            .filter(|f| try_lock(f).unwrap_or(false));
        Ok(Held { dir, _lock: lock })
    }

    /// Removes the spill directories under the parent that belong to this user and to
    /// processes that are gone; returns how many went. Best effort: a directory that cannot be
    /// read or removed is left as it is.
    pub fn remove_stale(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.parent) else {
            return 0;
        };
        let me = std::process::id();
        entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let pid = name.to_str().and_then(pid_of);
                pid.is_some_and(|pid| pid != me && stale(&e.path(), pid))
            })
            .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
            .count()
    }
}

/// The pid in a spill directory's name (`corecoder-spill-<pid>-<random>`).
fn pid_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, random) = rest.split_once('-')?;
    let pid: u32 = pid.parse().ok()?;
    // Zero or a negative number would name a process group to kill(2), not a process.
    (pid > 0 && i32::try_from(pid).is_ok() && !random.is_empty()).then_some(pid)
}

/// A real directory of this user whose process is gone and whose lock no one holds.
fn stale(path: &Path, pid: u32) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    // SAFETY: getuid has no preconditions.
    if !meta.is_dir() || meta.uid() != unsafe { libc::getuid() } {
        return false;
    }
    if alive(pid) {
        return false;
    }
    File::open(path).is_ok_and(|f| try_lock(&f).unwrap_or(false))
}

/// Whether a process with this pid exists (one we may not signal exists too).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists; pid is positive (see `pid_of`).
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Takes an exclusive `flock` without waiting: `Ok(false)` when someone else holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_made_on_first_use_and_removed_with_its_owner() {
        let parent = tempfile::tempdir().unwrap();
        let spill = SpillDir::new(parent.path().to_path_buf());
        assert_eq!(spill.path(), None, "nothing on disk before it is needed");
        let (_, kept) = spill.file().unwrap().keep().unwrap();
        let dir = spill.path().unwrap();
        assert!(kept.starts_with(&dir));
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(pid_of(&name), Some(std::process::id()));
        drop(spill);
        assert!(!kept.exists() && !dir.exists());
    }

    #[test]
    fn names_that_are_not_spill_directories_have_no_pid() {
        for name in [
            "corecoder-spill-0-abc",
            "corecoder-spill--1-abc",
            "corecoder-spill-4294967295-abc",
            "corecoder-spill-12",
            "corecoder-spill-12-",
            "corecoder-output-12-abc",
        ] {
            assert_eq!(pid_of(name), None, "{name}");
        }
        assert_eq!(pid_of("corecoder-spill-12-abc"), Some(12));
    }

    #[test]
    fn a_live_owners_directory_is_not_stale_even_under_a_dead_pid() {
        let parent = tempfile::tempdir().unwrap();
        let owner = SpillDir::new(parent.path().to_path_buf());
        owner.file().unwrap().keep().unwrap();
        let dir = owner.path().unwrap();
        // The same directory seen under a dead pid (another pid namespace): its lock is held.
        let dead = dead_pid();
        let renamed = parent.path().join(format!("{PREFIX}{dead}-moved"));
        std::fs::rename(&dir, &renamed).unwrap();
        assert_eq!(SpillDir::new(parent.path().to_path_buf()).remove_stale(), 0);
        assert!(renamed.exists());
        drop(owner);
        let _ = std::fs::remove_dir_all(&renamed);
    }

    /// The pid of a process that has ended and been reaped.
    pub fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }
}
