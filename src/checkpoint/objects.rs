//! Contents named by their hash: `objects/ab/cdef…` (the first two hex digits make a fan-out
//! directory so none holds more than a few thousand names).
//!
//! An object gets its name only once complete (an unnamed `O_TMPFILE` linked into place, or on
//! file systems without it a temp file in `tmp/` renamed into place), so a name always holds
//! the whole content; a `kill -9` leaves nothing, or that temp file, which gc removes. Objects
//! are private to the user (0600).

use std::io::{ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{CheckpointError, Hash, io_at};

#[derive(Debug, Clone)]
pub(crate) struct Objects {
    dir: PathBuf,
}

/// One stored object as gc sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ObjectFile {
    pub hash: Hash,
    /// Bytes on disk (allocated blocks), what the budget counts.
    pub disk: u64,
}

impl Objects {
    pub(crate) fn new(root: &Path) -> Objects {
        Objects {
            dir: root.join("objects"),
        }
    }

    pub(crate) fn path(&self, hash: &Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, hash: &Hash) -> bool {
        std::fs::symlink_metadata(self.path(hash)).is_ok()
    }

    /// Stores `bytes` under `hash` (the caller hashed them) unless already there. `Ok(true)`
    /// when it wrote them.
    pub(crate) fn put(&self, hash: &Hash, bytes: &[u8]) -> Result<bool, CheckpointError> {
        let path = self.path(hash);
        if std::fs::symlink_metadata(&path).is_ok() {
            return Ok(false);
        }
        let fanout = path.parent().unwrap_or(&self.dir);
        match write_new(fanout, &path, bytes) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                std::fs::create_dir_all(fanout).map_err(io_at(fanout))?;
                write_new(fanout, &path, bytes)
            }
            other => other,
        }
        .map_err(io_at(&path))
    }

    /// The content stored under `hash`, checked against it: a damaged object is an error,
    /// never bytes to restore.
    pub(crate) fn get(&self, hash: &Hash) -> Result<Vec<u8>, CheckpointError> {
        let path = self.path(hash);
        let bytes = std::fs::read(&path).map_err(io_at(&path))?;
        if Hash::of(&bytes) != *hash {
            return Err(CheckpointError::Corrupt {
                path,
                reason: "the content does not match its hash".into(),
            });
        }
        Ok(bytes)
    }

    /// Every object on disk (names that are not hashes are left out).
    pub(crate) fn list(&self) -> Result<Vec<ObjectFile>, CheckpointError> {
        let mut out = Vec::new();
        let fanouts = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_at(&self.dir)(e)),
        };
        for fanout in fanouts {
            let fanout = fanout.map_err(io_at(&self.dir))?;
            let prefix = fanout.file_name();
            let fpath = fanout.path();
            let Ok(names) = std::fs::read_dir(&fpath) else {
                continue;
            };
            for name in names.flatten() {
                let mut hex = prefix.as_encoded_bytes().to_vec();
                hex.extend_from_slice(name.file_name().as_encoded_bytes());
                let (Some(hash), Ok(meta)) = (Hash::from_hex(&hex), name.metadata()) else {
                    continue;
                };
                out.push(ObjectFile {
                    hash,
                    disk: meta.blocks() * 512,
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn remove(&self, hash: &Hash) -> Result<(), CheckpointError> {
        let path = self.path(hash);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io_at(&path)(e)),
            _ => Ok(()),
        }
    }
}

/// Writes a new object: an unnamed `O_TMPFILE` in its fan-out directory that gets its name
/// (`linkat`) only once complete, so a `kill -9` leaves nothing behind and two writers of the
/// same content both succeed. Without `O_TMPFILE` (or `/proc`), a named temp file in `tmp/`
/// is renamed into place instead.
fn write_new(fanout: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if let Some(file) = open_unnamed(fanout)? {
        (&file).write_all(bytes)?;
        match link_unnamed(&file, path) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
            // No `/proc` to name the file by: fall through to a named temp file.
            Err(e) if e.kind() == ErrorKind::NotFound && fanout.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    let tmp_dir = fanout
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("tmp"), |root| root.join("tmp"));
    let mut tmp = tempfile::Builder::new()
        .prefix("obj-")
        .tempfile_in(tmp_dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(true)
}

fn open_unnamed(dir: &Path) -> std::io::Result<Option<std::fs::File>> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_dir) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return Ok(None);
    };
    // SAFETY: a valid NUL-terminated path; the descriptor is owned by the File below.
    let fd = unsafe {
        libc::open(
            c_dir.as_ptr(),
            libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL) => Ok(None),
            _ => Err(e),
        };
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    Ok(Some(unsafe { std::fs::File::from_raw_fd(fd) }))
}

fn link_unnamed(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let proc_path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(std::io::Error::other)?;
    let c_path =
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: valid NUL-terminated paths; linkat only creates a directory entry.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc_path.as_ptr(),
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects() -> (tempfile::TempDir, Objects) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let objects = Objects::new(dir.path());
        (dir, objects)
    }

    #[test]
    fn put_is_once_per_content_and_get_checks_the_hash() {
        let (_dir, objects) = objects();
        let h = Hash::of(b"content");
        assert!(objects.put(&h, b"content").unwrap());
        assert!(!objects.put(&h, b"content").unwrap());
        assert_eq!(objects.get(&h).unwrap(), b"content");
        assert_eq!(objects.list().unwrap().len(), 1);
        std::fs::write(objects.path(&h), b"tampered").unwrap();
        assert!(matches!(
            objects.get(&h),
            Err(CheckpointError::Corrupt { .. })
        ));
        objects.remove(&h).unwrap();
        assert!(!objects.contains(&h));
        assert!(objects.list().unwrap().is_empty());
    }
}
