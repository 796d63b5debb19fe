//! The streamed per-file search on byte streams: line numbers across reads, binary data found
//! early or late, lines past the cap, and the memory a search holds.

use super::*;
use crate::tools::grep::compile_regex;

fn re(pattern: &str) -> Regex {
    compile_regex(pattern).unwrap()
}

/// `search_reader` over `bytes` with the default limits, as (total, kept lines).
fn search(re: &Regex, bytes: &[u8], keep: usize) -> (usize, Vec<(usize, String)>) {
    let found = search_reader(bytes, None, re, keep, Limits::default()).unwrap();
    (found.total, found.lines)
}

fn small(block: usize, line_cap: usize) -> Limits {
    Limits { block, line_cap }
}

/// A stream of `len` bytes: `head`, then `fill` repeated, handed out at most `chunk` bytes a read.
struct Generated {
    head: Vec<u8>,
    fill: u8,
    pos: usize,
    len: usize,
    chunk: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.len - self.pos);
        let from_head = self.head.len().saturating_sub(self.pos).min(n);
        if from_head > 0 {
            buf[..from_head].copy_from_slice(&self.head[self.pos..self.pos + from_head]);
        }
        buf[from_head..n].fill(self.fill);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn search_reports_each_matching_line_once_with_its_number() {
    let (total, lines) = search(&re("a"), b"xa a\nno\nbab\n", 10);
    assert_eq!(total, 2);
    assert_eq!(lines, [(1, "xa a".to_string()), (3, "bab".to_string())]);
}

#[test]
fn search_anchors_work_per_line_including_crlf_lines() {
    let (total, lines) = search(&re("^fn .*\\)$"), b"fn a()\r\n  fn b()\r\nfn c()", 10);
    assert_eq!(total, 2);
    assert_eq!(
        lines,
        [(1, "fn a()".to_string()), (3, "fn c()".to_string())]
    );
}

#[test]
fn search_counts_every_line_but_keeps_only_the_first_few() {
    let body = "hit\n".repeat(50);
    let (total, lines) = search(&re("hit"), body.as_bytes(), 3);
    assert_eq!(total, 50);
    assert_eq!(lines.last(), Some(&(3, "hit".to_string())));
}

#[test]
fn search_does_not_invent_a_line_after_the_final_newline() {
    assert_eq!(search(&re(""), b"a\nb\n", 10).0, 2);
    assert_eq!(search(&re("$"), b"a\nb", 10).0, 2);
    assert_eq!(search(&re(""), b"", 10).0, 0);
}

#[test]
fn search_never_matches_across_a_newline() {
    // `\s` and `[^x]` can match a newline; a line counts only if it matches on its own.
    let (total, lines) = search(&re(r"a\s+b"), b"a\nb\na  b\n", 10);
    assert_eq!((total, lines), (1, vec![(3, "a  b".to_string())]));
    let (total, _) = search(&re(r"x[^y]*z"), b"x\n\nz\n", 10);
    assert_eq!(total, 0);
}

#[test]
fn lines_cut_by_reads_are_found_whole_with_their_numbers() {
    let body: String = (1..=200)
        .map(|i| {
            if i % 7 == 0 {
                format!("line {i} needle\n")
            } else {
                format!("line {i}\n")
            }
        })
        .collect();
    let whole =
        search_reader(body.as_bytes(), None, &re("needle"), 100, Limits::default()).unwrap();
    assert_eq!(whole.total, 28);
    assert_eq!(whole.lines[0], (7, "line 7 needle".to_string()));
    // Tiny blocks and readers that hand out a few bytes at a time: lines straddle reads. The
    // size hint only sizes the first buffer: wrong hints change nothing.
    let exact = Some(body.len() as u64);
    for (block, chunk, hint) in [
        (5, 3, None),
        (64, 1, exact),
        (1, 1, Some(0)),
        (16, 7, Some(3)),
        (1 << 16, usize::MAX, Some(u64::MAX)),
        (1 << 16, 100, exact),
    ] {
        let reader = Generated {
            head: body.clone().into_bytes(),
            fill: b' ',
            pos: 0,
            len: body.len(),
            chunk,
        };
        let limits = small(block, 1 << 10);
        let found = search_reader(reader, hint, &re("needle"), 100, limits).unwrap();
        let case = format!("block {block}, reads of {chunk}, hint {hint:?}");
        assert_eq!(found.total, whole.total, "{case}");
        assert_eq!(found.lines, whole.lines, "{case}");
    }
}

#[test]
fn a_nul_byte_after_the_first_block_stops_the_search_there_keeping_earlier_hits() {
    // Blocks of 16 bytes: the lines the first two blocks complete (1-3) are searched; the
    // block holding the NUL (bytes 32..48) and everything after it are not.
    let mut body = b"hit one\nhit two\nhit three\nhit four\nhit".to_vec();
    body.extend_from_slice(b"\0 hit five\nhit six\n");
    let nul = body.iter().position(|&b| b == 0).unwrap();
    let found = search_reader(&body[..], None, &re("hit"), 10, small(16, 1 << 10)).unwrap();
    assert_eq!(found.binary_at, Some(nul as u64));
    let numbers: Vec<usize> = found.lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(found.total, 3);
    // A NUL in the first block: a binary file, nothing searched.
    let found = search_reader(&b"hit\n\0"[..], None, &re("hit"), 10, small(16, 1 << 10)).unwrap();
    assert_eq!((found.total, found.binary_at), (0, Some(4)));
}

#[test]
fn a_line_past_the_cap_is_searched_in_its_head_and_read_past() {
    let long = format!("head {}tail", "x".repeat(100));
    let body = format!("{long}\nhead two\ntail three\n");
    let limits = small(8, 32);
    let found = search_reader(body.as_bytes(), None, &re("head"), 10, limits).unwrap();
    assert_eq!(found.long_lines, [1]);
    assert_eq!(found.total, 2);
    assert_eq!(found.lines[0].0, 1);
    assert_eq!(found.lines[1], (2, "head two".to_string()));
    // `tail` on line 1 lies past the cap: not found; line 3's is, with its right number.
    let found = search_reader(body.as_bytes(), None, &re("tail"), 10, limits).unwrap();
    assert_eq!(found.lines, [(3, "tail three".to_string())]);
    assert!(found.held_at_most <= 32 + 8, "{}", found.held_at_most);
}

#[test]
fn a_huge_line_costs_the_line_cap_not_its_length() {
    // 64 MiB on one line, never a newline: read past in blocks, holding at most cap + block.
    let reader = Generated {
        head: b"needle at the start ".to_vec(),
        fill: b'a',
        pos: 0,
        len: 64 << 20,
        chunk: usize::MAX,
    };
    let limits = Limits::default();
    let found = search_reader(reader, None, &re("needle"), 10, limits).unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.long_lines, [1]);
    assert!(found.lines[0].1.ends_with("… [line cut]"));
    assert!(
        found.held_at_most <= limits.line_cap + limits.block,
        "held {} bytes",
        found.held_at_most
    );
}
