//! Code that a program finds and runs later: git aliases and config values (`alias.x=!…`,
//! `core.sshCommand`, `core.pager`, hooks), Makefile and justfile recipes, npm scripts,
//! crontab lines, shell aliases, and SQL a database client sends. When the code was written
//! earlier in the same command (`printf 'all:\n\trm -rf ~\n' > Makefile && make`), the
//! files the checker recorded hold its text, and it is checked as shell when it would run.
//! Also lists of everything (`$(docker volume ls -q)`) handed to a destroyer.

use super::flow::{Arg, Flow};
use super::paths::{basename, resolve};
use super::rules::{self, POWER, remote, split_flags};
use super::{Check, Checker};

mod build;
mod git;

/// Variables whose value programs run as a command: `GIT_SSH_COMMAND`, `PAGER`, `EDITOR`,
/// `GIT_ASKPASS`, `PROMPT_COMMAND`, `LESSOPEN`…
pub(super) fn holds_code(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "GIT_EXTERNAL_DIFF" | "GIT_SSH" | "LESSOPEN" | "LESSCLOSE" | "BROWSER" | "VISUAL"
    ) || ["_COMMAND", "PAGER", "EDITOR", "ASKPASS"]
        .iter()
        .any(|s| upper.ends_with(s))
}

impl Checker {
    pub(super) fn indirect(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<()> {
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        match name {
            "git" => self.git(args),
            // `gh gist create ~/.ssh/id_rsa` uploads the key; `gh secret set` and `gh auth`
            // are where credentials are meant to go.
            "gh" if matches!(texts.get(1).map(String::as_str), Some("secret" | "auth")) => Ok(()),
            // `gh alias set x '!rm -rf ~'` (or `--shell`) defines a shell alias.
            "gh" if texts.get(1..3).is_some_and(|w| w == ["alias", "set"]) => {
                let shell = texts.iter().any(|t| t == "--shell" || t == "-s");
                let values = args[3..]
                    .iter()
                    .filter(|a| !a.text.starts_with('-'))
                    .skip(1);
                for value in values {
                    match value.text.strip_prefix('!') {
                        Some(code) => self.code(&Arg::tainted(code, &value.flow))?,
                        None if shell => self.code(value)?,
                        None => {}
                    }
                }
                Ok(())
            }
            "gh" if args.iter().any(|a| a.flow.secret) => Err(rules::SECRET.to_string()),
            "gh" => rules::check_exfil(&texts),
            "make" | "gmake" | "just" => {
                // `make RM='rm -rf /' clean`: a tool variable the recipes run.
                const TOOLS: &[&str] = &[
                    "CC", "CXX", "CPP", "LD", "AR", "AS", "SHELL", "RM", "CP", "MV", "INSTALL",
                    "PYTHON",
                ];
                for arg in &args[1..] {
                    if let Some((var, value)) = arg.text.split_once('=')
                        && TOOLS.contains(&var)
                    {
                        self.code(&Arg::tainted(value, &arg.flow))?;
                    }
                }
                self.recipes(name, args, stdin)
            }
            // A build script written earlier in this command runs on install or build.
            "pip" | "pip3" | "cargo" | "uv" => {
                let script = if name == "cargo" {
                    "build.rs"
                } else {
                    "setup.py"
                };
                let path = resolve(script, self.cwd.as_deref());
                match self.files.get(&path).cloned() {
                    Some(flow) => self.interpreter_code(&Arg {
                        text: flow.text.clone().unwrap_or_default(),
                        flow,
                    }),
                    None => Ok(()),
                }
            }
            "tmux" | "screen" | "byobu" => self.multiplexer(name, args),
            // `RAILS_ENV=production rails db:drop`: the production database.
            "rails" | "rake" => {
                let drops = texts[1..].iter().any(|t| {
                    matches!(
                        t.as_str(),
                        "db:drop" | "db:reset" | "db:schema:load" | "db:purge"
                    )
                });
                let env = |v: &str| self.vars.get(v).is_some_and(|a| a.text == "production");
                let production = texts.iter().any(|t| t.ends_with("=production"))
                    || env("RAILS_ENV")
                    || env("RACK_ENV");
                match drops && production {
                    true => Err(remote::REMOTE.to_string()),
                    false => Ok(()),
                }
            }
            // `terraform plan -destroy -out=p && terraform apply p` destroys like `destroy`.
            "terraform" | "tofu" => {
                let plan_out = texts.iter().enumerate().find_map(|(i, t)| {
                    t.strip_prefix("-out=")
                        .map(str::to_string)
                        .or_else(|| (t == "-out").then(|| texts.get(i + 1).cloned()).flatten())
                });
                let destroys = texts.iter().any(|t| t == "-destroy");
                let marker = Some("terraform destroy plan".to_string());
                if texts.contains(&"plan".to_string()) && destroys {
                    if let Some(file) = plan_out {
                        let path = resolve(&file, self.cwd.as_deref());
                        self.files.insert(
                            path,
                            Flow {
                                lists: marker,
                                ..Flow::default()
                            },
                        );
                    }
                    return Ok(());
                }
                let applies_plan = texts.contains(&"apply".to_string())
                    && texts.iter().skip(2).any(|t| {
                        self.files
                            .get(&resolve(t, self.cwd.as_deref()))
                            .is_some_and(|f| f.lists == marker)
                    });
                match applies_plan {
                    true => Err(remote::REMOTE.to_string()),
                    false => Ok(()),
                }
            }
            "npm" | "pnpm" | "yarn" => self.package_scripts(args),
            "crontab" => self.crontab(args, stdin),
            "alias" => {
                for (name, value) in texts.iter().skip(1).filter_map(|a| a.split_once('=')) {
                    self.text(value)?;
                    if self.aliases.len() < 256 {
                        self.aliases.insert(name.to_string(), value.to_string());
                    }
                }
                Ok(())
            }
            "psql" | "mysql" | "mariadb" | "mongo" | "mongosh" | "redis-cli" | "cockroach"
            | "clickhouse-client" | "cqlsh" | "sqlcmd" => self.database(args, stdin),
            // `docker volume rm $(docker volume ls -q)` removes every volume.
            "docker" | "podman"
                if texts.get(1..3).is_some_and(|w| w == ["volume", "rm"])
                    && args
                        .iter()
                        .any(|a| a.flow.lists.as_deref() == Some("docker volumes")) =>
            {
                Err(remote::REMOTE.to_string())
            }
            // `kill -9 $(pidof sshd)`.
            "kill"
                if args.iter().any(|a| {
                    a.flow
                        .lists
                        .as_deref()
                        .and_then(|l| l.strip_prefix("pids of "))
                        .is_some_and(|p| p == "everything" || rules::system::is_critical_process(p))
                }) =>
            {
                Err(POWER.to_string())
            }
            _ => Ok(()),
        }
    }

    /// `crontab FILE` or `crontab -` installs jobs: their commands are shell.
    fn crontab(&mut self, args: &[Arg], stdin: &Flow) -> Check<()> {
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        let (short, _, _) = split_flags(&texts[1..]);
        if short.contains(['l', 'e', 'r']) {
            return Ok(());
        }
        let mut file = None;
        let mut i = 1;
        while let Some(a) = args.get(i) {
            i += 1;
            match a.text.as_str() {
                "-u" => i += 1,
                "-" => file = None,
                t if !t.starts_with('-') => file = Some(a),
                _ => {}
            }
        }
        let flow = match file {
            Some(f) => self.file_flow(f),
            None => stdin.clone(),
        };
        if flow.hidden().is_some() {
            return Err(rules::CRONTAB.to_string());
        }
        for line in flow.text.iter().flat_map(|t| t.lines()) {
            if let Some(command) = cron_command(line) {
                // A scheduled program in a temp directory is a dropped payload.
                let program = command.split_whitespace().next().unwrap_or_default();
                if ["/tmp/", "/var/tmp/", "/dev/shm/"]
                    .iter()
                    .any(|t| program.starts_with(t))
                {
                    return Err(rules::CRONTAB.to_string());
                }
                self.text(command)
                    .map_err(|e| format!("{}; the crontab line would run: {e}", rules::CRONTAB))?;
            }
        }
        Ok(())
    }

    /// SQL, Mongo or Redis statements a client would send: `-c`/`-e`/`--eval` text, a file
    /// this command wrote (`-f`), or stdin.
    fn database(&mut self, args: &[Arg], stdin: &Flow) -> Check<()> {
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        let remote = remote::names_remote_host(&texts);
        let mut statements = Vec::new();
        for (i, a) in texts.iter().enumerate() {
            let next = || texts.get(i + 1).cloned();
            match a.as_str() {
                "-c" | "--command" | "-e" | "--execute" | "--eval" | "-q" | "--query" | "-Q" => {
                    statements.extend(next())
                }
                "-f" | "--file" => {
                    let file = next().unwrap_or_default();
                    statements.extend(self.file_flow(&Arg::new(&file)).text);
                }
                _ => {
                    let inline = ["--command=", "--execute=", "--eval=", "--query="]
                        .iter()
                        .find_map(|p| a.strip_prefix(p));
                    statements.extend(inline.map(str::to_string));
                }
            }
        }
        if statements.is_empty() {
            statements.extend(stdin.text.clone());
        }
        let name = basename(&texts[0]);
        if name == "redis-cli" {
            statements.extend(texts.iter().skip(1).cloned());
        }
        for text in &statements {
            // `\! cmd` (psql, mysql) and `system cmd` (mysql) run shell commands.
            for line in text.lines().map(str::trim) {
                if let Some(shell) = line.strip_prefix("\\!").or(line.strip_prefix("system ")) {
                    self.text(shell)?;
                }
            }
            remote::check_statements(text, remote)?;
        }
        Ok(())
    }

    /// `tee FILE` writes its stdin to FILE; `cp`/`mv SRC DST` carry what SRC held.
    pub(super) fn record_copies(&mut self, texts: &[String], stdin: &Flow) {
        let name = texts.first().map_or("", |t| basename(t));
        let positional: Vec<&String> = texts
            .iter()
            .skip(1)
            .filter(|t| !t.starts_with('-'))
            .collect();
        match (name, positional.as_slice()) {
            ("tee", files) => {
                for file in files {
                    let path = resolve(file, self.cwd.as_deref());
                    self.files.insert(path, stdin.clone());
                }
            }
            ("cp" | "mv" | "install", [src, dst]) => {
                let from = resolve(src, self.cwd.as_deref());
                if let Some(flow) = self.files.get(&from).cloned() {
                    let to = resolve(dst, self.cwd.as_deref());
                    let into = format!("{to}/{}", basename(src));
                    self.files.insert(into, flow.clone());
                    self.files.insert(to, flow);
                }
            }
            _ => {}
        }
    }
}

/// The command of a crontab line: after five schedule fields, or after `@reboot`-style
/// nicknames; `NAME=value` and comment lines run nothing.
fn cron_command(line: &str) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let first = line.split_whitespace().next()?;
    if first.contains('=') && !first.starts_with('@') {
        return None;
    }
    let fields = if first.starts_with('@') { 1 } else { 5 };
    let mut rest = line;
    for _ in 0..fields {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        rest = &rest[end..];
    }
    Some(rest.trim())
}
