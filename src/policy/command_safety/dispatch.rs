//! Commands that run other code: shells, `eval`, `source`, interpreters, `xargs`,
//! `find -exec`, `ssh host cmd`, `watch`, `su -c`; plus `cd` and `for`, which change what later
//! words mean. Everything else goes to the plain rules.

use super::paths::{self, basename, resolve};
use super::rules::{self, REVERSE_SHELL, SECRET};
use super::wrappers::{ShellFlags, shell_flags};
use super::{Arg, Check, Checker, Flow, code};

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "yash",
];

/// The flag letters that introduce inline code for each interpreter.
fn code_flags(name: &str) -> Option<&'static str> {
    let versioned = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    if versioned("python") || versioned("pypy") {
        Some("c")
    } else if versioned("perl") || versioned("ruby") || versioned("lua") || name == "bun" {
        Some("eE")
    } else if matches!(name, "node" | "nodejs") {
        Some("ep")
    } else if versioned("php") {
        Some("r")
    } else {
        None
    }
}

impl Checker {
    pub(super) fn dispatch(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        if rules::is_network(name) {
            self.network_sink(name, args, &texts, stdin)?;
        }
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
                self.set_var(&texts[1], Arg::new(&value));
                Ok(Flow::default())
            }
            "kill" => rules::check_kill(&texts).map(|()| Flow::default()),
            "echo" | "printf" => Ok(echo(args)),
            _ => self.plain(&texts, stdin),
        }
    }

    fn cd(&mut self, dir: Option<&Arg>) {
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
        if let Some(file) = rules::download_target(texts) {
            let remote = Flow {
                remote: true,
                ..Flow::default()
            };
            self.files
                .insert(resolve(&file, self.cwd.as_deref()), remote);
        }
        Ok(rules::output_flow(texts, stdin))
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
        Ok(Flow {
            shell: true,
            ..Flow::default()
        })
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
    fn file_flow(&self, file: &Arg) -> Flow {
        if file.flow != Flow::default() {
            return file.flow.clone();
        }
        let path = resolve(&file.text, self.cwd.as_deref());
        self.files.get(&path).cloned().unwrap_or_default()
    }

    fn interpreter(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let flags = code_flags(name).unwrap_or_default();
        // `python -m module` runs a module, not stdin.
        let Some((codes, i)) = inline_code(flags, args) else {
            return Ok(Flow::default());
        };
        if !codes.is_empty() {
            // `curl … | python3 -c "exec(sys.stdin.read())"` runs the download too.
            if let Some(reason) = stdin
                .hidden()
                .filter(|_| codes.iter().any(|c| code::evaluates(&c.text)))
            {
                return Err(reason.to_string());
            }
            for code in &codes {
                self.interpreter_code(code)?;
            }
            return Ok(Flow::default());
        }
        match args.get(i) {
            Some(script) if script.text != "-" && script.text != "/dev/stdin" => {
                let flow = self.file_flow(script);
                self.interpreter_code(&Arg {
                    text: flow.text.clone().unwrap_or_default(),
                    flow,
                })?;
                Ok(Flow::default())
            }
            _ => {
                self.interpreter_code(&Arg {
                    text: stdin.text.clone().unwrap_or_default(),
                    flow: stdin.clone(),
                })?;
                Ok(Flow {
                    shell: true,
                    ..Flow::default()
                })
            }
        }
    }

    fn interpreter_code(&mut self, code: &Arg) -> Check<()> {
        if let Some(reason) = code.flow.hidden() {
            return Err(reason.to_string());
        }
        for shell in code::inspect(&code.text)? {
            self.text(&shell)?;
        }
        Ok(())
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

/// An interpreter's inline code (`-c`, `-e`, `--eval` …) and the index of its first
/// non-flag word; `None` for `-m module`.
fn inline_code(flags: &str, args: &[Arg]) -> Option<(Vec<Arg>, usize)> {
    let mut codes: Vec<Arg> = Vec::new();
    let mut i = 1;
    while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
        if a == "-" || !a.starts_with('-') {
            break;
        }
        i += 1;
        if matches!(a, "--eval" | "--print") {
            codes.extend(args.get(i).cloned());
            i += 1;
        } else if a == "-m" {
            return None;
        } else if a.starts_with("--") {
            continue;
        } else if let Some(pos) = a[1..].find(|c| flags.contains(c)) {
            let attached = &a[pos + 2..];
            if attached.is_empty() {
                codes.extend(args.get(i).cloned());
                i += 1;
            } else {
                codes.push(Arg::new(attached));
            }
        } else if matches!(a, "-W" | "-X" | "-r" | "-I" | "-M") {
            i += 1;
        }
    }
    Some((codes, i))
}

/// An awk program: the first word after the flags, unless `-f` names a file.
fn awk_program(args: &[Arg]) -> Option<&Arg> {
    let mut i = 1;
    while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
        match a {
            "-f" | "--file" => return None,
            "-F" | "-v" | "--assign" | "--field-separator" => i += 2,
            "--" => return args.get(i + 1),
            _ if a.starts_with('-') && a.len() > 1 => i += 1,
            _ => return args.get(i),
        }
    }
    None
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

/// `echo` and `printf` write their words; `printf`'s format escapes are decoded.
fn echo(args: &[Arg]) -> Flow {
    let mut flow = Flow::default();
    let words: Vec<&Arg> = args
        .iter()
        .skip(1)
        .skip_while(|a| a.text.starts_with('-') && a.text.len() == 2)
        .collect();
    let mut text = String::new();
    for (k, arg) in words.iter().enumerate() {
        flow.merge(&arg.flow);
        if k > 0 {
            text.push(' ');
        }
        text.push_str(&arg.text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut decoded = String::new();
    let mut i = 0;
    while let Some(c) = chars.get(i) {
        i += 1;
        if *c == '\\' {
            let (ch, used) = super::super::shell_words::unescape(&chars[i..]);
            decoded.push(ch);
            i += used;
        } else {
            decoded.push(*c);
        }
    }
    flow.secret |= names_secret_variable(&decoded);
    flow.text = Some(decoded.replace("%s", ""));
    flow
}

/// Whether echoed text holds an (unexpanded) variable named like a credential, such as
/// `$AWS_SECRET_ACCESS_KEY`: piping that to the network sends the secret.
fn names_secret_variable(text: &str) -> bool {
    const MARKERS: &[&str] = &[
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ];
    text.split('$').skip(1).any(|rest| {
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let upper = name.to_ascii_uppercase();
        MARKERS.iter().any(|m| upper.contains(m))
    })
}
