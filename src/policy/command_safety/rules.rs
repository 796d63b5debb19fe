//! Rules for one command whose words are already expanded and unwrapped. This file holds the
//! reasons and the destructive deletes and raw disk writes; each other class has its own
//! submodule: `perms` (permission and ownership changes), `files` (system files, vital
//! files, history), `system` (disks, power, system damage), `remote` (irreversible remote
//! actions) and `net` (network tools and what output carries).
//!
//! Every reason is one line that names the danger and says what to do instead, because the
//! model reads it and should change course rather than retry the same thing.

pub mod files;
pub mod net;
pub mod perms;
pub mod remote;
pub mod system;

pub use net::{check_exfil, check_reverse_shell, download_target, is_network, output_flow};

use super::paths::{basename, is_block_device, is_data_dir, is_secret, resolve, root_kind};

pub const DELETE: &str = "recursive delete of {path} would destroy the system or the home \
     directory; delete only the specific project paths you mean, such as ./build";
pub const DISK: &str = "writing to the raw disk device {path} would destroy its data; write to \
     an image file such as ./disk.img, or ask the user to run disk tools themselves";
pub const FORMAT: &str = "formatting or repartitioning a disk is not allowed; ask the user to \
     run disk tools themselves";
pub const PERMS: &str = "permission or ownership change on {path} would break the system or \
     open it to others; change permissions only inside the project, such as chmod -R u+w ./out";
pub const POWER: &str = "shutting down, rebooting or killing every process is not allowed; \
     ask the user to do it, or kill specific PIDs";
pub const RCE: &str = "running code downloaded from the network unseen is not allowed; \
     download it to a file, read it, and run it only if it is safe";
pub const OBFUSCATED: &str = "decoded or obfuscated text run as code (or used as what a \
     command deletes) hides what runs; write the plain command instead";
pub const REVERSE_SHELL: &str = "connecting a shell to the network (a reverse shell) is not \
     allowed; run the commands you need directly";
pub const SECRET: &str = "sending ssh keys, cloud credentials, .env files or the environment \
     over the network is not allowed; never share secrets, use placeholders";
pub const KEYS_GONE: &str = "deleting {path} destroys keys or credentials that cannot be \
     recreated (and may lock the user out of servers and accounts); leave them alone";
pub const TRACKS: &str = "clearing or disabling shell history or login records hides what \
     ran; leave history and logs alone";
pub const CRONTAB: &str = "removing or replacing the crontab with unseen or dangerous jobs is \
     not allowed; show the user the cron line to add and let them install it";
pub const FORK_BOMB: &str = "this is a fork bomb that would exhaust the machine's processes; \
     do not run it";

pub fn reason(template: &str, path: &str) -> String {
    template.replace("{path}", path)
}

/// Splits words into short-flag characters, long flags and positional arguments (`--` ends
/// flags). Values of flags end up positional, which is harmless for the rules below.
pub fn split_flags(args: &[String]) -> (String, Vec<&str>, Vec<&str>) {
    let (mut short, mut long, mut positional) = (String::new(), Vec::new(), Vec::new());
    let mut flags_done = false;
    for a in args {
        if flags_done || a == "-" || !a.starts_with('-') {
            positional.push(a.as_str());
        } else if a == "--" {
            flags_done = true;
        } else if let Some(l) = a.strip_prefix("--") {
            long.push(l);
        } else {
            short.push_str(&a[1..]);
        }
    }
    (short, long, positional)
}

/// Checks one unwrapped command. `args[0]` is the command name.
pub fn check(args: &[String], cwd: Option<&str>) -> Result<(), String> {
    let Some(first) = args.first() else {
        return Ok(());
    };
    let name = basename(first);
    let rest = &args[1..];
    check_delete(name, rest, cwd)?;
    if matches!(name, "chmod" | "chown" | "chgrp" | "setfacl" | "chattr") {
        perms::check(name, rest, cwd)?;
    }
    if name == "setcap" {
        perms::check_setcap(rest)?;
    }
    // `install -m 4755 /bin/bash /tmp/x` makes a setuid copy.
    if name == "install" {
        perms::check_install_mode(rest)?;
    }
    files::check_accounts(name, rest)?;
    system::check(name, args)?;
    remote::check(name, args)
}

/// Deletes of roots and vital files, and raw writes to disks.
fn check_delete(name: &str, rest: &[String], cwd: Option<&str>) -> Result<(), String> {
    let (short, long, pos) = split_flags(rest);
    let root = |p: &&str| {
        let path = resolve(p, cwd);
        (root_kind(&path).is_some() || is_data_dir(&path)).then(|| p.to_string())
    };
    let vital = |p: &&&str| files::is_critical(&resolve(p, cwd));
    let history = |p: &&&str| files::is_history(&resolve(p, cwd));
    // The user's own keys (`~/.ssh/id_ed25519`, `~/.aws/credentials`), not a project's test key.
    let home_secret = |p: &&&str| {
        let at_home = ["~", "$HOME", "${HOME}", "/root/", "/home/", "/Users/"]
            .iter()
            .any(|h| p.starts_with(h));
        let name = basename(p);
        let ssh_key = !p.contains("/.ssh/")
            || name.starts_with("id_")
            || name.ends_with(".pem")
            || name.ends_with(".key");
        at_home && is_secret(p) && ssh_key
    };
    let recursive = short.contains(['r', 'R']) || long.contains(&"recursive");
    match name {
        "rm" if long.contains(&"no-preserve-root") => Err(reason(DELETE, "/")),
        "rm" | "unlink" | "shred" | "srm" if pos.iter().any(|p| history(&p)) => {
            Err(TRACKS.to_string())
        }
        "rm" | "unlink" | "shred" | "srm" if pos.iter().any(|p| home_secret(&p)) => Err(reason(
            KEYS_GONE,
            pos.iter().find(home_secret).unwrap_or(&"~"),
        )),
        "rm" | "unlink" | "shred" | "srm" if pos.iter().any(|p| vital(&p)) => Err(reason(
            files::CRITICAL,
            pos.iter().find(vital).unwrap_or(&"/"),
        )),
        "rm" | "rimraf" | "del-cli" if recursive || name != "rm" => {
            if let Some(p) = pos.iter().find_map(root) {
                return Err(reason(DELETE, &p));
            }
            match pos.iter().find(|p| files::is_system_tree(&resolve(p, cwd))) {
                Some(p) => Err(reason(files::CRITICAL, p)),
                None => Ok(()),
            }
        }
        "mv" => {
            let sources = pos.iter().rev().skip(1);
            let moved_root = |p: &&str| root_kind(&resolve(p, cwd)).map(|_| p.to_string());
            if let Some(p) = sources.clone().find_map(moved_root) {
                return Err(reason(DELETE, &p));
            }
            match sources.clone().find(|p| vital(p)) {
                Some(p) => Err(reason(files::CRITICAL, p)),
                None => Ok(()),
            }
        }
        "rsync" if long.iter().any(|l| l.starts_with("delete")) => {
            match pos.last().and_then(root) {
                Some(p) => Err(reason(DELETE, &p)),
                None => Ok(()),
            }
        }
        "tee" | "cp" if pos.iter().any(|p| p.starts_with("/proc/sysrq-trigger")) => {
            Err(POWER.to_string())
        }
        "shred" | "tee" | "cp" | "truncate" | "pv" => {
            match pos.iter().find(|p| is_block_device(p)) {
                Some(p) => Err(reason(DISK, p)),
                None if name == "shred" && pos.iter().any(|p| root(p).is_some()) => {
                    Err(reason(DELETE, "/"))
                }
                None => Ok(()),
            }
        }
        "dd" => match rest.iter().find_map(|a| a.strip_prefix("of=")) {
            Some(of) if is_block_device(of) => Err(reason(DISK, of)),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// `kill` with pid -1 (every process we may signal) or pid 1 (init). Its first `-X` word is
/// the signal, so `kill -1 123` (SIGHUP) is fine while `kill -9 -1` is not.
pub fn check_kill(args: &[String]) -> Result<(), String> {
    let mut pids = Vec::new();
    let mut i = 1;
    let mut signal_seen = false;
    while let Some(a) = args.get(i) {
        i += 1;
        if a == "--" {
            pids.extend(args[i..].iter().map(String::as_str));
            break;
        } else if a == "-s" || a == "-n" {
            i += 1;
            signal_seen = true;
        } else if a.starts_with('-') && !signal_seen && pids.is_empty() {
            signal_seen = true;
        } else {
            pids.push(a.as_str());
        }
    }
    if pids.iter().any(|p| matches!(*p, "-1" | "1")) {
        return Err(POWER.to_string());
    }
    Ok(())
}
