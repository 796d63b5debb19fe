//! A small, forgiving shell parser for the dangerous-command gate.
//!
//! It turns command text into the structure bash would see: pipelines of simple commands whose
//! words keep their quoting, escapes, `$VAR`s, `$(…)`/backtick/`<(…)` substitutions (parsed
//! recursively), redirects and heredoc bodies, plus `( )`/`{ }` groups and function
//! definitions. It deliberately does not expand anything (the gate does, with what it knows),
//! does not understand `if`/`for`/`case` as grammar (their keywords come out as plain words),
//! and never fails on bad syntax: an unclosed quote runs to the end, a stray `)` is skipped.
//! The only error is nesting deeper than [`MAX_DEPTH`], so hostile input cannot blow the stack.

/// How deep substitutions, groups and re-parsed `sh -c` strings may nest before we give up.
pub const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text, with quotes and escapes already removed.
    Lit(String),
    /// An unquoted `~` or `~user` at the start of a word.
    Tilde(String),
    /// `$NAME` or `${NAME…}`; `default` is the word of `${NAME:-default}`.
    Var {
        name: String,
        default: Option<String>,
    },
    Sub(SubKind, Script),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SubKind {
    /// `$(…)` or backticks: the output becomes text in the word.
    Command,
    /// `<(…)`: the word becomes a file name to read the output from.
    ProcessIn,
    /// `>(…)`: the word becomes a file name whose contents feed the inner command.
    ProcessOut,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Word {
    /// `Some(name)` when the word starts with an unquoted `name=`; `parts` is then the value.
    pub assign: Option<String>,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RedirKind {
    /// `< file`
    In,
    /// `>`, `>>`, `>|`, `&>`, `<>`, `>& file`
    Out,
    /// `<<EOF … EOF`, with the body text.
    HereDoc(String),
    /// `<<< word`
    HereString,
    /// `2>&1`, `<&3`: fd duplication, no file involved.
    Dup,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub kind: RedirKind,
    pub target: Word,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Simple {
        words: Vec<Word>,
        redirects: Vec<Redirect>,
    },
    /// `( … )` or `{ …; }`
    Group {
        body: Script,
        redirects: Vec<Redirect>,
    },
    Function {
        name: String,
        body: Box<Command>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    pub commands: Vec<Command>,
    /// Ended by `&`.
    pub background: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub pipelines: Vec<Pipeline>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooDeep;

/// Parses `src`, counting nesting from `depth` (the caller's own nesting, for re-parsed text).
pub fn parse(src: &str, depth: usize) -> Result<Script, TooDeep> {
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
        depth,
        heredoc: None,
    };
    p.script(None)
}

/// `word` as one literal shell word (POSIX single quotes), for text a person or the gate reads
/// back as shell.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

impl Word {
    /// The word's text when it is plain literal text (no variables or substitutions).
    pub fn literal(&self) -> Option<String> {
        let mut out = self.assign.clone().map(|n| n + "=").unwrap_or_default();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

/// Words that start a compound command's part (`then`, `do`…): a command may follow them.
fn is_keyword(word: &Word) -> bool {
    matches!(
        word.literal().as_deref(),
        Some("then" | "do" | "else" | "elif" | "if" | "while" | "until" | "{" | "!")
    )
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    /// Pending heredoc bodies: (index of the newline they follow, index just past the last).
    heredoc: Option<(usize, usize)>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn enter(&mut self) -> Result<(), TooDeep> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        Ok(())
    }

    /// Skips blanks, line continuations and comments (a comment stops before its newline).
    fn blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.i += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.i += 2,
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Consumes a newline, jumping over heredoc bodies that start after it.
    fn newline(&mut self) {
        match self.heredoc {
            Some((nl, end)) if nl == self.i => {
                self.i = end;
                self.heredoc = None;
            }
            _ => self.i += 1,
        }
    }

    fn script(&mut self, close: Option<char>) -> Result<Script, TooDeep> {
        self.enter()?;
        let mut script = Script::default();
        loop {
            self.blanks();
            let start = self.i;
            match self.peek() {
                None => break,
                Some(c) if Some(c) == close => break,
                Some('\n') => self.newline(),
                // Stray separators (`;;` in `case`, a `)` of a case pattern) carry no command.
                Some(';' | '&' | '|' | ')' | '}') => self.i += 1,
                _ => {
                    let mut pipeline = self.pipeline()?;
                    self.blanks();
                    if self.peek() == Some('&') && self.peek_at(1) != Some('&') {
                        pipeline.background = true;
                        self.i += 1;
                    }
                    script.pipelines.push(pipeline);
                }
            }
            if self.i == start {
                self.i += 1;
            }
        }
        self.depth -= 1;
        Ok(script)
    }

    fn pipeline(&mut self) -> Result<Pipeline, TooDeep> {
        let mut pipeline = Pipeline {
            commands: vec![self.command(false)?],
            background: false,
        };
        loop {
            self.blanks();
            if self.peek() != Some('|') || self.peek_at(1) == Some('|') {
                return Ok(pipeline);
            }
            self.i += 1;
            self.eat('&');
            self.blanks();
            while self.peek() == Some('\n') {
                self.newline();
                self.blanks();
            }
            pipeline.commands.push(self.command(false)?);
        }
    }

    /// One command; `fn_body` lets `{` open a group without the usual blank after it, since
    /// fork bombs are often written `:(){:|:&};:`.
    fn command(&mut self, fn_body: bool) -> Result<Command, TooDeep> {
        self.blanks();
        let group_close = match (self.peek(), self.peek_at(1)) {
            (Some('('), Some('(')) => return self.arithmetic_command(),
            (Some('('), _) => ')',
            (Some('{'), next) if fn_body || next.is_none_or(char::is_whitespace) => '}',
            _ => return self.simple(),
        };
        self.i += 1;
        let body = self.script(Some(group_close))?;
        self.eat(group_close);
        let mut redirects = Vec::new();
        loop {
            self.blanks();
            match self.peek() {
                Some('<' | '>') => redirects.push(self.redirect()?),
                Some(c) if c.is_ascii_digit() && self.fd_redirect_ahead() => {
                    redirects.push(self.redirect()?)
                }
                _ => return Ok(Command::Group { body, redirects }),
            }
        }
    }

    /// `(( … ))` arithmetic: the arithmetic itself runs nothing, but bash runs the `$( )`
    /// inside it first, so those come out as a group of their commands.
    fn arithmetic_command(&mut self) -> Result<Command, TooDeep> {
        let start = self.i;
        self.skip_balanced();
        let body: Vec<char> = self.s[start..self.i].to_vec();
        let mut script = Script::default();
        for part in self.embedded(&body, false)? {
            if let Part::Sub(_, inner) = part {
                script.pipelines.extend(inner.pipelines);
            }
        }
        Ok(Command::Group {
            body: script,
            redirects: Vec::new(),
        })
    }

    /// From an opening `(`, skips past its matching `)`.
    fn skip_balanced(&mut self) {
        let mut open = 0usize;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '(' => open += 1,
                ')' if open <= 1 => return,
                ')' => open -= 1,
                _ => {}
            }
        }
    }

    fn fd_redirect_ahead(&self) -> bool {
        let mut k = self.i;
        while self.s.get(k).is_some_and(char::is_ascii_digit) {
            k += 1;
        }
        matches!(self.s.get(k), Some('<' | '>'))
    }

    fn simple(&mut self) -> Result<Command, TooDeep> {
        let mut words: Vec<Word> = Vec::new();
        let mut redirects = Vec::new();
        loop {
            self.blanks();
            match self.peek() {
                None | Some(';' | '\n' | '|' | ')') => break,
                Some('&') if self.peek_at(1) != Some('>') => break,
                Some('<' | '>') if self.peek_at(1) == Some('(') => words.push(self.word()?),
                Some('<' | '>' | '&') => redirects.push(self.redirect()?),
                Some(c) if c.is_ascii_digit() && self.fd_redirect_ahead() => {
                    redirects.push(self.redirect()?)
                }
                Some('(') => {
                    // `f() …`, also after a keyword: `then f() { …; }`.
                    if let Some((name, before)) = words.split_last()
                        && before.iter().all(is_keyword)
                    {
                        let name = name.literal().unwrap_or_default();
                        return self.function(name);
                    }
                    self.i += 1;
                }
                _ => {
                    let word = self.word()?;
                    if words.iter().all(is_keyword) && word.literal().as_deref() == Some("function")
                    {
                        self.blanks();
                        let name = self.word()?.literal().unwrap_or_default();
                        return self.function(name);
                    }
                    words.push(word);
                }
            }
        }
        Ok(Command::Simple { words, redirects })
    }

    /// After a function's name: an optional `()`, then the body command.
    fn function(&mut self, name: String) -> Result<Command, TooDeep> {
        self.enter()?;
        self.blanks();
        if self.eat('(') {
            self.blanks();
            self.eat(')');
        }
        self.blanks();
        while self.peek() == Some('\n') {
            self.newline();
            self.blanks();
        }
        let body = Box::new(self.command(true)?);
        self.depth -= 1;
        Ok(Command::Function { name, body })
    }
}

mod embedded;
mod lex;

pub use lex::unescape;

#[cfg(test)]
mod tests;
