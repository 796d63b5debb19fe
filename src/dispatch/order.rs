//! The order calls of one reply take effect in. Calls run concurrently, but two that touch the
//! same path take effect in call order (two edits of one file both land; a read sees the
//! writes before it), as CoreCoder serialises its file mutations. Pure: from what each call
//! touches to which earlier calls it waits for.

use std::path::PathBuf;

/// What one call touches, as far as ordering goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Footprint {
    /// Touches no file (an unknown tool, malformed arguments, `exit_plan_mode`).
    Nothing,
    Reads(Vec<PathBuf>),
    Writes(Vec<PathBuf>),
    /// Could touch any file: a shell command, a sub-agent, an MCP tool.
    Anything,
}

/// For each call, the earlier calls it must wait for. Shell commands still run beside each
/// other (as they did: a reply of eight test runs takes as long as the slowest), but after
/// the file changes before them and before the file operations after them.
pub fn waits_for(prints: &[Footprint]) -> Vec<Vec<usize>> {
    (0..prints.len())
        .map(|i| {
            (0..i)
                .filter(|&j| conflict(&prints[j], &prints[i]))
                .collect()
        })
        .collect()
}

fn conflict(a: &Footprint, b: &Footprint) -> bool {
    use Footprint::{Anything, Nothing, Reads, Writes};
    match (a, b) {
        (Nothing, _) | (_, Nothing) | (Anything, Anything) | (Reads(_), Reads(_)) => false,
        (Anything, _) | (_, Anything) => true,
        (Writes(x), Writes(y)) | (Writes(x), Reads(y)) | (Reads(x), Writes(y)) => overlap(x, y),
    }
}

/// Whether a path of one list is, contains or is inside a path of the other (a grep of `src`
/// reads the `src/a.rs` an edit writes).
fn overlap(x: &[PathBuf], y: &[PathBuf]) -> bool {
    x.iter()
        .any(|p| y.iter().any(|q| p.starts_with(q) || q.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::Footprint::{Anything, Nothing, Reads, Writes};
    use super::*;

    fn p(s: &str) -> Vec<PathBuf> {
        vec![PathBuf::from(s)]
    }

    #[test]
    fn same_path_calls_wait_for_earlier_ones_and_unrelated_ones_do_not() {
        let prints = [
            Writes(p("/w/a.rs")),
            Writes(p("/w/a.rs")),
            Reads(p("/w/b.rs")),
            Reads(p("/w")),
            Anything,
            Anything,
            Writes(p("/w/c.rs")),
            Nothing,
        ];
        assert_eq!(
            waits_for(&prints),
            vec![
                vec![],
                vec![0],
                vec![],
                vec![0, 1],
                vec![0, 1, 2, 3],
                vec![0, 1, 2, 3],
                // The write of /w/c.rs waits for the read of all of /w before it.
                vec![3, 4, 5],
                vec![],
            ]
        );
    }
}
