//! Rules for one command whose words are already expanded and unwrapped: destructive deletes,
//! disk writes, permission sweeps, power control, and what a command's output carries.
//!
//! Every reason is one line that names the danger and says what to do instead, because the
//! model reads it and should change course rather than retry the same thing.

use super::Flow;
use super::paths::{Root, basename, is_block_device, is_secret, resolve, root_kind};

pub const DELETE: &str = "recursive delete of {path} would destroy the system or the home \
     directory; delete only the specific project paths you mean, such as ./build";
pub const DISK: &str = "writing to the raw disk device {path} would destroy its data; write to \
     an image file such as ./disk.img, or ask the user to run disk tools themselves";
pub const FORMAT: &str = "formatting or repartitioning a disk is not allowed; ask the user to \
     run disk tools themselves";
pub const PERMS: &str = "recursive permission change on {path} would break the system; change \
     permissions only inside the project, such as chmod -R u+w ./out";
pub const POWER: &str = "shutting down, rebooting or killing every process is not allowed; \
     ask the user to do it, or kill specific PIDs";
pub const RCE: &str = "running code downloaded from the network unseen is not allowed; \
     download it to a file, read it, and run it only if it is safe";
pub const OBFUSCATED: &str = "decoded or obfuscated text piped into a shell or interpreter \
     hides what runs; write the plain command instead";
pub const REVERSE_SHELL: &str = "connecting a shell to the network (a reverse shell) is not \
     allowed; run the commands you need directly";
pub const SECRET: &str = "sending ssh keys, cloud credentials, .env files or the environment \
     over the network is not allowed; never share secrets, use placeholders";
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
    let (short, long, pos) = split_flags(rest);
    let root = |p: &&str| root_kind(&resolve(p, cwd)).map(|k| (k, p.to_string()));
    let recursive = short.contains(['r', 'R']) || long.contains(&"recursive");
    match name {
        "rm" if long.contains(&"no-preserve-root") => Err(reason(DELETE, "/")),
        "rm" if recursive => match pos.iter().find_map(root) {
            Some((_, p)) => Err(reason(DELETE, &p)),
            None => Ok(()),
        },
        "chmod" | "chown" | "chgrp" | "setfacl" | "chattr"
            if short.contains('R') || long.contains(&"recursive") =>
        {
            match pos.iter().find_map(root) {
                Some((Root::Slash | Root::System, p)) => Err(reason(PERMS, &p)),
                _ => Ok(()),
            }
        }
        "mv" => match pos.iter().rev().skip(1).find_map(root) {
            Some((_, p)) => Err(reason(DELETE, &p)),
            None => Ok(()),
        },
        "rsync" if long.iter().any(|l| l.starts_with("delete")) => {
            match pos.last().and_then(root) {
                Some((_, p)) => Err(reason(DELETE, &p)),
                None => Ok(()),
            }
        }
        "tee" | "cp" if pos.iter().any(|p| p.starts_with("/proc/sysrq-trigger")) => {
            Err(POWER.to_string())
        }
        "shred" | "wipefs" | "blkdiscard" | "tee" | "cp" | "truncate" | "pv" => {
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
        _ => check_system(name, &short, &long, &pos),
    }
}

/// Disk formatting and partitioning, power control and mass kills.
fn check_system(name: &str, short: &str, long: &[&str], pos: &[&str]) -> Result<(), String> {
    let format_tool = name.starts_with("mkfs")
        || matches!(
            name,
            "mke2fs" | "mkswap" | "mkdosfs" | "mkntfs" | "newfs" | "mkisofs"
        );
    let partition_tool = matches!(name, "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted");
    let listing = short.contains('l') || long.contains(&"list") || pos.contains(&"print");
    let help = long.iter().any(|l| matches!(*l, "help" | "version")) || short == "V";
    match name {
        _ if help => Ok(()),
        // An image file is fine to format; a device, or a target we cannot see, is not.
        _ if format_tool && (pos.is_empty() || pos.iter().any(|p| p.starts_with("/dev/"))) => {
            Err(FORMAT.to_string())
        }
        _ if format_tool && pos.iter().any(|p| p.starts_with('$')) => Err(FORMAT.to_string()),
        _ if partition_tool && !listing && pos.iter().any(|p| is_block_device(p)) => {
            Err(FORMAT.to_string())
        }
        "diskutil"
            if pos.first().is_some_and(|v| {
                v.starts_with("erase") || v.ends_with("Disk") || *v == "reformat"
            }) =>
        {
            Err(FORMAT.to_string())
        }
        "shutdown" if !short.contains('c') => Err(POWER.to_string()),
        "reboot" | "halt" | "poweroff" | "killall5" => Err(POWER.to_string()),
        // `pkill -u me` with no pattern kills every process of the user, like `kill -1`.
        "pkill" | "killall"
            if (short.contains('u') || long.contains(&"user")) && pos.len() <= 1 =>
        {
            Err(POWER.to_string())
        }
        "init" | "telinit" if pos.iter().any(|p| matches!(*p, "0" | "6")) => Err(POWER.to_string()),
        "systemctl" | "loginctl"
            if pos.iter().any(|p| {
                matches!(
                    *p,
                    "poweroff"
                        | "reboot"
                        | "halt"
                        | "kexec"
                        | "soft-reboot"
                        | "emergency"
                        | "rescue"
                        | "poweroff.target"
                        | "reboot.target"
                        | "halt.target"
                )
            }) =>
        {
            Err(POWER.to_string())
        }
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

/// Network tools: anything that can carry data off the machine.
pub fn is_network(name: &str) -> bool {
    matches!(
        name,
        "curl"
            | "wget"
            | "nc"
            | "ncat"
            | "netcat"
            | "socat"
            | "telnet"
            | "ssh"
            | "scp"
            | "sftp"
            | "rsync"
            | "ftp"
            | "tftp"
            | "mail"
            | "mailx"
            | "sendmail"
            | "http"
            | "https"
            | "xh"
            | "aria2c"
            | "aws"
            | "gsutil"
            | "rclone"
            | "s3cmd"
    )
}

/// A network tool's words that name a secret file to send: `-d @~/.ssh/id_rsa`, `-T .env`,
/// `--post-file=…`, `scp ~/.aws/credentials host:`. Identity-file flags (`ssh -i key`) are
/// how keys are meant to be used and are skipped.
pub fn check_exfil(args: &[String]) -> Result<(), String> {
    let mut skip_next = false;
    for a in args.iter().skip(1) {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if matches!(
            a.as_str(),
            "-i" | "-e" | "--key" | "--cert" | "--cacert" | "-E"
        ) {
            skip_next = true;
            continue;
        }
        if a.contains("IdentityFile") || a.starts_with("--key=") || a.starts_with("--cert=") {
            continue;
        }
        let after_at = a.rsplit_once('@').map(|(_, p)| p);
        let after_eq = a
            .split_once('=')
            .map(|(_, v)| v.trim_start_matches(['@', '<']));
        let attached = a
            .strip_prefix("-d")
            .or(a.strip_prefix("-T"))
            .map(|v| v.trim_start_matches('@'));
        let candidates = [Some(a.as_str()), after_at, after_eq, attached];
        if candidates
            .into_iter()
            .flatten()
            .any(|p| !p.is_empty() && is_secret(p))
        {
            return Err(SECRET.to_string());
        }
    }
    Ok(())
}

/// Reverse shells through network tools: `nc -e /bin/sh`, `ncat --exec`, `socat exec:…`.
pub fn check_reverse_shell(name: &str, args: &[String]) -> Result<(), String> {
    let exec_flag = args.iter().any(|a| {
        matches!(
            a.as_str(),
            "-e" | "-c" | "--exec" | "--sh-exec" | "--lua-exec"
        )
    });
    let socat_exec = name == "socat"
        && args
            .iter()
            .any(|a| a.to_ascii_lowercase().contains("exec:") || a.contains("system:"));
    if (matches!(name, "nc" | "ncat" | "netcat") && exec_flag) || socat_exec {
        return Err(REVERSE_SHELL.to_string());
    }
    Ok(())
}

/// What a command writes to stdout, as far as the checks downstream care.
pub fn output_flow(args: &[String], stdin: &Flow) -> Flow {
    let name = args.first().map_or("", |a| basename(a));
    let (short, long, pos) = split_flags(&args[1.min(args.len())..]);
    let decode = short.contains(['d', 'D', 'r']) || long.iter().any(|l| l.starts_with("decode"));
    let mut out = stdin.taint();
    match name {
        _ if is_network(name) => out.remote = true,
        "printenv" => out.secret = true,
        "env" | "set" | "export" | "declare" | "compgen" if pos.is_empty() => out.secret = true,
        "base64" | "base32" | "basenc" | "xxd" | "openssl" | "uudecode" | "gzip" | "bzip2"
        | "xz"
            if decode || name == "uudecode" =>
        {
            out.obfuscated = true
        }
        "rev" | "tr" | "zcat" | "gunzip" | "bzcat" | "xzcat" | "unxz" | "rot13" | "iconv" => {
            out.obfuscated = true
        }
        "cat" | "tee" if pos.is_empty() || name == "tee" => out.text = stdin.text.clone(),
        _ => {}
    }
    if pos.iter().any(|p| is_secret(p)) && name != "echo" {
        out.secret = true;
    }
    out
}

/// The file `curl`/`wget` save a download to (`-o F`, `-O`, `--output-document=F`).
pub fn download_target(args: &[String]) -> Option<String> {
    let name = basename(args.first()?);
    let url_name = || {
        let url = args.iter().skip(1).rfind(|a| a.contains("://"))?;
        let file = url.split(['?', '#']).next()?.rsplit('/').next()?;
        (!file.is_empty()).then(|| file.to_string())
    };
    let mut iter = args.iter().skip(1);
    while let Some(a) = iter.next() {
        let (out_flag, remote_name) = match name {
            "curl" => ('o', 'O'),
            "wget" => ('O', '\0'),
            _ => return None,
        };
        if let Some(v) = a
            .strip_prefix("--output=")
            .or(a.strip_prefix("--output-document="))
        {
            return (v != "-").then(|| v.to_string());
        }
        if a == "--output" || a == "--output-document" {
            return iter.next().filter(|v| *v != "-").cloned();
        }
        if a.starts_with('-') && !a.starts_with("--") {
            if let Some(pos) = a.find(out_flag) {
                let attached = &a[pos + 1..];
                let value = if attached.is_empty() {
                    iter.next().cloned()
                } else {
                    Some(attached.to_string())
                };
                return value.filter(|v| v != "-");
            }
            if a.contains(remote_name) {
                return url_name();
            }
        }
    }
    if name == "wget" { url_name() } else { None }
}
