//! The pure text work of an edit: decoding a file for matching and encoding it back,
//! the exactly-once replace, and finding the region the model most likely meant when its
//! `old_string` is not in the file. No I/O here; `edit_file.rs` wraps it.

use std::collections::HashMap;
use std::time::Duration;

use similar::TextDiff;

use crate::tools::encoding::Encoding;

/// Files larger than this get no fuzzy suggestion (the whitespace-insensitive one still runs).
const FUZZY_UP_TO: usize = 4 << 20;
const MIN_SIMILARITY: f32 = 0.5;

/// A text file as the matcher sees it: `\n` line endings, no BOM, and how to put both back.
#[derive(Debug, PartialEq)]
pub struct TextFile {
    pub text: String,
    pub encoding: Encoding,
    pub crlf: bool,
}

impl TextFile {
    /// Refuses binary data (a NUL in the first 8 KiB) and text that is neither UTF-8 nor
    /// UTF-16 with a BOM, with the reason. Only a file whose every line ends in CRLF counts as
    /// CRLF; mixed files stay as they are.
    pub fn decode(bytes: &[u8]) -> Result<TextFile, &'static str> {
        let encoding = Encoding::sniff(bytes);
        let raw = encoding.decode(bytes)?;
        let crlf_count = raw.matches("\r\n").count();
        let crlf = crlf_count > 0 && crlf_count == raw.matches('\n').count();
        let text = if crlf { raw.replace("\r\n", "\n") } else { raw };
        Ok(TextFile {
            text,
            encoding,
            crlf,
        })
    }

    pub fn encode(&self, text: &str) -> Vec<u8> {
        if self.crlf {
            self.encoding.encode(&text.replace('\n', "\r\n"))
        } else {
            self.encoding.encode(text)
        }
    }
}

/// Why `old_string` could not be replaced.
#[derive(Debug, PartialEq)]
pub enum Miss {
    NotFound,
    /// The 1-based line each occurrence starts on.
    Ambiguous(Vec<usize>),
}

/// Replaces the single occurrence of `old` (every occurrence when `all`), returning the new
/// text and how many were replaced.
pub fn replace(text: &str, old: &str, new: &str, all: bool) -> Result<(String, usize), Miss> {
    let starts: Vec<usize> = text.match_indices(old).map(|(at, _)| at).collect();
    match starts.len() {
        0 => Err(Miss::NotFound),
        1 => Ok((text.replacen(old, new, 1), 1)),
        n if all => Ok((text.replace(old, new), n)),
        _ => Err(Miss::Ambiguous(lines_of(text, &starts))),
    }
}

/// 1-based line numbers of ascending byte offsets, counted in one pass.
fn lines_of(text: &str, offsets: &[usize]) -> Vec<usize> {
    let (mut line, mut from) = (1, 0);
    offsets
        .iter()
        .map(|&at| {
            line += text[from..at].matches('\n').count();
            from = at;
            line
        })
        .collect()
}

/// An edit must not silently add or drop the file's last newline.
pub fn keep_final_newline(original: &str, mut edited: String) -> String {
    let had = original.ends_with('\n');
    if had && !edited.is_empty() && !edited.ends_with('\n') {
        edited.push('\n');
    } else if !had && edited.ends_with('\n') {
        edited.pop();
        // A `\r\n` the model wrote into an LF file is one line ending: taking only the `\n`
        // would leave a stray CR at the end (found by the `edit_replace` fuzz target).
        if edited.ends_with('\r') && !original.ends_with('\r') {
            edited.pop();
        }
    }
    edited
}

/// The region of `text` that `old` most likely meant, as 1-based inclusive lines.
#[derive(Debug, PartialEq)]
pub struct Candidate {
    pub first: usize,
    pub last: usize,
    /// `None` when the region differs from `old` only in whitespace.
    pub similarity: Option<f32>,
}

/// Whitespace-insensitive match first, then the most similar window of as many lines.
pub fn closest_region(text: &str, old: &str) -> Option<Candidate> {
    if let Some((first, last)) = whitespace_insensitive_match(text, old) {
        return Some(Candidate {
            first,
            last,
            similarity: None,
        });
    }
    if text.len() > FUZZY_UP_TO {
        return None;
    }
    fuzzy_match(text, old).filter(|c| c.similarity.unwrap_or(1.0) >= MIN_SIMILARITY)
}

fn whitespace_insensitive_match(text: &str, old: &str) -> Option<(usize, usize)> {
    let needle: String = old.chars().filter(|c| !c.is_whitespace()).collect();
    if needle.is_empty() {
        return None;
    }
    // The file without whitespace, and where in it each line starts.
    let mut squeezed = String::with_capacity(text.len());
    let mut line_starts = Vec::new();
    for line in text.split('\n') {
        line_starts.push(squeezed.len());
        squeezed.extend(line.chars().filter(|c| !c.is_whitespace()));
    }
    let at = squeezed.find(&needle)?;
    let line_of = |byte: usize| line_starts.partition_point(|&s| s <= byte);
    Some((line_of(at), line_of(at + needle.len() - 1)))
}

fn fuzzy_match(text: &str, old: &str) -> Option<Candidate> {
    let lines: Vec<&str> = text.lines().collect();
    let wanted: Vec<String> = old.trim_matches('\n').lines().map(normalize).collect();
    let n = wanted.len().min(lines.len());
    if n == 0 {
        return None;
    }
    let wanted = wanted.join("\n");
    // Bigram overlap ranks every window cheaply; `similar` then judges the best few.
    let mut best: Option<Candidate> = None;
    for start in top_windows(&lines, &wanted, n, 5) {
        let window: Vec<String> = lines[start..start + n]
            .iter()
            .map(|l| normalize(l))
            .collect();
        let ratio = TextDiff::configure()
            .timeout(Duration::from_millis(100))
            .diff_chars(window.join("\n").as_str(), wanted.as_str())
            .ratio();
        if best.as_ref().is_none_or(|b| b.similarity < Some(ratio)) {
            let (first, last) = (start + 1, start + n);
            best = Some(Candidate {
                first,
                last,
                similarity: Some(ratio),
            });
        }
    }
    best
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bigrams(line: &str) -> impl Iterator<Item = u64> + '_ {
    let chars: Vec<char> = line.chars().collect();
    (1..chars.len()).map(move |i| (u64::from(chars[i - 1]) << 32) | u64::from(chars[i]))
}

/// Start indices of the `keep` windows of `n` lines whose character bigrams overlap `wanted`'s
/// most (Dice coefficient), updated incrementally as the window slides.
fn top_windows(lines: &[&str], wanted: &str, n: usize, keep: usize) -> Vec<usize> {
    let mut target: HashMap<u64, i64> = HashMap::new();
    for key in wanted.lines().flat_map(bigrams) {
        *target.entry(key).or_default() += 1;
    }
    let target_total: i64 = target.values().sum();
    let per_line: Vec<Vec<u64>> = lines
        .iter()
        .map(|l| bigrams(&normalize(l)).collect())
        .collect();
    let (mut window, mut shared, mut total) = (HashMap::<u64, i64>::new(), 0i64, 0i64);
    let mut scored = Vec::new();
    for (i, keys) in per_line.iter().enumerate() {
        for &key in keys {
            let count = window.entry(key).or_default();
            shared += i64::from(*count < target.get(&key).copied().unwrap_or(0));
            *count += 1;
        }
        total += keys.len() as i64;
        if i >= n {
            for &key in &per_line[i - n] {
                let count = window.entry(key).or_default();
                *count -= 1;
                shared -= i64::from(*count < target.get(&key).copied().unwrap_or(0));
            }
            total -= per_line[i - n].len() as i64;
        }
        if i + 1 >= n {
            let dice = 2.0 * shared as f64 / (total + target_total).max(1) as f64;
            scored.push((dice, i + 1 - n));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(keep)
        .map(|(_, start)| start)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_changes_the_single_occurrence() {
        let out = replace("a\nfoo\nb\n", "foo", "bar", false).unwrap();
        assert_eq!(out, ("a\nbar\nb\n".to_string(), 1));
    }

    #[test]
    fn replace_reports_the_line_of_every_occurrence_when_ambiguous() {
        let text = "x = 1\ny\nx = 1\nz\n\nx = 1\n";
        assert_eq!(
            replace(text, "x = 1", "x = 2", false),
            Err(Miss::Ambiguous(vec![1, 3, 6]))
        );
    }

    #[test]
    fn replace_all_replaces_every_occurrence_and_counts_them() {
        let out = replace("a a a", "a", "b", true).unwrap();
        assert_eq!(out, ("b b b".to_string(), 3));
    }

    #[test]
    fn replace_reports_a_missing_string() {
        assert_eq!(replace("abc", "abd", "x", true), Err(Miss::NotFound));
    }

    #[test]
    fn decode_turns_crlf_into_lf_and_encode_restores_it_with_the_bom() {
        let bytes = b"\xEF\xBB\xBFone\r\ntwo\r\n";
        let file = TextFile::decode(bytes).unwrap();
        assert_eq!(
            file,
            TextFile {
                text: "one\ntwo\n".to_string(),
                encoding: Encoding::Utf8Bom,
                crlf: true
            }
        );
        assert_eq!(file.encode(&file.text), bytes.to_vec());
    }

    #[test]
    fn decode_reads_utf16_with_a_bom_and_encode_writes_it_back_the_same_way() {
        let bytes = Encoding::Utf16Be.encode("one\r\ntwo\r\n");
        let file = TextFile::decode(&bytes).unwrap();
        assert_eq!((file.text.as_str(), file.crlf), ("one\ntwo\n", true));
        assert_eq!(file.encoding, Encoding::Utf16Be);
        assert_eq!(file.encode(&file.text), bytes);
    }

    #[test]
    fn decode_leaves_mixed_line_endings_as_they_are() {
        let file = TextFile::decode(b"a\r\nb\nc\r\n").unwrap();
        assert!(!file.crlf);
        assert_eq!(file.text, "a\r\nb\nc\r\n");
        assert_eq!(file.encode("a\r\nB\nc\r\n"), b"a\r\nB\nc\r\n".to_vec());
    }

    #[test]
    fn decode_refuses_binary_data_and_invalid_utf8() {
        assert_eq!(TextFile::decode(b"ab\0cd"), Err("is a binary file"));
        assert_eq!(
            TextFile::decode(b"caf\xe9\n"),
            Err("is not valid UTF-8 text")
        );
    }

    #[test]
    fn keep_final_newline_neither_adds_nor_drops_the_last_newline() {
        assert_eq!(keep_final_newline("a\nb\n", "a\nc".into()), "a\nc\n");
        assert_eq!(keep_final_newline("a\nb", "a\nc\n".into()), "a\nc");
        assert_eq!(keep_final_newline("a\nb\n", "a\nc\n".into()), "a\nc\n");
        assert_eq!(keep_final_newline("a\n", String::new()), "");
    }

    #[test]
    fn keep_final_newline_drops_a_whole_crlf_the_edit_added_at_the_end() {
        assert_eq!(keep_final_newline("a\nb", "a\nc\r\n".into()), "a\nc");
        assert_eq!(keep_final_newline("a\nb\r", "a\nb\r\n".into()), "a\nb\r");
    }

    #[test]
    fn closest_region_finds_text_that_differs_only_in_indentation() {
        let text = "fn main() {\n    if x {\n        run();\n    }\n}\n";
        let old = "if x {\n  run();\n}";
        assert_eq!(
            closest_region(text, old),
            Some(Candidate {
                first: 2,
                last: 4,
                similarity: None
            })
        );
    }

    #[test]
    fn closest_region_finds_a_fragment_with_different_spacing_inside_a_line() {
        let text = "a\nlet v = call(a,b);\nc\n";
        let found = closest_region(text, "call( a, b )").unwrap();
        assert_eq!((found.first, found.last), (2, 2));
    }

    #[test]
    fn closest_region_finds_a_near_miss_by_similarity() {
        let mut text: String = (1..=40)
            .map(|i| format!("let value_{i} = {i};\n"))
            .collect();
        text.push_str("fn compute_total(items: &[u32]) -> u32 {\n    items.iter().sum()\n}\n");
        let old = "fn compute_totl(items: &[u32]) -> u32 {\n    items.iter().summ()\n}";
        let found = closest_region(&text, old).unwrap();
        assert_eq!((found.first, found.last), (41, 43));
        assert!(found.similarity.unwrap() > 0.9, "{found:?}");
    }

    #[test]
    fn closest_region_offers_nothing_for_unrelated_text() {
        let text = "alpha\nbeta\ngamma\n";
        assert_eq!(closest_region(text, "qqqq zzzz xxxx wwww"), None);
    }

    #[test]
    fn bigram_ranking_ties_are_settled_by_similarity_in_line_order() {
        // Windows 2-3 and 3-4 share the same bigrams; only the second has the right order.
        let lines = [
            "red apple",
            "green pear",
            "blue plum",
            "green pear",
            "red grape",
        ];
        let top = top_windows(&lines, "blue plum\ngreen pear", 2, 2);
        assert_eq!(top, vec![1, 2]);
        let text = lines.join("\n");
        let found = fuzzy_match(&text, "blue plum\ngreen pear!").unwrap();
        assert_eq!((found.first, found.last), (3, 4));
    }
}
