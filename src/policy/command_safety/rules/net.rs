//! Network tools: which commands carry data off the machine, which of their words name
//! secret files to send, reverse shells, and what a command's output carries downstream.

use super::super::Flow;
use super::super::paths::{basename, is_secret};
use super::super::secrets;
use super::{REVERSE_SHELL, SECRET, split_flags};

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
            | "dig"
            | "nslookup"
            | "host"
            | "drill"
            | "delv"
            | "kdig"
            | "ping"
            | "ping6"
            | "traceroute"
            | "whois"
            | "wormhole"
            | "croc"
            | "ffsend"
            | "pastebinit"
            | "lftp"
            | "smbclient"
    )
}

/// Tools that reach the network only to look names up or probe: their output is not code.
fn is_lookup(name: &str) -> bool {
    matches!(
        name,
        "dig"
            | "nslookup"
            | "host"
            | "drill"
            | "delv"
            | "kdig"
            | "ping"
            | "ping6"
            | "traceroute"
            | "whois"
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
        _ if is_network(name) && !is_lookup(name) => {
            out.remote = true;
            // Cloud metadata endpoints hand out the machine's credentials.
            out.secret |= args.iter().any(|a| {
                [
                    "169.254.169.254",
                    "metadata.google.internal",
                    "100.100.100.200",
                    "169.254.170.2",
                ]
                .iter()
                .any(|m| a.contains(m))
            });
        }
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
        // `$(which rm)` is rm's path.
        "which" | "command" | "type" if !pos.is_empty() => {
            out.text = pos.last().map(|p| format!("/usr/bin/{p}"));
        }
        _ => {}
    }
    if pos.iter().any(|p| is_secret(p)) && name != "echo" {
        out.secret = true;
    }
    if let Some(flow) = secrets::output(name, args) {
        out.merge(&flow);
    }
    // A filter (`grep`, `head`) narrows a full list; reordering it does not.
    // `awk '{print $2}'` (no pattern) and `tail -n +2` keep every line too.
    let keeps_all = matches!(
        name,
        "cat" | "tee" | "sort" | "uniq" | "cut" | "tr" | "paste"
    ) || (matches!(name, "awk" | "gawk" | "mawk")
        && pos.first().is_some_and(|p| p.starts_with('{')))
        || (name == "tail" && args.iter().any(|a| a.starts_with('+')));
    // `ps -ef | grep sshd` lists the sshd processes.
    let grepped = (matches!(name, "grep" | "egrep" | "pgrep")
        && stdin.lists.as_deref() == Some("pids of everything"))
    .then(|| {
        pos.first()
            .map(|p| format!("pids of {}", p.trim_matches(['[', ']'])))
    })
    .flatten();
    out.lists = match lists(name, args, &pos).or(grepped) {
        Some(list) => Some(list),
        None if keeps_all => stdin.lists.clone(),
        None => None,
    };
    out
}

/// What a listing command enumerates in full: `docker volume ls -q` prints every volume,
/// `pidof sshd` every sshd process.
fn lists(name: &str, args: &[String], pos: &[&str]) -> Option<String> {
    // `--filter dangling=true` lists only some.
    let filtered = args.iter().any(|a| {
        a == "-f" || a.starts_with("--filter") || (a.starts_with("-q") && a.contains('f'))
    });
    match (name, pos) {
        ("docker" | "podman", ["volume", "ls", ..]) if !filtered => {
            Some("docker volumes".to_string())
        }
        ("pidof" | "pgrep", [.., process]) => Some(format!("pids of {process}")),
        // `ps -e`, `ps aux`, `ps -A`: every process on the machine.
        ("ps", _)
            if args.iter().any(|a| {
                matches!(
                    a.as_str(),
                    "-e" | "-A" | "aux" | "ax" | "-ef" | "-eo" | "-Ao"
                )
            }) =>
        {
            Some("pids of everything".to_string())
        }
        _ => None,
    }
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
