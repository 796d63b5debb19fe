//! Advisory `flock`s that die with their process (so a `kill -9` never leaves one behind).
//!
//! - The store's `lock`: shared while a snapshot writes objects and records, exclusive while
//!   gc decides what to drop and deletes it, so gc never removes an object a snapshot in
//!   flight has just found already stored.
//! - A session's `lock`: shared for as long as a [`super::SessionHistory`] is open; gc tries
//!   it exclusively to learn whether a session is live (a live one keeps its newest snapshot).

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

use super::{CheckpointError, io_at};

/// A held lock; dropping it (closing the file) releases it.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

fn open(path: &Path) -> Result<File, CheckpointError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_at(path))
}

fn flock(file: &File, op: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor we own; no memory is passed.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Waits for a shared lock on `path` (created when missing).
pub(crate) fn shared(path: &Path) -> Result<Lock, CheckpointError> {
    let file = open(path)?;
    flock(&file, libc::LOCK_SH).map_err(io_at(path))?;
    Ok(Lock { _file: file })
}

/// Waits for the exclusive lock on `path` (created when missing).
pub(crate) fn exclusive(path: &Path) -> Result<Lock, CheckpointError> {
    let file = open(path)?;
    flock(&file, libc::LOCK_EX).map_err(io_at(path))?;
    Ok(Lock { _file: file })
}

/// The exclusive lock on `path` (created when missing) if nobody holds it, without waiting.
pub(crate) fn try_exclusive(path: &Path) -> Result<Option<Lock>, CheckpointError> {
    let file = open(path)?;
    match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(Some(Lock { _file: file })),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(io_at(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_holder_keeps_exclusive_out_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = shared(&path).unwrap();
        assert!(try_exclusive(&path).unwrap().is_none());
        drop(held);
        assert!(try_exclusive(&path).unwrap().is_some());
        assert!(
            try_exclusive(&dir.path().join("missing"))
                .unwrap()
                .is_some()
        );
    }
}
