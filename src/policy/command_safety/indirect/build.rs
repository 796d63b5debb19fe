//! Build and task runners that run recipes or scripts this command may have written:
//! Makefile and justfile recipes, npm scripts (`npm pkg set scripts.x=…`, a written
//! `package.json`), and terminal multiplexers (`tmux new 'cmd'`, `screen -dm cmd`).

use super::super::flow::{Arg, Flow};
use super::super::paths::resolve;
use super::super::{Check, Checker};

impl Checker {
    /// Recipes of the Makefile (or justfile) `make` would read, when this command wrote it.
    pub(in super::super) fn recipes(
        &mut self,
        name: &str,
        args: &[Arg],
        stdin: &Flow,
    ) -> Check<()> {
        let mut given: Vec<Arg> = Vec::new();
        let mut dir = None;
        let mut i = 1;
        while let Some(a) = args.get(i) {
            i += 1;
            let t = a.text.as_str();
            match t {
                "-f" | "--file" | "--makefile" | "--justfile" => given.extend(args.get(i).cloned()),
                "-C" | "--directory" | "--working-directory" => {
                    dir = args.get(i).map(|d| d.text.clone())
                }
                _ => {
                    let attached = t
                        .strip_prefix("--file=")
                        .or(t.strip_prefix("--makefile="))
                        .or(t.strip_prefix("-f").filter(|v| !v.is_empty()));
                    given.extend(attached.map(|v| Arg::tainted(v, &a.flow)));
                    continue;
                }
            }
            i += 1;
        }
        let base = |f: &str| match &dir {
            Some(d) => format!("{d}/{f}"),
            None => f.to_string(),
        };
        let defaults: &[&str] = if name == "just" {
            &["justfile", "Justfile", ".justfile"]
        } else {
            &["GNUmakefile", "makefile", "Makefile"]
        };
        let flows: Vec<Flow> = if given.is_empty() {
            let found = defaults.iter().find_map(|f| {
                self.files
                    .get(&resolve(&base(f), self.cwd.as_deref()))
                    .cloned()
            });
            found.into_iter().collect()
        } else {
            given
                .iter()
                .map(|f| match f.text.as_str() {
                    "-" | "/dev/stdin" => stdin.clone(),
                    _ if f.flow != Flow::default() => f.flow.clone(),
                    t => self.file_flow(&Arg::new(&base(t))),
                })
                .collect()
        };
        for flow in flows {
            if let Some(reason) = flow.hidden() {
                return Err(reason.to_string());
            }
            for line in flow.text.iter().flat_map(|t| recipe_lines(t)) {
                self.text(&line)?;
            }
        }
        Ok(())
    }

    /// `npm pkg set scripts.x=…`, and the scripts of a `package.json` this command wrote.
    pub(in super::super) fn package_scripts(&mut self, args: &[Arg]) -> Check<()> {
        let texts: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        if texts.get(1..3).is_some_and(|w| w == ["pkg", "set"]) {
            for arg in &args[3..] {
                if let Some((key, value)) = arg.text.split_once('=')
                    && key.starts_with("scripts.")
                {
                    self.code(&Arg::tainted(value, &arg.flow))?;
                }
            }
        }
        if texts.get(1) == Some(&"set-script")
            && let Some(code) = args.get(3)
        {
            self.code(code)?;
        }
        let manifest = resolve("package.json", self.cwd.as_deref());
        let Some(flow) = self.files.get(&manifest).cloned() else {
            return Ok(());
        };
        if let Some(reason) = flow.hidden() {
            return Err(reason.to_string());
        }
        let json: Option<serde_json::Value> = flow
            .text
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        let scripts = json
            .as_ref()
            .and_then(|j| j.get("scripts")?.as_object().cloned());
        for script in scripts
            .iter()
            .flat_map(|s| s.values())
            .filter_map(|v| v.as_str())
        {
            self.text(script)?;
        }
        Ok(())
    }

    /// `tmux new -d 'cmd'`, `tmux send-keys 'cmd' Enter`, `screen -dm cmd args`: the command
    /// runs in a new terminal.
    pub(in super::super) fn multiplexer(&mut self, name: &str, args: &[Arg]) -> Check<()> {
        if name == "screen" {
            let start = args.iter().skip(1).position(|a| !a.text.starts_with('-'));
            // `-S name` and `-c file` take a value.
            let mut i = 1;
            while let Some(a) = args.get(i).filter(|a| a.text.starts_with('-')) {
                i += if a.text.ends_with(['S', 'c', 'L']) && a.text.len() <= 4 {
                    2
                } else {
                    1
                };
            }
            if start.is_some() && i < args.len() {
                let command = args[i..].to_vec();
                self.enter()?;
                self.run(command, &Flow::default())?;
                self.depth -= 1;
            }
            return Ok(());
        }
        const RUNS: &[&str] = &[
            "new",
            "new-session",
            "new-window",
            "neww",
            "split-window",
            "splitw",
            "send-keys",
            "send",
            "run-shell",
            "run",
            "respawn-pane",
        ];
        let Some(at) = args.iter().position(|a| RUNS.contains(&a.text.as_str())) else {
            return Ok(());
        };
        let mut words = Vec::new();
        let mut i = at + 1;
        while let Some(a) = args.get(i) {
            i += 1;
            match a.text.as_str() {
                "-s" | "-n" | "-t" | "-c" | "-x" | "-y" | "-F" | "-e" | "-N" => i += 1,
                "Enter" | "C-m" | "KPEnter" => {}
                t if t.starts_with('-') && t.len() > 1 => {}
                _ => words.push(a.clone()),
            }
        }
        if !words.is_empty() {
            self.code(&super::super::dispatch::join(&words))?;
        }
        Ok(())
    }
}

/// The shell lines of Makefile and justfile recipes (indented lines, `@`/`-`/`+` prefixes
/// dropped, `$$` meaning `$`), `target: ; cmd` lines, and `$(shell …)` calls.
fn recipe_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        // Make needs a tab; a model may write spaces or a literal `\t`, so take those too.
        let indented = line.starts_with(['\t', ' ']) || line.starts_with("\\t");
        let command = if indented {
            Some(line.trim_start())
        } else if !line.starts_with('#') {
            line.split_once(':')
                .and_then(|(_, rest)| rest.split_once(';'))
                .map(|(_, cmd)| cmd)
        } else {
            None
        };
        if let Some(command) = command {
            let command = command.trim_start_matches("\\t");
            let command = command.trim_start_matches(['@', '-', '+', ' ', '\t']);
            out.push(command.replace("$$", "$"));
        }
        let mut rest = line;
        while let Some(at) = rest.find("$(shell ") {
            let inner = &rest[at + "$(shell ".len()..];
            let end = inner.rfind(')').unwrap_or(inner.len());
            out.push(inner[..end].to_string());
            rest = &inner[end..];
            if end == 0 {
                break;
            }
        }
    }
    out
}
