//! Replacing a file's content so that readers see the old bytes or the new ones, never a mix,
//! and the file stays the same file to everyone else: its mode, its owner and group, and every
//! hard link to it.
//!
//! An ordinary file (one name) is replaced by a new inode: the bytes go to an unnamed
//! `O_TMPFILE` in the target's directory, are synced, and only then get a name and are renamed
//! over the target. A crash or `kill -9` before that leaves nothing behind, because an unnamed
//! file vanishes with its last descriptor; the name exists only between `linkat` and `rename`,
//! two system calls apart. File systems without `O_TMPFILE` (and systems without `/proc`,
//! through which it is named) get a named temp file (`.corecoder-*.tmp`), which a crash can
//! leave behind.
//!
//! A file with several hard links cannot get a new inode without splitting the links (each
//! other name would keep the old content), so it is rewritten in place after reserving the
//! space (`fallocate`), which keeps a full disk from cutting it short; a crash in the middle of
//! that write can leave it partly written. That is the one trade-off, and only for hard links.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replaces `path`'s content with `bytes`. A symlink is followed, so the link stays and the
/// file it points at changes. A new file gets 0o666 less the umask, as `open(2)` would give it.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = follow_symlink(path);
    let meta = match std::fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(meta) = meta.as_ref().filter(|m| m.is_file() && m.nlink() > 1) {
        return rewrite_in_place(&target, bytes, meta.len());
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mode = meta.as_ref().map(|m| m.permissions());
    let owner = meta.as_ref().map(|m| (m.uid(), m.gid()));
    let unnamed = match open_unnamed(dir, mode.as_ref())? {
        Some(file) => {
            fill(&file, bytes, mode.clone(), owner)?;
            match link_and_rename(&file, dir, &target) {
                // Naming it goes through /proc/self/fd; without /proc, use a named temp file.
                Err(e) if e.kind() == ErrorKind::NotFound => false,
                other => other.map(|()| true)?,
            }
        }
        None => false,
    };
    if !unnamed {
        let tmp = tempfile::Builder::new()
            .prefix(".corecoder-")
            .suffix(".tmp")
            .permissions(mode.clone().unwrap_or(Permissions::from_mode(0o666)))
            .tempfile_in(dir)?;
        fill(tmp.as_file(), bytes, mode, owner)?;
        tmp.persist(&target).map_err(|e| e.error)?;
    }
    // Make the rename itself durable; a failure here does not undo the write, so ignore it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes the bytes, gives the file the original's owner (when allowed) and exact mode, syncs.
fn fill(
    mut file: &File,
    bytes: &[u8],
    mode: Option<Permissions>,
    owner: Option<(u32, u32)>,
) -> std::io::Result<()> {
    file.write_all(bytes)?;
    if let Some((uid, gid)) = owner {
        keep_owner(file, uid, gid);
    }
    if let Some(mode) = mode {
        // The umask narrowed the mode at creation, and a change of owner clears set-id bits:
        // put the original bits back exactly, last.
        file.set_permissions(mode)?;
    }
    file.sync_all()
}

/// Gives `file` the owner and group of the file it replaces: both when the process may (root),
/// else only the group when it is one of ours, else nothing (the kernel says no, as `cp -p`
/// finds). Failures are not errors: the content is what was asked for.
fn keep_owner(file: &File, uid: u32, gid: u32) {
    let fd = file.as_raw_fd();
    // SAFETY: fchown on a descriptor we own; no memory is passed.
    unsafe {
        if libc::geteuid() == uid && libc::getegid() == gid {
            return;
        }
        if libc::fchown(fd, uid, gid) != 0 {
            libc::fchown(fd, u32::MAX, gid);
        }
    }
}

/// An unnamed file in `dir`, or `None` when the file system does not support `O_TMPFILE`.
fn open_unnamed(dir: &Path, mode: Option<&Permissions>) -> std::io::Result<Option<File>> {
    let Ok(c_dir) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return Ok(None);
    };
    let mode = mode.map_or(0o666, |m| m.mode() & 0o7777);
    // SAFETY: a valid NUL-terminated path; the returned descriptor is owned by the File below.
    let fd = unsafe {
        libc::open(
            c_dir.as_ptr(),
            libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
            mode as libc::c_uint,
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
    Ok(Some(unsafe { File::from_raw_fd(fd) }))
}

/// Names the synced unnamed file beside the target, then renames it over the target.
fn link_and_rename(file: &File, dir: &Path, target: &Path) -> std::io::Result<()> {
    let proc_path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(std::io::Error::other)?;
    for attempt in 0..16u32 {
        let name = dir.join(format!(
            ".corecoder-{}-{}.tmp",
            std::process::id(),
            unique_suffix(attempt)
        ));
        let c_name =
            std::ffi::CString::new(name.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
        // SAFETY: valid NUL-terminated paths; linkat only creates a directory entry.
        let linked = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                proc_path.as_ptr(),
                libc::AT_FDCWD,
                c_name.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if linked != 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::AlreadyExists {
                continue;
            }
            return Err(e);
        }
        return std::fs::rename(&name, target).inspect_err(|_| {
            let _ = std::fs::remove_file(&name);
        });
    }
    Err(std::io::Error::new(
        ErrorKind::AlreadyExists,
        "no free temporary name beside the target",
    ))
}

fn unique_suffix(attempt: u32) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (u64::from(nanos) << 8) | u64::from(attempt)
}

/// Rewrites a hard-linked file where it is, so every name sees the change.
fn rewrite_in_place(target: &Path, bytes: &[u8], old_len: u64) -> std::io::Result<()> {
    let file = OpenOptions::new().write(true).open(target)?;
    let len = bytes.len() as u64;
    if len > old_len {
        // Reserve the blocks first so a full disk fails here, before a byte changes. File
        // systems without fallocate (EOPNOTSUPP) just go on.
        // SAFETY: fallocate on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len as libc::off_t) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
                return Err(e);
            }
        }
    }
    file.write_all_at(bytes, 0)?;
    file.set_len(len)?;
    file.sync_all()
}

/// The whole content of a regular file. A FIFO, socket or device is refused at once
/// (`ErrorKind::InvalidInput`) instead of blocking until someone writes to it: the file is
/// opened non-blocking and checked before a byte is read.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device); it is not read, as that could \
             block forever",
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The file a symlink finally names (even a dangling one), or `path` itself.
fn follow_symlink(path: &Path) -> PathBuf {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return path.to_path_buf();
    }
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        // Dangling link: write where it points, relative to the link's directory.
        match std::fs::read_link(path) {
            Ok(dest) if dest.is_absolute() => dest,
            Ok(dest) => path.parent().map_or(dest.clone(), |p| p.join(&dest)),
            Err(_) => path.to_path_buf(),
        }
    })
}

#[cfg(test)]
mod tests;
