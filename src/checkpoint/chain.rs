//! A session's records on disk, `r<seq>` (seq counts up from 1): each a full listing or a
//! delta against the record before it, so the state at a record is the latest full record at
//! or before it with the deltas after it applied.

use std::path::{Path, PathBuf};

use super::record::{self, Record};
use super::snapshot::Snapshot;
use super::{CheckpointError, io_at, write_atomic};

#[derive(Debug, Clone)]
pub(crate) struct Chain {
    dir: PathBuf,
}

impl Chain {
    pub(crate) fn new(dir: &Path) -> Chain {
        Chain {
            dir: dir.to_path_buf(),
        }
    }

    pub(crate) fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("r{seq:010}"))
    }

    /// The sequence numbers on disk, ascending.
    pub(crate) fn seqs(&self) -> Result<Vec<u64>, CheckpointError> {
        let mut out = Vec::new();
        let names = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_at(&self.dir)(e)),
        };
        for name in names {
            let name = name.map_err(io_at(&self.dir))?;
            if let Some(seq) = name
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix('r'))
                .and_then(|n| n.parse::<u64>().ok())
            {
                out.push(seq);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    pub(crate) fn read(&self, seq: u64) -> Result<Record, CheckpointError> {
        let path = self.path(seq);
        let bytes = std::fs::read(&path).map_err(io_at(&path))?;
        record::decode(&bytes).map_err(|reason| CheckpointError::Corrupt { path, reason })
    }

    /// Writes a record atomically; returns its size.
    pub(crate) fn write(&self, seq: u64, record: &Record) -> Result<u64, CheckpointError> {
        let bytes = record::encode(record);
        write_atomic(&self.path(seq), &bytes)?;
        Ok(bytes.len() as u64)
    }

    /// The state at record `seq`.
    pub(crate) fn state_at(&self, seq: u64) -> Result<Snapshot, CheckpointError> {
        let seqs = self.seqs()?;
        let upto: Vec<u64> = seqs.into_iter().filter(|s| *s <= seq).collect();
        if upto.last() != Some(&seq) {
            return Err(CheckpointError::Corrupt {
                path: self.path(seq),
                reason: "the record is missing".into(),
            });
        }
        let mut pending = Vec::new();
        for s in upto.iter().rev() {
            let record = self.read(*s)?;
            let full = record.full;
            pending.push(record);
            if full {
                let mut state = Snapshot::default();
                for record in pending.iter().rev() {
                    state.apply(&record.delta, record.taken_ns);
                }
                return Ok(state);
            }
        }
        Err(CheckpointError::Corrupt {
            path: self.path(seq),
            reason: "no full record before this delta".into(),
        })
    }

    /// Calls `visit` with each record's seq and the state there, oldest first, from the
    /// earliest full record on.
    pub(crate) fn replay(
        &self,
        mut visit: impl FnMut(u64, &Snapshot),
    ) -> Result<(), CheckpointError> {
        let mut state: Option<Snapshot> = None;
        for seq in self.seqs()? {
            let record = self.read(seq)?;
            if record.full {
                state = Some(Snapshot::default());
            }
            if let Some(state) = state.as_mut() {
                state.apply(&record.delta, record.taken_ns);
                visit(seq, state);
            }
        }
        Ok(())
    }

    /// Rewrites record `seq` as the full listing of `state`, then deletes the records before
    /// it. A crash between the two leaves records that are merely unneeded.
    pub(crate) fn rebase(&self, seq: u64, state: &Snapshot) -> Result<(), CheckpointError> {
        let record = Record {
            full: true,
            taken_ns: state.taken_ns,
            delta: Snapshot::default().delta_to(state),
        };
        self.write(seq, &record)?;
        for old in self.seqs()?.into_iter().filter(|s| *s < seq) {
            let path = self.path(old);
            std::fs::remove_file(&path).map_err(io_at(&path))?;
        }
        Ok(())
    }
}
