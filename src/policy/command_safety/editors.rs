//! Programs whose own command language runs shell commands: vim and its family (`-c`,
//! `+cmd`, `-S script`, ex commands on stdin with `-es`), Tcl (`tclsh`, `wish`, `expect -c`),
//! whose `exec` runs a program, and PowerShell (`pwsh -c`), read for its recursive
//! `Remove-Item`, disk cmdlets and `iex (iwr …)`.

use std::sync::LazyLock;

use regex::Regex;

use super::flow::{Arg, Flow};
use super::paths::{resolve, root_kind};
use super::rules::{DELETE, FORMAT, OBFUSCATED, POWER, RCE, reason};
use super::{Check, Checker};

/// Tcl's `exec prog args…` up to the end of the command, and `open "|prog …"`.
static TCL_EXEC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"\b(?:exec|spawn)\s+([^\]\n;]+)|\bopen\s+["{]\|([^"}\n]+)"#).ok()
});

impl Checker {
    /// `vim -c CMD`, `vim +CMD`, `vim --cmd CMD`, `vim -S script`, `vim -es < cmds`.
    pub(super) fn vim(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let mut commands: Vec<String> = Vec::new();
        let (mut ex, mut silent) = (false, false);
        let mut i = 1;
        while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
            i += 1;
            match a {
                "-c" | "--cmd" => {
                    commands.extend(args.get(i).map(|a| a.text.clone()));
                    i += 1;
                }
                "-S" => {
                    if let Some(script) = args.get(i) {
                        let flow = self.file_flow(script);
                        if let Some(reason) = flow.hidden() {
                            return Err(reason.to_string());
                        }
                        commands.extend(flow.text.iter().flat_map(|t| t.lines()).map(String::from));
                    }
                    i += 1;
                }
                _ if a.starts_with('+') && a.len() > 1 => commands.push(a[1..].to_string()),
                _ if a.starts_with('-') && !a.starts_with("--") => {
                    ex |= a.contains(['e', 'E']);
                    silent |= a.contains('s');
                }
                _ => {}
            }
        }
        let ex_name = args.first().is_some_and(|a| a.text.ends_with("ex"));
        if ex_name || (ex && silent) {
            if let Some(reason) = stdin.hidden() {
                return Err(reason.to_string());
            }
            commands.extend(stdin.text.iter().flat_map(|t| t.lines()).map(String::from));
        }
        for command in &commands {
            for shell in ex_shell(command) {
                self.text(&shell)?;
            }
            if let Some(code) = ex_code(command) {
                self.interpreter_code(&Arg::new(code))?;
            }
        }
        Ok(Flow::default())
    }

    /// `tclsh script.tcl`, `tclsh` reading stdin, `expect -c CODE`.
    pub(super) fn tcl(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let inline = args
            .iter()
            .position(|a| a.text == "-c")
            .and_then(|i| args.get(i + 1));
        let script = args.iter().skip(1).find(|a| !a.text.starts_with('-'));
        let code = match (inline, script) {
            (Some(code), _) => Flow {
                text: Some(code.text.clone()),
                ..code.flow.clone()
            },
            (None, Some(file)) => self.file_flow(file),
            (None, None) => stdin.clone(),
        };
        if let Some(reason) = code.hidden() {
            return Err(reason.to_string());
        }
        let Some(text) = &code.text else {
            return Ok(Flow::default());
        };
        for shell in tcl_exec(text) {
            self.text(&shell)?;
        }
        Ok(Flow::default())
    }
}

impl Checker {
    /// `pwsh -c CODE`, `pwsh -File F`, `pwsh -EncodedCommand …` (hidden by design).
    pub(super) fn powershell(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let mut code: Option<Arg> = None;
        let mut i = 1;
        while let Some(a) = args.get(i) {
            i += 1;
            let flag = a.text.to_ascii_lowercase();
            match flag.as_str() {
                "-e" | "-ec" | "-enc" | "-encodedcommand" => return Err(OBFUSCATED.to_string()),
                "-c" | "-command" | "--command" => {
                    code = Some(super::dispatch::join(&args[i..]));
                    break;
                }
                "-f" | "-file" => {
                    let flow = args.get(i).map(|f| self.file_flow(f)).unwrap_or_default();
                    code = Some(Arg {
                        text: flow.text.clone().unwrap_or_default(),
                        flow,
                    });
                    break;
                }
                f if f.starts_with('-') => {}
                _ => {
                    code = Some(super::dispatch::join(&args[i - 1..]));
                    break;
                }
            }
        }
        let code = code.unwrap_or(Arg {
            text: stdin.text.clone().unwrap_or_default(),
            flow: stdin.clone(),
        });
        if let Some(reason) = code.flow.hidden() {
            return Err(reason.to_string());
        }
        check_powershell(&code.text)?;
        Ok(Flow::default())
    }
}

/// PowerShell one-liners: recursive deletes of a root, disk and power cmdlets, and code
/// downloaded and run with `iex`.
fn check_powershell(code: &str) -> Check<()> {
    let lower = code.to_ascii_lowercase();
    let fetches = [
        "iwr",
        "invoke-webrequest",
        "irm",
        "invoke-restmethod",
        "downloadstring",
        "net.webclient",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if fetches && (lower.contains("iex") || lower.contains("invoke-expression")) {
        return Err(RCE.to_string());
    }
    if ["format-volume", "clear-disk", "initialize-disk"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Err(FORMAT.to_string());
    }
    if ["stop-computer", "restart-computer"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Err(POWER.to_string());
    }
    for statement in lower.split([';', '|', '\n']) {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let deletes = words.first().is_some_and(|w| {
            matches!(
                *w,
                "remove-item" | "rm" | "ri" | "del" | "rmdir" | "rd" | "erase"
            )
        });
        let recurse = words.iter().any(|w| w.starts_with("-r"));
        if !(deletes && recurse) {
            continue;
        }
        for word in words.iter().skip(1).filter(|w| !w.starts_with('-')) {
            let path = word.trim_matches(['"', '\'']);
            let path = match path {
                "$home" | "$env:home" | "$env:userprofile" | "~/" => "~",
                "c:\\" | "c:/" | "c:" | "$env:systemdrive" | "$env:systemroot" => "/",
                p => p,
            };
            if root_kind(&resolve(path, None)).is_some() {
                return Err(reason(DELETE, path));
            }
        }
    }
    Ok(())
}

/// The shell commands an ex command runs: `:!cmd`, `:r !cmd`, `:w !cmd`, `:{range}!filter`,
/// `:terminal cmd`, and string literals handed to `system()` or `execute`.
fn ex_shell(command: &str) -> Vec<String> {
    let c = command.trim_start_matches([':', ' ', '\t']);
    let c = c
        .strip_prefix("silent!")
        .or_else(|| c.strip_prefix("silent"))
        .unwrap_or(c)
        .trim_start();
    let rest = c
        .trim_start_matches(|ch: char| ch.is_ascii_digit() || ",.$%'<>".contains(ch))
        .trim_start();
    let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    let after = rest[word.len()..].trim_start();
    let mut out = Vec::new();
    if let Some(shell) = rest.strip_prefix('!') {
        out.push(shell.to_string());
    } else if matches!(word.as_str(), "r" | "read") && after.starts_with('!') {
        out.push(after[1..].to_string());
    } else if matches!(word.as_str(), "w" | "write") && rest[word.len()..].starts_with(' ') {
        out.extend(after.strip_prefix('!').map(str::to_string));
    } else if matches!(word.as_str(), "term" | "terminal") {
        out.push(after.to_string());
    } else if command.contains("system") || matches!(word.as_str(), "exe" | "execute" | "call") {
        for literal in literals(command) {
            out.extend(ex_shell(&literal));
            out.push(literal);
        }
    }
    out
}

/// Code for an embedded interpreter: `:lua …`, `:py3 …`, `:perl …`, `:ruby …`.
fn ex_code(command: &str) -> Option<&str> {
    let c = command.trim_start_matches([':', ' ', '\t']);
    let word: String = c.chars().take_while(char::is_ascii_alphanumeric).collect();
    matches!(
        word.as_str(),
        "lua" | "py" | "py3" | "python" | "python3" | "pyx" | "perl" | "ruby" | "luado" | "pydo"
    )
    .then(|| &c[word.len()..])
}

/// Quoted strings in an ex command.
fn literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            out.push(chars.by_ref().take_while(|d| *d != c).collect());
        }
    }
    out
}

/// The commands Tcl code runs with `exec` or a `|` pipe; braces, Tcl's quotes, become shell
/// quotes.
pub(super) fn tcl_exec(code: &str) -> Vec<String> {
    let Some(re) = TCL_EXEC.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(code)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| {
            m.as_str()
                .replace(['{', '}'], "'")
                .replace("<@stdin", "")
                .replace(">@stdout", "")
                .trim_end_matches(['&', ' '])
                .to_string()
        })
        .collect()
}
