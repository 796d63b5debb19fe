//! The dangerous-command gate: [`check`] says whether a shell command may run.
//!
//! It blocks the catastrophic classes: recursive deletes of `/`, home or system directories
//! and deletes of vital system files; disk formatting, wiping and raw device writes;
//! permission and ownership changes of system and home paths, setuid bits, keys opened to
//! others; writes to system files and persistence points (`/etc`, `/usr`, `/boot`, cron,
//! systemd units, `authorized_keys`, `/proc/sys`); fork bombs; code from the network or from
//! decoded text run by a shell; shutdown, mass kills and system damage (firewall flushes,
//! stopping `sshd`, kernel modules, hiding shell history); secrets sent over the network,
//! DNS included; interpreter and editor one-liners that do any of these; commands hidden in
//! git aliases and config, Makefiles, package scripts and crontabs written in the same
//! command; and irreversible remote actions (force-pushing a main branch, publishing a
//! package, destroying cloud resources or databases).
//!
//! It works on the shell structure from [`shell_words`]: words are expanded with the
//! variables and working directory assigned earlier in the same command (`$IFS` splits,
//! braces expand in the command word), wrappers (`sudo`, `env`, `xargs`, `find -exec`…) are
//! unwrapped, and `sh -c`, `eval`, heredocs and substitutions are checked recursively. What
//! flows between commands (downloaded, decoded, secret, a token, plain text) is tracked as a
//! [`Flow`], through pipes, variables and files written earlier in the command.
//!
//! Layout: this file walks scripts; `flow` is what travels between commands; `expand`
//! expands words and redirects; `words` splits and globs the command word; `dispatch`
//! handles commands that run other code (shells, `eval`, `source`) and `interp` the
//! interpreters; `indirect` handles code kept where a program finds it later
//! (`indirect/git`: git config, hooks and subcommands that run commands; `indirect/build`:
//! Makefiles, justfiles, npm scripts, tmux; crontabs, aliases, SQL); `editors` reads vim,
//! Tcl and PowerShell; `fanout` handles `xargs`, `find`, `ssh`, `npx` and tracers;
//! `wrappers` unwraps `sudo`/`env`/… and spots fork bombs; `rules` (one submodule per
//! class) and `paths` judge one plain command; `secrets` decides where credentials may go;
//! `code` reads interpreter one-liners; `text` is what `echo` and `printf` write.
//!
//! It deliberately does no I/O: it never looks at the file system or the real environment,
//! so an unknown `$VAR` is just an unknown value. It is a seatbelt against accidents and
//! careless models, not a sandbox against a determined adversary.

mod code;
mod dispatch;
mod editors;
mod expand;
mod fanout;
mod flow;
mod indirect;
mod interp;
mod paths;
mod rules;
mod secrets;
mod text;
mod words;
pub(crate) mod wrappers;

use std::collections::HashMap;

use super::shell_words::{self, Command, MAX_DEPTH, Script};
use flow::{Arg, Flow};
use paths::basename;

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

#[derive(Default)]
struct Checker {
    /// Variables assigned so far in this command (`X=/; rm -rf $X`).
    vars: HashMap<String, Arg>,
    /// The working directory after `cd`, when it is known.
    cwd: Option<String>,
    /// Files written earlier in this command and what went into them, so that
    /// `curl … -o x.sh && sh x.sh` is seen as the `curl | sh` it is.
    files: HashMap<String, Flow>,
    /// Hook directories set with `git config core.hooksPath` earlier in this command.
    hook_dirs: Vec<String>,
    /// The branch `git checkout`/`git switch` moved to earlier in this command.
    git_branch: Option<String>,
    /// Functions defined earlier in this command, checked again when called with their
    /// arguments (`f(){ rm -rf "$1"; }; f /`).
    functions: HashMap<String, Command>,
    /// Functions being expanded now, so recursion is followed once.
    calling: Vec<String>,
    /// Aliases defined earlier in this command.
    aliases: HashMap<String, String>,
    /// A socket was opened as a file (`exec 5<>/dev/tcp/h/p`, `ztcp`): a shell or a command
    /// read from a variable after that runs what the peer sends.
    socket_open: bool,
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
        if wrappers::floods_processes(script) {
            return Err(rules::FORK_BOMB.to_string());
        }
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
                    // `then X=1`, `do export X=1`: keywords come out as words; skip them.
                    let keywords = args
                        .iter()
                        .take_while(|a: &&Arg| wrappers::RESERVED.contains(&a.text.as_str()))
                        .count();
                    let declares = args.get(keywords).is_some_and(|a: &Arg| {
                        matches!(
                            a.text.as_str(),
                            "export" | "declare" | "local" | "readonly" | "typeset"
                        )
                    });
                    match &word.assign {
                        Some(name) if args.len() == keywords => self.assign(name, arg)?,
                        Some(name) => {
                            if declares {
                                self.assign(name, arg.clone())?;
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
                if self.functions.len() < 256 {
                    self.functions.insert(name.clone(), (**body).clone());
                }
                Ok(Flow::default())
            }
        }
    }

    /// A call of a function defined earlier: its body again, with `$1`, `$@`… set.
    fn call(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let Some(body) = self.functions.get(name).cloned() else {
            return Ok(Flow::default());
        };
        let params = &args[1..];
        for (k, arg) in params.iter().enumerate().take(9) {
            self.set_var(&(k + 1).to_string(), arg.clone());
        }
        let all = dispatch::join(params);
        let all = Arg::tainted(all.text.trim_end(), &all.flow);
        self.set_var("@", all.clone());
        self.set_var("*", all);
        self.enter()?;
        self.calling.push(name.to_string());
        let out = self.command(&body, stdin);
        self.calling.pop();
        self.depth -= 1;
        out
    }

    /// Runs the rules on an expanded command, unwrapping wrappers first.
    fn run(&mut self, mut args: Vec<Arg>, stdin: &Flow) -> Check<Flow> {
        let mut aliased: Vec<String> = Vec::new();
        // Path characters stay: bash splits only expansions, and `/usr/bin/rm` is a literal.
        let ifs: String = self.vars.get("IFS").map_or(String::new(), |v| {
            v.text.chars().filter(|c| !"/.-_".contains(*c)).collect()
        });
        loop {
            words::split_command_word(&mut args, &ifs);
            if let Some(first) = args.first_mut() {
                words::glob_command_name(&mut first.text);
            }
            let Some(first) = args.first() else {
                return Ok(stdin.taint());
            };
            if let Some(reason) = first.flow.hidden() {
                // `$(curl …)` as the command runs the download.
                return Err(reason.to_string());
            }
            let name = basename(&first.text).to_string();
            // `alias x='rm -rf'; x ~`: the alias's words replace the name, once each.
            if let Some(value) = self
                .aliases
                .get(&first.text)
                .filter(|_| !aliased.contains(&name))
            {
                let words: Vec<Arg> = value
                    .split_whitespace()
                    .map(|w| Arg::tainted(w, &first.flow))
                    .collect();
                aliased.push(name);
                args.splice(..1, words);
                continue;
            }
            if self.socket_open
                && (dispatch::SHELLS.contains(&name.as_str()) || first.text.starts_with('$'))
            {
                return Err(rules::REVERSE_SHELL.to_string());
            }
            if self.functions.contains_key(&name) && !self.calling.contains(&name) {
                return self.call(&name, &args, stdin);
            }
            let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
            match wrappers::unwrap(&name, &texts) {
                wrappers::Unwrap::Skip(n) => {
                    args.drain(..n.min(args.len()));
                    self.take_assignments(&mut args)?;
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

    /// `NAME=value`: some variables hold code that programs run later (`GIT_SSH_COMMAND`,
    /// `PAGER`, `EDITOR`…), so their value is checked as shell now; emptying the history
    /// file hides what ran.
    fn assign(&mut self, name: &str, value: Arg) -> Check<()> {
        rules::system::check_assignment(name, &value.text)?;
        // `BASH_ENV=x.sh bash -c true` runs x.sh first.
        if matches!(name, "BASH_ENV" | "ENV") {
            let flow = self.file_flow(&value);
            if let Some(reason) = flow.hidden() {
                return Err(reason.to_string());
            }
            if let Some(text) = &flow.text {
                self.text(text)?;
            }
        }
        if indirect::holds_code(name) {
            let code = value.text.trim_start_matches('|');
            self.code(&Arg {
                text: code.to_string(),
                flow: value.flow.clone(),
            })?;
        }
        self.set_var(name, value);
        Ok(())
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
    fn take_assignments(&mut self, args: &mut Vec<Arg>) -> Check<()> {
        while let Some((name, value)) = args.first().and_then(|a| a.text.split_once('=')) {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
                return Ok(());
            }
            let value = Arg::tainted(value, &args[0].flow);
            let name = name.to_string();
            self.assign(&name, value)?;
            args.remove(0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod class_tests;
#[cfg(test)]
mod heldout_tests;
#[cfg(test)]
mod tests;
