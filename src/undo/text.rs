//! What `/checkpoints`, `/undo` and `corecoder undo` say, as text (`render` prints it).

use crate::checkpoint::{Checkpoint, RestoreReport};
use crate::clock::LocalTime;

/// At most this many touched paths are named per turn in the list.
const NAMED: usize = 3;

/// The undoable turns, newest last, each numbered by how many turns back it is (the `N` of
/// `/undo N`), with the store's size line.
pub fn list(turns: &[Checkpoint], size: &str) -> String {
    if turns.is_empty() {
        let mut out = String::from("No turns to undo yet in this session.\n");
        if !size.is_empty() {
            out.push_str(&format!("{size}\n"));
        }
        return out;
    }
    let mut out = String::from("Turns that can be undone (N = /undo N):\n");
    for (i, turn) in turns.iter().enumerate() {
        let back = turns.len() - i;
        let when = LocalTime::at(turn.time_ns.div_euclid(1_000_000_000)).saved_at();
        out.push_str(&format!(
            "  {back:>3}  {when}  {}  {}\n",
            quoted(&turn.prompt, 50),
            touched(turn)
        ));
    }
    if !size.is_empty() {
        out.push_str(&format!("{size}\n"));
    }
    out
}

fn touched(turn: &Checkpoint) -> String {
    match turn.touched_count {
        0 if turn.after.is_none() => "(no snapshot after it yet)".into(),
        0 => "no files changed".into(),
        n => {
            let names: Vec<&str> = turn
                .touched
                .iter()
                .take(NAMED)
                .map(String::as_str)
                .collect();
            let more = if n > names.len() {
                format!(" +{} more", n - names.len())
            } else {
                String::new()
            };
            format!(
                "{n} path{}: {}{more}",
                if n == 1 { "" } else { "s" },
                names.join(", ")
            )
        }
    }
}

/// `"first line of the prompt…"`, at most `max` characters.
fn quoted(prompt: &str, max: usize) -> String {
    let line = prompt.lines().next().unwrap_or_default();
    let mut shown: String = line.chars().take(max).collect();
    if line.chars().count() > max || prompt.lines().nth(1).is_some() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// What a restore did, one line per kind of outcome.
pub fn report(r: &RestoreReport) -> String {
    let mut out = format!(
        "Undone: {} path(s) restored, {} removed.\n",
        r.restored.len(),
        r.removed.len()
    );
    let names = |paths: &mut dyn Iterator<Item = String>| {
        let all: Vec<String> = paths.collect();
        let shown: Vec<&str> = all.iter().take(5).map(String::as_str).collect();
        let more = all.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{}{tail}", shown.join(", "))
    };
    let mut line = |what: &str, paths: &mut dyn Iterator<Item = String>, n: usize| {
        if n > 0 {
            out.push_str(&format!("{what} ({n}): {}\n", names(paths)));
        }
    };
    let show = |p: &std::path::PathBuf| p.display().to_string();
    line(
        "Kept with their newer content (changed after the turn; the turn is undone all the same)",
        &mut r.conflicts.iter().map(show),
        r.conflicts.len(),
    );
    line(
        "Not restorable (larger than the snapshot limit)",
        &mut r.not_restorable.iter().map(show),
        r.not_restorable.len(),
    );
    line(
        "Left as they are",
        &mut r
            .kept
            .iter()
            .map(|(p, why)| format!("{} ({why})", p.display())),
        r.kept.len(),
    );
    line(
        "FAILED",
        &mut r
            .failed
            .iter()
            .map(|(p, why)| format!("{} ({why})", p.display())),
        r.failed.len(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_list_numbers_turns_back_and_names_what_they_touched() {
        let turn = |n: u32, prompt: &str, touched: &[&str], after: Option<u64>| Checkpoint {
            turn: n,
            prompt: prompt.into(),
            time_ns: 0,
            history_len: 0,
            before: 1,
            after,
            touched: touched.iter().map(|s| s.to_string()).collect(),
            touched_count: touched.len(),
        };
        let text = list(
            &[
                turn(
                    1,
                    "fix the parser\nand more",
                    &["a.rs", "b.rs", "c.rs", "d.rs"],
                    Some(2),
                ),
                turn(2, "what does it do?", &[], Some(2)),
            ],
            "checkpoint store: 1 KiB of 1 GiB",
        );
        assert!(text.contains("  2  "), "{text}");
        assert!(text.contains("\"fix the parser…\"  4 paths: a.rs, b.rs, c.rs +1 more"));
        assert!(text.contains("  1  ") && text.contains("no files changed"));
        assert!(text.ends_with("checkpoint store: 1 KiB of 1 GiB\n"));
        assert!(list(&[], "").starts_with("No turns"));
    }

    #[test]
    fn the_report_names_skipped_and_failed_paths() {
        let r = RestoreReport {
            restored: vec![PathBuf::from("a")],
            conflicts: vec![PathBuf::from("b")],
            failed: vec![(PathBuf::from("c"), "denied".into())],
            ..RestoreReport::default()
        };
        let text = report(&r);
        assert!(text.starts_with("Undone: 1 path(s) restored, 0 removed.\n"));
        assert!(text.contains("the turn is undone all the same) (1): b"));
        assert!(text.contains("FAILED (1): c (denied)"));
    }
}
