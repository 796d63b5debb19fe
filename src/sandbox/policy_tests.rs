use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn roots(mode: SandboxMode, ws: &Path, env: &[(&str, &str)], presets: &[Preset]) -> Vec<PathBuf> {
    let env = env_of(env);
    SandboxPolicy::new(mode, ws, Some(Path::new("/home/u")), &env, &[], presets).writable_roots
}

#[test]
fn modes_parse_and_print_codex_names() {
    for name in ["read-only", "workspace-write", "danger-full-access"] {
        let mode: SandboxMode = name.parse().unwrap();
        assert_eq!(mode.to_string(), name);
    }
    assert!("workspace".parse::<SandboxMode>().is_err());
    assert_eq!(SandboxMode::default(), SandboxMode::WorkspaceWrite);
}

#[test]
fn workspace_write_has_workspace_temp_dirs_and_shm() {
    let ws = tempfile::tempdir().unwrap();
    let got = roots(
        SandboxMode::WorkspaceWrite,
        ws.path(),
        &[("TMPDIR", "/scratch")],
        &[],
    );
    assert_eq!(
        got,
        vec![
            ws.path().to_path_buf(),
            PathBuf::from("/tmp"),
            PathBuf::from("/scratch"),
            PathBuf::from("/dev/shm"),
        ]
    );
}

#[test]
fn read_only_and_full_access_have_no_roots() {
    let ws = tempfile::tempdir().unwrap();
    assert!(roots(SandboxMode::ReadOnly, ws.path(), &[], &[Preset::Cargo]).is_empty());
    assert!(roots(SandboxMode::DangerFullAccess, ws.path(), &[], &[]).is_empty());
}

#[test]
fn network_is_off_unless_asked() {
    let env = env_of(&[]);
    let p = SandboxPolicy::new(
        SandboxMode::WorkspaceWrite,
        Path::new("/w"),
        None,
        &env,
        &[],
        &[],
    );
    assert!(!p.network);
    assert!(p.with_network(true).network);
}

#[test]
fn presets_use_their_variables_or_home_defaults() {
    let ws = Path::new("/nonexistent-ws");
    let all = [Preset::Cargo, Preset::Npm, Preset::Pip, Preset::Go];
    let defaults = roots(SandboxMode::WorkspaceWrite, ws, &[], &all);
    for want in [
        "/home/u/.cargo/registry",
        "/home/u/.cargo/git",
        "/home/u/.npm",
        "/home/u/.cache/pip",
        "/home/u/go/pkg/mod",
        "/home/u/.cache/go-build",
    ] {
        assert!(
            defaults.contains(&PathBuf::from(want)),
            "{want} in {defaults:?}"
        );
    }
    assert!(
        !defaults.contains(&PathBuf::from("/home/u/.cargo")),
        "cargo's bin stays read-only"
    );
    let env = [
        ("CARGO_HOME", "/c"),
        ("npm_config_cache", "/n"),
        ("PIP_CACHE_DIR", "/p"),
        ("GOMODCACHE", "/gm"),
        ("GOCACHE", "/gc"),
    ];
    let set = roots(SandboxMode::WorkspaceWrite, ws, &env, &all);
    for want in ["/c/registry", "/c/git", "/n", "/p", "/gm", "/gc"] {
        assert!(set.contains(&PathBuf::from(want)), "{want} in {set:?}");
    }
    assert!(!set.iter().any(|r| r.starts_with("/home/u")));
}

#[test]
fn presets_parse() {
    assert_eq!("cargo".parse::<Preset>().unwrap(), Preset::Cargo);
    assert!("yarn".parse::<Preset>().is_err());
}

#[test]
fn extra_roots_expand_home_and_duplicates_go() {
    let env = env_of(&[]);
    let extra = [PathBuf::from("~/.m2"), PathBuf::from("/tmp")];
    let p = SandboxPolicy::new(
        SandboxMode::WorkspaceWrite,
        Path::new("/w"),
        Some(Path::new("/home/u")),
        &env,
        &extra,
        &[],
    );
    assert!(p.writable_roots.contains(&PathBuf::from("/home/u/.m2")));
    assert_eq!(
        p.writable_roots
            .iter()
            .filter(|r| r.as_path() == Path::new("/tmp"))
            .count(),
        1
    );
}

#[test]
fn a_linked_worktree_adds_its_git_dir_and_the_common_dir() {
    let base = tempfile::tempdir().unwrap();
    let main_git = base.path().join("main/.git");
    let wt_git = main_git.join("worktrees/feature");
    std::fs::create_dir_all(&wt_git).unwrap();
    std::fs::write(wt_git.join("commondir"), "../..\n").unwrap();
    let ws = base.path().join("feature");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
    let got = roots(SandboxMode::WorkspaceWrite, &ws, &[], &[]);
    assert!(got.contains(&wt_git), "{got:?}");
    let common = wt_git.join("../..").canonicalize().unwrap();
    assert!(
        got.iter()
            .any(|r| r.canonicalize().ok() == Some(common.clone())),
        "{got:?}"
    );
}

#[test]
fn a_git_dir_above_a_subdirectory_workspace_is_writable() {
    let base = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(base.path().join(".git")).unwrap();
    let ws = base.path().join("sub");
    std::fs::create_dir_all(&ws).unwrap();
    let got = roots(SandboxMode::WorkspaceWrite, &ws, &[], &[]);
    assert!(got.contains(&base.path().join(".git")), "{got:?}");
    let inside = roots(SandboxMode::WorkspaceWrite, base.path(), &[], &[]);
    assert!(
        !inside.contains(&base.path().join(".git")),
        "already under the workspace"
    );
}

#[test]
fn docker_host_unix_socket_is_a_daemon_socket() {
    let env = env_of(&[("DOCKER_HOST", "unix:///srv/d.sock")]);
    let p = SandboxPolicy::new(
        SandboxMode::WorkspaceWrite,
        Path::new("/w"),
        None,
        &env,
        &[],
        &[],
    );
    assert!(p.daemon_sockets.contains(&PathBuf::from("/srv/d.sock")));
    assert!(
        p.daemon_sockets
            .contains(&PathBuf::from("/var/run/docker.sock"))
    );
}
