//! The kernel sandbox from outside: real `sh -c` commands spawned through std's and tokio's
//! `Command` with the sandbox's spawn hook, checked by looking at the file system, the network
//! and the processes afterwards. Where the kernel has no Landlock the tests print
//! "skipped: no Landlock" and pass.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use corecoder::sandbox::{Prepared, SandboxMode, SandboxPolicy, Tier};

// Writes, deletes and metadata changes outside and inside the workspace.
mod fs;
// Network, signals, capabilities, daemon sockets, fail-closed.
mod process;

/// A workspace and a victim directory, both outside every writable root (not under `/tmp`):
/// under `/var/tmp`, or the test target's temp directory where that does not exist.
pub struct Dirs {
    _base: tempfile::TempDir,
    pub ws: PathBuf,
    pub victim: PathBuf,
}

pub fn dirs() -> Dirs {
    let parent = if Path::new("/var/tmp").is_dir() {
        PathBuf::from("/var/tmp")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
    };
    let base = tempfile::Builder::new()
        .prefix("corecoder-sandbox-test")
        .tempdir_in(parent)
        .unwrap();
    let root = base.path().canonicalize().unwrap();
    assert!(
        !root.starts_with("/tmp"),
        "the test directories must lie outside /tmp"
    );
    let ws = root.join("ws");
    let victim = root.join("victim");
    for dir in [&ws, &victim] {
        std::fs::create_dir(dir).unwrap();
        populate(dir);
    }
    Dirs {
        _base: base,
        ws,
        victim,
    }
}

/// The files every operation works on.
fn populate(dir: &Path) {
    std::fs::write(dir.join("file"), "content\n").unwrap();
    std::fs::write(dir.join("other"), "other\n").unwrap();
    std::fs::create_dir(dir.join("emptydir")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inner"), "inner\n").unwrap();
}

/// The prepared sandbox for `mode` in `ws`, or None (after saying so) without Landlock.
pub fn sandbox(mode: SandboxMode, ws: &Path, network: bool) -> Option<Arc<Prepared>> {
    sandbox_with(policy(mode, ws).with_network(network))
}

pub fn policy(mode: SandboxMode, ws: &Path) -> SandboxPolicy {
    let env = |k: &str| std::env::var(k).ok();
    SandboxPolicy::new(mode, ws, None, &env, &[], &[])
}

pub fn sandbox_with(policy: SandboxPolicy) -> Option<Arc<Prepared>> {
    if let Err(why) = corecoder::sandbox::landlock_abi() {
        println!("skipped: no Landlock ({why})");
        return None;
    }
    let prepared = Prepared::new(&policy).expect("the sandbox prepares where Landlock exists");
    Some(Arc::new(prepared))
}

/// Runs `script` with `sh -c` in `cwd` inside the sandbox.
pub fn run(sandbox: &Arc<Prepared>, cwd: &Path, script: &str) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .current_dir(cwd)
        .stdin(Stdio::null());
    sandbox.install_std(&mut cmd);
    cmd.output().expect("the sandboxed shell starts")
}

/// Everything observable about a directory tree: per entry its kind, content or link
/// target, mode, owner, group and modification time.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let body = if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
            "dir".to_string()
        } else if meta.file_type().is_symlink() {
            format!("link {:?}", std::fs::read_link(&path).unwrap())
        } else if meta.is_file() {
            format!("file {:?}", std::fs::read(&path).unwrap())
        } else {
            format!("special {:?}", meta.file_type())
        };
        let rel = path.strip_prefix(dir).unwrap().to_path_buf();
        let stamp = (
            meta.mode(),
            meta.uid(),
            meta.gid(),
            meta.mtime(),
            meta.mtime_nsec(),
        );
        out.insert(rel, format!("{body} {stamp:?}"));
    }
    out
}

#[test]
fn self_test_reports_every_probe_as_expected() {
    let d = dirs();
    for (mode, network, namespaces) in [
        (SandboxMode::WorkspaceWrite, false, true),
        (SandboxMode::WorkspaceWrite, true, true),
        (SandboxMode::ReadOnly, false, true),
        (SandboxMode::WorkspaceWrite, false, false),
        (SandboxMode::ReadOnly, true, false),
    ] {
        let p = policy(mode, &d.ws)
            .with_network(network)
            .with_namespaces(namespaces);
        let Some(sb) = sandbox_with(p) else {
            return;
        };
        let report = corecoder::sandbox::check(&sb, None).unwrap();
        let text = report.to_string();
        println!("{text}");
        assert!(report.passed(), "{text}");
        assert!(report.probes.len() >= 6, "{text}");
        assert!(
            text.contains(&format!("Landlock ABI: {}", sb.abi)),
            "{text}"
        );
        assert!(text.contains("self-test: ok"), "{text}");
    }
}

#[test]
fn danger_full_access_applies_nothing() {
    let d = dirs();
    let sb = Arc::new(Prepared::new(&policy(SandboxMode::DangerFullAccess, &d.ws)).unwrap());
    assert_eq!(sb.tier, Tier::Unsandboxed);
    let out = run(&sb, &d.ws, &format!("echo x > {}/new", d.victim.display()));
    assert!(out.status.success());
    assert!(d.victim.join("new").exists());
    let report = corecoder::sandbox::check(&sb, None).unwrap();
    assert!(report.to_string().contains("unsandboxed"), "{report}");
}
