//! `edit_file`'s pure edit (`edit_bytes`: decode, match, replace, keep the final newline,
//! encode) on arbitrary file text and old/new strings, with and without a BOM, with LF, CRLF
//! or mixed endings, with and without a final newline.
//!
//! Invariants: the result equals a naive, independently written replacement on the
//! normalized (LF) text, re-encoded; a BOM and CRLF endings survive; the final-newline state
//! survives; a refusal names the right reason (absent, ambiguous with the right lines, binary).

#![no_main]

use corecoder::tools::edit_file::{edit_bytes, unified_diff};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Arbitrary, Debug)]
struct Case {
    bom: bool,
    /// Every line ends in CRLF (otherwise the text is used as it is: LF or mixed).
    crlf: bool,
    /// `Some(true)` forces a final newline, `Some(false)` removes it, `None` leaves it.
    final_newline: Option<bool>,
    replace_all: bool,
    text: String,
    /// Take `old` from the file (a slice at this offset and length) instead of `old`, so
    /// matches are common; `raw_slice` takes it with the file's CRLF rather than the LF view.
    from_text: Option<(u16, u8, bool)>,
    old: String,
    new: String,
    /// The model wrote `new` with CRLF endings.
    new_crlf: bool,
}

/// What the naive oracle says the edit must do.
#[derive(Debug, PartialEq)]
enum Expected {
    Refused,
    NotFound,
    Ambiguous(Vec<usize>),
    Edited {
        bytes: Vec<u8>,
        count: usize,
        before: String,
        after: String,
        /// The replacement left two line endings at the end of a file that had none: only
        /// one is taken off (the other ends a line the model did not touch).
        exposed_newline: bool,
    },
}

/// Drops the `\r` of every `\r\n`, byte by byte (not `str::replace`, which the code uses).
fn drop_cr_before_lf(s: &str) -> String {
    let b = s.as_bytes();
    let kept: Vec<u8> = (0..b.len())
        .filter(|&i| !(b[i] == b'\r' && b.get(i + 1) == Some(&b'\n')))
        .map(|i| b[i])
        .collect();
    String::from_utf8(kept).expect("only ASCII CRs were dropped")
}

fn oracle(raw: &[u8], old: &str, new: &str, all: bool) -> Expected {
    let (bom, body) = match raw.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    if body.iter().take(8192).any(|&b| b == 0) {
        return Expected::Refused;
    }
    let Ok(body) = std::str::from_utf8(body) else {
        return Expected::Refused;
    };
    let b = body.as_bytes();
    let lfs: Vec<usize> = (0..b.len()).filter(|&i| b[i] == b'\n').collect();
    let crlf = !lfs.is_empty() && lfs.iter().all(|&i| i > 0 && b[i - 1] == b'\r');
    let norm = |s: &str| {
        if crlf {
            drop_cr_before_lf(s)
        } else {
            s.to_string()
        }
    };
    let (text, old, new) = (norm(body), norm(old), norm(new));
    // Leftmost, non-overlapping occurrences, found by trying every byte offset.
    let mut starts = Vec::new();
    let mut i = 0;
    while i + old.len() <= text.len() {
        if text.as_bytes()[i..].starts_with(old.as_bytes()) {
            starts.push(i);
            i += old.len();
        } else {
            i += 1;
        }
    }
    if starts.is_empty() {
        return Expected::NotFound;
    }
    if starts.len() > 1 && !all {
        let lines = starts
            .iter()
            .map(|&s| 1 + text[..s].bytes().filter(|&c| c == b'\n').count())
            .collect();
        return Expected::Ambiguous(lines);
    }
    let mut after = String::new();
    let mut from = 0;
    for &s in &starts {
        after.push_str(&text[from..s]);
        after.push_str(&new);
        from = s + old.len();
    }
    after.push_str(&text[from..]);
    // The final-newline state of the file wins over what the replacement did to it.
    let exposed_newline =
        !text.ends_with('\n') && (after.ends_with("\n\n") || after.ends_with("\n\r\n"));
    if text.ends_with('\n') {
        if !after.is_empty() && !after.ends_with('\n') {
            after.push('\n');
        }
    } else if after.ends_with('\n') {
        after.pop();
        // A `\r\n` the replacement wrote goes as a whole (unless the file ended in `\r`).
        if after.ends_with('\r') && !text.ends_with('\r') {
            after.pop();
        }
    }
    let mut bytes = if bom { BOM.to_vec() } else { Vec::new() };
    for c in after.chars() {
        if crlf && c == '\n' {
            bytes.push(b'\r');
        }
        let mut buf = [0; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    Expected::Edited {
        bytes,
        count: starts.len(),
        before: text,
        after,
        exposed_newline,
    }
}

/// The byte offset at or before `at` that starts a character.
fn floor_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The file's bytes and the old/new strings the model sends.
fn build(case: &Case) -> (Vec<u8>, String, String) {
    let mut body = if case.crlf {
        drop_cr_before_lf(&case.text).replace('\n', "\r\n")
    } else {
        case.text.clone()
    };
    let eol = if case.crlf { "\r\n" } else { "\n" };
    match case.final_newline {
        Some(true) if !body.ends_with('\n') => body.push_str(eol),
        Some(false) => body.truncate(body.trim_end_matches(['\r', '\n']).len()),
        _ => {}
    }
    let old = match case.from_text {
        Some((at, len, raw_slice)) => {
            let source = if raw_slice {
                body.clone()
            } else {
                drop_cr_before_lf(&body)
            };
            let start = floor_boundary(&source, usize::from(at) % (source.len() + 1));
            let end = floor_boundary(&source, start + usize::from(len));
            source[start..end].to_string()
        }
        None => case.old.clone(),
    };
    let new = if case.new_crlf {
        case.new.replace('\n', "\r\n")
    } else {
        case.new.clone()
    };
    let mut raw = if case.bom { BOM.to_vec() } else { Vec::new() };
    raw.extend_from_slice(body.as_bytes());
    (raw, old, new)
}

fuzz_target!(|case: Case| {
    let (raw, old, new) = build(&case);
    // The tool refuses these before it reads the file.
    if old.is_empty() || old == new {
        return;
    }
    let got = edit_bytes("f.txt", &raw, &old, &new, case.replace_all);
    let want = oracle(&raw, &old, &new, case.replace_all);
    match (&got, &want) {
        (Err(msg), Expected::Refused) => assert!(msg.contains("only edits UTF-8 text"), "{msg}"),
        (Err(msg), Expected::NotFound) => assert!(msg.contains("was not found in f.txt"), "{msg}"),
        (Err(msg), Expected::Ambiguous(lines)) => {
            let shown: Vec<String> = lines.iter().take(20).map(|l| l.to_string()).collect();
            let wanted = format!(
                "occurs {} times in f.txt (at lines {}",
                lines.len(),
                shown.join(", ")
            );
            assert!(msg.contains(&wanted), "{msg:?} lacks {wanted:?}");
        }
        (
            Ok(done),
            Expected::Edited {
                bytes,
                count,
                before,
                after,
                exposed_newline,
            },
        ) => {
            assert_eq!(
                (&done.before, &done.after, done.count),
                (before, after, *count),
                "text differs from the naive replacement"
            );
            assert_eq!(
                &done.bytes, bytes,
                "bytes differ from the naive replacement"
            );
            check_survivors(&raw, &done.bytes, &old, &new, *exposed_newline);
            let _ = unified_diff("f.txt", &done.before, &done.after);
        }
        _ => panic!("edit_bytes gave {got:?}, the oracle {want:?}"),
    }
});

/// What must survive an edit whatever the replacement was: the BOM, CRLF endings, the
/// final-newline state, and (in a file without CRs, edited without CRs) the absence of CRs.
fn check_survivors(raw: &[u8], out: &[u8], old: &str, new: &str, exposed_newline: bool) {
    let bom = raw.starts_with(BOM);
    assert_eq!(
        out.starts_with(BOM),
        bom || out.starts_with(BOM),
        "BOM lost"
    );
    let (body, out_body) = if bom {
        (&raw[3..], &out[3..])
    } else {
        (raw, out)
    };
    let lfs = |b: &[u8]| -> Vec<usize> { (0..b.len()).filter(|&i| b[i] == b'\n').collect() };
    let all_crlf = |b: &[u8]| lfs(b).iter().all(|&i| i > 0 && b[i - 1] == b'\r');
    if !lfs(body).is_empty() && all_crlf(body) {
        assert!(all_crlf(out_body), "CRLF endings lost: {out_body:?}");
    }
    if !out_body.is_empty() && !exposed_newline {
        assert_eq!(
            out_body.ends_with(b"\n"),
            body.ends_with(b"\n"),
            "final-newline state changed"
        );
    }
    if !body.contains(&b'\r') && !old.contains('\r') && !new.contains('\r') {
        assert!(!out_body.contains(&b'\r'), "a CR appeared in an LF file");
    }
}
