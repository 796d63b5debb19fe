//! Colours a unified diff for the terminal: additions green, removals red, hunk headers cyan,
//! file headers bold; any other line (an `edit_file` summary, a "diff cut" note) is left alone.
//!
//! Hunk headers carry line counts, and they are followed: inside a hunk a removed line that
//! itself starts with `--` (a SQL comment) is still a removal, not a `---` file header.
//! Deliberately absent: word-level highlighting and any parsing beyond what colouring needs.

use super::{BOLD, CYAN, GREEN, RED, RESET};

/// The diff with colours when `color` is on; byte-for-byte the input otherwise.
pub fn render_diff(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    // Lines still expected in the current hunk: (old side, new side).
    let mut hunk: Option<(usize, usize)> = None;
    for raw in diff.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let ending = &raw[body.len()..];
        let style = classify(body, &mut hunk);
        if style.is_empty() || body.is_empty() {
            out.push_str(raw);
        } else {
            out.push_str(style);
            out.push_str(body);
            out.push_str(RESET);
            out.push_str(ending);
        }
    }
    out
}

/// The style of one line, advancing the hunk's remaining counts.
fn classify(line: &str, hunk: &mut Option<(usize, usize)>) -> &'static str {
    if line.starts_with("@@") {
        *hunk = hunk_counts(line);
        return CYAN;
    }
    if let Some((old, new)) = hunk.as_mut() {
        let style = match line.chars().next() {
            Some('-') if *old > 0 => {
                *old -= 1;
                RED
            }
            Some('+') if *new > 0 => {
                *new -= 1;
                GREEN
            }
            Some(' ') if *old > 0 && *new > 0 => {
                *old -= 1;
                *new -= 1;
                ""
            }
            // "\ No newline at end of file" belongs to the hunk but counts for neither side.
            Some('\\') => return "",
            _ => {
                *hunk = None;
                return file_header(line);
            }
        };
        if *old == 0 && *new == 0 {
            *hunk = None;
        }
        return style;
    }
    file_header(line)
}

/// Outside a hunk: file headers are bold, and a stray `+`/`-` line (a diff whose hunk header
/// we could not read) is still coloured.
fn file_header(line: &str) -> &'static str {
    const HEADERS: [&str; 9] = [
        "diff ",
        "index ",
        "--- ",
        "+++ ",
        "new file mode",
        "deleted file mode",
        "similarity index",
        "rename from",
        "rename to",
    ];
    if HEADERS.iter().any(|h| line.starts_with(h)) {
        BOLD
    } else if line.starts_with('+') {
        GREEN
    } else if line.starts_with('-') {
        RED
    } else {
        ""
    }
}

/// `@@ -3,4 +3,5 @@` → (4, 5); a missing count means one line, as in `@@ -3 +3 @@`.
/// An unreadable header gives `None`, and the lines after it fall back to prefix rules.
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let mut parts = line.split_whitespace().skip(1);
    let count = |part: Option<&str>, sign: char| -> Option<usize> {
        let range = part?.strip_prefix(sign)?;
        match range.split_once(',') {
            Some((_, n)) => n.parse().ok(),
            None => range.parse::<usize>().ok().map(|_| 1),
        }
    };
    let old = count(parts.next(), '-')?;
    let new = count(parts.next(), '+')?;
    Some((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
--- a/q.sql
+++ b/q.sql
@@ -1,3 +1,3 @@
 select 1;
--- old comment
+-- new comment
 select 2;
";

    #[test]
    fn plain_diff_is_returned_unchanged() {
        assert_eq!(render_diff(DIFF, false), DIFF);
    }

    #[test]
    fn diff_lines_get_their_colours() {
        let out = render_diff(DIFF, true);
        assert!(
            out.contains(&format!("{BOLD}--- a/q.sql{RESET}\n")),
            "{out:?}"
        );
        assert!(
            out.contains(&format!("{BOLD}+++ b/q.sql{RESET}\n")),
            "{out:?}"
        );
        assert!(
            out.contains(&format!("{CYAN}@@ -1,3 +1,3 @@{RESET}\n")),
            "{out:?}"
        );
        assert!(out.contains("\n select 1;\n"), "{out:?}");
        assert!(
            out.contains(&format!("{GREEN}+-- new comment{RESET}\n")),
            "{out:?}"
        );
    }

    #[test]
    fn a_removed_line_starting_with_dashes_is_a_removal_not_a_header() {
        let out = render_diff(DIFF, true);
        assert!(
            out.contains(&format!("{RED}--- old comment{RESET}\n")),
            "{out:?}"
        );
    }

    #[test]
    fn text_around_the_diff_stays_plain() {
        let text = "Edited src/a.rs (replaced 1 occurrence)\n@@ -1 +1 @@\n-a\n+b\n… (diff cut)";
        let out = render_diff(text, true);
        assert!(
            out.starts_with("Edited src/a.rs (replaced 1 occurrence)\n"),
            "{out:?}"
        );
        assert!(out.ends_with("\n… (diff cut)"), "{out:?}");
        assert!(
            out.contains(&format!("{RED}-a{RESET}\n{GREEN}+b{RESET}\n")),
            "{out:?}"
        );
    }

    #[test]
    fn crlf_line_endings_stay_outside_the_colour() {
        let out = render_diff("@@ -1 +1 @@\r\n-a\r\n+b\r\n", true);
        assert!(out.contains(&format!("{RED}-a{RESET}\r\n")), "{out:?}");
    }

    #[test]
    fn hunk_counts_read_both_sides_and_default_to_one() {
        assert_eq!(hunk_counts("@@ -3,4 +3,5 @@ fn main()"), Some((4, 5)));
        assert_eq!(hunk_counts("@@ -3 +3 @@"), Some((1, 1)));
        assert_eq!(hunk_counts("@@ nonsense @@"), None);
    }
}
