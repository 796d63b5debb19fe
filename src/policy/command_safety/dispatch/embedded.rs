//! Shell code embedded in other programs' arguments: a debugger's `shell` command, make's
//! `$(shell …)`.

use super::super::{Check, Checker, Flow};

impl Checker {
    /// `gdb -batch -ex 'shell rm -rf ~'`: a debugger's `shell` (or `!`) command.
    pub(super) fn gdb(&mut self, texts: &[String]) -> Check<Flow> {
        for (i, a) in texts.iter().enumerate() {
            let command = match a.split_once('=') {
                Some(("--eval-command" | "--init-eval-command", v)) => Some(v),
                _ if matches!(a.as_str(), "-ex" | "-iex" | "--eval-command") => {
                    texts.get(i + 1).map(String::as_str)
                }
                _ => None,
            };
            let shell = command
                .map(str::trim_start)
                .and_then(|c| c.strip_prefix("shell ").or_else(|| c.strip_prefix('!')));
            if let Some(code) = shell {
                self.text(code)?;
            }
        }
        Ok(Flow::default())
    }

    /// `make --eval='$(shell rm -rf ~)'`: make functions run shell code.
    pub(super) fn make_eval(&mut self, texts: &[String]) -> Check<()> {
        for (i, a) in texts.iter().enumerate() {
            let eval = match a.split_once('=') {
                Some(("--eval", v)) => Some(v),
                _ if a == "--eval" => texts.get(i + 1).map(String::as_str),
                _ => None,
            };
            for code in eval.map(make_shell_calls).unwrap_or_default() {
                self.text(&code)?;
            }
        }
        Ok(())
    }
}

/// The shell code of each `$(shell …)` in a make text (nested parentheses counted).
fn make_shell_calls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("$(shell ") {
        let body = &rest[at + "$(shell ".len()..];
        let mut depth = 1usize;
        let end = body.char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        let end = end.unwrap_or(body.len());
        out.push(body[..end].to_string());
        rest = &body[end..];
    }
    out
}
