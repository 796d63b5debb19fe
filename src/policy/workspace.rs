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
pub(crate) const PROTECTED_HOME: &[&str] = &[
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
    ".gitconfig",
    ".config/git",
    ".bash_logout",
    ".zlogout",
    ".config/fish",
    ".local/bin",
    ".cargo/config.toml",
    ".cargo/config",
    ".npmrc",
    ".docker",
    ".kube",
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
            // `~//x` is `~/x`: joining an absolute rest would replace home with `/x`.
            (Some(rest), Some(home)) if rest.starts_with('/') => {
                home.join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(path),
        };
        let mut hops = MAX_LINKS;
        real_path(&cwd.join(expanded), &mut hops)
    }

    /// The real path of an absolute path (`~` already expanded): symlinks and `..` resolved as
    /// in [`Workspace::resolve`], with no detour through text, so any file name survives.
    pub fn real(&self, path: &Path) -> PathBuf {
        let mut hops = MAX_LINKS;
        real_path(path, &mut hops)
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

    /// The protected place `path` is in (`~/.ssh`, `~/.bashrc`, `/p/.git`), if any.
    pub fn protected_root(&self, path: &Path) -> Option<PathBuf> {
        if !self.is_protected(path) {
            return None;
        }
        if let Some(home) = &self.home
            && let Ok(rest) = path.strip_prefix(home)
            && let Some(entry) = PROTECTED_HOME.iter().find(|p| rest.starts_with(p))
        {
            return Some(home.join(entry));
        }
        let parts: Vec<Component> = path.components().collect();
        let git = parts.iter().position(|c| c.as_os_str() == ".git")?;
        Some(parts[..=git].iter().collect())
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

/// Walks the path one component at a time as the kernel does: a symlink is replaced by its
/// target where it stands (a dangling one too, since writing through it creates the target),
/// and `..` goes to the real parent of what was resolved so far, so `link/../x` is beside the
/// link's target, not beside the link. Components that do not exist are kept as they are.
/// `hops` bounds the symlinks followed in all (the kernel's ELOOP).
fn real_path(path: &Path, hops: &mut usize) -> PathBuf {
    let mut cur = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => cur = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(name) => {
                let next = cur.join(name);
                let is_link =
                    std::fs::symlink_metadata(&next).is_ok_and(|m| m.file_type().is_symlink());
                cur = match std::fs::read_link(&next) {
                    Ok(target) if is_link && *hops > 0 => {
                        *hops -= 1;
                        real_path(&cur.join(target), hops)
                    }
                    _ => next,
                };
            }
        }
    }
    cur
}
