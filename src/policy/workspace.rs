//! Where the agent may write freely: the project root plus the system temp directory, and how
//! a path text becomes the real path it names. This file owns path resolution (the only
//! file-system access in `policy`, read-only) and the list of protected paths behind the hard
//! floor. It does not decide anything; `decide` asks it questions.

use std::path::{Component, Path, PathBuf};

/// The places an edit counts as "inside the workspace", all canonical.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    /// The canonical project root; relative rule globs are anchored here.
    pub root: PathBuf,
    /// Other writable places (the system temp directory).
    pub extra: Vec<PathBuf>,
    /// The user's home, for `~` in paths and rules and for the protected dot-files.
    pub home: Option<PathBuf>,
}

/// Bounds symlink hops in [`Workspace::resolve`], as the kernel does (ELOOP at 40).
const MAX_LINKS: usize = 40;

/// Under home: credentials, our own config, and files a shell runs at start-up. Writing any
/// of them is a way to escalate (run code later, leak keys), so no mode writes them silently.
const PROTECTED_HOME: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".config/gh",
    ".netrc",
    ".corecoder",
    ".config/corecoder",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish/config.fish",
    ".inputrc",
];

impl Workspace {
    /// Canonicalizes `root` (kept as given when it does not exist) and adds the temp dirs.
    pub fn new(root: &Path, home: Option<&Path>) -> Workspace {
        let root = root.canonicalize().unwrap_or_else(|_| normalize(root));
        let mut extra: Vec<PathBuf> = Vec::new();
        for tmp in [std::env::temp_dir(), PathBuf::from("/tmp")] {
            if let Ok(tmp) = tmp.canonicalize()
                && !extra.contains(&tmp)
            {
                extra.push(tmp);
            }
        }
        let home = home.map(|h| h.canonicalize().unwrap_or_else(|_| normalize(h)));
        Workspace { root, extra, home }
    }

    /// Whether a resolved path is inside the root or one of the extra places.
    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.root) || self.extra.iter().any(|e| path.starts_with(e))
    }

    /// The real path `path` names when typed in `cwd`: `~` expanded, made absolute, `.`/`..`
    /// removed, and symlinks followed as far as the path exists (a dangling link too, since
    /// writing through it creates its target).
    pub fn resolve(&self, cwd: &Path, path: &str) -> PathBuf {
        let expanded = match (path.strip_prefix('~'), &self.home) {
            (Some(""), Some(home)) => home.clone(),
            (Some(rest), Some(home)) if rest.starts_with('/') => home.join(&rest[1..]),
            _ => PathBuf::from(path),
        };
        real_path(&cwd.join(expanded), MAX_LINKS)
    }

    /// Whether a resolved path is behind the hard floor: a protected file under home, or
    /// anything inside a `.git` directory except `.git/info/exclude` (hooks and config run
    /// code; `info/exclude` is the one file agents legitimately edit).
    pub fn is_protected(&self, path: &Path) -> bool {
        let under_home = self.home.as_ref().and_then(|h| path.strip_prefix(h).ok());
        if under_home.is_some_and(|rest| PROTECTED_HOME.iter().any(|p| rest.starts_with(p))) {
            return true;
        }
        let parts: Vec<Component> = path.components().collect();
        parts.iter().enumerate().any(|(i, c)| {
            c.as_os_str() == ".git" && {
                let rest: PathBuf = parts[i + 1..].iter().collect();
                rest != Path::new("info/exclude")
            }
        })
    }

    /// A path for messages: `~/…` under home, otherwise as is.
    pub fn show(&self, path: &Path) -> String {
        match self.home.as_ref().and_then(|h| path.strip_prefix(h).ok()) {
            Some(rest) if rest.as_os_str().is_empty() => "~".to_string(),
            Some(rest) => format!("~/{}", rest.display()),
            None => path.display().to_string(),
        }
    }
}

/// Removes `.` and `..` by text alone (`/..` stays `/`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Canonicalizes the longest existing ancestor and appends the rest. A dangling symlink on
/// the way is followed by hand, because `canonicalize` fails on it yet a write goes through.
fn real_path(path: &Path, hops: usize) -> PathBuf {
    let path = normalize(path);
    for ancestor in path.ancestors() {
        let rest = path.strip_prefix(ancestor).unwrap_or(Path::new(""));
        if let Ok(real) = ancestor.canonicalize() {
            return join_rest(real, rest);
        }
        if let (Ok(target), Some(parent), true) =
            (std::fs::read_link(ancestor), ancestor.parent(), hops > 0)
        {
            return real_path(&join_rest(parent.join(target), rest), hops - 1);
        }
    }
    path
}

fn join_rest(base: PathBuf, rest: &Path) -> PathBuf {
    if rest.as_os_str().is_empty() {
        base
    } else {
        base.join(rest)
    }
}
