//! Interpreters: which flags carry inline code (`python -c`, `perl -e`, `node -p`, `php -r`,
//! `R -e`, `osascript -e`), scripts and stdin they run, awk programs, and `read`, which
//! loads variables from stdin.

use super::paths::{is_secret, resolve};
use super::rules::{self, files};
use super::{Arg, Check, Checker, Flow, code};

/// The flag letters that introduce inline code for each interpreter.
pub(super) fn code_flags(name: &str) -> Option<&'static str> {
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
    } else if matches!(
        name,
        "R" | "Rscript" | "osascript" | "julia" | "groovy" | "scala" | "elixir"
    ) {
        Some("e")
    } else {
        None
    }
}

impl Checker {
    pub(super) fn interpreter(&mut self, name: &str, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let flags = code_flags(name).unwrap_or_default();
        // `perl -pi -e … /etc/sudoers` edits the file in place.
        let texts: Vec<String> = args.iter().map(|a| a.text.clone()).collect();
        files::check_writes(&texts, self.cwd.as_deref(), None)?;
        // `python -m twine upload` runs the module like the command of its name.
        let Some((codes, i)) = inline_code(flags, args) else {
            let module = args.iter().skip_while(|a| a.text != "-m").skip(1);
            let texts: Vec<String> = module.map(|a| a.text.clone()).collect();
            rules::check(&texts, self.cwd.as_deref())?;
            self.serves_secrets(&texts)?;
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
            // What a one-liner prints: its `print("…")` text, or decoded text nobody can read.
            let mut out = Flow::default();
            for c in &codes {
                let (text, decoded) = code::printed(&c.text);
                out.obfuscated |= decoded;
                out.text = out.text.or(text);
            }
            return Ok(out);
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
                Ok(Flow::shell())
            }
        }
    }

    /// `python3 -m http.server` in (or `--directory`) home or a key directory publishes it.
    fn serves_secrets(&self, module: &[String]) -> Check<()> {
        if !matches!(
            module.first().map(String::as_str),
            Some("http.server" | "SimpleHTTPServer")
        ) {
            return Ok(());
        }
        let dir = module
            .iter()
            .position(|a| a == "--directory" || a == "-d")
            .and_then(|i| module.get(i + 1).cloned())
            .or_else(|| self.cwd.clone());
        let dir = dir
            .map(|d| resolve(&d, self.cwd.as_deref()))
            .unwrap_or_default();
        if dir == "~" || dir == "/" || is_secret(&dir) {
            return Err(rules::SECRET.to_string());
        }
        Ok(())
    }

    pub(super) fn interpreter_code(&mut self, code: &Arg) -> Check<()> {
        if let Some(reason) = code.flow.hidden() {
            return Err(reason.to_string());
        }
        for shell in code::inspect(&code.text)? {
            self.text(&shell)?;
        }
        Ok(())
    }
    /// `read [-r] A B <<< text`: the variables get the words of stdin's first line.
    pub(super) fn read(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let mut names = Vec::new();
        let mut i = 1;
        while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
            i += 1;
            match a {
                "-a" | "-p" | "-d" | "-n" | "-N" | "-t" | "-u" | "-i" => i += 1,
                _ if a.starts_with('-') => {}
                _ => names.push(a.to_string()),
            }
        }
        if names.is_empty() {
            names.push("REPLY".to_string());
        }
        let line = stdin.text.as_deref().and_then(|t| t.lines().next());
        let mut words: Vec<&str> = line.map_or(Vec::new(), |l| l.split_whitespace().collect());
        let last = names.len() - 1;
        for (k, name) in names.iter().enumerate() {
            let value = match (k == last, line) {
                (_, None) => format!("${name}"),
                (true, Some(_)) => words.join(" "),
                (false, Some(_)) if words.is_empty() => String::new(),
                (false, Some(_)) => words.remove(0).to_string(),
            };
            self.assign(name, Arg::tainted(&value, stdin))?;
        }
        Ok(Flow::default())
    }
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
pub(super) fn awk_program(args: &[Arg]) -> Option<&Arg> {
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
