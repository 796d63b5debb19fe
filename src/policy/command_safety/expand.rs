//! Expanding words with what is known, and the redirects of a command: what its stdin holds
//! and where its output goes.

use super::flow::{Arg, Flow};
use super::paths::{self, is_secret};
use super::rules::{self, REVERSE_SHELL, SECRET, files};
use super::secrets::is_secret_name;
use super::shell_words::{Part, RedirKind, Redirect, SubKind, Word};
use super::{Check, Checker, MAX_VALUE};

impl Checker {
    /// Expands a word with what is known: variables set earlier, `~`, and the output of
    /// substitutions whose text is known; anything else stays a visible placeholder.
    pub(super) fn expand(&mut self, word: &Word) -> Check<Arg> {
        let mut arg = Arg::default();
        for part in &word.parts {
            match part {
                Part::Lit(s) => arg.text.push_str(s),
                Part::Tilde(user) => arg.text.push_str(&match user.as_str() {
                    "" => "~".to_string(),
                    "root" => "/root".to_string(),
                    user => format!("/home/{user}"),
                }),
                Part::Var { name, default } => self.expand_var(name, default.as_deref(), &mut arg),
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

    fn expand_var(&self, name: &str, default: Option<&str>, arg: &mut Arg) {
        let bare = name.trim_start_matches('{');
        if let Some(value) = self.vars.get(name) {
            // `$X$X$X…` cannot grow a word past a bound the rules still read.
            if arg.text.len() < 16 * MAX_VALUE {
                arg.text.push_str(&value.text);
            }
            arg.flow.merge(&value.flow);
        } else if let Some(value) = self.substring(name).or_else(|| self.operator(name)) {
            arg.text.push_str(&value);
        } else if name == "HOME" {
            arg.text.push('~');
        } else if matches!(name, "SHELL" | "BASH") {
            arg.text.push_str("/bin/bash");
        } else if name == "IFS" || bare.starts_with("IFS") {
            // Unquoted, `$IFS` splits the word: `rm${IFS}-rf${IFS}/` is `rm -rf /`.
            arg.text.push(' ');
        } else {
            match default {
                Some(default) => arg.text.push_str(default),
                None => arg.text.push_str(&format!("${name}")),
            }
            let var: String = bare
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if is_secret_name(&var) && arg.flow.token.is_none() {
                arg.flow.token = Some(var);
            }
        }
    }

    /// `${X:offset:length}` of a known `X`; of `PATH`, `HOME`, `PWD` only the leading `/`
    /// is known (`${PATH:0:1}` is a way to write `/`).
    fn substring(&self, name: &str) -> Option<String> {
        let inner = name.strip_prefix('{')?.strip_suffix('}')?;
        let mut fields = inner.split(':');
        let var = fields.next()?;
        let slash = "/".to_string();
        let value = match self.vars.get(var) {
            Some(value) => &value.text,
            None if matches!(var, "PATH" | "HOME" | "PWD" | "OLDPWD" | "SHELL") => &slash,
            None => return None,
        };
        let offset: usize = fields.next()?.trim().parse().ok()?;
        let chars = value.chars().skip(offset);
        Some(match fields.next() {
            Some(len) => chars.take(len.trim().parse().ok()?).collect(),
            None => chars.collect(),
        })
    }

    /// `${!X}` (the variable X names), `${X,,}` and `${X^^}` (case), `${X/a/b}` and
    /// `${X//a/b}` (replacement) of known variables.
    fn operator(&self, name: &str) -> Option<String> {
        let inner = name.strip_prefix('{')?.strip_suffix('}')?;
        // `a=(rm -rf /); "${a[@]}"`: an array's elements, or one of them.
        if let Some((array, index)) = inner.strip_suffix(']').and_then(|i| i.split_once('[')) {
            let value = &self.vars.get(array)?.text;
            let items = value.trim_start_matches('(').trim_end_matches(')');
            return match index {
                "@" | "*" => Some(items.to_string()),
                n => items
                    .split_whitespace()
                    .nth(n.parse().ok()?)
                    .map(str::to_string),
            };
        }
        if let Some(pointer) = inner.strip_prefix('!') {
            let target = &self.vars.get(pointer)?.text;
            return self.vars.get(target.as_str()).map(|v| v.text.clone());
        }
        let len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (var, op) = inner.split_at(len);
        let value = &self.vars.get(var)?.text;
        match op {
            ",," | "," => Some(value.to_lowercase()),
            "^^" | "^" => Some(value.to_uppercase()),
            _ => {
                let (all, rest) = match op.strip_prefix("//") {
                    Some(rest) => (true, rest),
                    None => (false, op.strip_prefix('/')?),
                };
                let (pattern, replacement) = rest.split_once('/').unwrap_or((rest, ""));
                if pattern.is_empty() || pattern.contains(['*', '?', '[']) {
                    return None;
                }
                Some(match all {
                    true => value.replace(pattern, replacement),
                    false => value.replacen(pattern, replacement, 1),
                })
            }
        }
    }

    /// The command's stdin after its `<`, heredoc and here-string redirects.
    pub(super) fn redirect_input(&mut self, redirects: &[Redirect], stdin: &Flow) -> Check<Flow> {
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
                    self.socket_open |= is_socket(&arg.text);
                    let path = paths::resolve(&arg.text, self.cwd.as_deref());
                    let mut flow = match self.files.get(&path) {
                        Some(written) => written.clone(),
                        None => arg.flow.taint(),
                    };
                    flow.secret |= is_secret(&arg.text);
                    flow.remote |= arg.text.starts_with("/dev/tcp/");
                    flow
                }
                RedirKind::Out | RedirKind::Dup => continue,
            };
        }
        Ok(stdin)
    }

    /// Checks where output goes (disks, system files, `/dev/tcp`, sysrq) and returns what
    /// still reaches the pipe.
    pub(super) fn redirect_output(&mut self, redirects: &[Redirect], mut out: Flow) -> Check<Flow> {
        for r in redirects.iter().filter(|r| r.kind == RedirKind::Out) {
            let target = self.expand(&r.target)?.text;
            self.socket_open |= is_socket(&target);
            if paths::is_block_device(&target) {
                return Err(rules::reason(rules::DISK, &target));
            }
            if target.starts_with("/proc/sysrq-trigger") {
                return Err(rules::POWER.to_string());
            }
            if target.starts_with("/dev/tcp/") || target.starts_with("/dev/udp/") {
                if out.secret || out.token.is_some() {
                    return Err(SECRET.to_string());
                }
                if out.shell {
                    return Err(REVERSE_SHELL.to_string());
                }
            }
            if !matches!(target.as_str(), "/dev/stdout" | "/dev/stderr" | "/dev/null") {
                let path = paths::resolve(&target, self.cwd.as_deref());
                files::check_write(&path, out.text.as_deref())?;
                self.files.insert(path, std::mem::take(&mut out));
            }
        }
        Ok(out)
    }
}

/// Bash's network pseudo-files.
fn is_socket(path: &str) -> bool {
    path.starts_with("/dev/tcp/") || path.starts_with("/dev/udp/")
}
