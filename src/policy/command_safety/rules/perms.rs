//! Permission and ownership changes (`chmod`, `chown`, `chgrp`, `chattr`, `setfacl`): on `/`,
//! system directories and system files; setuid bits; home and keys opened to others. Project
//! paths keep every permission change (`chmod +x ./run.sh`, `chmod -R 777 ./tmp`), and
//! tightening is always fine (`chmod 600 ~/.ssh/id_ed25519`, `chmod 700 ~`).

use super::super::paths::{Root, basename, is_block_device, is_secret, resolve, root_kind};
use super::files::{is_critical, is_system_file};
use super::{PERMS, reason, split_flags};

pub const SETUID: &str = "setting the setuid or setgid bit (or root capabilities) on {path} \
     would let anyone run it as root (a backdoor); do not change special permission bits";
pub const KEYS_OPEN: &str = "opening {path} to other users would expose keys or the home \
     directory; keep keys private (chmod 600 for keys, 700 for ~/.ssh) or change project \
     files only";

/// What a `chmod` mode grants beyond the owner.
#[derive(Default)]
struct Grants {
    /// Read for group or others.
    read: bool,
    /// Write for group or others.
    write: bool,
    /// Write for others (`777`, `o+w`): anyone on the machine.
    world_write: bool,
    /// Any permission for group or others.
    any: bool,
    setuid: bool,
    setgid: bool,
    /// The owner loses read or search (`000`, `u-rwx`, `a=`): on home, a lock-out.
    owner_loses: bool,
}

/// Reads an octal (`755`, `4755`) or symbolic (`u+s,go-w`, `a=rwx`, `+x`) mode.
fn grants(mode: &str) -> Grants {
    let mut g = Grants::default();
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        let n = u32::from_str_radix(mode, 8).unwrap_or(0);
        let others = ((n >> 3) & 7) | (n & 7);
        g.read = others & 4 != 0;
        g.write = others & 2 != 0;
        g.world_write = n & 2 != 0;
        g.any = others != 0;
        g.setuid = n & 0o4000 != 0;
        g.setgid = n & 0o2000 != 0;
        g.owner_loses = (n >> 6) & 0o5 != 0o5;
        return g;
    }
    for clause in mode.split(',') {
        let who: String = clause.chars().take_while(|c| "ugoa".contains(*c)).collect();
        let all = who.is_empty() || who.contains('a');
        let group_or_other = all || who.contains(['g', 'o']);
        let owner = all || who.contains('u');
        let ops = &clause[who.len()..];
        // `u=`, `a=w`: the owner keeps only what follows the `=`.
        if owner && ops.starts_with('=') && !(ops.contains('r') && ops.contains(['x', 'X'])) {
            g.owner_loses = true;
        }
        let mut op = ' ';
        for c in ops.chars() {
            if owner && op == '-' && matches!(c, 'r' | 'x') {
                g.owner_loses = true;
            }
            match c {
                '+' | '-' | '=' => op = c,
                _ if op == '-' || op == ' ' => {}
                'r' if group_or_other => g.read = true,
                'w' if group_or_other => {
                    g.write = true;
                    g.world_write |= all || who.contains('o');
                }
                's' if all || who.contains('u') => g.setuid = true,
                's' if who.contains('g') => g.setgid = true,
                _ => {}
            }
            if matches!(op, '+' | '=') && group_or_other && "rwxX".contains(c) {
                g.any = true;
            }
        }
    }
    g
}

/// Owners that are the user running the command (`$USER`, `$(whoami)`) or root.
fn own_or_root(owner: &str) -> bool {
    owner
        .split([':', '.'])
        .filter(|p| !p.is_empty())
        .all(|p| p.starts_with('$') || matches!(p, "root" | "0" | "wheel" | "admin" | "staff"))
}

/// Programs that hand out a shell when setgid or setuid.
fn runs_code(path: &str) -> bool {
    let name = basename(path);
    let versioned = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    ["python", "perl", "ruby", "node", "php", "lua"]
        .iter()
        .any(|p| versioned(p))
        || matches!(
            name,
            "sh" | "bash"
                | "zsh"
                | "dash"
                | "ksh"
                | "fish"
                | "find"
                | "vim"
                | "vi"
                | "env"
                | "awk"
                | "less"
                | "nmap"
                | "cp"
        )
}

/// `chmod`'s words with a mode such as `-w` or `-x,o+r` moved out of the flags, where
/// `split_flags` would put it.
fn chmod_words(rest: &[String]) -> Vec<String> {
    let mut mode_seen = false;
    let mut out = Vec::new();
    for word in rest {
        let flag = word.starts_with("--")
            || word
                .strip_prefix('-')
                .is_some_and(|f| !f.is_empty() && f.chars().all(|c| "Rcfvh".contains(c)));
        let mode = !flag
            && !mode_seen
            && word.len() > 1
            && word.chars().all(|c| "ugoarwxXst+-=,01234567".contains(c));
        mode_seen |= mode || !word.starts_with('-');
        // `--` keeps a mode that starts with `-` from reading as a flag.
        if mode && word.starts_with('-') {
            out.push("--".to_string());
        }
        out.push(word.clone());
    }
    out
}

/// `setcap cap_setuid+ep /usr/bin/python3`: capabilities that amount to root.
pub fn check_setcap(rest: &[String]) -> Result<(), String> {
    const ROOT_CAPS: &[&str] = &[
        "cap_setuid",
        "cap_setgid",
        "cap_sys_admin",
        "cap_dac_override",
        "cap_dac_read_search",
        "cap_sys_ptrace",
        "cap_sys_module",
        "cap_chown",
        "cap_fowner",
        "all",
    ];
    let spec = rest
        .iter()
        .find(|r| !r.starts_with('-'))
        .map(|s| s.to_ascii_lowercase());
    match (spec, rest.last()) {
        (Some(spec), Some(target))
            if ROOT_CAPS.iter().any(|c| spec.contains(c)) || spec.starts_with('=') =>
        {
            Err(reason(SETUID, target))
        }
        _ => Ok(()),
    }
}

/// `install -m MODE src dst` with a setuid or setgid mode.
pub fn check_install_mode(rest: &[String]) -> Result<(), String> {
    let mode = rest.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--mode=").map(str::to_string).or_else(|| {
            (a == "-m" || a == "--mode")
                .then(|| rest.get(i + 1).cloned())
                .flatten()
        })
    });
    match mode.map(|m| grants(&m)) {
        Some(g) if g.setuid || g.setgid => Err(reason(SETUID, rest.last().map_or("", |s| s))),
        _ => Ok(()),
    }
}

/// Checks one permission command. `rest` is its words after the name.
pub fn check(name: &str, rest: &[String], cwd: Option<&str>) -> Result<(), String> {
    let words = if name == "chmod" {
        chmod_words(rest)
    } else {
        rest.to_vec()
    };
    let (short, long, pos) = split_flags(&words);
    let recursive = short.contains('R') || long.contains(&"recursive");
    let referenced = long.iter().any(|l| l.starts_with("reference"));
    // `chmod MODE files`, `chown OWNER files`; `chattr`/`setfacl` take no leading word we
    // need (their attribute words may look like flags).
    let (setting, targets) = match name {
        "chmod" | "chown" | "chgrp" if !referenced => match pos.split_first() {
            Some((s, t)) => (*s, t.to_vec()),
            None => return Ok(()),
        },
        _ => ("", pos.clone()),
    };
    let g = if name == "chmod" {
        grants(setting)
    } else {
        Grants::default()
    };
    for target in &targets {
        let path = resolve(target, cwd);
        if g.setuid || (g.setgid && (is_system_file(&path) || runs_code(&path))) {
            return Err(reason(SETUID, target));
        }
        let root = root_kind(&path);
        // `/usr/local` is the administrator's: ownership to self is fine, but opening it
        // for writing to others plants binaries on everyone's PATH.
        if path.starts_with("/usr/local") && root != Some(Root::Slash) {
            if g.write {
                return Err(reason(PERMS, target));
            }
            continue;
        }
        let ssh_dir = path.ends_with("/.ssh") || path == "~/.ssh";
        let opens = g.read || g.write || (recursive && g.any);
        match root {
            Some(Root::Slash | Root::System) => return Err(reason(PERMS, target)),
            Some(Root::Home) => {
                // Home belongs to its user: `chown -R $USER ~` only.
                let foreign = matches!(name, "chown" | "chgrp")
                    && !setting
                        .split(':')
                        .all(|p| p.is_empty() || p.starts_with('$'));
                if matches!(name, "chattr" | "setfacl")
                    || foreign
                    || g.write
                    || (recursive && g.any)
                    || g.owner_loses
                {
                    return Err(reason(KEYS_OPEN, target));
                }
            }
            None => {}
        }
        // `chmod -R 777 /var/www`: world-writable outside the project and the temp dirs
        // (CoreCoder's `chmod (-R) 777 /…` pattern, kept).
        let temp = ["/tmp", "/var/tmp", "/dev/shm"]
            .iter()
            .any(|t| path == *t || path.starts_with(&format!("{t}/")));
        // A user's own files (`/home/me/app/storage`) are the project's business.
        let in_home = ["/home/", "/Users/"].iter().any(|h| {
            path.strip_prefix(h)
                .is_some_and(|rest| rest.contains('/') && !is_secret(&path))
        });
        if g.world_write && path.starts_with('/') && !temp && !in_home {
            return Err(reason(PERMS, target));
        }
        // Any mode or owner on `/etc/shadow`, `/etc/sudoers`, `/bin/sh` can lock everyone out.
        if is_critical(&path) {
            return Err(reason(PERMS, target));
        }
        // `chmod 666 /dev/sda`, `chown me /dev/mem`: raw disk or memory for everyone.
        if is_block_device(&path) && (g.read || g.write || matches!(name, "chown" | "chgrp")) {
            return Err(reason(PERMS, target));
        }
        let system = is_system_file(&path);
        let secret = is_secret(&path) || ssh_dir;
        let blocked = match name {
            "chmod" if system => g.write,
            "chmod" if secret => opens,
            "chown" | "chgrp" if system => !own_or_root(setting) || setting.contains('$'),
            "chown" | "chgrp" if secret => !own_or_root(setting),
            "chattr" | "setfacl" => system || secret,
            _ => false,
        };
        if blocked {
            let template = if system { PERMS } else { KEYS_OPEN };
            return Err(reason(template, target));
        }
    }
    Ok(())
}
