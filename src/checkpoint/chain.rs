//! A session's history on disk: one append-only file, `log`, of checksummed frames.
//!
//! ```text
//! r <seq> <len> <blake3 of payload>\n<payload>\n     a snapshot record (record.rs), seq 1, 2, …
//! t <turn> <len> <blake3>\n<payload>\n                a checkpoint (JSON); the last one of a turn wins
//! x <turn> 0 <blake3 of nothing>\n\n                   the turn was undone: its checkpoint is gone
//! ```
//!
//! A record is a full listing or a delta against the record before it, so the state at a
//! record is the latest full record at or before it with the deltas after it applied.
//!
//! One file instead of a file per record and per checkpoint: a round's history costs its bytes,
//! not a 4 KiB block and a new inode each (measured: the store grew 1.20× the changed files'
//! bytes in disk blocks with files, and creating files is what this disk is slowest at). A
//! `kill -9` in the middle of an append leaves a torn last frame: reading stops at the first
//! frame whose length or checksum does not hold, and the next append cuts it off first. Gc
//! rewrites the log (temp file, rename) to drop old turns.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::{self, Record};
use super::snapshot::Snapshot;
use super::turns::Checkpoint;
use super::{CheckpointError, Hash, io_at, write_atomic};

/// The longest header line a frame may have.
const MAX_HEADER: usize = 128;

/// One entry of the log.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    Record(u64, Vec<u8>),
    Turn(u32, Vec<u8>),
    Undone(u32),
}

impl Frame {
    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, key, payload): (char, u64, &[u8]) = match self {
            Frame::Record(seq, p) => ('r', *seq, p),
            Frame::Turn(turn, p) => ('t', u64::from(*turn), p),
            Frame::Undone(turn) => ('x', u64::from(*turn), &[]),
        };
        let head = format!("{tag} {key} {} {}\n", payload.len(), Hash::of(payload));
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(payload);
        out.push(b'\n');
    }

    pub(crate) fn record(seq: u64, record: &Record) -> Frame {
        Frame::Record(seq, record::encode(record))
    }

    pub(crate) fn turn(checkpoint: &Checkpoint) -> Frame {
        // A struct of strings and numbers always serialises.
        Frame::Turn(
            checkpoint.turn,
            serde_json::to_vec(checkpoint).unwrap_or_default(),
        )
    }
}

/// What the log holds, read once.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Records in order, undecoded.
    pub records: Vec<(u64, Vec<u8>)>,
    /// The live checkpoints by turn.
    pub turns: BTreeMap<u32, Checkpoint>,
    /// Bytes up to the end of the last whole frame.
    pub valid_len: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Chain {
    path: PathBuf,
}

impl Chain {
    pub(crate) fn new(dir: &Path) -> Chain {
        Chain {
            path: dir.join("log"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The log's size now (0 when there is none).
    pub(crate) fn len(&self) -> Result<u64, CheckpointError> {
        match std::fs::metadata(&self.path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_at(&self.path)(e)),
        }
    }

    pub(crate) fn parse(&self) -> Result<Parsed, CheckpointError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_at(&self.path)(e)),
        };
        let mut parsed = Parsed::default();
        let mut at = 0;
        while let Some((frame, next)) = next_frame(&bytes, at) {
            match frame {
                Frame::Record(seq, payload) => parsed.records.push((seq, payload)),
                Frame::Turn(turn, payload) => {
                    let checkpoint =
                        serde_json::from_slice(&payload).map_err(|e| CheckpointError::Corrupt {
                            path: self.path.clone(),
                            reason: format!("turn {turn}: {e}"),
                        })?;
                    parsed.turns.insert(turn, checkpoint);
                }
                Frame::Undone(turn) => {
                    parsed.turns.remove(&turn);
                }
            }
            at = next;
        }
        parsed.valid_len = at as u64;
        Ok(parsed)
    }

    /// Appends frames after the last whole one. `known_len` is where the caller last left the
    /// log; when the file is not that long any more (gc rewrote it, a killed writer tore its
    /// end), the log is read to find where its whole frames end. Returns the new length.
    pub(crate) fn append(
        &self,
        frames: &[Frame],
        known_len: Option<u64>,
    ) -> Result<u64, CheckpointError> {
        let io = io_at(&self.path);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(io_at(&self.path))?;
        let len = file.metadata().map_err(io_at(&self.path))?.len();
        let end = if known_len == Some(len) {
            len
        } else {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(io_at(&self.path))?;
            let mut at = 0;
            while let Some((_, next)) = next_frame(&bytes, at) {
                at = next;
            }
            at as u64
        };
        if end != len {
            file.set_len(end).map_err(io_at(&self.path))?;
        }
        let mut out = Vec::new();
        for frame in frames {
            frame.encode(&mut out);
        }
        file.seek(SeekFrom::Start(end)).map_err(io_at(&self.path))?;
        file.write_all(&out).map_err(io)?;
        Ok(end + out.len() as u64)
    }

    /// Replaces the log with `frames` (temp file, rename).
    pub(crate) fn rewrite(&self, frames: &[Frame]) -> Result<(), CheckpointError> {
        let mut out = Vec::new();
        for frame in frames {
            frame.encode(&mut out);
        }
        write_atomic(&self.path, &out)
    }
}

/// The frame at `at` and where the next one starts, or `None` at the end or at a torn or
/// damaged frame.
fn next_frame(bytes: &[u8], at: usize) -> Option<(Frame, usize)> {
    let rest = bytes.get(at..)?;
    let nl = rest.iter().take(MAX_HEADER).position(|&b| b == b'\n')?;
    let head = std::str::from_utf8(&rest[..nl]).ok()?;
    let mut fields = head.split(' ');
    let (tag, key, len, sum) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let key: u64 = key.parse().ok()?;
    let len: usize = len.parse().ok()?;
    let start = nl + 1;
    let payload = rest.get(start..start.checked_add(len)?)?;
    if rest.get(start + len) != Some(&b'\n') || Hash::from_hex(sum.as_bytes())? != Hash::of(payload)
    {
        return None;
    }
    let turn = || u32::try_from(key).ok();
    let frame = match tag {
        "r" => Frame::Record(key, payload.to_vec()),
        "t" => Frame::Turn(turn()?, payload.to_vec()),
        "x" => Frame::Undone(turn()?),
        _ => return None,
    };
    Some((frame, at + start + len + 1))
}

impl Parsed {
    pub(crate) fn last_seq(&self) -> Option<u64> {
        self.records.last().map(|(seq, _)| *seq)
    }

    pub(crate) fn turns(&self) -> Vec<Checkpoint> {
        self.turns.values().cloned().collect()
    }

    pub(crate) fn read(&self, path: &Path, seq: u64) -> Result<Record, CheckpointError> {
        let (_, bytes) = self
            .records
            .iter()
            .find(|(s, _)| *s == seq)
            .ok_or_else(|| missing(path, seq))?;
        record::decode(bytes).map_err(|reason| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("record {seq}: {reason}"),
        })
    }

    /// The state at record `seq`.
    pub(crate) fn state_at(&self, path: &Path, seq: u64) -> Result<Snapshot, CheckpointError> {
        let upto = self
            .records
            .iter()
            .position(|(s, _)| *s == seq)
            .ok_or_else(|| missing(path, seq))?;
        let mut pending = Vec::new();
        for (s, _) in self.records[..=upto].iter().rev() {
            let record = self.read(path, *s)?;
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
            path: path.to_path_buf(),
            reason: format!("no full record before record {seq}"),
        })
    }

    /// Calls `visit` with each record's seq and the state there, oldest first, from the
    /// earliest full record on.
    pub(crate) fn replay(
        &self,
        path: &Path,
        mut visit: impl FnMut(u64, &Snapshot),
    ) -> Result<(), CheckpointError> {
        let mut state: Option<Snapshot> = None;
        for (seq, _) in &self.records {
            let record = self.read(path, *seq)?;
            if record.full {
                state = Some(Snapshot::default());
            }
            if let Some(state) = state.as_mut() {
                state.apply(&record.delta, record.taken_ns);
                visit(*seq, state);
            }
        }
        Ok(())
    }

    /// The frames of a log that starts at record `base` (as a full listing of `state`) and
    /// keeps `turns`.
    pub(crate) fn rebased(&self, base: u64, state: &Snapshot, turns: &[Checkpoint]) -> Vec<Frame> {
        let full = Record {
            full: true,
            taken_ns: state.taken_ns,
            delta: Snapshot::default().delta_to(state),
        };
        let mut frames = vec![Frame::record(base, &full)];
        frames.extend(
            self.records
                .iter()
                .filter(|(s, _)| *s > base)
                .map(|(s, p)| Frame::Record(*s, p.clone())),
        );
        frames.extend(turns.iter().map(Frame::turn));
        frames
    }
}

fn missing(path: &Path, seq: u64) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("record {seq} is missing"),
    }
}

#[cfg(test)]
mod tests;
