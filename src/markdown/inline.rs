//! Inline Markdown within one line: emphasis, strikethrough, code spans, links, escapes.
//!
//! The rules follow CommonMark's delimiter "flanking" closely enough that `snake_case_names`,
//! `a * b` and `2*3*4` stay as written, and a marker without a partner is shown as it is.
//! Deliberately absent: spans across lines (the stream renders each line once), reference
//! links, HTML and entities. Every style is closed with a full reset followed by the styles
//! still open, because SGR "off" codes are not reliable across terminals.

use super::{BOLD, BOLD_ITALIC, DIM, INLINE_CODE, ITALIC, RESET, STRIKE, UNDERLINE};

/// Renders `text` inside the styles of `base` (a heading's bold, say), which every reset
/// restores.
pub(super) fn render_inline(text: &str, base: &[&'static str]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut inline = Inline {
        chars: &chars,
        out: String::with_capacity(text.len()),
        stack: base.to_vec(),
    };
    inline.run(0, chars.len());
    inline.out
}

struct Inline<'a> {
    chars: &'a [char],
    out: String,
    stack: Vec<&'static str>,
}

impl Inline<'_> {
    fn open(&mut self, style: &'static str) {
        self.stack.push(style);
        self.out.push_str(style);
    }

    fn close(&mut self) {
        self.stack.pop();
        self.out.push_str(RESET);
        for style in &self.stack {
            self.out.push_str(style);
        }
    }

    fn push_range(&mut self, from: usize, to: usize) {
        self.out.extend(&self.chars[from..to]);
    }

    /// Renders `chars[start..end]`.
    fn run(&mut self, start: usize, end: usize) {
        let mut i = start;
        while i < end {
            i = match self.chars[i] {
                '\\' if i + 1 < end && self.chars[i + 1].is_ascii_punctuation() => {
                    self.out.push(self.chars[i + 1]);
                    i + 2
                }
                '`' => self.code_span(i, end),
                '*' | '_' | '~' => self.emphasis(i, end),
                '[' => self.link(i, i, end),
                '!' if self.chars.get(i + 1) == Some(&'[') => self.link(i, i + 1, end),
                '<' => self.autolink(i, end),
                c => {
                    self.out.push(c);
                    i + 1
                }
            };
        }
    }

    /// A run of n backticks up to the next run of exactly n; returns where rendering resumes.
    fn code_span(&mut self, i: usize, end: usize) -> usize {
        let n = run_len(self.chars, i, end);
        let Some(close) = find_code_close(self.chars, i + n, end, n) else {
            self.push_range(i, i + n);
            return i + n;
        };
        let (mut from, mut to) = (i + n, close);
        // "`` `x` ``": one space each side lets code start or end with a backtick.
        let inner = &self.chars[from..to];
        if inner.len() >= 2
            && inner[0] == ' '
            && inner[inner.len() - 1] == ' '
            && inner.iter().any(|&c| c != ' ')
        {
            from += 1;
            to -= 1;
        }
        self.open(INLINE_CODE);
        self.push_range(from, to);
        self.close();
        close + n
    }

    /// `*i*`, `**b**`, `***bi***`, `_i_`, `__b__`, `~~s~~`; unmatched runs stay literal.
    fn emphasis(&mut self, i: usize, end: usize) -> usize {
        let marker = self.chars[i];
        let n = run_len(self.chars, i, end);
        let style = match (marker, n) {
            ('~', 2) => STRIKE,
            ('~', _) => "",
            (_, 1) => ITALIC,
            (_, 2) => BOLD,
            (_, 3) => BOLD_ITALIC,
            _ => "",
        };
        let close = if style.is_empty() || !can_open(self.chars, i, n) {
            None
        } else {
            find_closer(self.chars, i, n, end)
        };
        let Some(close) = close else {
            self.push_range(i, i + n);
            return i + n;
        };
        self.open(style);
        self.run(i + n, close);
        self.close();
        close + n
    }

    /// `[text](url)` (or `![alt](url)` starting at `start`) → text, then the url dimmed.
    fn link(&mut self, start: usize, bracket: usize, end: usize) -> usize {
        let Some(parts) = parse_link(self.chars, bracket, end) else {
            self.push_range(start, bracket + 1);
            return bracket + 1;
        };
        let (text_end, url_start, url_end, after) = parts;
        let url: String = self.chars[url_start..url_end].iter().collect();
        let text: String = self.chars[bracket + 1..text_end].iter().collect();
        self.open(UNDERLINE);
        self.run(bracket + 1, text_end);
        self.close();
        // "[https://x](https://x)" would otherwise show the address twice.
        if !url.is_empty() && url != text {
            self.out.push(' ');
            self.open(DIM);
            self.out.push_str(&format!("({url})"));
            self.close();
        }
        after
    }

    /// `<https://example.com>` → the address, underlined; any other `<` is literal.
    fn autolink(&mut self, i: usize, end: usize) -> usize {
        let close = (i + 1..end).find(|&j| self.chars[j] == '>');
        let Some(close) = close else {
            self.out.push('<');
            return i + 1;
        };
        let inner: String = self.chars[i + 1..close].iter().collect();
        let is_link = ["http://", "https://", "mailto:"]
            .iter()
            .any(|scheme| inner.starts_with(scheme))
            && !inner.contains(char::is_whitespace);
        if !is_link {
            self.out.push('<');
            return i + 1;
        }
        self.open(UNDERLINE);
        self.out.push_str(&inner);
        self.close();
        close + 1
    }
}

fn run_len(chars: &[char], i: usize, end: usize) -> usize {
    chars[i..end].iter().take_while(|&&c| c == chars[i]).count()
}

/// The start of the next run of exactly `n` backticks at or after `from`.
fn find_code_close(chars: &[char], from: usize, end: usize, n: usize) -> Option<usize> {
    let mut j = from;
    while j < end {
        if chars[j] == '`' {
            let m = run_len(chars, j, end);
            if m == n {
                return Some(j);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

/// The matching run for an opener of `n` markers at `i`: same marker, same length, able to
/// close. Code spans and escapes in between are skipped, so `` `**` `` never closes bold.
fn find_closer(chars: &[char], i: usize, n: usize, end: usize) -> Option<usize> {
    let marker = chars[i];
    let mut j = i + n;
    while j < end {
        let c = chars[j];
        if c == '\\' {
            j += 2;
        } else if c == '`' {
            let m = run_len(chars, j, end);
            j = find_code_close(chars, j + m, end, m).map_or(j + m, |close| close + m);
        } else if c == marker {
            let m = run_len(chars, j, end);
            if m == n && j > i + n && can_close(chars, j, n) {
                return Some(j);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace())
}

/// CommonMark's left-flanking rule, plus: `_` and a single `*` never open inside a word, so
/// `snake_case` and `2*3*4` stay plain.
fn can_open(chars: &[char], i: usize, n: usize) -> bool {
    let prev = i.checked_sub(1).map(|p| chars[p]);
    let Some(next) = chars.get(i + n).copied() else {
        return false;
    };
    if next.is_whitespace() {
        return false;
    }
    if is_punct(next) && prev.is_some_and(|p| !p.is_whitespace() && !is_punct(p)) {
        return false;
    }
    !intraword(chars[i], n, prev, Some(next))
}

/// The mirror image of [`can_open`].
fn can_close(chars: &[char], j: usize, n: usize) -> bool {
    let prev = chars[j - 1];
    let next = chars.get(j + n).copied();
    if prev.is_whitespace() {
        return false;
    }
    if is_punct(prev) && next.is_some_and(|c| !c.is_whitespace() && !is_punct(c)) {
        return false;
    }
    !intraword(chars[j], n, Some(prev), next)
}

/// Whether a run sits where it reads as part of a word or a formula rather than a marker.
fn intraword(marker: char, n: usize, prev: Option<char>, next: Option<char>) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    match (marker, n) {
        // `snake_case_name`: an underscore touching a letter on the outside is never a marker.
        ('_', _) => alnum(prev) && alnum(next),
        ('*', 1) => alnum(prev) && alnum(next),
        _ => false,
    }
}

/// `[text](url "title")` at `bracket` → (end of text, url start, url end, index after `)`).
fn parse_link(chars: &[char], bracket: usize, end: usize) -> Option<(usize, usize, usize, usize)> {
    let mut depth = 0usize;
    let mut j = bracket;
    let text_end = loop {
        match chars.get(j).filter(|_| j < end)? {
            '\\' => j += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break j;
                }
            }
            _ => {}
        }
        j += 1;
    };
    if chars.get(text_end + 1) != Some(&'(') || text_end == bracket + 1 {
        return None;
    }
    let url_start = text_end + 2;
    let mut depth = 1usize;
    let mut k = url_start;
    let close = loop {
        match chars.get(k).filter(|_| k < end)? {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break k;
                }
            }
            _ => {}
        }
        k += 1;
    };
    // The optional title after the address is not shown.
    let url_end = (url_start..close)
        .find(|&u| chars[u].is_whitespace())
        .unwrap_or(close);
    Some((text_end, url_start, url_end, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        render_inline(text, &[])
    }

    #[test]
    fn stars_and_underscores_make_bold_and_italic() {
        assert_eq!(plain("**b**"), format!("{BOLD}b{RESET}"));
        assert_eq!(plain("__b__"), format!("{BOLD}b{RESET}"));
        assert_eq!(plain("*i*"), format!("{ITALIC}i{RESET}"));
        assert_eq!(plain("_i_"), format!("{ITALIC}i{RESET}"));
        assert_eq!(plain("***bi***"), format!("{BOLD_ITALIC}bi{RESET}"));
        assert_eq!(plain("~~s~~"), format!("{STRIKE}s{RESET}"));
    }

    #[test]
    fn nested_emphasis_restores_the_outer_style() {
        let out = plain("**a *b* c**");
        assert_eq!(out, format!("{BOLD}a {ITALIC}b{RESET}{BOLD} c{RESET}"));
    }

    #[test]
    fn snake_case_words_stay_plain() {
        for text in [
            "snake_case_words",
            "a_b_c and x_y",
            "my_var_ and _x",
            "__init__py",
        ] {
            assert_eq!(plain(text), text);
        }
    }

    #[test]
    fn arithmetic_stars_stay_plain() {
        for text in ["a * b * c", "2*3*4", "x *= 2 * y", "a*b*c", "**", "* * *"] {
            assert_eq!(plain(text), text);
        }
    }

    #[test]
    fn unbalanced_markers_are_shown_as_they_are() {
        for text in [
            "**open",
            "close**",
            "*a",
            "`tick",
            "``a`",
            "[text](no close",
            "~~x",
        ] {
            assert_eq!(plain(text), text);
        }
    }

    #[test]
    fn inline_code_loses_its_backticks_and_gets_a_colour() {
        assert_eq!(plain("run `ls`"), format!("run {INLINE_CODE}ls{RESET}"));
        assert_eq!(plain("`` a`b ``"), format!("{INLINE_CODE}a`b{RESET}"));
    }

    #[test]
    fn markdown_inside_inline_code_is_literal() {
        assert_eq!(
            plain("`**x** _y_`"),
            format!("{INLINE_CODE}**x** _y_{RESET}")
        );
    }

    #[test]
    fn a_marker_inside_code_does_not_close_emphasis() {
        let out = plain("**a `**` b**");
        assert_eq!(
            out,
            format!("{BOLD}a {INLINE_CODE}**{RESET}{BOLD} b{RESET}")
        );
    }

    #[test]
    fn backslash_escapes_show_the_character() {
        assert_eq!(plain(r"\*not italic\*"), "*not italic*");
        assert_eq!(plain(r"C:\Users"), r"C:\Users");
    }

    #[test]
    fn links_show_their_text_and_a_dim_url() {
        let out = plain("see [the docs](https://d.rs \"title\")!");
        let expected = format!("see {UNDERLINE}the docs{RESET} {DIM}(https://d.rs){RESET}!");
        assert_eq!(out, expected);
        // A link whose text is its address shows the address once.
        let out = plain("[https://a.b](https://a.b)");
        assert_eq!(out, format!("{UNDERLINE}https://a.b{RESET}"));
    }

    #[test]
    fn images_and_autolinks_lose_their_brackets() {
        let out = plain("![logo](l.png) <https://a.b> a<b>c");
        let expected = format!(
            "{UNDERLINE}logo{RESET} {DIM}(l.png){RESET} {UNDERLINE}https://a.b{RESET} a<b>c"
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn brackets_that_are_not_links_stay() {
        assert_eq!(
            plain("v[0] and [x] (y) and []()"),
            "v[0] and [x] (y) and []()"
        );
    }

    #[test]
    fn punctuation_around_emphasis_still_closes_it() {
        let out = plain("(**bold**), \"*it*\".");
        assert_eq!(out, format!("({BOLD}bold{RESET}), \"{ITALIC}it{RESET}\"."));
    }
}
