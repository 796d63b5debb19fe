//! What the gate knows about paths: which are roots whose loss is catastrophic, which are
//! block devices, which hold secrets. Paths arrive expanded, with `~` meaning the home directory.

/// Top-level directories whose recursive deletion or re-permissioning breaks the machine.
const SYSTEM_DIRS: &[&str] = &[
    "bin",
    "boot",
    "dev",
    "etc",
    "home",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "opt",
    "proc",
    "root",
    "run",
    "sbin",
    "srv",
    "sys",
    "usr",
    "var",
    "snap",
    "mnt",
    "media",
    "Users",
    "System",
    "Library",
    "Applications",
    "private",
    "Volumes",
    "cores",
];

/// Second-level directories just as vital as their parents.
const SYSTEM_SUBDIRS: &[&str] = &[
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib64",
    "usr/local",
    "usr/share",
    "usr/include",
    "var/lib",
    "var/log",
    "etc/ssh",
    "etc/systemd",
    "private/etc",
    "private/var",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Root {
    /// `/` itself, or a glob over its entries.
    Slash,
    /// The home directory (ours or another user's).
    Home,
    /// A top-level system directory such as `/etc`.
    System,
}

/// Resolves `path` lexically against the working directory when it is known: `.`, `..`,
/// repeated and trailing slashes are folded, so `/tmp/../` is `/` and `~/` is `~`.
pub fn resolve(path: &str, cwd: Option<&str>) -> String {
    let joined = match cwd {
        Some(dir) if !path.starts_with('/') && !path.starts_with('~') => format!("{dir}/{path}"),
        _ => path.to_string(),
    };
    let (prefix, rest) = if let Some(rest) = joined.strip_prefix('~') {
        ("~", rest)
    } else if let Some(rest) = joined.strip_prefix('/') {
        ("/", rest)
    } else {
        ("", joined.as_str())
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            // `/..` is `/`; `~/..` leaves home, which we treat as `/home`.
            ".." if prefix == "/" => {}
            ".." if prefix == "~" && parts.is_empty() => return "/home".to_string(),
            p => parts.push(p),
        }
    }
    match (prefix, parts.is_empty()) {
        ("", true) => ".".to_string(),
        ("~", false) => format!("~/{}", parts.join("/")),
        (p, _) => format!("{p}{}", parts.join("/")),
    }
}

fn is_glob_only(part: &str) -> bool {
    !part.is_empty() && part.chars().all(|c| "*?.[]!{},".contains(c))
}

fn has_glob(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

/// Whether a resolved path is a root whose recursive loss is catastrophic. A glob over a
/// root's entries (`/*`, `~/.*`) counts as the root, and so does a glob in a top-level name.
pub fn root_kind(resolved: &str) -> Option<Root> {
    let trimmed = match resolved.rsplit_once('/') {
        Some((parent, last)) if is_glob_only(last) => {
            if parent.is_empty() {
                "/"
            } else {
                parent
            }
        }
        _ => resolved,
    };
    if trimmed == "/" {
        return Some(Root::Slash);
    }
    if trimmed == "~" || trimmed == "~/" {
        return Some(Root::Home);
    }
    let rel = trimmed.strip_prefix('/')?;
    let mut parts = rel.split('/');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    if has_glob(first) {
        return Some(Root::Slash);
    }
    match second {
        None if SYSTEM_DIRS.contains(&first) => Some(Root::System),
        Some(user) if (first == "home" || first == "Users") && parts.next().is_none() => {
            (!has_glob(user) || is_glob_only(user)).then_some(Root::Home)
        }
        Some(_) if parts.next().is_none() && SYSTEM_SUBDIRS.contains(&rel) => Some(Root::System),
        _ => None,
    }
}

/// Directories of personal data and keys directly in home (`~/Documents`, `~/.ssh`,
/// `~/.config`), and database data directories: deleting one recursively loses what no
/// build can recreate. Caches and downloads are not listed.
pub fn is_data_dir(resolved: &str) -> bool {
    const HOME: &[&str] = &[
        "Documents",
        "Desktop",
        "Pictures",
        "Photos",
        "Music",
        "Videos",
        "Movies",
        "Library",
        ".ssh",
        ".gnupg",
        ".aws",
        ".kube",
        ".azure",
        ".config",
        ".password-store",
        ".mozilla",
        ".thunderbird",
        ".local",
        "Dropbox",
        "OneDrive",
        "Google Drive",
        "src",
        "code",
        "projects",
        "workspace",
        "repos",
        "git",
    ];
    const DATA: &[&str] = &[
        "mysql",
        "postgresql",
        "pgsql",
        "mongodb",
        "redis",
        "etcd",
        "elasticsearch",
        "cassandra",
        "influxdb",
        "clickhouse",
    ];
    let trimmed = match resolved.rsplit_once('/') {
        Some((parent, last)) if is_glob_only(last) => parent,
        _ => resolved,
    };
    let in_home = trimmed
        .strip_prefix("~/")
        .or_else(|| {
            let rest = trimmed
                .strip_prefix("/home/")
                .or(trimmed.strip_prefix("/Users/"))?;
            rest.split_once('/').map(|(_, r)| r)
        })
        .is_some_and(|rest| HOME.contains(&rest));
    let data = trimmed
        .strip_prefix("/var/lib/")
        .is_some_and(|rest| DATA.contains(&rest));
    in_home || data
}

/// Whole disks, partitions and raw memory: writing to them destroys data below the filesystem.
pub fn is_block_device(path: &str) -> bool {
    const DEVICES: &[&str] = &[
        "sd", "hd", "nvme", "vd", "xvd", "mmcblk", "disk", "rdisk", "md", "dm-", "mapper/", "mem",
        "kmem", "port", "root", "sr", "fd0", "nbd",
    ];
    let Some(dev) = resolve(path, None)
        .strip_prefix("/dev/")
        .map(str::to_string)
    else {
        return false;
    };
    DEVICES.iter().any(|d| dev.starts_with(d))
}

/// Files whose contents are credentials: private keys, cloud and cluster credentials, `.env`.
pub fn is_secret(path: &str) -> bool {
    let p = resolve(path, None);
    let name = p.rsplit('/').next().unwrap_or_default();
    let in_dir = |dir: &str| p.contains(&format!("{dir}/")) || p.ends_with(dir);
    if in_dir(".ssh") {
        return !(name.ends_with(".pub")
            || name == "known_hosts"
            || name == "config"
            || name == "authorized_keys");
    }
    const DIRS: &[&str] = &[
        ".aws",
        ".config/gcloud",
        ".config/gh",
        ".config/hub",
        ".config/op",
        ".kube",
        ".gnupg",
        ".azure",
        ".docker",
    ];
    const NAMES: &[&str] = &[
        ".netrc",
        ".git-credentials",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".vault-token",
        "credentials.json",
        "credentials.toml",
        "credentials.tfrc.json",
        ".my.cnf",
        ".s3cfg",
        "shadow",
        "gshadow",
        "environ",
        ".bash_history",
        ".zsh_history",
    ];
    let env_file = name == ".env"
        || (name.starts_with(".env.")
            && !["example", "sample", "template", "dist"]
                .iter()
                .any(|s| name.ends_with(s)));
    DIRS.iter().any(|d| in_dir(d))
        || NAMES.contains(&name)
        || env_file
        || (name.starts_with("id_") && !name.ends_with(".pub") && in_dir(".ssh"))
        || ["id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"].contains(&name)
}

/// The last path component of a command name, so `/usr/bin/rm` is `rm`.
pub fn basename(cmd: &str) -> &str {
    cmd.rsplit('/').next().unwrap_or(cmd)
}

/// Expands one level of `{a,b}` braces, as bash does before running a command.
pub fn expand_braces(word: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (word.find('{'), word.find('}')) else {
        return vec![word.to_string()];
    };
    let inner = word.get(open + 1..close).unwrap_or_default();
    if close < open || !inner.contains(',') {
        return vec![word.to_string()];
    }
    inner
        .split(',')
        .map(|alt| format!("{}{alt}{}", &word[..open], &word[close + 1..]))
        .collect()
}
