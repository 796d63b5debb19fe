//! Files a command writes through its arguments rather than a redirect: `cp x ~/.bashrc`,
//! `tee -a f`, `sed -i … f`, `curl -o f`, `git config k v` (→ `.git/config`). They count as
//! writes just like `> f`, so the workspace check and the hard floor see them. This is the
//! list of programs an agent writes files with, not of every program that can: the sandbox
//! is the boundary for the rest. Also git's global options, which rules look past.

use super::split::assignment_name;

/// The files `words` (one simple command, wrappers already removed) writes, as written.
pub fn file_writes(words: &[String]) -> Vec<String> {
    let env = words
        .iter()
        .take_while(|w| assignment_name(w).is_some())
        .count();
    let Some((name, args)) = words[env..].split_first() else {
        return Vec::new();
    };
    let plain: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let name = name.rsplit('/').next().unwrap_or(name);
    match name {
        "tee" | "touch" | "truncate" | "mkdir" => plain.into_iter().cloned().collect(),
        "chmod" | "chown" | "chgrp" => plain.into_iter().skip(1).cloned().collect(),
        "cp" | "mv" | "install" | "ln" | "rsync" => {
            let dir = values(args, &["-t", "--target-directory"], None);
            match plain.last() {
                Some(last) if dir.is_empty() && plain.len() >= 2 => vec![last.to_string()],
                _ => dir,
            }
        }
        "dd" => args
            .iter()
            .filter_map(|a| a.strip_prefix("of="))
            .map(str::to_string)
            .collect(),
        "find" => values(args, &["-fprint", "-fprint0", "-fprintf", "-fls"], None),
        "curl" => values(args, &["--output", "--output-dir"], Some('o')),
        "wget" => values(
            args,
            &["--output-document", "--directory-prefix", "--output-file"],
            Some('O'),
        )
        .into_iter()
        .chain(values(args, &[], Some('P')))
        .collect(),
        "sort" => values(args, &["--output"], Some('o')),
        "git" => git_writes(&git_subcommand(args)),
        // `-i` may share a cluster (`-pi`, `-Ei`, `-i.bak`) or be spelled `--in-place=.bak`.
        "sed" | "perl" if args.iter().any(|a| in_place(a)) => {
            plain.into_iter().skip(1).cloned().collect()
        }
        _ => Vec::new(),
    }
}

fn in_place(arg: &str) -> bool {
    arg.starts_with("--in-place")
        || arg
            .strip_prefix('-')
            .is_some_and(|f| !f.starts_with('-') && f.contains('i'))
}

/// Values of long flags (`--output f`, `--output=f`) and of a short one that may end a
/// cluster (`-o f`, `-sSLo f`) or carry its value (`-of`).
fn values(args: &[String], long: &[&str], short: Option<char>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        for f in long {
            if let Some(v) = a.strip_prefix(&format!("{f}=")) {
                out.push(v.to_string());
            } else if a == f {
                out.extend(args.get(i + 1).cloned());
            }
        }
        let (Some(c), Some(cluster)) = (short, a.strip_prefix('-')) else {
            continue;
        };
        if cluster.starts_with('-') {
            continue;
        }
        if let Some(at) = cluster.find(c) {
            let rest = &cluster[at + c.len_utf8()..];
            match rest.is_empty() {
                true => out.extend(args.get(i + 1).cloned()),
                false => out.push(rest.to_string()),
            }
        }
    }
    out
}

/// `git -C d -c k=v --no-pager push` → `push`: the subcommand and its arguments, past git's
/// global options.
pub fn git_subcommand(args: &[String]) -> Vec<String> {
    const WITH_VALUE: &[&str] = &[
        "-C",
        "-c",
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--exec-path",
        "--config-env",
        "--super-prefix",
    ];
    let mut i = 0;
    while let Some(a) = args.get(i).filter(|a| a.starts_with('-')) {
        i += 1 + usize::from(WITH_VALUE.contains(&a.as_str()));
    }
    args[i.min(args.len())..].to_vec()
}

/// What a git subcommand writes: `--output=f`, and the config file `git config KEY VALUE`
/// (or `--add`, `--unset`) changes: `.git/config`, or `~/.gitconfig` with `--global`.
fn git_writes(sub: &[String]) -> Vec<String> {
    let mut out = values(sub, &["--output"], None);
    let Some((first, args)) = sub.split_first() else {
        return out;
    };
    let reads = ["--get", "--get-all", "--get-regexp", "--list", "-l"];
    let keys = args.iter().filter(|a| !a.starts_with('-')).count();
    let writes = keys >= 2
        || args
            .iter()
            .any(|a| a.starts_with("--unset") || a == "--add" || a.starts_with("--rename"));
    if first == "config" && writes && !args.iter().any(|a| reads.contains(&a.as_str())) {
        let global = args.iter().any(|a| a == "--global");
        let file = if global {
            "~/.gitconfig"
        } else {
            ".git/config"
        };
        out.push(file.to_string());
    }
    out
}
