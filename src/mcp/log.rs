//! A server's log: the last lines of its stderr and what the client noticed about it (skipped
//! stdout lines, log notifications). Bounded, so a chatty server cannot grow it; shown by `/mcp`
//! and `corecoder mcp list`, never printed while a turn runs.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Lines kept per server.
pub const MAX_LINES: usize = 200;
/// Characters kept per line.
pub const MAX_LINE: usize = 500;

#[derive(Debug, Default)]
pub struct ServerLog {
    lines: Mutex<VecDeque<String>>,
}

impl ServerLog {
    pub fn push(&self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        let mut kept: String = line.chars().take(MAX_LINE).collect();
        if kept.len() < line.len() {
            kept.push('…');
        }
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == MAX_LINES {
            lines.pop_front();
        }
        lines.push_back(kept);
    }

    /// The last `n` lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_last_lines_each_cut_short() {
        let log = ServerLog::default();
        for i in 0..MAX_LINES + 5 {
            log.push(&format!("line {i}\r\n"));
        }
        log.push(&"x".repeat(MAX_LINE * 2));
        let tail = log.tail(3);
        assert_eq!(tail[0], format!("line {}", MAX_LINES + 3));
        assert_eq!(tail[2].chars().count(), MAX_LINE + 1);
        assert_eq!(log.tail(1000).len(), MAX_LINES);
    }
}
