//! Word-level lexing: quotes, escapes, `$…` forms, backticks, redirects and heredocs.
//!
//! Quoting is resolved here (so `r\m`, `"rm"` and `$'\x72m'` all become `rm`); what a variable
//! or substitution is worth is left to the gate.

use super::{Parser, Part, RedirKind, Redirect, SubKind, TooDeep, Word, is_meta, is_name, parse};

/// Collects a word's parts, merging adjacent literal text.
#[derive(Default)]
struct Parts {
    parts: Vec<Part>,
    lit: String,
}

impl Parts {
    fn push(&mut self, part: Part) {
        self.flush();
        self.parts.push(part);
    }

    fn flush(&mut self) {
        if !self.lit.is_empty() {
            self.parts.push(Part::Lit(std::mem::take(&mut self.lit)));
        }
    }
}

impl Parser {
    pub(super) fn word(&mut self) -> Result<Word, TooDeep> {
        let mut w = Parts::default();
        let mut assign = None;
        // Only unquoted, unescaped text can name an assignment: `"X"=1` is a plain word.
        let mut plain = true;
        self.word_start(&mut w)?;
        while let Some(c) = self.peek() {
            match c {
                c if is_meta(c) => break,
                '\\' => {
                    self.i += 1;
                    plain = false;
                    match self.peek() {
                        Some('\n') => self.i += 1,
                        Some(c) => {
                            w.lit.push(c);
                            self.i += 1;
                        }
                        None => {}
                    }
                }
                '\'' => {
                    plain = false;
                    self.single_quoted(&mut w);
                }
                '"' => {
                    self.i += 1;
                    plain = false;
                    self.double_quoted(&mut w)?;
                }
                '`' => self.backtick(&mut w)?,
                '$' => self.dollar(&mut w, false)?,
                '=' if plain && assign.is_none() && w.parts.is_empty() && is_name(&w.lit) => {
                    assign = Some(std::mem::take(&mut w.lit));
                    self.i += 1;
                    // An array value `X=(a b)` is one word to us; what it substitutes still runs.
                    if self.peek() == Some('(') {
                        let start = self.i;
                        self.skip_balanced();
                        let raw: Vec<char> = self.s[start..self.i].to_vec();
                        w.lit.extend(&raw);
                        for part in self.embedded(&raw, true)? {
                            w.push(part);
                        }
                    }
                }
                c => {
                    w.lit.push(c);
                    self.i += 1;
                }
            }
        }
        w.flush();
        Ok(Word {
            assign,
            parts: w.parts,
        })
    }

    fn single_quoted(&mut self, w: &mut Parts) {
        self.i += 1;
        while let Some(c) = self.peek().filter(|c| *c != '\'') {
            w.lit.push(c);
            self.i += 1;
        }
        // An unclosed quote ends at the end of input: stepping over a closing quote that is
        // not there put the index past the end, and the next slice of the input panicked
        // (`<<'`, found by the `command_gate` fuzz target).
        self.eat('\'');
    }

    /// What only a word's first character can start: `<(…)`, `>(…)` and `~user`.
    fn word_start(&mut self, w: &mut Parts) -> Result<(), TooDeep> {
        if let (Some(c @ ('<' | '>')), Some('(')) = (self.peek(), self.peek_at(1)) {
            self.i += 2;
            let kind = if c == '<' {
                SubKind::ProcessIn
            } else {
                SubKind::ProcessOut
            };
            let script = self.script(Some(')'))?;
            self.eat(')');
            w.push(Part::Sub(kind, script));
        } else if self.peek() == Some('~') {
            self.i += 1;
            let mut user = String::new();
            while let Some(c) = self
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                user.push(c);
                self.i += 1;
            }
            w.push(Part::Tilde(user));
        }
        Ok(())
    }

    /// After an opening `"`: runs to the closing quote (or the end of input).
    fn double_quoted(&mut self, w: &mut Parts) -> Result<(), TooDeep> {
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(());
                }
                '\\' => {
                    self.i += 1;
                    match self.peek() {
                        Some('\n') => {}
                        Some(c @ ('$' | '`' | '"' | '\\')) => w.lit.push(c),
                        Some(c) => {
                            w.lit.push('\\');
                            w.lit.push(c);
                        }
                        None => return Ok(()),
                    }
                    self.i += 1;
                }
                '$' => self.dollar(w, true)?,
                '`' => self.backtick(w)?,
                c => {
                    w.lit.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(())
    }

    fn dollar(&mut self, w: &mut Parts, quoted: bool) -> Result<(), TooDeep> {
        self.i += 1;
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                // Arithmetic runs nothing; its value is some number. Substitutions inside it
                // run first, so they are kept.
                let start = self.i;
                self.skip_balanced();
                let raw: Vec<char> = self.s[start..self.i].to_vec();
                w.lit.push('0');
                for part in self.embedded(&raw, false)? {
                    w.push(part);
                }
            }
            Some('(') => {
                self.i += 1;
                let script = self.script(Some(')'))?;
                self.eat(')');
                w.push(Part::Sub(SubKind::Command, script));
            }
            Some('{') => self.braced_var(w)?,
            Some('\'') if !quoted => {
                self.i += 1;
                self.ansi_c(w);
            }
            Some('"') if !quoted => {
                self.i += 1;
                self.double_quoted(w)?;
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.i += 1;
                }
                w.push(Part::Var {
                    name,
                    default: None,
                });
            }
            Some(c) if c.is_ascii_digit() || "?#@*$!-".contains(c) => {
                self.i += 1;
                w.push(Part::Var {
                    name: c.to_string(),
                    default: None,
                });
            }
            _ => w.lit.push('$'),
        }
        Ok(())
    }

    /// `${NAME}`, `${NAME:-default}`, `${#NAME}`…: the name, and a default when one is given.
    /// Any other operator (`${X:+…}`, `${X/a/b}`, `${#X}`) makes a value nobody can know, so
    /// the whole text is kept as the name of an unknown variable (`${HOME:+x}` is not
    /// `$HOME`). Substitutions in the operand run, so they come out as parts of their own.
    fn braced_var(&mut self, w: &mut Parts) -> Result<(), TooDeep> {
        self.i += 1;
        let mut inner = String::new();
        let mut open = 1usize;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '{' => open += 1,
                '}' if open == 1 => break,
                '}' => open -= 1,
                _ => {}
            }
            inner.push(c);
        }
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, rest) = inner.split_at(name_len);
        let default = ["-", ":-", "=", ":="]
            .iter()
            .find_map(|op| rest.strip_prefix(op))
            .map(|d| d.trim_matches(|c| c == '"' || c == '\'').to_string());
        // Kept in braces so that nothing mistakes `${HOME/%/x}` for `$HOME`.
        let name = match (rest.is_empty() || default.is_some(), name.is_empty()) {
            (true, false) => name.to_string(),
            _ => format!("{{{inner}}}"),
        };
        w.push(Part::Var { name, default });
        let operand: Vec<char> = rest.chars().collect();
        for part in self.embedded(&operand, false)? {
            w.push(part);
        }
        Ok(())
    }

    /// After `$'`: ANSI-C quoting, so `$'\x72\x6d'` is `rm`.
    fn ansi_c(&mut self, w: &mut Parts) {
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '\'' => return,
                '\\' => {
                    let (ch, used) = unescape(&self.s[self.i..]);
                    w.lit.push(ch);
                    self.i += used;
                }
                c => w.lit.push(c),
            }
        }
    }

    fn backtick(&mut self, w: &mut Parts) -> Result<(), TooDeep> {
        self.i += 1;
        let mut inner = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '`' => break,
                '\\' if matches!(self.peek(), Some('`' | '\\' | '$')) => {
                    inner.extend(self.peek());
                    self.i += 1;
                }
                c => inner.push(c),
            }
        }
        w.push(Part::Sub(SubKind::Command, parse(&inner, self.depth + 1)?));
        Ok(())
    }

    /// A redirect, from its optional fd number through its target word.
    pub(super) fn redirect(&mut self) -> Result<Redirect, TooDeep> {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let ahead: String = self.s[self.i..].iter().take(3).collect();
        let (kind, len) = if ahead.starts_with("<<<") {
            (RedirKind::HereString, 3)
        } else if ahead.starts_with("<<-") {
            (RedirKind::HereDoc(String::new()), 3)
        } else if ahead.starts_with("<<") {
            (RedirKind::HereDoc(String::new()), 2)
        } else if ahead.starts_with("&>>") {
            (RedirKind::Out, 3)
        } else if ["&>", ">>", ">|", "<>"]
            .iter()
            .any(|op| ahead.starts_with(op))
        {
            (RedirKind::Out, 2)
        } else if ahead.starts_with(">&") || ahead.starts_with("<&") {
            (RedirKind::Dup, 2)
        } else if ahead.starts_with('<') {
            (RedirKind::In, 1)
        } else {
            (RedirKind::Out, 1)
        };
        let strip_tabs = ahead.starts_with("<<-");
        self.i += len;
        self.blanks();
        let start = self.i;
        let mut target = self.word()?;
        let kind = match kind {
            RedirKind::HereDoc(_) => {
                let delim = target.literal().unwrap_or_default();
                let body = self.heredoc_body(&delim, strip_tabs);
                // With an unquoted delimiter bash expands the body: its substitutions run,
                // so they join the delimiter word, where every walker looks for them.
                let quoted = self.s[start..self.i]
                    .iter()
                    .any(|c| matches!(c, '\'' | '"' | '\\'));
                if !quoted {
                    let chars: Vec<char> = body.chars().collect();
                    target.parts.extend(self.embedded(&chars, false)?);
                }
                RedirKind::HereDoc(body)
            }
            // `>& file` (not `>&2`) writes to a file.
            RedirKind::Dup => match target.literal() {
                Some(t) if t.chars().all(|c| c.is_ascii_digit() || c == '-') => RedirKind::Dup,
                _ => RedirKind::Out,
            },
            kind => kind,
        };
        Ok(Redirect { kind, target })
    }

    /// Reads a heredoc body from the line after the current one (or after the previous
    /// heredoc's body on this line) and arranges for the newline to jump over it.
    fn heredoc_body(&mut self, delim: &str, strip_tabs: bool) -> String {
        let (nl, mut k) = match self.heredoc {
            Some((nl, end)) => (nl, end),
            None => match self.s[self.i..].iter().position(|c| *c == '\n') {
                Some(off) => (self.i + off, self.i + off + 1),
                None => return String::new(),
            },
        };
        let mut body = String::new();
        while k < self.s.len() {
            let len = self.s[k..].iter().position(|c| *c == '\n');
            let end = len.map_or(self.s.len(), |l| k + l);
            let line: String = self.s[k..end].iter().collect();
            k = (end + 1).min(self.s.len());
            let text = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                &line
            };
            if text == delim {
                break;
            }
            body.push_str(text);
            body.push('\n');
        }
        self.heredoc = Some((nl, k));
        body
    }
}

/// Decodes one backslash escape (the text after the backslash) as `$'…'` and `printf` do;
/// returns the character and how many characters it used.
pub fn unescape(s: &[char]) -> (char, usize) {
    let radix_char = |digits: &[char], radix: u32| -> (char, usize) {
        let text: String = digits.iter().collect();
        let code = u32::from_str_radix(&text, radix).unwrap_or(0);
        (char::from_u32(code).unwrap_or('\u{fffd}'), digits.len())
    };
    let take = |from: usize, max: usize, pred: fn(&char) -> bool| -> &[char] {
        let n = s
            .iter()
            .skip(from)
            .take(max)
            .take_while(|c| pred(c))
            .count();
        &s[from..from + n]
    };
    match s.first() {
        Some('n') => ('\n', 1),
        Some('t') => ('\t', 1),
        Some('r') => ('\r', 1),
        Some('e' | 'E') => ('\u{1b}', 1),
        Some('x') => {
            let digits = take(1, 2, char::is_ascii_hexdigit);
            let (c, n) = radix_char(digits, 16);
            if n == 0 { ('x', 1) } else { (c, n + 1) }
        }
        Some('u' | 'U') => {
            let digits = take(1, 8, char::is_ascii_hexdigit);
            let (c, n) = radix_char(digits, 16);
            if n == 0 { ('u', 1) } else { (c, n + 1) }
        }
        Some('0'..='7') => {
            let digits = take(0, 3, |c| ('0'..='7').contains(c));
            radix_char(digits, 8)
        }
        Some(c) => (*c, 1),
        None => ('\\', 0),
    }
}
