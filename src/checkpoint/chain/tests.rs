use super::*;
use crate::checkpoint::snapshot::Delta;

fn checkpoint(turn: u32, prompt: &str) -> Checkpoint {
    Checkpoint {
        turn,
        prompt: prompt.into(),
        time_ns: 1,
        history_len: 0,
        before: 1,
        after: None,
        touched: Vec::new(),
        touched_count: 0,
    }
}

fn record(full: bool, taken_ns: i64) -> Record {
    Record {
        full,
        taken_ns,
        delta: Delta::default(),
    }
}

#[test]
fn the_last_frame_of_a_turn_wins_and_an_undone_turn_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new(dir.path());
    let mut len = chain
        .append(
            &[
                Frame::record(1, &record(true, 5)),
                Frame::turn(&checkpoint(1, "a")),
            ],
            None,
        )
        .unwrap();
    len = chain
        .append(
            &[
                Frame::turn(&checkpoint(1, "a2")),
                Frame::turn(&checkpoint(2, "b")),
            ],
            Some(len),
        )
        .unwrap();
    chain.append(&[Frame::Undone(2)], Some(len)).unwrap();
    let parsed = chain.parse().unwrap();
    let prompts: Vec<_> = parsed.turns().into_iter().map(|c| c.prompt).collect();
    assert_eq!(prompts, ["a2"]);
    assert_eq!(parsed.last_seq(), Some(1));
    assert_eq!(parsed.valid_len, chain.len().unwrap());
}

#[test]
fn a_torn_last_frame_is_ignored_then_cut_off_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new(dir.path());
    let len = chain
        .append(&[Frame::record(1, &record(true, 1))], None)
        .unwrap();
    chain
        .append(&[Frame::record(2, &record(false, 2))], Some(len))
        .unwrap();
    // A writer killed in the middle of its append: half of record 2 is on disk.
    let whole = std::fs::read(chain.path()).unwrap();
    let torn = &whole[..whole.len() - 10];
    std::fs::write(chain.path(), torn).unwrap();
    let parsed = chain.parse().unwrap();
    assert_eq!(parsed.last_seq(), Some(1));
    assert_eq!(parsed.valid_len, len);
    // A new process (no known length) appends after the last whole frame.
    let new_len = chain
        .append(&[Frame::record(2, &record(false, 3))], None)
        .unwrap();
    let parsed = chain.parse().unwrap();
    assert_eq!(parsed.valid_len, new_len);
    assert_eq!(parsed.records.len(), 2);
    assert_eq!(parsed.read(chain.path(), 2).unwrap().taken_ns, 3);
    // A flipped byte inside a payload ends the log there too.
    let mut bytes = std::fs::read(chain.path()).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 1;
    std::fs::write(chain.path(), &bytes).unwrap();
    assert_eq!(chain.parse().unwrap().records.len(), 1);
}
