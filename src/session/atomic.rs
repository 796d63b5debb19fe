//! Replacing a session file so that readers and a crash see the old file or the new one.
//!
//! The temp file is `.session-*.tmp` beside the target (a hidden name no session id can take),
//! so a temp file a `kill -9` left behind mid-write is recognisable as ours.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Whether a save waits for the disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// Atomic against a crash of this process: readers see the old file or the new one.
    Atomic,
    /// Also on the disk before returning (file and directory fsynced), so it survives a power
    /// loss.
    Synced,
}

/// Temp file beside the target, write, (fsync,) rename: readers and a crash see the old file
/// or the new one. The rename replaces a symlink rather than writing through it.
pub(super) fn atomic_write(
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
