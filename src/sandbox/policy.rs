//! What a sandboxed shell command may do, as pure data: the mode, the writable roots, the
//! network switch and the daemon sockets to hide. Building a policy reads nothing but the
//! workspace's `.git` (to find a linked worktree's git directories); everything else comes in
//! as arguments (home, an environment lookup), so tests build policies without touching the
//! process environment.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How much a shell command may change (Codex CLI's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// Read everywhere, write nowhere but the device sinks (`/dev/null`, terminals).
    ReadOnly,
    /// Read everywhere, write in the workspace, the temp directories and configured roots.
    #[default]
    WorkspaceWrite,
    /// No sandbox at all.
    DangerFullAccess,
}

impl SandboxMode {
    pub fn name(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SandboxMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-only" => Ok(SandboxMode::ReadOnly),
            "workspace-write" => Ok(SandboxMode::WorkspaceWrite),
            "danger-full-access" => Ok(SandboxMode::DangerFullAccess),
            other => Err(format!(
                "unknown sandbox mode `{other}` (expected read-only, workspace-write or danger-full-access)"
            )),
        }
    }
}

/// Opt-in writable cache directories of common package managers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Cargo,
    Npm,
    Pip,
    Go,
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cargo" => Ok(Preset::Cargo),
            "npm" => Ok(Preset::Npm),
            "pip" => Ok(Preset::Pip),
            "go" => Ok(Preset::Go),
            other => Err(format!(
                "unknown sandbox preset `{other}` (expected cargo, npm, pip or go)"
            )),
        }
    }
}

/// Privileged daemon sockets that are a full escape when reachable (root in a container).
pub const DAEMON_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
];

/// Where the temp directory is when `$TMPDIR` is unset (what `std::env::temp_dir` falls back to).
const SYSTEM_TEMP: &str = "/tmp";
/// POSIX shared memory (`sem_open`, Python's multiprocessing locks): scratch space like `/tmp`.
const SHARED_MEMORY: &str = "/dev/shm";

/// What a sandboxed command may do. Pure data: the sandbox is built from it by
/// [`super::Prepared::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxPolicy {
    pub mode: SandboxMode,
    /// Directories a command may write under (empty in read-only mode). Not yet canonical;
    /// missing ones are skipped when the sandbox is prepared.
    pub writable_roots: Vec<PathBuf>,
    /// Whether the command may open network sockets.
    pub network: bool,
    /// Unix sockets of privileged daemons to keep out of reach (the ones that exist count).
    pub daemon_sockets: Vec<PathBuf>,
    /// Whether private mount and network namespaces may be used where the machine allows
    /// them (off: Landlock and seccomp only, tier `LandlockSeccomp`).
    pub namespaces: bool,
}

impl SandboxPolicy {
    /// The policy for `mode` in `workspace`: in `workspace-write`, the workspace, its git
    /// directories, the temp directories, `/dev/shm`, `extra` (with `~/` expanded) and the
    /// presets' caches are writable. The network is off; see [`SandboxPolicy::with_network`].
    pub fn new(
        mode: SandboxMode,
        workspace: &Path,
        home: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        extra: &[PathBuf],
        presets: &[Preset],
    ) -> SandboxPolicy {
        let mut roots = Vec::new();
        if mode == SandboxMode::WorkspaceWrite {
            roots.push(workspace.to_path_buf());
            roots.extend(git_dirs(workspace));
            roots.push(PathBuf::from(SYSTEM_TEMP));
            if let Some(tmp) = env_path(env, "TMPDIR") {
                roots.push(tmp);
            }
            roots.push(PathBuf::from(SHARED_MEMORY));
            roots.extend(extra.iter().map(|p| expand_home(p, home)));
            for preset in presets {
                roots.extend(preset_dirs(*preset, home, env));
            }
        }
        let mut unique: Vec<PathBuf> = Vec::new();
        for root in roots {
            if !unique.contains(&root) {
                unique.push(root);
            }
        }
        let mut daemon_sockets: Vec<PathBuf> = DAEMON_SOCKETS.iter().map(PathBuf::from).collect();
        if let Some(path) = env("DOCKER_HOST")
            .as_deref()
            .and_then(|h| h.strip_prefix("unix://"))
        {
            daemon_sockets.push(PathBuf::from(path));
        }
        SandboxPolicy {
            mode,
            writable_roots: unique,
            network: false,
            daemon_sockets,
            namespaces: true,
        }
    }

    pub fn with_network(mut self, network: bool) -> SandboxPolicy {
        self.network = network;
        self
    }

    pub fn with_namespaces(mut self, namespaces: bool) -> SandboxPolicy {
        self.namespaces = namespaces;
        self
    }
}

/// A variable's value as a path, when set, non-empty and absolute.
fn env_path(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<PathBuf> {
    env(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// `~/x` → `<home>/x`; anything else unchanged.
fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// The package managers' cache directories, from their variables or their defaults.
fn preset_dirs(
    preset: Preset,
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<PathBuf> {
    let under_home = |rel: &str| home.map(|h| h.join(rel));
    let xdg_cache = env_path(env, "XDG_CACHE_HOME").or_else(|| under_home(".cache"));
    match preset {
        // Only the download caches: `$CARGO_HOME/bin` stays read-only, since a binary planted
        // there would later run outside the sandbox.
        Preset::Cargo => {
            let cargo_home = env_path(env, "CARGO_HOME").or_else(|| under_home(".cargo"));
            cargo_home
                .map(|c| vec![c.join("registry"), c.join("git")])
                .unwrap_or_default()
        }
        Preset::Npm => vec![env_path(env, "npm_config_cache").or_else(|| under_home(".npm"))]
            .into_iter()
            .flatten()
            .collect(),
        Preset::Pip => vec![
            env_path(env, "PIP_CACHE_DIR").or_else(|| xdg_cache.as_ref().map(|c| c.join("pip"))),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Preset::Go => {
            let gopath = env_path(env, "GOPATH").or_else(|| under_home("go"));
            vec![
                env_path(env, "GOMODCACHE").or_else(|| gopath.map(|g| g.join("pkg/mod"))),
                env_path(env, "GOCACHE").or_else(|| xdg_cache.as_ref().map(|c| c.join("go-build"))),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
    }
}

/// The git directories a commit in `workspace` writes to: the nearest `.git` at or above it
/// when that is a directory outside the workspace; for a linked worktree (a `.git` file with
/// `gitdir: …`), that worktree's git directory and the repository's common directory.
fn git_dirs(workspace: &Path) -> Vec<PathBuf> {
    let Some(dot_git) = workspace
        .ancestors()
        .map(|dir| dir.join(".git"))
        .find(|p| p.exists())
    else {
        return Vec::new();
    };
    if dot_git.is_dir() {
        return if dot_git.starts_with(workspace) {
            Vec::new()
        } else {
            vec![dot_git]
        };
    }
    let Ok(text) = std::fs::read_to_string(&dot_git) else {
        return Vec::new();
    };
    let Some(gitdir) = text.lines().find_map(|l| l.strip_prefix("gitdir:")) else {
        return Vec::new();
    };
    let base = dot_git.parent().unwrap_or(workspace);
    let gitdir = base.join(gitdir.trim());
    let mut dirs = vec![gitdir.clone()];
    if let Ok(common) = std::fs::read_to_string(gitdir.join("commondir")) {
        dirs.push(gitdir.join(common.trim()));
    }
    dirs
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
