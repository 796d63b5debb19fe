//! Commands that damage the running system rather than files: disk formatting and wiping,
//! power control and mass kills, stopping remote access or the network, flushing firewalls,
//! kernel modules and settings, disabling security, and hiding what ran.

use super::{FORMAT, POWER, TRACKS, split_flags};
use crate::policy::command_safety::paths::is_block_device;

pub const DAMAGE: &str = "this would cut off remote access or the network, weaken the \
     firewall or security, or destabilise the kernel or host (stopping sshd or networking, \
     flushing iptables, kernel modules and settings, disabling SELinux or auditing, removing \
     vital packages, mounting / into a container); ask the user to do it";

/// Services whose loss cuts off access to the machine or its protection.
const CRITICAL_SERVICES: &[&str] = &[
    "ssh",
    "sshd",
    "networking",
    "network",
    "NetworkManager",
    "systemd-networkd",
    "systemd-resolved",
    "systemd-journald",
    "systemd-logind",
    "dbus",
    "firewalld",
    "ufw",
    "nftables",
    "iptables",
    "auditd",
    "apparmor",
    "wpa_supplicant",
];

/// Processes whose death takes the machine or remote access down.
const CRITICAL_PROCESSES: &[&str] = &[
    "sshd",
    "systemd",
    "init",
    "systemd-journald",
    "systemd-logind",
    "dbus-daemon",
    "NetworkManager",
    "launchd",
    "loginwindow",
    "WindowServer",
];

/// Checks one plain command against the system rules. `args[0]` is the command name.
pub fn check(name: &str, args: &[String]) -> Result<(), String> {
    let rest = args.get(1..).unwrap_or_default();
    let (short, long, pos) = split_flags(rest);
    let help = long.iter().any(|l| matches!(*l, "help" | "version")) || short == "V";
    if help {
        return Ok(());
    }
    check_disk(name, &short, &long, &pos)?;
    check_power(name, &short, &long, &pos)?;
    check_damage(name, rest, &short, &long, &pos)
}

/// Formatting, partitioning, wiping and destroying volumes.
fn check_disk(name: &str, short: &str, long: &[&str], pos: &[&str]) -> Result<(), String> {
    let format_tool = name.starts_with("mkfs")
        || matches!(
            name,
            "mke2fs" | "mkswap" | "mkdosfs" | "mkntfs" | "newfs" | "mkisofs"
        );
    let partition_tool = matches!(name, "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted");
    let listing = short.contains(['l', 'p'])
        || long
            .iter()
            .any(|l| matches!(*l, "list" | "print" | "verify"))
        || pos.contains(&"print");
    let device = pos.iter().any(|p| is_block_device(p));
    let first = pos.first().copied().unwrap_or_default();
    let destroys = match name {
        // An image file is fine to format; a device, or a target we cannot see, is not.
        _ if format_tool => {
            pos.is_empty()
                || pos
                    .iter()
                    .any(|p| p.starts_with("/dev/") || p.starts_with('$'))
        }
        _ if partition_tool => !listing && device,
        "diskutil" => {
            first.starts_with("erase")
                || first.ends_with("Disk")
                || first == "reformat"
                || first == "secureErase"
        }
        "cryptsetup" => matches!(
            first,
            "luksFormat" | "erase" | "luksErase" | "reencrypt" | "luksKillSlot" | "luksRemoveKey"
        ),
        "zpool" => matches!(first, "destroy" | "labelclear" | "create"),
        "gpart" => matches!(first, "destroy" | "delete"),
        "lvreduce" | "pvcreate" | "vgcreate" => true,
        "zfs" => {
            first == "destroy"
                && (short.contains(['r', 'R']) || !pos.iter().any(|p| p.contains('@')))
        }
        "nvme" => matches!(first, "format" | "sanitize"),
        "lvremove" | "vgremove" | "pvremove" => true,
        "mdadm" => long.contains(&"zero-superblock") || long.contains(&"create") || short == "C",
        "hdparm" => long
            .iter()
            .any(|l| l.starts_with("security-erase") || l.starts_with("trim-sector")),
        "wipefs" => {
            short.contains(['a', 'o'])
                || long
                    .iter()
                    .any(|l| l.starts_with("all") || l.starts_with("offset"))
        }
        "blkdiscard" => true,
        "badblocks" => short.contains(['w', 'n']),
        "dmsetup" => matches!(first, "remove_all" | "wipe_table"),
        _ => false,
    };
    if destroys {
        return Err(FORMAT.to_string());
    }
    Ok(())
}

/// Shutdown, reboot and killing every process (or a vital one).
fn check_power(name: &str, short: &str, long: &[&str], pos: &[&str]) -> Result<(), String> {
    let signal_all = |p: &&str| matches!(*p, "." | ".*" | "" | "^" | "$" | ".+" | "*");
    let blocked = match name {
        "shutdown" => !short.contains('c'),
        "reboot" | "halt" | "poweroff" | "killall5" => true,
        // `pkill -u me` with no pattern kills every process of the user, like `kill -1`.
        "pkill" | "killall"
            if (short.contains('u') || long.contains(&"user")) && pos.len() <= 1 =>
        {
            true
        }
        // `killall -HUP sshd` reloads it; the default signal and KILL end it.
        "pkill" | "killall" => {
            let gentle = short.contains("HUP")
                || short.contains("USR")
                || pos
                    .iter()
                    .any(|p| matches!(*p, "HUP" | "SIGHUP" | "USR1" | "USR2"));
            pos.iter().any(signal_all)
                || (!gentle && pos.iter().any(|p| CRITICAL_PROCESSES.contains(p)))
        }
        "init" | "telinit" => pos
            .iter()
            .any(|p| matches!(*p, "0" | "6" | "1" | "s" | "S")),
        "systemctl" | "loginctl" => pos.iter().any(|p| {
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
                    | "rescue.target"
                    | "emergency.target"
                    | "suspend"
                    | "hibernate"
                    | "hybrid-sleep"
                    | "terminate-user"
                    | "kill-user"
                    | "terminate-session"
            )
        }),
        _ => false,
    };
    if blocked {
        return Err(POWER.to_string());
    }
    Ok(())
}

/// Whether killing processes named `name` takes the machine or remote access down.
pub fn is_critical_process(name: &str) -> bool {
    CRITICAL_PROCESSES.contains(&name)
}

/// Packages whose removal leaves the machine unbootable or unreachable.
fn is_vital_package(name: &str) -> bool {
    let name = name.split(['=', ':']).next().unwrap_or(name);
    matches!(
        name,
        "openssh-server"
            | "sudo"
            | "systemd"
            | "libc6"
            | "glibc"
            | "coreutils"
            | "bash"
            | "apt"
            | "dpkg"
            | "rpm"
            | "dnf"
            | "yum"
            | "grub-pc"
            | "grub2"
            | "grub-efi-amd64"
            | "python3"
            | "network-manager"
            | "NetworkManager"
            | "util-linux"
            | "login"
            | "passwd"
            | "init"
            | "systemd-sysv"
            | "kmod"
            | "udev"
    ) || name.starts_with("linux-image")
        || name.starts_with("linux-generic")
        || name == "kernel"
        || name.starts_with("kernel-core")
}

fn is_critical_service(unit: &str) -> bool {
    let unit = unit.strip_suffix(".service").unwrap_or(unit);
    let unit = unit.strip_suffix(".socket").unwrap_or(unit);
    CRITICAL_SERVICES.contains(&unit)
}

/// Remote access, network, firewall, kernel, security and history.
fn check_damage(
    name: &str,
    rest: &[String],
    short: &str,
    long: &[&str],
    pos: &[&str],
) -> Result<(), String> {
    let first = pos.first().copied().unwrap_or_default();
    let second = pos.get(1).copied().unwrap_or_default();
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let stops = |verb: &str| matches!(verb, "stop" | "disable" | "mask" | "kill");
    let damage = match name {
        "systemctl" => stops(first) && pos[1..].iter().any(|u| is_critical_service(u)),
        "service" => pos.get(1).is_some_and(|v| stops(v)) && is_critical_service(first),
        "iptables" | "ip6tables" | "iptables-legacy" | "ip6tables-legacy" | "iptables-nft" => {
            short.contains('F')
                || long.contains(&"flush")
                || words
                    .windows(3)
                    .any(|w| matches!(w[0], "-P" | "--policy") && matches!(w[2], "DROP" | "REJECT"))
                || drops_all_input(&words)
        }
        "nft" => words.windows(2).any(|w| {
            matches!(
                w,
                ["flush", "ruleset" | "table" | "chain"] | ["delete", "table"]
            )
        }),
        "ip" => {
            let object = first.trim_start_matches('-');
            (matches!(object, "link" | "l") && pos.contains(&"down"))
                || (matches!(object, "route" | "r" | "ro")
                    && (pos.contains(&"flush")
                        || (pos.contains(&"default") && pos.iter().any(|p| p.starts_with("del")))))
                || (matches!(object, "addr" | "address" | "a") && pos.contains(&"flush"))
        }
        "ifconfig" => pos.contains(&"down") && first != "lo",
        "ifdown" => !pos.contains(&"lo"),
        "nmcli" => {
            words.windows(2).any(|w| w == ["networking", "off"])
                || (matches!(first, "radio" | "r") && pos.contains(&"off"))
                || (matches!(first, "connection" | "con" | "c") && second == "down")
                || (matches!(first, "device" | "dev" | "d") && second == "disconnect")
        }
        "docker" | "podman" if matches!(first, "run" | "create") => mounts_host_root(&words),
        "ufw" => {
            matches!(first, "disable" | "reset")
                || (first == "default" && second == "deny" && pos.contains(&"outgoing"))
                || (matches!(first, "deny" | "reject")
                    && pos
                        .iter()
                        .any(|p| matches!(*p, "22" | "22/tcp" | "ssh" | "OpenSSH")))
        }
        // Read-only or unmounted root stops everything that writes.
        "mount" => {
            pos.contains(&"/")
                && rest
                    .iter()
                    .any(|r| r.contains("remount") && r.contains("ro"))
        }
        "umount" => pos.contains(&"/") || short.contains('a') || long.contains(&"all"),
        "auditctl" => short.contains('D') || words.windows(2).any(|w| w == ["-e", "0"]),
        "apt" | "apt-get" | "yum" | "dnf" | "zypper" | "pacman" | "apk" => {
            let removes = matches!(first, "remove" | "purge" | "autoremove" | "erase" | "del")
                || (name == "pacman" && short.contains('R'));
            removes && pos.iter().any(|p| is_vital_package(p))
        }
        "modprobe" => short.contains('r') || long.contains(&"remove"),
        "rmmod" | "insmod" => true,
        "swapoff" => short.contains('a') || long.contains(&"all"),
        // Raising `vm.max_map_count` (Elasticsearch) or `vm.swappiness` is routine tuning.
        "sysctl" => pos.iter().chain(long.iter()).any(|p| {
            p.split_once('=').is_some_and(|(key, _)| {
                ["kernel.", "kernel/", "vm.", "vm/"]
                    .iter()
                    .any(|k| key.starts_with(k))
                    && !matches!(
                        key.replace('/', ".").as_str(),
                        "vm.max_map_count" | "vm.swappiness"
                    )
            })
        }),
        "setenforce" => matches!(first, "0" | "Permissive" | "permissive"),
        "firewall-cmd" => long.contains(&"panic-on") || long.contains(&"set-default-zone=drop"),
        "aa-teardown" => true,
        "aa-disable" | "aa-complain" => true,
        "crontab" => short.contains('r') || long.contains(&"remove"),
        _ => false,
    };
    if damage {
        return Err(if name == "crontab" {
            super::CRONTAB.to_string()
        } else {
            DAMAGE.to_string()
        });
    }
    let hides = match name {
        "history" => short.contains('c') || (words.contains(&"-w") && words.contains(&"/dev/null")),
        "unset" => pos.iter().any(|v| v.starts_with("HISTFILE")),
        "set" => words.windows(2).any(|w| w == ["+o", "history"]),
        // `journalctl --vacuum-time=1s` deletes the system's logs.
        "journalctl" => long.iter().any(|l| l.starts_with("vacuum-")),
        _ => false,
    };
    if hides {
        return Err(TRACKS.to_string());
    }
    Ok(())
}

/// `iptables -A INPUT -j DROP` with nothing that narrows it (no source, protocol, port or
/// interface) drops every packet, the session's included.
fn drops_all_input(words: &[&str]) -> bool {
    const NARROW: &[&str] = &[
        "-s",
        "--source",
        "-p",
        "--protocol",
        "--dport",
        "--sport",
        "-i",
        "--in-interface",
        "-m",
        "--match",
        "-d",
        "--destination",
    ];
    let appends_input = words.windows(2).any(|w| {
        matches!(w[0], "-A" | "-I" | "--append" | "--insert") && matches!(w[1], "INPUT" | "OUTPUT")
    });
    let drops = words
        .windows(2)
        .any(|w| matches!(w[0], "-j" | "--jump") && matches!(w[1], "DROP" | "REJECT"));
    appends_input && drops && !words.iter().any(|w| NARROW.contains(w))
}

/// `docker run -v /:/host`: the container gets the host's whole file system.
fn mounts_host_root(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let value = match *w {
            "-v" | "--volume" | "--mount" => words.get(i + 1).copied().unwrap_or_default(),
            w => w
                .strip_prefix("--volume=")
                .or(w.strip_prefix("--mount="))
                .or(w.strip_prefix("-v").filter(|v| v.starts_with('/')))
                .unwrap_or_default(),
        };
        value.starts_with("/:")
            || value
                .split(',')
                .any(|kv| matches!(kv, "source=/" | "src=/"))
    })
}

/// `HISTFILE=/dev/null`, `HISTSIZE=0`: the shell stops recording what runs.
pub fn check_assignment(name: &str, value: &str) -> Result<(), String> {
    let hides = match name {
        "HISTFILE" => value.is_empty() || value == "/dev/null",
        "HISTSIZE" | "HISTFILESIZE" | "SAVEHIST" => value == "0",
        "HISTIGNORE" => value == "*",
        _ => false,
    };
    if hides {
        return Err(TRACKS.to_string());
    }
    Ok(())
}
