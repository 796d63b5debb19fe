//! System files: which paths a command may not write (system configuration, boot files,
//! binaries and libraries, cron and systemd units, `authorized_keys`, kernel settings in
//! `/proc/sys` and `/sys`), which it may not delete even one at a time (`/etc/passwd`,
//! libc, the kernel), and which records of what ran it may not wipe (shell history, login
//! logs). Paths arrive resolved, with `~` meaning the home directory.

use super::super::paths::resolve;
use super::{TRACKS, reason};
use crate::policy::writes::file_writes;

pub const SYSTEM_FILE: &str = "writing {path} changes the system or plants persistence \
     (system files, sudoers, cron, systemd units, authorized_keys, kernel settings); make \
     the change inside the project, or show the user the exact edit to make themselves";
pub const CRITICAL: &str = "deleting or moving {path} would leave the system unable to boot \
     or log in; leave system files alone, or ask the user to do it";

/// Directories whose files configure, boot or run the system, or run code on a schedule or
/// at login. `/usr/local` is the administrator's own install area and is left out.
const SYSTEM_PREFIXES: &[&str] = &[
    "/etc",
    "/boot",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/var/spool/cron",
    "/var/spool/anacron",
    "/var/at",
    "/var/cron",
    "/root/.ssh",
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/sys",
    "/System",
    "/Library/LaunchDaemons",
    "/Library/LaunchAgents",
    "/private/etc",
    "/private/var/at",
    "~/.config/systemd",
    "~/.config/autostart",
    "~/Library/LaunchAgents",
    // Write access to the Docker socket is root on the host.
    "/var/run/docker.sock",
    "/run/docker.sock",
];

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// A program placed where `PATH` finds it before the system's (`/usr/local/bin/sudo`) runs
/// instead of it: a trojan. (`~/.local/bin` and `~/bin` are left to the permission floor,
/// which asks, like shell start-up files.)
fn shadows_system_command(path: &str) -> bool {
    const CORE: &[&str] = &[
        "sudo", "su", "ls", "cat", "cp", "mv", "rm", "sh", "bash", "zsh", "ssh", "scp", "git",
        "passwd", "ps", "login", "id", "whoami", "curl", "wget", "env", "chmod", "chown", "find",
        "grep", "kill", "top", "apt", "apt-get", "doas",
    ];
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    let path_dir = matches!(
        dir,
        "/usr/local/bin" | "/usr/local/sbin" | "/opt/homebrew/bin"
    );
    path_dir && CORE.contains(&name)
}

/// Whether writing `path` changes the system (or lets someone log in as this user).
pub fn is_system_file(path: &str) -> bool {
    if shadows_system_command(path) {
        return true;
    }
    if under(path, "/usr/local") {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or_default();
    let ssh_dir = path
        .rsplit_once('/')
        .is_some_and(|(dir, _)| dir.ends_with("/.ssh") || dir == "~/.ssh");
    SYSTEM_PREFIXES.iter().any(|p| under(path, p))
        || (ssh_dir && matches!(name, "authorized_keys" | "authorized_keys2"))
}

/// Files whose loss alone breaks booting or logging in.
pub fn is_critical(path: &str) -> bool {
    const ETC: &[&str] = &[
        "passwd",
        "shadow",
        "group",
        "gshadow",
        "sudoers",
        "fstab",
        "crypttab",
        "nsswitch.conf",
        "ld.so.cache",
        "ld.so.conf",
        "login.defs",
        "inittab",
        "pam.conf",
    ];
    const LIBS: &[&str] = &[
        "libc.",
        "libc-",
        "ld-",
        "ld.so",
        "libm.",
        "libpthread",
        "libdl",
        "libstdc++",
        "libgcc_s",
        "libcrypt",
        "libselinux",
        "libsystemd",
        "libtinfo",
        "libz.",
    ];
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let lib_dir = [
        "/lib",
        "/lib32",
        "/lib64",
        "/usr/lib",
        "/usr/lib64",
        "/usr/lib32",
    ]
    .iter()
    .any(|d| under(dir, d));
    under(path, "/boot")
        || (dir == "/etc" && ETC.contains(&name))
        || under(dir, "/etc/pam.d")
        || (matches!(dir, "/bin" | "/sbin" | "/usr/bin" | "/usr/sbin") && !name.is_empty())
        || (lib_dir && (LIBS.iter().any(|l| name.starts_with(l)) || name == "systemd"))
}

/// Trees of installed programs and libraries: deleting anything inside them recursively
/// breaks the packages that own it (`rm -rf /usr/lib/python3`). `/usr/local` is excluded.
pub fn is_system_tree(path: &str) -> bool {
    !under(path, "/usr/local")
        && [
            "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/boot", "/System",
        ]
        .iter()
        .any(|d| under(path, d))
}

/// Shell history and login records: wiping them hides what ran.
pub fn is_history(path: &str) -> bool {
    const NAMES: &[&str] = &[
        ".bash_history",
        ".zsh_history",
        ".sh_history",
        ".history",
        "fish_history",
        ".python_history",
    ];
    const LOGS: &[&str] = &[
        "/var/log/auth.log",
        "/var/log/secure",
        "/var/log/wtmp",
        "/var/log/btmp",
        "/var/log/lastlog",
        "/var/log/faillog",
        "/var/run/utmp",
        "/run/utmp",
        "/var/log/audit/audit.log",
        "/var/log/syslog",
        "/var/log/messages",
        "/var/log/kern.log",
    ];
    let name = path.rsplit('/').next().unwrap_or_default();
    let in_home = ["~/", "/home/", "/root/", "/Users/"]
        .iter()
        .any(|h| path.starts_with(h));
    (in_home && NAMES.contains(&name)) || LOGS.contains(&path)
}

/// `echo "127.0.0.1 app.local" | sudo tee -a /etc/hosts`: a loopback name cannot send
/// traffic anywhere else, so adding one is everyday setup; any other address is a hijack.
fn adds_loopback_hosts(path: &str, content: Option<&str>) -> bool {
    let Some(text) = content.filter(|_| path.starts_with("/etc/hosts")) else {
        return false;
    };
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    lines.peek().is_some()
        && lines.all(|l| {
            let address = l.split_whitespace().next().unwrap_or_default();
            address.starts_with("127.") || address == "::1" || address == "0.0.0.0"
        })
}

/// A write of `content` (when known) to the resolved `path`.
pub fn check_write(path: &str, content: Option<&str>) -> Result<(), String> {
    if is_history(path) {
        return Err(TRACKS.to_string());
    }
    if is_system_file(path) && !adds_loopback_hosts(path, content) {
        return Err(reason(SYSTEM_FILE, path));
    }
    Ok(())
}

/// The files a command writes through its arguments (`tee`, `cp`, `sed -i`, `dd of=`…);
/// `content` is what `tee` writes, when known. Permission changes have their own rules,
/// and creating a directory or touching a file changes nothing that runs.
pub fn check_writes(
    args: &[String],
    cwd: Option<&str>,
    content: Option<&str>,
) -> Result<(), String> {
    let name = args
        .first()
        .map_or("", |a| a.rsplit('/').next().unwrap_or(a));
    if matches!(name, "chmod" | "chown" | "chgrp" | "mkdir" | "touch") {
        return Ok(());
    }
    for target in file_writes(args) {
        let content = if name == "tee" { content } else { None };
        check_write(&resolve(&target, cwd), content)?;
    }
    // `cp sudo /usr/local/bin/`: into a directory, each source keeps its name.
    if matches!(name, "cp" | "mv" | "install" | "ln") {
        let plain: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
        if let Some((dir, sources)) = plain.split_last().filter(|(_, s)| !s.is_empty()) {
            for source in sources {
                let file = source.rsplit('/').next().unwrap_or(source);
                check_write(&resolve(&format!("{dir}/{file}"), cwd), None)?;
            }
        }
    }
    Ok(())
}

/// Account and sudo changes: `visudo`, `vipw`, adding a user to an admin group, a second
/// root account, an empty or scripted password.
pub fn check_accounts(name: &str, args: &[String]) -> Result<(), String> {
    if matches!(name, "userdel" | "deluser" | "groupdel") {
        return Err(reason(SYSTEM_FILE, "/etc/passwd"));
    }
    let has = |w: &str| args.iter().any(|a| a == w);
    let (short, long, _) = super::split_flags(args);
    // `-u 0`, `-ou 0`, `--uid=0`: a second root account.
    let uid_zero = args.windows(2).any(|w| {
        (w[0] == "--uid"
            || (w[0].starts_with('-') && !w[0].starts_with("--") && w[0].ends_with('u')))
            && w[1] == "0"
    }) || has("--uid=0");
    let admin = |a: &String| {
        a.split(',')
            .any(|g| matches!(g, "sudo" | "wheel" | "admin" | "root"))
    };
    // The group words: after `-G`/`-aG`/`-g`/`--groups`, or `adduser USER GROUP`.
    let admin_group = args.windows(2).any(|w| {
        let flag = &w[0];
        (flag == "--groups"
            || flag == "--gid"
            || (flag.starts_with('-') && !flag.starts_with("--") && flag.ends_with(['G', 'g'])))
            && admin(&w[1])
    }) || (matches!(name, "adduser" | "gpasswd")
        && args.iter().filter(|a| !a.starts_with('-')).count() >= 2
        && args.last().is_some_and(admin));
    let blocked = match name {
        "visudo" | "vipw" | "vigr" => !(has("-c") || has("--check")),
        "usermod" | "useradd" | "adduser" | "gpasswd" => {
            admin_group || short.contains('o') || long.contains(&"non-unique") || uid_zero
        }
        "passwd" => has("-d") || has("--delete") || has("root"),
        "chpasswd" => true,
        _ => false,
    };
    if blocked {
        return Err(reason(
            SYSTEM_FILE,
            "/etc/passwd, /etc/shadow or /etc/sudoers",
        ));
    }
    Ok(())
}
