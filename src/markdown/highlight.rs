//! A small syntax highlighter for fenced code blocks: keywords, types, literals, numbers,
//! strings and comments for the languages models write most.
//!
//! It reads one line at a time and carries only "inside a block comment" or "inside a
//! multi-line string" to the next, which is all the streamed renderer can afford. It is a
//! lexer, not a parser: it never changes a character, only colours it, so the visible text
//! is always exactly the code. Deliberately absent: a grammar crate (syntect and friends weigh
//! more than the rest of the binary), themes, and the language table itself (`languages`).

use super::languages::Lang;
use super::{CYAN, DIM, GREEN, MAGENTA, RESET, YELLOW};

const KEYWORD: &str = MAGENTA;
const TYPE: &str = CYAN;
const LITERAL: &str = YELLOW;
const STRING: &str = GREEN;
const COMMENT: &str = DIM;

/// What a line left open for the next one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) enum Carry {
    #[default]
    Nothing,
    BlockComment,
    /// Inside a string that ends with this delimiter.
    Str(&'static str),
}

/// Colours one line of code; `carry` comes in from the previous line and goes out to the next.
pub(super) fn highlight_line(lang: &Lang, line: &str, carry: &mut Carry) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    let mut i = match *carry {
        Carry::Nothing => line_start(lang, line, &mut out),
        Carry::BlockComment => {
            let close = lang.block_comment.map_or("*/", |(_, close)| close);
            resume(line, close, COMMENT, false, carry, &mut out)
        }
        Carry::Str(close) => resume(line, close, STRING, true, carry, &mut out),
    };
    while i < line.len() {
        i = step(lang, line, i, carry, &mut out);
    }
    out
}

/// Continues a comment or string from the previous line up to its end, or through this line.
fn resume(
    line: &str,
    close: &'static str,
    style: &str,
    escapes: bool,
    carry: &mut Carry,
    out: &mut String,
) -> usize {
    let end = if escapes {
        find_close(line, 0, close)
    } else {
        line.find(close).map(|at| at + close.len())
    };
    match end {
        Some(end) => {
            paint(out, style, &line[..end]);
            *carry = Carry::Nothing;
            end
        }
        None => {
            paint(out, style, line);
            line.len()
        }
    }
}

/// Constructs recognised only at the start of a line: `#include`, `[section]`, `key =`.
fn line_start(lang: &Lang, line: &str, out: &mut String) -> usize {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    let end = if lang.preprocessor && body.starts_with('#') {
        word_end(line, indent + 1)
    } else if lang.key_separator == Some('=') && body.starts_with('[') {
        line.rfind(']').map_or(indent, |at| at + 1)
    } else if let Some(sep) = lang.key_separator {
        return leading_key(line, indent, sep, out);
    } else {
        indent
    };
    out.push_str(&line[..indent]);
    let style = if lang.preprocessor { KEYWORD } else { TYPE };
    paint(out, style, &line[indent..end]);
    end
}

/// `name = 1` / `  - name: x`: the key is coloured like a type.
fn leading_key(line: &str, indent: usize, sep: char, out: &mut String) -> usize {
    let mut start = indent;
    if sep == ':' && line[start..].starts_with("- ") {
        start += 2;
    }
    let Some(at) = line[start..].find(sep).map(|at| start + at) else {
        out.push_str(&line[..start]);
        return start;
    };
    let key = line[start..at].trim_end();
    let after = line[at + 1..].chars().next();
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.\"'".contains(c))
        && (sep == '=' || after.is_none_or(char::is_whitespace));
    out.push_str(&line[..start]);
    if !is_key {
        return start;
    }
    paint(out, TYPE, key);
    start + key.len()
}

/// One token from `i`; returns where the next one starts.
fn step(lang: &Lang, line: &str, i: usize, carry: &mut Carry, out: &mut String) -> usize {
    let rest = &line[i..];
    let prev = line[..i].chars().next_back();
    let at_boundary = !lang.word_boundary_only || prev.is_none_or(|p| !p.is_alphanumeric());
    let comment_ok = !lang.word_boundary_only || prev.is_none_or(char::is_whitespace);
    if comment_ok && lang.line_comments.iter().any(|c| rest.starts_with(c)) {
        paint(out, COMMENT, rest);
        return line.len();
    }
    if let Some((open, close)) = lang.block_comment
        && rest.starts_with(open)
    {
        let Some(at) = rest[open.len()..].find(close) else {
            paint(out, COMMENT, rest);
            *carry = Carry::BlockComment;
            return line.len();
        };
        let end = i + open.len() + at + close.len();
        paint(out, COMMENT, &line[i..end]);
        return end;
    }
    if let Some(q) = lang.quotes.iter().find(|q| rest.starts_with(q.open))
        && at_boundary
        && !(lang.char_quotes && q.open == "'" && !is_char_literal(rest))
    {
        let Some(end) = find_close(line, i + q.open.len(), q.close) else {
            paint(out, STRING, rest);
            if q.multiline {
                *carry = Carry::Str(q.close);
            }
            return line.len();
        };
        paint(out, STRING, &line[i..end]);
        return end;
    }
    word_token(lang, line, i, out)
}

/// A variable, word or number at `i`, or else one plain character.
fn word_token(lang: &Lang, line: &str, i: usize, out: &mut String) -> usize {
    let rest = &line[i..];
    let c = rest.chars().next().unwrap_or(' ');
    if lang.dollar_vars && c == '$' {
        let end = if rest.starts_with("${") {
            rest.find('}').map_or(line.len(), |at| i + at + 1)
        } else if rest[1..].starts_with(|c: char| "#?@*$!-".contains(c) || c.is_ascii_digit()) {
            // Special parameters: `$#`, `$?`, `$1` are one character long.
            i + 2
        } else {
            word_end(line, i + 1)
        };
        paint(out, TYPE, &line[i..end]);
        return end;
    }
    if c.is_alphabetic() || c == '_' {
        let end = word_end(line, i);
        let word = &line[i..end];
        paint(out, word_style(lang, word), word);
        return end;
    }
    if c.is_ascii_digit() {
        let end = number_end(line, i);
        paint(out, LITERAL, &line[i..end]);
        return end;
    }
    out.push(c);
    i + c.len_utf8()
}

fn word_style(lang: &Lang, word: &str) -> &'static str {
    if has_word(lang.keywords, word) {
        KEYWORD
    } else if has_word(lang.literals, word) {
        LITERAL
    } else if has_word(lang.types, word)
        || (lang.capitalised_types && word.starts_with(|c: char| c.is_uppercase()))
    {
        TYPE
    } else {
        ""
    }
}

/// The end of the identifier starting at `from`.
fn word_end(line: &str, from: usize) -> usize {
    from + line[from..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(line.len() - from)
}

fn has_word(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// `42`, `0x1F`, `1_000u32`, `3.14e-2`: a `.` counts only when a digit follows (`0..n`).
fn number_end(line: &str, i: usize) -> usize {
    let bytes = line.as_bytes();
    let mut j = i;
    while j < bytes.len() {
        let b = bytes[j];
        let digit_next = bytes.get(j + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_alphanumeric() || b == b'_' || (b == b'.' && digit_next) {
            j += 1;
        } else {
            break;
        }
    }
    j
}

/// `'x'` and `'\n'` are chars; `'a` (a lifetime or label) is not.
fn is_char_literal(rest: &str) -> bool {
    let mut chars = rest.chars().skip(1);
    match chars.next() {
        Some('\\') => true,
        Some(_) => chars.next() == Some('\''),
        None => false,
    }
}

/// The byte just past `close`, searching from `from` and skipping backslash escapes.
fn find_close(line: &str, from: usize, close: &str) -> Option<usize> {
    let mut escaped = false;
    for (k, c) in line[from..].char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if line[from + k..].starts_with(close) {
            return Some(from + k + close.len());
        }
    }
    None
}

fn paint(out: &mut String, style: &str, text: &str) {
    if style.is_empty() || text.is_empty() {
        out.push_str(text);
    } else {
        out.push_str(style);
        out.push_str(text);
        out.push_str(RESET);
    }
}

#[cfg(test)]
mod tests {
    use super::super::languages::lang_for;
    use super::*;

    /// Highlights `code` line by line the way a fence does, returning the coloured lines.
    fn highlight(lang: &str, code: &str) -> Vec<String> {
        let lang = lang_for(lang).unwrap();
        let mut carry = Carry::default();
        code.lines()
            .map(|line| highlight_line(lang, line, &mut carry))
            .collect()
    }

    fn strip(s: &str) -> String {
        let mut out = s.to_string();
        for code in [KEYWORD, TYPE, LITERAL, STRING, COMMENT, RESET] {
            out = out.replace(code, "");
        }
        out
    }

    #[test]
    fn highlighting_never_changes_the_visible_code() {
        let samples = [
            (
                "rust",
                "fn f<'a>(x: &'a str) -> u8 { let c = '\\n'; 0x1F } // é\n/* ✓ */",
            ),
            (
                "python",
                "def f(x):\n    return f\"{x}\"  # done\ns = '''a\nb'''",
            ),
            ("ts", "const x: number = 1.5e3; // c\nlet t = `a\n${b}`;"),
            ("go", "func main() { fmt.Println(\"hi\", nil) }"),
            ("cpp", "#include <vector>\nint main() { return 0; /* x */ }"),
            ("java", "public class A { String s = \"q\\\"\"; }"),
            ("bash", "echo \"$HOME\" ${#arr} $# # comment\nit's"),
            ("json", "{\"a\": [1, true, null]}"),
            ("toml", "[package]\nname = \"x\" # c"),
            ("yaml", "- name: it's here\n  on: [push]"),
        ];
        for (lang, code) in samples {
            let shown: Vec<String> = highlight(lang, code).iter().map(|l| strip(l)).collect();
            let lines: Vec<&str> = code.lines().collect();
            assert_eq!(shown, lines, "{lang}");
        }
    }

    #[test]
    fn rust_keywords_types_strings_comments_and_numbers_get_colours() {
        let line = &highlight("rust", "let s: String = \"x\"; // 42")[0];
        let head = format!("{KEYWORD}let{RESET} s: {TYPE}String{RESET} = ");
        let expected = format!("{head}{STRING}\"x\"{RESET}; {COMMENT}// 42{RESET}");
        assert_eq!(line, &expected);
        assert_eq!(
            highlight("rust", "1_000u32")[0],
            format!("{LITERAL}1_000u32{RESET}")
        );
    }

    #[test]
    fn a_rust_lifetime_is_not_a_string() {
        let line = &highlight("rust", "&'a str")[0];
        assert_eq!(line, &format!("&'a {TYPE}str{RESET}"));
        let line = &highlight("rust", "b'x' '\\''")[0];
        assert!(line.contains(&format!("{STRING}'x'{RESET}")), "{line:?}");
        assert!(line.contains(&format!("{STRING}'\\''{RESET}")), "{line:?}");
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_string() {
        let line = &highlight("js", r#"f("a\"b", c)"#)[0];
        assert_eq!(line, &format!("f({STRING}\"a\\\"b\"{RESET}, c)"));
    }

    #[test]
    fn a_block_comment_carries_to_the_next_line() {
        let lines = highlight("c", "int a; /* one\ntwo */ int b;");
        assert_eq!(
            lines[1],
            format!("{COMMENT}two */{RESET} {TYPE}int{RESET} b;")
        );
    }

    #[test]
    fn a_single_line_string_does_not_carry() {
        let lines = highlight("python", "s = 'open\nx = 1");
        assert_eq!(lines[1], format!("x = {LITERAL}1{RESET}"));
    }

    #[test]
    fn shell_hashes_inside_words_are_not_comments() {
        let line = &highlight("sh", "echo $# a#b # real")[0];
        assert_eq!(
            line,
            &format!("echo {TYPE}$#{RESET} a#b {COMMENT}# real{RESET}")
        );
    }

    #[test]
    fn c_preprocessor_lines_and_config_keys_are_marked() {
        assert!(
            highlight("c", "#include <x.h>")[0].starts_with(&format!("{KEYWORD}#include{RESET}"))
        );
        assert_eq!(
            highlight("toml", "[dependencies]")[0],
            format!("{TYPE}[dependencies]{RESET}")
        );
        assert!(
            highlight("toml", "serde = \"1\"")[0].starts_with(&format!("{TYPE}serde{RESET} ="))
        );
        assert!(highlight("yaml", "  - run: ls")[0].starts_with(&format!("  - {TYPE}run{RESET}:")));
    }

    #[test]
    fn an_apostrophe_in_yaml_prose_is_not_a_string() {
        let line = &highlight("yaml", "note: it's fine")[0];
        assert_eq!(line, &format!("{TYPE}note{RESET}: it's fine"));
    }

    #[test]
    fn unknown_languages_are_not_highlighted() {
        assert!(lang_for("brainfuck").is_none());
        assert!(lang_for("").is_none());
        for name in ["rs", "py", "tsx", "golang", "c++", "zsh", "yml", "jsonc"] {
            assert!(lang_for(name).is_some(), "{name}");
        }
    }
}
