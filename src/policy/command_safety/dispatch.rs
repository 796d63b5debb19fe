//! Commands that run other code: shells, `eval`, `source`, interpreters, `xargs`,
//! `find -exec`, `ssh host cmd`, `watch`, `su -c`; plus `cd` and `for`, which change what later
//! words mean. Everything else goes to the plain rules.

use super::fanout::runner_values;
use super::interp::{awk_program, code_flags};
use super::paths::{self, basename, resolve};
use super::rules::{self, REVERSE_SHELL, SECRET, files};
use super::wrappers::{ShellFlags, shell_flags};
use super::{Arg, Check, Checker, Flow, secrets, text};

mod embedded;

pub(super) const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "yash",
];

impl Checker {
    pub(super) fn dispatch(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        // `/etc/init.d/ssh stop` is a service script, not the `ssh` client.
        if texts[0].starts_with("/etc/init.d/") || texts[0].starts_with("/etc/rc.d/") {
            let service = ["service".to_string(), name.to_string()];
            let words: Vec<String> = service
                .into_iter()
                .chain(texts[1..].iter().cloned())
                .collect();
            return self.plain(&words, stdin);
        }
        if rules::is_network(name) {
            self.network_sink(name, args, &texts, stdin)?;
        }
        // `rm -rf "$(echo L2hvbWU= | base64 -d)"`: the target is hidden.
        let destroys = matches!(
            name,
            "rm" | "rmdir"
                | "shred"
                | "dd"
                | "chmod"
                | "chown"
                | "wipefs"
                | "mv"
                | "truncate"
                | "find"
                | "unlink"
        ) || name.starts_with("mkfs");
        if destroys && let Some(reason) = args.iter().find_map(|a| a.flow.hidden()) {
            return Err(reason.to_string());
        }
        if name == "openssl" && texts.iter().any(|t| t == "s_client") {
            self.network_sink(name, args, &texts, stdin)?;
        }
        // Code kept where a program will find it: git config, Makefiles, package scripts,
        // crontabs, aliases, SQL; and lists of everything handed to a destroyer.
        self.indirect(name, args, stdin)?;
        match name {
            _ if SHELLS.contains(&name) => self.shell(args, stdin),
            _ if code_flags(name).is_some() => self.interpreter(name, args, stdin),
            "eval" | "watch" | "su" | "runuser" => {
                let start = if name == "eval" { 1 } else { code_start(args) };
                self.code(&join(&args[start.min(args.len())..]))?;
                Ok(Flow::default())
            }
            "source" | "." => match args.get(1) {
                Some(f) if f.text == "/dev/stdin" || f.text == "-" => self.shell_stdin(stdin),
                Some(f) => self.code_file(f),
                None => Ok(Flow::default()),
            },
            _ if args[0].text.contains('/') && self.file_flow(&args[0]) != Flow::default() => {
                self.code_file(&args[0])
            }
            // `trap CODE SIGNAL` runs CODE later, as shell.
            "trap" => match args.get(1) {
                Some(code) if !code.text.starts_with('-') => {
                    self.code(code).map(|()| Flow::default())
                }
                _ => Ok(Flow::default()),
            },
            "awk" | "gawk" | "mawk" | "nawk" => {
                let program = awk_program(args);
                program.map_or(Ok(()), |p| self.interpreter_code(p))?;
                Ok(rules::output_flow(&texts, stdin))
            }
            // `at` and `batch` run their stdin later, as shell.
            "at" | "batch" => self.shell_stdin(stdin),
            "xargs" => self.xargs(args, stdin),
            "find" => self.find(args),
            "ssh" => self.ssh(args),
            "cd" | "pushd" => {
                self.cd(args.get(1));
                Ok(Flow::default())
            }
            "for" | "select" if texts.get(2).is_some_and(|t| t == "in") => {
                let values: Vec<&str> = texts[3..].iter().map(String::as_str).collect();
                let value = values.join(" ").trim_end_matches(';').to_string();
                let mut flow = Flow::default();
                args[3..].iter().for_each(|a| flow.merge(&a.flow));
                self.set_var(&texts[1], Arg::tainted(&value, &flow));
                Ok(Flow::default())
            }
            "kill" => rules::check_kill(&texts).map(|()| Flow::default()),
            "echo" => Ok(text::echo(args)),
            "printf" => match text::printf(args) {
                (Some(var), flow) => {
                    let value = Arg {
                        text: flow.text.clone().unwrap_or_default(),
                        flow,
                    };
                    self.assign(&var, value)?;
                    Ok(Flow::default())
                }
                (None, flow) => Ok(flow),
            },
            "deno" if texts.get(1).is_some_and(|t| t == "eval") => {
                let code = args.iter().skip(2).find(|a| !a.text.starts_with('-'));
                code.map_or(Ok(()), |c| self.interpreter_code(c))?;
                Ok(Flow::default())
            }
            "vim" | "vi" | "nvim" | "ex" | "view" | "gvim" | "vimdiff" | "rvim" | "nex" => {
                self.vim(args, stdin)
            }
            "tclsh" | "wish" | "expect" => self.tcl(args, stdin),
            "pwsh" | "powershell" | "powershell.exe" | "pwsh-preview" => {
                self.powershell(args, stdin)
            }
            "read" => self.read(args, stdin),
            "ztcp" => {
                self.socket_open = true;
                Ok(Flow::default())
            }
            // `set -- rm -rf /; "$@"` sets the positional parameters.
            "set" if texts.get(1).is_some_and(|t| t == "--") => {
                for (k, arg) in args[2..].iter().enumerate().take(9) {
                    self.set_var(&(k + 1).to_string(), arg.clone());
                }
                let all = join(&args[2..]);
                let all = Arg::tainted(all.text.trim_end(), &all.flow);
                self.set_var("@", all.clone());
                self.set_var("*", all);
                Ok(Flow::default())
            }
            "gdb" | "cgdb" | "gdb-multiarch" => self.gdb(&texts),
            "make" | "gmake" => {
                self.make_eval(&texts)?;
                self.plain(&texts, stdin)
            }
            // Programs that run a command given as a flag's value.
            "rsync" | "tar" | "gtar" | "bsdtar" => {
                const RUNS: &[&str] = &[
                    "-e",
                    "--rsh",
                    "--to-command",
                    "-I",
                    "--use-compress-program",
                    "--rsync-path",
                    "--checkpoint-action",
                ];
                for (i, a) in texts.iter().enumerate() {
                    let value = match a.split_once('=') {
                        Some((flag, v)) if RUNS.contains(&flag) => Some(v.to_string()),
                        _ if RUNS.contains(&a.as_str()) => texts.get(i + 1).cloned(),
                        _ => None,
                    };
                    if let Some(v) = value {
                        self.text(v.strip_prefix("exec=").unwrap_or(&v))?;
                    }
                }
                self.plain(&texts, stdin)
            }
            // `deno run https://…` runs code from the network.
            "deno" | "bun"
                if texts.get(1).is_some_and(|t| t == "run")
                    && texts
                        .iter()
                        .skip(2)
                        .any(|t| t.starts_with("http://") || t.starts_with("https://")) =>
            {
                Err(rules::RCE.to_string())
            }
            // `script -c CMD log` and `flock FILE -c CMD` run CMD as shell.
            "script" | "-c" => {
                let code = match name {
                    "-c" => args.get(1),
                    _ => args
                        .iter()
                        .position(|a| a.text == "-c" || a.text == "--command")
                        .and_then(|i| args.get(i + 1)),
                };
                code.map_or(Ok(()), |c| self.code(c))?;
                Ok(Flow::default())
            }
            "npx" | "bunx" | "pnpx" => self.package_runner(args, 1, stdin),
            _ if runner_values(name).is_some() => {
                let values = runner_values(name).unwrap_or_default();
                let mut i = 1;
                while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
                    if a == "--" {
                        i += 1;
                        break;
                    }
                    if !a.starts_with('-') {
                        break;
                    }
                    i += 1 + usize::from(a.len() == 2 && values.contains(&a[1..]));
                }
                let command = args.get(i..).unwrap_or_default().to_vec();
                self.enter()?;
                let out = self.run(command, stdin)?;
                self.depth -= 1;
                Ok(out)
            }
            "npm" | "pnpm" | "yarn"
                if matches!(texts.get(1).map(String::as_str), Some("exec" | "dlx" | "x")) =>
            {
                self.package_runner(args, 2, stdin)
            }
            _ => self.plain(&texts, stdin),
        }
    }

    fn cd(&mut self, dir: Option<&Arg>) {
        // A directory nobody can read (`cd "$(echo Lw== | base64 -d)"`) may be `/`.
        if dir.is_some_and(|d| d.flow.hidden().is_some()) {
            self.cwd = Some("/".to_string());
            return;
        }
        self.cwd = match dir.map(|a| a.text.as_str()) {
            None => Some("~".to_string()),
            Some(dir) if dir.starts_with('$') || dir == "-" => None,
            Some(dir) => Some(resolve(dir, self.cwd.as_deref())),
        };
    }

    /// A command that runs no other code: the plain rules, and what it writes.
    fn plain(&mut self, texts: &[String], stdin: &Flow) -> Check<Flow> {
        // A value from `for d in / ~` holds every item: check each one as a word.
        let split: Vec<String> = texts
            .iter()
            .flat_map(|t| t.split_whitespace().flat_map(paths::expand_braces))
            .collect();
        rules::check(texts, self.cwd.as_deref())?;
        rules::check(&split, self.cwd.as_deref())?;
        files::check_writes(texts, self.cwd.as_deref(), stdin.text.as_deref())?;
        self.record_copies(texts, stdin);
        if let Some(file) = rules::download_target(texts) {
            let remote = Flow {
                remote: true,
                ..Flow::default()
            };
            self.files
                .insert(resolve(&file, self.cwd.as_deref()), remote);
        }
        let mut out = rules::output_flow(texts, stdin);
        // `cat x.sh` of a file written earlier in the command prints what went into it.
        if let [cat, file] = texts
            && basename(cat) == "cat"
            && let Some(flow) = self.files.get(&resolve(file, self.cwd.as_deref()))
        {
            out.merge(flow);
            out.text.clone_from(&flow.text);
        }
        Ok(out)
    }

    fn network_sink(
        &mut self,
        name: &str,
        args: &[Arg],
        texts: &[String],
        stdin: &Flow,
    ) -> Check<()> {
        if stdin.secret || args.iter().any(|a| a.flow.secret) {
            return Err(SECRET.to_string());
        }
        if stdin.shell {
            return Err(REVERSE_SHELL.to_string());
        }
        secrets::check_sink(name, args, stdin)?;
        // `env > e.txt; curl -F f=@e.txt …`: a file this command filled with secrets.
        let sent = texts.iter().skip(1).flat_map(|t| {
            [
                Some(t.as_str()),
                t.rsplit_once('@').map(|(_, f)| f),
                t.split_once('=').map(|(_, f)| f),
            ]
        });
        for file in sent.flatten().filter(|f| !f.is_empty()) {
            let flow = self.files.get(&resolve(file, self.cwd.as_deref()));
            if flow.is_some_and(|f| f.secret || f.token.is_some()) {
                return Err(SECRET.to_string());
            }
        }
        rules::check_exfil(texts)?;
        rules::check_reverse_shell(name, texts)
    }

    /// `sh -c CODE`, `bash script`, `bash <(curl …)`, or a shell reading its stdin.
    fn shell(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        let ShellFlags {
            at: i,
            inline,
            from_stdin,
        } = shell_flags(&texts);
        match args.get(i) {
            Some(code) if inline => self.code(code).map(|()| Flow::default()),
            _ if inline => Ok(Flow::default()),
            Some(script) if !from_stdin && script.text != "/dev/stdin" => self.code_file(script),
            _ => self.shell_stdin(stdin),
        }
    }

    /// A shell or `source` reading code from its stdin.
    pub(super) fn shell_stdin(&mut self, stdin: &Flow) -> Check<Flow> {
        if let Some(reason) = stdin.hidden() {
            return Err(reason.to_string());
        }
        if let Some(text) = &stdin.text {
            self.text(text)?;
        }
        Ok(Flow::shell())
    }

    /// A script given as a file: only `<(…)` has contents we can know.
    fn code_file(&mut self, file: &Arg) -> Check<Flow> {
        let flow = self.file_flow(file);
        if let Some(reason) = flow.hidden() {
            return Err(reason.to_string());
        }
        if let Some(text) = &flow.text {
            self.text(text)?;
        }
        Ok(Flow::default())
    }

    /// What a file argument holds: a `<(…)`'s output, or what this command wrote to it.
    pub(super) fn file_flow(&self, file: &Arg) -> Flow {
        if file.flow != Flow::default() {
            return file.flow.clone();
        }
        let path = resolve(&file.text, self.cwd.as_deref());
        self.files.get(&path).cloned().unwrap_or_default()
    }
}

/// Words run as one line of shell (`eval a b`, `ssh host a b`), keeping what they carry.
pub(super) fn join(args: &[Arg]) -> Arg {
    let mut code = Arg::default();
    for arg in args {
        code.text.push_str(&arg.text);
        code.text.push(' ');
        code.flow.merge(&arg.flow);
    }
    code
}

/// Where `su`/`watch` keep their command: after `-c`, or after the flags.
fn code_start(args: &[Arg]) -> usize {
    if let Some(c) = args
        .iter()
        .position(|a| a.text == "-c" || a.text == "--command")
    {
        return c + 1;
    }
    let name = args.first().map_or("", |a| basename(&a.text));
    if name == "watch" {
        let mut i = 1;
        while let Some(a) = args.get(i).filter(|a| a.text.starts_with('-')) {
            i += if matches!(a.text.as_str(), "-n" | "--interval" | "-d") {
                2
            } else {
                1
            };
        }
        return i;
    }
    // `su user` without `-c` runs nothing we can see.
    args.len()
}
