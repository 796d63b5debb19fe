//! Markdown to terminal text, one complete line at a time, for the streamed answer.
//!
//! [`MarkdownStream`] takes text deltas of any size and hands back only finished lines, each
//! rendered on its own: headings, emphasis, inline code, lists, block quotes, rules, links and
//! fenced code blocks (highlighted by [`highlight`]). The only state carried between lines is
//! the open code fence, so the output never depends on where the deltas were split and nothing
//! already printed ever has to be redrawn. [`render_diff`] colours unified diffs.
//!
//! Deliberately absent: printing (that is `render`'s job), terminal width and wrapping, tables,
//! setext headings and emphasis that spans lines — each of those needs lines we have not seen
//! yet or output we have already printed. Every rendered line ends with its styles reset, so a
//! cut-off reply can never leave the terminal bold or coloured.

mod diff;
mod highlight;
mod inline;
mod languages;
#[cfg(test)]
mod tests;

pub use diff::render_diff;

use highlight::Carry;
use inline::render_inline;
use languages::Lang;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const UNDERLINE: &str = "\x1b[4m";
const STRIKE: &str = "\x1b[9m";
const BOLD_ITALIC: &str = "\x1b[1;3m";
const HEADING_MAJOR: &str = "\x1b[1;4m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
/// Inline code gets a colour of its own so it stands out without its backticks.
const INLINE_CODE: &str = CYAN;
/// A rule is drawn at a fixed width: the renderer is pure and does not know the terminal's.
const RULE_WIDTH: usize = 40;

/// Renders a streamed Markdown answer line by line.
pub struct MarkdownStream {
    color: bool,
    /// The start of a line whose newline has not arrived yet.
    partial: String,
    /// The code fence we are inside, if any; the one piece of state that spans lines.
    fence: Option<Fence>,
}

/// An open fenced code block.
struct Fence {
    marker: char,
    len: usize,
    /// The fence's own indentation, removed from the code lines as CommonMark does.
    indent: usize,
    lang: Option<&'static Lang>,
    carry: Carry,
}

impl MarkdownStream {
    /// With `color` off the text passes through untouched, so pipes and `NO_COLOR` users get
    /// exactly the model's Markdown.
    pub fn new(color: bool) -> Self {
        MarkdownStream {
            color,
            partial: String::new(),
            fence: None,
        }
    }

    /// Takes the next delta; returns the rendered lines it completed (each ending in `\n`).
    /// Without colour nothing needs a whole line, so the delta comes straight back.
    pub fn push(&mut self, delta: &str) -> String {
        if !self.color {
            return delta.to_string();
        }
        self.partial.push_str(delta);
        let Some(last_newline) = self.partial.rfind('\n') else {
            return String::new();
        };
        let complete: String = self.partial.drain(..=last_newline).collect();
        let mut out = String::new();
        for line in complete.split_terminator('\n') {
            if let Some(rendered) = self.render_line(line) {
                out.push_str(&rendered);
                out.push('\n');
            }
        }
        out
    }

    /// Renders the held partial line (without a newline) and forgets all state, so the stream
    /// can start the next reply. A code block left open simply ends here.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.partial);
        let out = if rest.is_empty() {
            String::new()
        } else {
            self.render_line(&rest).unwrap_or_default()
        };
        self.fence = None;
        out
    }

    /// One complete line, without its newline; `None` for a line that shows nothing (a fence).
    fn render_line(&mut self, raw: &str) -> Option<String> {
        let line = sanitize(raw);
        if let Some(fence) = &mut self.fence {
            if closes_fence(&line, fence.marker, fence.len) {
                self.fence = None;
                return None;
            }
            let code = strip_indent(&line, fence.indent);
            return Some(match fence.lang {
                Some(lang) => highlight::highlight_line(lang, code, &mut fence.carry),
                None => code.to_string(),
            });
        }
        if let Some(fence) = open_fence(&line) {
            self.fence = Some(fence);
            return None;
        }
        Some(render_block(&line))
    }
}

/// Drops carriage returns (CRLF input, or a lone `\r` that would send the cursor back over the
/// line) and shows other control characters as `�`: model text, which may quote files or
/// tool output, must not be able to send its own escape sequences to the terminal.
fn sanitize(line: &str) -> String {
    line.chars()
        .filter(|&c| c != '\r')
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Removes up to `n` leading spaces.
fn strip_indent(line: &str, n: usize) -> &str {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    &line[spaces.min(n)..]
}

/// A line of three or more backticks or tildes, optionally followed by a language.
fn open_fence(line: &str) -> Option<Fence> {
    let trimmed = line.trim_start_matches(' ');
    let marker = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = trimmed.chars().take_while(|&c| c == marker).count();
    if len < 3 {
        return None;
    }
    let info = trimmed[len..].trim();
    // "```a``` b" is inline code on one line, not a fence (CommonMark forbids it too).
    if marker == '`' && info.contains('`') {
        return None;
    }
    // "```rust,ignore" and "```{.python}" still name their language first.
    let lang = info
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .find(|word| !word.is_empty())
        .map(|word| word.trim_start_matches('.'))
        .and_then(languages::lang_for);
    Some(Fence {
        marker,
        len,
        indent: line.len() - trimmed.len(),
        lang,
        carry: Carry::default(),
    })
}

/// The closing fence uses the same character, at least as many, and nothing after it.
fn closes_fence(line: &str, marker: char, len: usize) -> bool {
    let trimmed = line.trim();
    let run = trimmed.chars().take_while(|&c| c == marker).count();
    run >= len && run == trimmed.chars().count()
}

/// A line outside code blocks: its block construct, then its inline spans.
fn render_block(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if trimmed.is_empty() {
        return String::new();
    }
    // Four spaces of indentation make a heading or rule a continuation line instead.
    let shallow = indent.len() <= 3;
    if shallow && let Some((level, text)) = heading(trimmed) {
        let style = if level <= 2 { HEADING_MAJOR } else { BOLD };
        return format!("{indent}{style}{}{RESET}", render_inline(text, &[style]));
    }
    if shallow && is_rule(trimmed) {
        return format!("{indent}{DIM}{}{RESET}", "─".repeat(RULE_WIDTH));
    }
    if let Some(rest) = trimmed.strip_prefix('>') {
        return format!("{indent}{DIM}│{RESET} {}", quote_body(rest));
    }
    if let Some((marker, text)) = list_item(trimmed) {
        return format!("{indent}{marker}{}", render_inline(text, &[]));
    }
    format!("{indent}{}", render_inline(trimmed, &[]))
}

/// What follows a `>`: one optional space, then any block (a nested quote, a list, a heading).
fn quote_body(rest: &str) -> String {
    render_block(rest.strip_prefix(' ').unwrap_or(rest))
}

/// `## Title ##` → (2, "Title"); seven hashes or `#tag` are not headings.
fn heading(trimmed: &str) -> Option<(usize, &str)> {
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    let rest = &trimmed[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let text = rest.trim();
    // A closing run of hashes is decoration, but only when set off by a space ("C#" stays).
    let without_closing = text.trim_end_matches('#');
    let text = if without_closing.is_empty() {
        without_closing
    } else if without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        text
    };
    Some((level, text))
}

/// `---`, `***`, `___`, with optional spaces between: three or more of one character.
fn is_rule(trimmed: &str) -> bool {
    let Some(first) = trimmed
        .chars()
        .next()
        .filter(|c| matches!(c, '-' | '*' | '_'))
    else {
        return false;
    };
    let marks = trimmed.chars().filter(|&c| c == first).count();
    marks >= 3 && trimmed.chars().all(|c| c == first || c == ' ' || c == '\t')
}

/// A bullet (`-`, `*`, `+`) becomes `•`, a number keeps its `1.`; the item's text follows.
/// Task boxes (`[ ]`, `[x]`) become ☐ and ☑.
fn list_item(trimmed: &str) -> Option<(String, &str)> {
    let (marker, rest) = if let Some(rest) = trimmed
        .strip_prefix(['-', '*', '+'])
        .filter(|rest| rest.starts_with([' ', '\t']))
    {
        ("•".to_string(), rest)
    } else {
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        let after = &trimmed[digits..];
        let rest = after
            .strip_prefix(['.', ')'])
            .filter(|rest| (1..=9).contains(&digits) && rest.starts_with([' ', '\t']))?;
        (trimmed[..=digits].to_string(), rest)
    };
    let text = rest.trim_start();
    let (marker, text) = match text.get(..4) {
        Some("[ ] ") => (format!("{marker} ☐"), &text[3..]),
        Some("[x] " | "[X] ") => (format!("{marker} ☑"), &text[3..]),
        _ => (marker, text),
    };
    Some((format!("{marker} "), text.trim_start()))
}
