//! The dangerous-command gate: [`check`] says whether a shell command may run.
//!
//! It blocks the catastrophic classes (recursive deletes of `/`, home or system directories;
//! disk formatting and raw device writes; recursive permission changes on `/`; fork bombs;
//! code from the network or from decoded text run by a shell; shutdown and mass kills; secrets
//! sent over the network; interpreter one-liners that do any of these). It works on the shell
//! structure from [`shell_words`]: words are expanded with the variables and working directory
//! assigned earlier in the same command, wrappers (`sudo`, `env`, `xargs`, `find -exec`…) are
//! unwrapped, and `sh -c`, `eval`, heredocs and substitutions are checked recursively. What
//! flows between commands (downloaded, decoded, secret, plain text) is tracked as a `Flow`.
//!
//! Layout: this file walks scripts and expands words; `dispatch` handles commands that run
//! other code (shells, `eval`, interpreters); `fanout` handles `xargs`, `find`, `ssh`;
//! `wrappers` unwraps `sudo`/`env`/… and spots fork bombs; `rules` and `paths` judge one
//! plain command; `code` reads interpreter one-liners.
//!
//! It deliberately does no I/O: it never looks at the file system or the real environment,
//! so an unknown `$VAR` is just an unknown value. It is a seatbelt against accidents and
//! careless models, not a sandbox against a determined adversary.

mod code;
mod dispatch;
mod fanout;
mod paths;
mod rules;
pub(crate) mod wrappers;

use std::collections::HashMap;

use super::shell_words::{
    self, Command, MAX_DEPTH, Part, RedirKind, Redirect, Script, SubKind, Word,
};
use paths::{basename, is_secret};
use rules::{OBFUSCATED, RCE, REVERSE_SHELL, SECRET};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// A one-line reason that tells the model what to do instead.
    Blocked(String),
}

const TOO_DEEP: &str = "too deeply nested to check";
const TOO_COMPLEX: &str = "too complex to check; split it into simpler commands";
/// Work budget per check: `find A B C -exec find A B C -exec …` multiplies, so bound it.
const MAX_STEPS: usize = 100_000;
/// Longest variable value kept: `X=$X$X` doubles, so cap what we remember.
const MAX_VALUE: usize = 4_096;

/// Decides whether `command` (bash source, possibly many lines) may run.
pub fn check(command: &str) -> Verdict {
    let mut checker = Checker::default();
    match checker.text(command) {
        Ok(()) => Verdict::Allowed,
        Err(reason) => Verdict::Blocked(reason),
    }
}

/// `Err` carries the reason a command is blocked.
type Check<T> = Result<T, String>;

/// What flows through a pipe, a substitution or a variable, as far as the gate can tell.
#[derive(Debug, Clone, Default, PartialEq)]
struct Flow {
    /// Came from the network (`curl`, `wget`, `nc`…).
    remote: bool,
    /// Passed through a decoder or scrambler (`base64 -d`, `xxd -r`, `rev`, `tr`…).
    obfuscated: bool,
    /// Holds credentials or the environment.
    secret: bool,
    /// Is the output of an interactive shell (the far end of a reverse shell).
    shell: bool,
    /// The exact text, when it is known (from `echo`, `printf`, a heredoc…).
    text: Option<String>,
}

impl Flow {
    fn text(text: String) -> Flow {
        Flow {
            text: Some(text),
            ..Flow::default()
        }
    }

    /// The flags without the text.
    fn taint(&self) -> Flow {
        Flow {
            text: None,
            ..self.clone()
        }
    }

    fn merge(&mut self, other: &Flow) {
        self.remote |= other.remote;
        self.obfuscated |= other.obfuscated;
        self.secret |= other.secret;
        self.shell |= other.shell;
    }

    /// Whether running this as code would run something nobody has read.
    fn hidden(&self) -> Option<&'static str> {
        if self.remote {
            Some(RCE)
        } else if self.obfuscated {
            Some(OBFUSCATED)
        } else {
            None
        }
    }
}

/// One expanded word.
#[derive(Debug, Clone, Default)]
struct Arg {
    text: String,
    flow: Flow,
}

impl Arg {
    fn new(text: &str) -> Arg {
        Arg {
            text: text.to_string(),
            flow: Flow::default(),
        }
    }
}

#[derive(Default)]
struct Checker {
    /// Variables assigned so far in this command (`X=/; rm -rf $X`).
    vars: HashMap<String, Arg>,
    /// The working directory after `cd`, when it is known.
    cwd: Option<String>,
    /// Files written earlier in this command and what went into them, so that
    /// `curl … -o x.sh && sh x.sh` is seen as the `curl | sh` it is.
    files: HashMap<String, Flow>,
    depth: usize,
    steps: usize,
}

impl Checker {
    fn enter(&mut self) -> Check<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(TOO_COMPLEX.to_string());
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(TOO_DEEP.to_string());
        }
        Ok(())
    }

    /// Parses and checks shell text at the current nesting depth.
    fn text(&mut self, src: &str) -> Check<()> {
        self.enter()?;
        let script = shell_words::parse(src, self.depth).map_err(|_| TOO_DEEP.to_string())?;
        self.script(&script, &Flow::default())?;
        self.depth -= 1;
        Ok(())
    }

    /// Checks text that will run as shell code, refusing code nobody can read first.
    fn code(&mut self, code: &Arg) -> Check<()> {
        if let Some(reason) = code.flow.hidden() {
            return Err(reason.to_string());
        }
        self.text(&code.text)
    }

    /// Checks a script and returns what its last pipeline writes.
    fn script(&mut self, script: &Script, stdin: &Flow) -> Check<Flow> {
        self.enter()?;
        let mut out = Flow::default();
        for pipeline in &script.pipelines {
            out = stdin.clone();
            for command in &pipeline.commands {
                out = self.command(command, &out)?;
            }
        }
        self.depth -= 1;
        Ok(out)
    }

    fn command(&mut self, command: &Command, stdin: &Flow) -> Check<Flow> {
        match command {
            Command::Simple { words, redirects } => {
                let mut args = Vec::new();
                for word in words {
                    let arg = self.expand(word)?;
                    let declares = args.first().is_some_and(|a: &Arg| {
                        matches!(
                            a.text.as_str(),
                            "export" | "declare" | "local" | "readonly" | "typeset"
                        )
                    });
                    match &word.assign {
                        Some(name) if args.is_empty() => self.set_var(name, arg),
                        Some(name) => {
                            if declares {
                                self.set_var(name, arg.clone());
                            }
                            args.push(Arg {
                                text: format!("{name}={}", arg.text),
                                flow: arg.flow,
                            })
                        }
                        None => args.push(arg),
                    }
                }
                let stdin = self.redirect_input(redirects, stdin)?;
                let out = self.run(args, &stdin)?;
                self.redirect_output(redirects, out)
            }
            Command::Group { body, redirects } => {
                let stdin = self.redirect_input(redirects, stdin)?;
                let out = self.script(body, &stdin)?;
                self.redirect_output(redirects, out)
            }
            Command::Function { name, body } => {
                if wrappers::calls_itself_in_parallel(name, body) {
                    return Err(rules::FORK_BOMB.to_string());
                }
                self.command(body, &Flow::default())?;
                Ok(Flow::default())
            }
        }
    }

    /// Expands a word with what is known: variables set earlier, `~`, and the output of
    /// substitutions whose text is known; anything else stays a visible placeholder.
    fn expand(&mut self, word: &Word) -> Check<Arg> {
        let mut arg = Arg::default();
        for part in &word.parts {
            match part {
                Part::Lit(s) => arg.text.push_str(s),
                Part::Tilde(user) => arg.text.push_str(&match user.as_str() {
                    "" => "~".to_string(),
                    "root" => "/root".to_string(),
                    user => format!("/home/{user}"),
                }),
                Part::Var { name, default } => match (self.vars.get(name), default) {
                    (Some(value), _) => {
                        // `$X$X$X…` cannot grow a word past a bound the rules still read.
                        if arg.text.len() < 16 * MAX_VALUE {
                            arg.text.push_str(&value.text);
                        }
                        arg.flow.merge(&value.flow);
                    }
                    (None, _) if name == "HOME" => arg.text.push('~'),
                    (None, Some(default)) => arg.text.push_str(default),
                    (None, None) => arg.text.push_str(&format!("${name}")),
                },
                Part::Sub(kind, script) => {
                    let out = self.script(script, &Flow::default())?;
                    arg.flow.merge(&out);
                    match kind {
                        SubKind::Command => match &out.text {
                            Some(text) => arg.text.push_str(text.trim_end_matches('\n')),
                            None => arg.text.push_str("$(…)"),
                        },
                        SubKind::ProcessIn => {
                            arg.text.push_str("/dev/fd/63");
                            arg.flow.text = out.text;
                        }
                        SubKind::ProcessOut => arg.text.push_str("/dev/fd/63"),
                    }
                }
            }
        }
        Ok(arg)
    }

    /// The command's stdin after its `<`, heredoc and here-string redirects.
    fn redirect_input(&mut self, redirects: &[Redirect], stdin: &Flow) -> Check<Flow> {
        let mut stdin = stdin.clone();
        for r in redirects {
            stdin = match &r.kind {
                RedirKind::HereDoc(body) => {
                    // An unquoted delimiter carries the body's substitutions (they run).
                    if r.target.parts.iter().any(|p| matches!(p, Part::Sub(..))) {
                        self.expand(&r.target)?;
                    }
                    Flow::text(body.clone())
                }
                RedirKind::HereString => {
                    let arg = self.expand(&r.target)?;
                    Flow {
                        text: Some(arg.text),
                        ..arg.flow
                    }
                }
                RedirKind::In => {
                    let arg = self.expand(&r.target)?;
                    let mut flow = arg.flow.taint();
                    flow.secret |= is_secret(&arg.text);
                    flow.remote |= arg.text.starts_with("/dev/tcp/");
                    flow
                }
                RedirKind::Out | RedirKind::Dup => continue,
            };
        }
        Ok(stdin)
    }

    /// Checks where output goes (disks, `/dev/tcp`, sysrq) and returns what still reaches
    /// the pipe.
    fn redirect_output(&mut self, redirects: &[Redirect], mut out: Flow) -> Check<Flow> {
        for r in redirects.iter().filter(|r| r.kind == RedirKind::Out) {
            let target = self.expand(&r.target)?.text;
            if paths::is_block_device(&target) {
                return Err(rules::reason(rules::DISK, &target));
            }
            if target.starts_with("/proc/sysrq-trigger") {
                return Err(rules::POWER.to_string());
            }
            if target.starts_with("/dev/tcp/") || target.starts_with("/dev/udp/") {
                if out.secret {
                    return Err(SECRET.to_string());
                }
                if out.shell {
                    return Err(REVERSE_SHELL.to_string());
                }
            }
            if !matches!(target.as_str(), "/dev/stdout" | "/dev/stderr") {
                let path = paths::resolve(&target, self.cwd.as_deref());
                self.files.insert(path, std::mem::take(&mut out));
            }
        }
        Ok(out)
    }

    /// Runs the rules on an expanded command, unwrapping wrappers first.
    fn run(&mut self, mut args: Vec<Arg>, stdin: &Flow) -> Check<Flow> {
        loop {
            let Some(first) = args.first() else {
                return Ok(stdin.taint());
            };
            if let Some(reason) = first.flow.hidden() {
                // `$(curl …)` as the command runs the download.
                return Err(reason.to_string());
            }
            let name = basename(&first.text).to_string();
            let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
            match wrappers::unwrap(&name, &texts) {
                wrappers::Unwrap::Skip(n) => {
                    args.drain(..n.min(args.len()));
                    self.take_assignments(&mut args);
                    if args.is_empty() && wrappers::opens_shell(&name, &texts) {
                        return self.shell_stdin(stdin);
                    }
                    if args.is_empty() && name == "env" {
                        // Plain `env` prints the environment.
                        return Ok(Flow {
                            secret: true,
                            ..Flow::default()
                        });
                    }
                }
                wrappers::Unwrap::NotWrapper => return self.dispatch(&name, &args, stdin),
            }
        }
    }

    fn set_var(&mut self, name: &str, mut value: Arg) {
        if value.text.len() > MAX_VALUE {
            let cut = (0..=MAX_VALUE)
                .rev()
                .find(|i| value.text.is_char_boundary(*i))
                .unwrap_or(0);
            value.text.truncate(cut);
        }
        self.vars.insert(name.to_string(), value);
    }

    /// Leading `NAME=value` words after `env`/`sudo` set variables.
    fn take_assignments(&mut self, args: &mut Vec<Arg>) {
        while let Some((name, value)) = args.first().and_then(|a| a.text.split_once('=')) {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
                return;
            }
            self.set_var(name, Arg::new(value));
            args.remove(0);
        }
    }
}

#[cfg(test)]
mod heldout_tests;
#[cfg(test)]
mod tests;
