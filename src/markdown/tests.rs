//! Tests of the streamed renderer as a whole: block constructs, code fences, and the promise
//! that the output depends only on the text, never on how it was split into deltas.

use super::*;

/// A reply that uses every construct, with CRLF on one line and a fence inside a list.
const SAMPLE: &str = concat!(
    "# Plan for `corecoder`\n",
    "\n",
    "Some **bold**, __strong__, *italic* and _emphasis_ with `code` and a [link](https://x.dev).\n",
    "Keep snake_case_names and 2 * 3 * 4 and a*b*c as they are.\r\n",
    "\n",
    "- first item\n",
    "  - nested **item**\n",
    "1. numbered\n",
    "> quoted *text*\n",
    "\n",
    "---\n",
    "```rust\n",
    "// a comment with **stars**\n",
    "fn main() { let s = \"hi\"; /* open\n",
    "still comment */ }\n",
    "```\n",
    "~~~\n",
    "plain `code` block\n",
    "~~~\n",
    "Done: ~~old~~ new.",
);

fn render(text: &str) -> String {
    let mut md = MarkdownStream::new(true);
    let mut out = md.push(text);
    out.push_str(&md.finish());
    out
}

fn render_pieces<'a>(pieces: impl IntoIterator<Item = &'a str>) -> String {
    let mut md = MarkdownStream::new(true);
    let mut out: String = pieces.into_iter().map(|p| md.push(p)).collect();
    out.push_str(&md.finish());
    out
}

/// The visible text: every `ESC [ … m` sequence removed.
fn visible(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits `text` at pseudo-random char boundaries (a fixed LCG keeps the test repeatable).
fn random_pieces(text: &str, mut seed: u64) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let want = (seed >> 33) as usize % 7 + 1;
        let mut cut = rest.char_indices().nth(want).map_or(rest.len(), |(i, _)| i);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces
}

fn chars_of(text: &str) -> Vec<String> {
    text.chars().map(String::from).collect()
}

#[test]
fn output_is_the_same_whole_char_by_char_and_in_random_splits() {
    let whole = render(SAMPLE);
    let chars = chars_of(SAMPLE);
    assert_eq!(render_pieces(chars.iter().map(String::as_str)), whole);
    for seed in 0..50 {
        assert_eq!(
            render_pieces(random_pieces(SAMPLE, seed)),
            whole,
            "seed {seed}"
        );
    }
}

#[test]
fn plain_mode_returns_the_models_text_byte_for_byte() {
    for pieces in [vec![SAMPLE], random_pieces(SAMPLE, 7)] {
        let mut md = MarkdownStream::new(false);
        let mut out: String = pieces.iter().map(|p| md.push(p)).collect();
        out.push_str(&md.finish());
        assert_eq!(out, SAMPLE);
    }
}

#[test]
fn well_formed_markdown_leaves_no_markers_on_screen() {
    let shown = visible(&render(SAMPLE));
    for marker in ["**", "__", "`", "~~", "](", "# ", "```"] {
        // Code blocks keep their markers: code is shown exactly as written.
        let outside_code = shown
            .replace("// a comment with **stars**", "")
            .replace("plain `code` block", "");
        assert!(!outside_code.contains(marker), "{marker:?} left in {shown}");
    }
}

#[test]
fn a_partial_line_is_held_until_its_newline_arrives() {
    let mut md = MarkdownStream::new(true);
    assert_eq!(md.push("some **bo"), "");
    assert_eq!(md.push("ld**"), "");
    let line = md.push(" text\nnext");
    assert_eq!(visible(&line), "some bold text\n");
    assert!(line.contains(&format!("{BOLD}bold{RESET}")), "{line:?}");
    assert_eq!(md.finish(), "next");
}

#[test]
fn finish_resets_the_stream_for_the_next_reply() {
    let mut md = MarkdownStream::new(true);
    md.push("```\nlet x = 1;\n");
    assert_eq!(md.finish(), "");
    // A fence left open by the last reply must not swallow the next one's Markdown.
    assert_eq!(visible(&md.push("**bold**\n")), "bold\n");
}

#[test]
fn crlf_input_renders_like_lf_even_when_split_between_cr_and_lf() {
    let lf = "# Title\n- item `x`\n```py\nx = 1\n```\n";
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(render(&crlf), render(lf));
    assert_eq!(
        render_pieces(["# Title\r", "\n- item `x`\r", "\n"]),
        render("# Title\n- item `x`\n")
    );
}

#[test]
fn control_characters_cannot_reach_the_terminal() {
    let out = render("evil \x1b]0;title\x07 text\n");
    assert_eq!(out, "evil \u{FFFD}]0;title\u{FFFD} text\n");
}

#[test]
fn headings_lose_their_hashes_and_are_bold() {
    assert_eq!(render("# Top\n"), format!("{HEADING_MAJOR}Top{RESET}\n"));
    assert_eq!(render("### Third ###\n"), format!("{BOLD}Third{RESET}\n"));
    assert_eq!(visible(&render("###### Six")), "Six");
}

#[test]
fn hashes_that_are_not_headings_stay() {
    assert_eq!(render("####### seven\n"), "####### seven\n");
    assert_eq!(render("#hashtag\n"), "#hashtag\n");
    assert_eq!(visible(&render("## Learn C#\n")), "Learn C#\n");
}

#[test]
fn styles_inside_a_heading_restore_the_heading_style() {
    let out = render("## Use `cargo`\n");
    let expected = format!("{HEADING_MAJOR}Use {INLINE_CODE}cargo{RESET}{HEADING_MAJOR}{RESET}\n");
    assert_eq!(out, expected);
}

#[test]
fn bullets_become_dots_and_keep_their_indentation() {
    let out = visible(&render("- one\n  * two\n    + three\n"));
    assert_eq!(out, "• one\n  • two\n    • three\n");
}

#[test]
fn numbered_lists_keep_their_numbers() {
    assert_eq!(
        visible(&render("1. first\n  2) second\n")),
        "1. first\n  2) second\n"
    );
    assert_eq!(visible(&render("2024. a year\n")), "2024. a year\n");
}

#[test]
fn task_list_boxes_are_drawn() {
    assert_eq!(
        visible(&render("- [ ] todo\n- [x] done\n")),
        "• ☐ todo\n• ☑ done\n"
    );
}

#[test]
fn emphasis_at_the_start_of_a_line_is_not_a_bullet() {
    assert_eq!(
        visible(&render("**Note:** read *this*\n")),
        "Note: read this\n"
    );
}

#[test]
fn block_quotes_get_a_dim_bar_and_nest() {
    assert_eq!(render("> said\n"), format!("{DIM}│{RESET} said\n"));
    assert_eq!(
        visible(&render(">> deeper\n> - item\n")),
        "│ │ deeper\n│ • item\n"
    );
}

#[test]
fn horizontal_rules_become_a_line() {
    let rule = format!("{DIM}{}{RESET}\n", "─".repeat(RULE_WIDTH));
    for text in ["---\n", "***\n", "_ _ _\n", "  -----\n"] {
        assert!(render(text).ends_with(&rule), "{text:?}");
    }
    assert_eq!(visible(&render("--\n")), "--\n");
}

#[test]
fn fenced_code_drops_its_fences_and_is_highlighted() {
    let out = render("```rust\nlet x = 1;\n```\n");
    assert_eq!(visible(&out), "let x = 1;\n");
    assert!(out.contains(&format!("{MAGENTA}let{RESET}")), "{out:?}");
    assert!(out.contains(&format!("{YELLOW}1{RESET}")), "{out:?}");
}

#[test]
fn code_blocks_are_untouched_by_markdown_rules() {
    let code = "# not a heading\n- not a list\n**not bold** `not code` [no](link)\n> no quote";
    let out = render(&format!("```\n{code}\n```\n"));
    assert_eq!(out, format!("{code}\n"));
}

#[test]
fn tilde_fences_and_longer_fences_need_their_own_closer() {
    let out = render("~~~\n```\ninside\n```\n~~~\nafter **b**\n");
    assert_eq!(visible(&out), "```\ninside\n```\nafter b\n");
    let out = render("````md\n```\nx\n````\n");
    assert_eq!(out, "```\nx\n");
}

#[test]
fn fence_language_is_found_in_decorated_info_strings() {
    for info in ["rust", "Rust", "rust,ignore", "{.rust}", "rs title=x"] {
        let out = render(&format!("```{info}\nfn\n```\n"));
        assert_eq!(out, format!("{MAGENTA}fn{RESET}\n"), "{info}");
    }
}

#[test]
fn an_indented_fence_removes_its_indentation_from_the_code() {
    let out = render("- step:\n  ```sh\n  echo hi\n    nested\n  ```\n");
    assert_eq!(visible(&out), "• step:\necho hi\n  nested\n");
}

#[test]
fn backticks_closed_on_the_same_line_are_inline_code_not_a_fence() {
    assert_eq!(
        visible(&render("```let x```\nnext **b**\n")),
        "let x\nnext b\n"
    );
}

#[test]
fn block_comments_and_strings_carry_across_code_lines() {
    let out = render("```python\ns = \"\"\"one\ntwo # not a comment\n\"\"\"\n```\n");
    assert!(
        out.contains(&format!("{GREEN}two # not a comment{RESET}")),
        "{out:?}"
    );
}

#[test]
fn an_unclosed_fence_at_the_end_is_flushed_as_code() {
    let mut md = MarkdownStream::new(true);
    let mut out = md.push("```\n**x**\n");
    out.push_str(&md.finish());
    assert_eq!(out, "**x**\n");
}

#[test]
fn marker_soup_never_panics_and_stays_split_invariant() {
    let alphabet: Vec<char> = "*_`~#>-+[]()!<>\\ \n\r1.xé'\"/$".chars().collect();
    let mut seed = 42u64;
    for _ in 0..200 {
        let text: String = (0..80)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                alphabet[(seed >> 33) as usize % alphabet.len()]
            })
            .collect();
        let whole = render(&text);
        assert_eq!(render_pieces(random_pieces(&text, seed)), whole, "{text:?}");
    }
}
