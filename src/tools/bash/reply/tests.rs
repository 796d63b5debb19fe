//! The streamed capture against the old whole-text computation: for every input and every way
//! of cutting it into reads, the reply and the saved copy are what the whole output gives.

use super::*;

/// The old `format_output`: the whole texts, trimmed and joined.
fn whole_text(out: &str, err: &str, status: Option<i32>, timed_out: Option<u64>) -> String {
    let mut text = out.trim_end().to_string();
    if !err.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("[stderr]\n");
        text.push_str(err.trim_end());
    }
    if let Some(code) = status.filter(|c| *c != 0) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("[exit code: {code}]"));
    }
    if text.is_empty() {
        text = "(no output)".to_string();
    }
    if let Some(secs) = timed_out {
        text.push_str(&format!(
            "\n[timed out after {secs}s; the command and its child processes were killed]"
        ));
    }
    text
}

/// The old `truncate_output` without its file: the reply with the note's saving part removed.
fn whole_reply(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_OUTPUT {
        return text.to_string();
    }
    let head: String = text.chars().take(HEAD).collect();
    let tail: String = text.chars().skip(total - TAIL).collect();
    format!("{head}\n\n... truncated ({total} chars total) ...\n\n{tail}")
}

/// `bytes` fed in reads of `size` bytes.
fn captured(bytes: &[u8], size: usize, dir: &SpillDir) -> Capture {
    let mut c = Capture::default();
    for chunk in bytes.chunks(size.max(1)) {
        c.feed(chunk, dir);
    }
    c.finish(dir);
    c
}

/// The reply with its note's saving part taken out, and the saved copy's path if any.
fn split_note(reply: &str) -> (String, Option<PathBuf>) {
    let Some(start) = reply.find(" chars total") else {
        return (reply.to_string(), None);
    };
    let start = start + " chars total".len();
    let end = start + reply[start..].find(") ...\n\n").expect("note end");
    let note = &reply[start..end];
    let path = note.split(" saved to ").nth(1).map(PathBuf::from);
    (format!("{}{}", &reply[..start], &reply[end..]), path)
}

/// Checks one input at several read sizes; returns the saved copies' contents.
fn check(out: &[u8], err: &[u8], status: Option<i32>, timed_out: Option<u64>, cap_mib: u64) {
    let text = whole_text(
        &String::from_utf8_lossy(out),
        &String::from_utf8_lossy(err),
        status,
        timed_out,
    );
    let expected = whole_reply(&text);
    for size in [1, 2, 3, 5, 4096, 65536] {
        if size < 64 && out.len() + err.len() > 100_000 {
            continue;
        }
        let parent = tempfile::tempdir().unwrap();
        let dir = SpillDir::new(parent.path().to_path_buf()).with_cap_mib(cap_mib);
        let reply = reply(
            captured(out, size, &dir),
            captured(err, size + 1, &dir),
            status,
            timed_out,
            &dir,
        );
        let (shown, path) = split_note(&reply);
        assert_eq!(shown, expected, "read size {size}");
        let files = saved_files(&dir);
        match path {
            None => assert!(files.is_empty(), "a short reply saves nothing: {files:?}"),
            Some(path) => {
                assert_eq!(
                    files,
                    std::slice::from_ref(&path),
                    "only the saved copy is left"
                );
                let saved = std::fs::read(&path).unwrap();
                let saved = String::from_utf8(saved).expect("the saved copy is UTF-8");
                let cap = (cap_mib << 20) as usize;
                if reply.contains("; cut at ") {
                    assert!(
                        saved.len() <= cap && saved.len() + 4 > cap,
                        "{}",
                        saved.len()
                    );
                    assert!(text.starts_with(&saved));
                } else {
                    assert!(text.len() <= cap);
                    assert!(
                        saved == text,
                        "the saved copy is the whole text (size {size})"
                    );
                }
            }
        }
    }
}

fn saved_files(dir: &SpillDir) -> Vec<PathBuf> {
    dir.path()
        .and_then(|d| std::fs::read_dir(d).ok())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Deterministic noise: `n` bytes of a linear congruential generator.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn lines(n: usize, word: &str) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{word} {i}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn short_outputs_are_whole() {
    check(b"hi\n", b"oops\n", Some(3), None, 64);
    check(b"", b"", Some(0), None, 64);
    check(b"", b"", None, Some(5), 64);
    check(b"  \n\t", b" \n", Some(1), None, 64);
    check(&lines(100, "out"), b"", None, None, 64);
}

#[test]
fn long_outputs_show_the_same_head_and_tail_and_save_the_same_text() {
    check(&lines(20_000, "line"), b"warning\n", Some(3), None, 64);
    check(b"small\n", &lines(20_000, "error"), Some(1), Some(7), 64);
    check(&lines(9_000, "out"), &lines(9_000, "err"), None, None, 64);
}

#[test]
fn the_boundary_of_a_whole_reply_is_the_same() {
    for n in [MAX_OUTPUT - 1, MAX_OUTPUT, MAX_OUTPUT + 1] {
        check("é".repeat(n).as_bytes(), b"", None, None, 64);
    }
    // Split between the pipes: each one fits a reply, the two together do not.
    check(&[b'a'; 10_000], &[b'b'; 10_000], None, None, 64);
}

#[test]
fn characters_split_across_reads_are_whole() {
    let text = "aé日🎉 ".repeat(5_000);
    check(
        text.as_bytes(),
        "ü€".repeat(4_000).as_bytes(),
        None,
        None,
        64,
    );
}

#[test]
fn invalid_utf8_is_replaced_as_in_the_whole_text() {
    let mut bad = noise(60_000, 7);
    // Surrogates, overlong forms, lone continuations, and a character cut off at the end.
    bad.extend_from_slice(b"\xED\xA0\x80 \xE0\x80\x80 \xC0\xAF \x80\x80 x\xF0\x9F\x8E");
    check(&bad, &noise(30_000, 9), Some(2), None, 64);
    check(b"\xE6\x97", b"\xF0", None, None, 64);
}

#[test]
fn trailing_whitespace_is_trimmed_however_long() {
    let mut out = lines(5_000, "text");
    out.extend(std::iter::repeat_n(b" \n\t"[0], 40_000));
    out.extend_from_slice(&b"\n \t".repeat(20_000));
    check(&out, b"", None, None, 64);
    // Whitespace longer than the tail, then text: the whitespace is shown.
    let mut gap = lines(3_000, "before");
    gap.extend_from_slice(&b" \n".repeat(5_000));
    gap.extend_from_slice(b"after");
    check(&gap, b"", None, None, 64);
    // A pipe of nothing but whitespace shows nothing and saves nothing.
    check(&b"\n".repeat(100_000), b"err\n", Some(1), None, 64);
}

#[test]
fn the_saved_copy_is_cut_at_the_cap_on_a_character_boundary() {
    // 3-byte characters: the 1 MiB cap falls inside one.
    let big = "日".repeat(400_000);
    check(big.as_bytes(), b"the end\n", Some(1), None, 1);
    // stdout alone fits, stderr crosses the cap.
    check(
        &vec![b'o'; 900_000],
        "é".repeat(200_000).as_bytes(),
        None,
        None,
        1,
    );
    // stdout short and in memory, stderr's spill file cut while it was read.
    check(b"out\n", &vec![b'e'; 3 << 20], None, None, 1);
}

#[test]
fn the_note_says_where_the_copy_is_and_that_it_was_cut() {
    let parent = tempfile::tempdir().unwrap();
    let dir = SpillDir::new(parent.path().to_path_buf()).with_cap_mib(1);
    let out = captured(&vec![b'a'; 3 << 20], 65536, &dir);
    let reply = reply(out, Capture::default(), None, None, &dir);
    let saved = std::fs::metadata(split_note(&reply).1.unwrap())
        .unwrap()
        .len();
    assert_eq!(saved, 1 << 20);
    assert!(
        reply.contains("(3145728 chars total; cut at 1 MiB, the first 1 MiB saved to "),
        "{}",
        &reply[6000..6200]
    );
}

#[test]
fn a_spill_directory_that_cannot_be_made_is_said_in_the_note() {
    let parent = tempfile::tempdir().unwrap();
    let dir = SpillDir::new(parent.path().join("missing"));
    let out = captured(&lines(20_000, "x"), 65536, &dir);
    let reply = reply(out, Capture::default(), None, None, &dir);
    assert!(
        reply.contains("chars total; the full output could not be saved: cannot create"),
        "{}",
        &reply[6000..6200]
    );
    assert!(reply.ends_with("x 19999"));
}
