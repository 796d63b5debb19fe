//! Git: config values that are commands (`alias.x=!…`, `core.sshCommand`, `core.pager`,
//! filters, hooks paths), subcommands that run a command they are given (`submodule
//! foreach`, `bisect run`, `rebase --exec`, `filter-branch`), `ext::` transports, tokens in
//! remote URLs, secrets staged for commit, hooks written earlier in the same command, and a
//! force-push while on a main branch checked out in the same command.

use super::super::flow::{Arg, Flow};
use super::super::paths::{is_secret, resolve};
use super::super::rules::{self, remote};
use super::super::{Check, Checker, secrets};

const HOOKS_OUTSIDE: &str = "pointing git's hooks at {path}, outside the project, would run \
     code nobody has seen at every commit, checkout and push; keep hooks in the repository \
     (core.hooksPath = .githooks)";

/// Git config keys whose value is a command (`alias.*` and `credential.helper` only with a
/// leading `!`).
fn git_code(key: &str, value: &str) -> Option<String> {
    let key = key.to_ascii_lowercase();
    let parts: Vec<&str> = key.split('.').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let bang = value.strip_prefix('!').map(str::to_string);
    match (first, last) {
        ("alias", _) => bang,
        ("credential", "helper") => bang,
        ("core", "fsmonitor") if matches!(value, "true" | "false") => None,
        ("core", "sshcommand" | "pager" | "editor" | "fsmonitor" | "askpass" | "gitproxy")
        | ("sequence", "editor")
        | ("diff", "external" | "textconv" | "command")
        | ("merge", "driver")
        | ("filter", "clean" | "smudge" | "process")
        | ("remote", "uploadpack" | "receivepack")
        | ("gpg", "program")
        | ("browser" | "mergetool" | "difftool", "cmd")
        | ("uploadpack", "packobjectshook")
        | ("pager", _) => Some(value.to_string()),
        _ => None,
    }
}

impl Checker {
    /// `git -c key=value …`, `git config key value`, `ext::` URLs, tokens in remote URLs,
    /// and hooks written earlier in the command.
    pub(in super::super) fn git(&mut self, args: &[Arg]) -> Check<()> {
        let mut hook_dirs = vec![
            resolve(".git/hooks", self.cwd.as_deref()),
            resolve(".husky", self.cwd.as_deref()),
        ];
        hook_dirs.extend(self.hook_dirs.iter().cloned());
        // `[alias] x = !rm -rf ~` written into a config file earlier in this command.
        for config in [".git/config", "~/.gitconfig", "~/.config/git/config"] {
            let path = resolve(config, self.cwd.as_deref());
            let Some(flow) = self.files.get(&path).cloned() else {
                continue;
            };
            if let Some(reason) = flow.hidden() {
                return Err(reason.to_string());
            }
            for (key, value) in config_entries(flow.text.as_deref().unwrap_or_default()) {
                self.git_config(&key, &Arg::tainted(&value, &flow))?;
            }
        }
        let mut i = 1;
        while let Some(a) = args.get(i).filter(|a| a.text.starts_with('-')) {
            i += 1;
            if a.text == "-c"
                && let Some((key, value)) = args.get(i).and_then(|kv| kv.text.split_once('='))
            {
                self.git_config(key, &Arg::tainted(value, &args[i].flow))?;
                if key.eq_ignore_ascii_case("core.hooksPath") {
                    hook_dirs.push(resolve(value, self.cwd.as_deref()));
                }
            }
            if matches!(
                a.text.as_str(),
                "-c" | "-C" | "--git-dir" | "--work-tree" | "--namespace"
            ) {
                i += 1;
            }
        }
        let sub = args.get(i..).unwrap_or_default();
        let verb = sub.first().map_or("", |s| s.text.as_str());
        // A project's `.npmrc` or `.pypirc` is often plain settings; keys and `.env` are not.
        let staged_secret = |a: &Arg| {
            let name = a.text.rsplit('/').next().unwrap_or_default();
            is_secret(&a.text)
                && !matches!(
                    name,
                    ".npmrc" | ".pypirc" | ".bash_history" | ".zsh_history"
                )
        };
        if verb == "add" && sub[1..].iter().any(staged_secret) {
            return Err(secrets::COMMIT_SECRET.to_string());
        }
        if sub.first().is_some_and(|s| s.text == "config") {
            let words: Vec<&Arg> = sub[1..]
                .iter()
                .filter(|a| !a.text.starts_with('-') && a.text != "set")
                .collect();
            if let [key, value, ..] = words.as_slice() {
                self.git_config(&key.text, value)?;
                if key.text.eq_ignore_ascii_case("core.hooksPath") {
                    let dir = resolve(&value.text, self.cwd.as_deref());
                    self.hook_dirs.push(dir);
                }
            }
        }
        self.git_runs(sub)?;
        for url in sub.iter().filter(|a| a.text.starts_with("ext::")) {
            let command = url.text["ext::".len()..]
                .replace("% ", " ")
                .replace("%%", "%");
            self.code(&Arg::tainted(&command, &url.flow))?;
        }
        secrets::check_urls(sub)?;
        let hooks: Vec<Flow> = self
            .files
            .iter()
            .filter(|(path, _)| hook_dirs.iter().any(|d| path.starts_with(&format!("{d}/"))))
            .map(|(_, flow)| flow.clone())
            .collect();
        for hook in hooks {
            self.run_file(&hook)?;
        }
        Ok(())
    }

    /// Subcommands that run a command they are given: `submodule foreach`, `bisect run`,
    /// `rebase --exec`, `filter-branch --tree-filter`, `difftool -x`, `clone -c k=v`; and
    /// a force-push without a refspec while on a main branch checked out in this command.
    fn git_runs(&mut self, sub: &[Arg]) -> Check<()> {
        let texts: Vec<&str> = sub.iter().map(|a| a.text.as_str()).collect();
        let value_after = |flags: &[&str]| -> Vec<Arg> {
            let mut out = Vec::new();
            for (i, t) in texts.iter().enumerate() {
                if flags.contains(t) {
                    out.extend(sub.get(i + 1).cloned());
                } else if let Some((flag, value)) = t.split_once('=')
                    && flags.contains(&flag)
                {
                    out.push(Arg::tainted(value, &sub[i].flow));
                }
            }
            out
        };
        let code: Vec<Arg> = match texts.as_slice() {
            ["submodule", ..] if texts.contains(&"foreach") => {
                let at = texts.iter().position(|t| *t == "foreach").unwrap_or(0);
                let rest: Vec<Arg> = sub[at + 1..]
                    .iter()
                    .filter(|a| !a.text.starts_with("--"))
                    .cloned()
                    .collect();
                vec![super::super::dispatch::join(&rest)]
            }
            ["bisect", "run", ..] => {
                self.enter()?;
                self.run(sub[2..].to_vec(), &Flow::default())?;
                self.depth -= 1;
                Vec::new()
            }
            ["rebase", ..] => value_after(&["-x", "--exec"]),
            ["filter-branch", ..] => value_after(&[
                "--tree-filter",
                "--index-filter",
                "--msg-filter",
                "--commit-filter",
                "--env-filter",
                "--parent-filter",
                "--tag-name-filter",
            ]),
            ["difftool" | "mergetool", ..] => value_after(&["-x", "--extcmd", "--tool-cmd"]),
            ["clone" | "submodule", ..] => {
                for kv in value_after(&["-c", "--config"]) {
                    if let Some((key, value)) = kv.text.split_once('=') {
                        self.git_config(key, &Arg::tainted(value, &kv.flow))?;
                    }
                }
                Vec::new()
            }
            ["checkout" | "switch", .., branch] if !branch.starts_with('-') => {
                self.git_branch = Some(branch.to_string());
                Vec::new()
            }
            ["push", rest @ ..] => {
                let force = rest.iter().any(|r| {
                    r.starts_with("--force")
                        || (r.starts_with('-') && !r.starts_with("--") && r.contains('f'))
                });
                let refspecs = rest.iter().filter(|r| !r.starts_with('-')).count();
                let on_main = self
                    .git_branch
                    .as_deref()
                    .is_some_and(rules::remote::is_protected);
                if force && refspecs <= 1 && on_main {
                    return Err(remote::REMOTE.to_string());
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        for c in &code {
            self.code(c)?;
        }
        Ok(())
    }

    fn git_config(&mut self, key: &str, value: &Arg) -> Check<()> {
        // Hooks from outside the project run unseen code at every commit, checkout and push.
        if key.eq_ignore_ascii_case("core.hooksPath") {
            let v = value.text.as_str();
            let outside = match self.cwd.as_deref() {
                _ if !(v.starts_with('/') || v.starts_with('~') || v.starts_with('$')) => false,
                Some(cwd) => !resolve(v, Some(cwd)).starts_with(&format!("{cwd}/")),
                None => true,
            };
            if outside {
                return Err(HOOKS_OUTSIDE.replace("{path}", v));
            }
        }
        match git_code(key, &value.text) {
            Some(code) => self.code(&Arg::tainted(&code, &value.flow)),
            None => Ok(()),
        }
    }

    /// Code in a file written earlier in this command, as shell.
    fn run_file(&mut self, flow: &Flow) -> Check<()> {
        if let Some(reason) = flow.hidden() {
            return Err(reason.to_string());
        }
        match &flow.text {
            Some(text) => self.text(text),
            None => Ok(()),
        }
    }
}

/// `section.key = value` entries of a git config file (`[alias]`, `[core]`,
/// `[filter "lfs"]`), with quotes around values removed.
fn config_entries(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let mut parts = header.split_whitespace();
            section = parts.next().unwrap_or_default().to_string();
            if let Some(sub) = parts.next() {
                section = format!("{section}.{}", sub.trim_matches('"'));
            }
        } else if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().trim_matches('"').to_string();
            out.push((format!("{section}.{}", key.trim()), value));
        }
    }
    out
}
