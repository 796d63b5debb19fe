//! Contents named by their hash: `objects/ab/cdef…` (the first two hex digits make a fan-out
//! directory so none holds more than a few thousand names).
//!
//! An object is written to a temp file in `tmp/` and renamed to its name only when complete,
//! so a name always holds the whole content; a `kill -9` leaves at most a temp file, which gc
//! removes. Objects are private to the user (0600, as the temp file is created).

use std::io::{ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{CheckpointError, Hash, io_at};

#[derive(Debug, Clone)]
pub(crate) struct Objects {
    dir: PathBuf,
    tmp: PathBuf,
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
            tmp: root.join("tmp"),
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
        let mut tmp = tempfile::Builder::new()
            .prefix("obj-")
            .tempfile_in(&self.tmp)
            .map_err(io_at(&self.tmp))?;
        tmp.write_all(bytes).map_err(io_at(tmp.path()))?;
        match tmp.persist(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.error.kind() == ErrorKind::NotFound => {
                let fanout = path.parent().unwrap_or(&self.dir);
                std::fs::create_dir_all(fanout).map_err(io_at(fanout))?;
                e.file.persist(&path).map_err(|e| io_at(&path)(e.error))?;
                Ok(true)
            }
            Err(e) => Err(io_at(&path)(e.error)),
        }
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
