//! File-system operations outside the writable roots fail and change nothing; the same
//! operations inside succeed.

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use corecoder::sandbox::{SandboxMode, Tier};

use super::{dirs, policy, run, sandbox, sandbox_with, snapshot};

/// One operation each, on the tree `populate` makes; `{d}` is the directory.
const WRITES: &[(&str, &str)] = &[
    ("create", "echo x > {d}/new"),
    ("append", "echo more >> {d}/file"),
    ("overwrite", "echo x > {d}/file"),
    ("delete", "rm {d}/file"),
    ("rename", "mv {d}/file {d}/renamed"),
    ("move into a subdirectory", "mv {d}/file {d}/sub/moved"),
    ("truncate", "truncate -s 0 {d}/file"),
    ("mkdir", "mkdir {d}/newdir"),
    ("rmdir", "rmdir {d}/emptydir"),
    ("delete a tree", "rm -r {d}/sub"),
    ("symlink", "ln -s /etc/passwd {d}/link"),
    ("hardlink", "ln {d}/file {d}/hard"),
    ("mkfifo", "mkfifo {d}/fifo"),
];

/// Metadata changes Landlock alone does not stop (the read-only mount namespace does).
const METADATA: &[(&str, &str)] = &[
    ("chmod", "chmod 777 {d}/file"),
    ("chmod a directory", "chmod 700 {d}/sub"),
    // Fails even on the lower tier (capabilities are dropped), so it is listed once more below.
    ("chown to another user", "chown 1234:1234 {d}/file"),
    ("chown to oneself", "chown $(id -u):$(id -g) {d}/file"),
    ("touch -d", "touch -d 2001-01-01 {d}/file"),
    ("touch", "touch {d}/other"),
    (
        "setxattr",
        "python3 -c 'import os,sys; os.setxattr(sys.argv[1], \"user.x\", b\"1\")' {d}/file",
    ),
];

fn script(template: &str, dir: &Path) -> String {
    template.replace("{d}", &dir.display().to_string())
}

#[test]
fn writes_outside_the_workspace_fail_and_change_nothing() {
    let d = dirs();
    let before = snapshot(&d.victim);
    // Both tiers: Landlock alone must stop every write; the mount namespace adds metadata.
    for namespaces in [true, false] {
        let policy = policy(SandboxMode::WorkspaceWrite, &d.ws).with_namespaces(namespaces);
        let Some(sb) = sandbox_with(policy) else {
            return;
        };
        let mut ops: Vec<&(&str, &str)> = WRITES.iter().collect();
        if sb.tier == Tier::Full {
            ops.extend(METADATA);
        } else {
            println!(
                "metadata operations not checked outside: tier is {}",
                sb.tier
            );
        }
        for (name, template) in ops {
            let out = run(&sb, &d.ws, &script(template, &d.victim));
            assert!(!out.status.success(), "{name} outside succeeded: {out:?}");
            assert_eq!(snapshot(&d.victim), before, "{name} changed the victim");
        }
    }
}

/// Tries, with raw syscalls, to undo the read-only mounts, then to chmod `argv[1]`; exits 0
/// only when the chmod worked.
const UNDO_READ_ONLY: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
tried = []
def call(name, rc):
    tried.append((name, rc, os.strerror(ctypes.get_errno()) if rc < 0 else "ok"))
call("remount / rw", libc.mount(None, b"/", None, 32 | 4096, None))
call("umount /", libc.umount2(b"/", 2))
clear_rdonly = (ctypes.c_uint64 * 4)(0, 1, 0, 0)
call("mount_setattr / -ro", libc.syscall(442, -100, b"/", 0x8000, clear_rdonly, 32))
try:
    os.chmod(sys.argv[1], 0o777)
    tried.append("chmod worked")
except OSError as e:
    tried.append(("chmod", e.strerror))
print(tried)
sys.exit(0 if "chmod worked" in tried else 1)
"#;

#[test]
fn a_new_user_namespace_cannot_make_the_file_system_writable_again() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    if sb.tier != Tier::Full {
        println!("skipped: tier is {}", sb.tier);
        return;
    }
    let before = snapshot(&d.victim);
    std::fs::write(d.ws.join("undo.py"), UNDO_READ_ONLY).unwrap();
    // Inside its own user and mount namespace the command holds CAP_SYS_ADMIN there, but the
    // mounts it inherited are locked read-only and Landlock refuses mount operations.
    let file = d.victim.join("file");
    let script = format!(
        "unshare -Um --propagation unchanged python3 undo.py {}",
        file.display()
    );
    let out = run(&sb, &d.ws, &script);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("remount"),
        "{out:?}"
    );
    assert_eq!(snapshot(&d.victim), before);
}

#[test]
fn without_the_mount_namespace_chmod_outside_is_reported_as_not_blocked() {
    let d = dirs();
    let policy = policy(SandboxMode::WorkspaceWrite, &d.ws).with_namespaces(false);
    let Some(sb) = sandbox_with(policy) else {
        return;
    };
    assert_eq!(sb.tier, Tier::LandlockSeccomp);
    assert!(
        sb.notes.iter().any(|n| n.contains("chmod")),
        "{:?}",
        sb.notes
    );
    let report = corecoder::sandbox::check(&sb, None).unwrap();
    let chmod = report
        .probes
        .iter()
        .find(|p| p.name.starts_with("chmod"))
        .unwrap();
    assert!(!chmod.should_block && !chmod.blocked, "{report}");
    assert!(report.passed(), "{report}");
}

#[test]
fn the_same_operations_inside_the_workspace_succeed() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    // Giving a file away needs CAP_CHOWN, which no sandboxed command has, inside or out.
    let ops = WRITES
        .iter()
        .chain(METADATA)
        .filter(|(name, _)| *name != "chown to another user");
    for (name, template) in ops {
        // Each operation on a fresh copy of the tree, so deletes do not starve later ones.
        let dir = d.ws.join(name.replace(' ', "_"));
        std::fs::create_dir(&dir).unwrap();
        super::populate(&dir);
        let before = snapshot(&dir);
        let out = run(&sb, &d.ws, &script(template, &dir));
        assert!(out.status.success(), "{name} inside failed: {out:?}");
        // xattrs and a chown to oneself change nothing the snapshot records.
        if !matches!(*name, "setxattr" | "chown to oneself") {
            assert_ne!(snapshot(&dir), before, "{name} inside changed nothing");
        }
    }
}

#[test]
fn the_system_temp_dir_is_writable_and_var_tmp_is_not() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let out = run(&sb, &d.ws, &format!("echo x > {}/f", tmp.path().display()));
    assert!(out.status.success(), "{out:?}");
    let out = run(
        &sb,
        &d.ws,
        "echo x > /var/tmp/corecoder-sandbox-should-not-exist",
    );
    assert!(!out.status.success());
    assert!(!Path::new("/var/tmp/corecoder-sandbox-should-not-exist").exists());
}

#[test]
fn grandchildren_and_left_behind_daemons_inherit_the_limits() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    let before = snapshot(&d.victim);
    let v = d.victim.display();
    let out = run(
        &sb,
        &d.ws,
        &format!("sh -c 'sh -c \"echo x > {v}/grandchild\"'"),
    );
    assert!(!out.status.success());
    // A daemon the command leaves behind tries after the command has returned.
    let marker = d.ws.join("daemon-ran");
    let out = run(
        &sb,
        &d.ws,
        &format!(
            "(sleep 0.3; echo x > {v}/daemon; touch {}) >/dev/null 2>&1 &",
            marker.display()
        ),
    );
    assert!(out.status.success());
    for _ in 0..100 {
        if marker.exists() {
            break;
        }
        sleep(Duration::from_millis(50));
    }
    assert!(marker.exists(), "the daemon ran");
    assert_eq!(snapshot(&d.victim), before);
}

#[test]
fn read_only_blocks_workspace_and_temp_writes_but_not_sinks() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::ReadOnly, &d.ws, false) else {
        return;
    };
    let before = snapshot(&d.ws);
    for template in [
        "echo x > {d}/new",
        "rm {d}/file",
        "mkdir {d}/x",
        "echo x >> {d}/file",
    ] {
        let out = run(&sb, &d.ws, &script(template, &d.ws));
        assert!(!out.status.success(), "{template}: {out:?}");
    }
    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let out = run(&sb, &d.ws, &format!("echo x > {}/f", tmp.path().display()));
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(snapshot(&d.ws), before);
    let out = run(
        &sb,
        &d.ws,
        "echo x > /dev/null && head -c 4 /dev/urandom >/dev/null && cat {d}/file"
            .replace("{d}", &d.ws.display().to_string())
            .as_str(),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"content\n");
}

#[test]
fn git_init_add_commit_work_inside_the_workspace() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    let out = run(
        &sb,
        &d.ws,
        "git init -q && git add . && git -c user.name=t -c user.email=t@example.invalid commit -qm first && git log --oneline | wc -l",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
}

#[test]
fn a_linked_worktree_can_commit() {
    let d = dirs();
    let repo = d.ws.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |dir: &Path, args: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "git -c user.name=t -c user.email=t@example.invalid {args}"
            ))
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args}: {out:?}");
    };
    git(&repo, "init -q");
    git(&repo, "commit -q --allow-empty -m first");
    let linked = d.victim.join("linked");
    git(
        &repo,
        &format!("worktree add -q {} -b side", linked.display()),
    );
    // The sandbox's workspace is the linked worktree: the main repository's .git must be
    // writable too, and nothing else of it.
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &linked, false) else {
        return;
    };
    let out = run(
        &sb,
        &linked,
        "echo x > f && git add f && git -c user.name=t -c user.email=t@example.invalid commit -qm second",
    );
    assert!(out.status.success(), "{out:?}");
    let out = run(
        &sb,
        &linked,
        &format!("echo x > {}/outside", repo.display()),
    );
    assert!(!out.status.success());
}

#[test]
fn cargo_builds_a_zero_dependency_crate_offline() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    let krate = d.ws.join("hello");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("src/main.rs"),
        "fn main() { println!(\"hi\"); }\n",
    )
    .unwrap();
    // The crate's own target directory: an inherited CARGO_TARGET_DIR may lie outside the
    // writable roots.
    let out = run(
        &sb,
        &krate,
        "CARGO_TARGET_DIR=target cargo run --offline -q 2>&1",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hi");
}

#[test]
fn mv_from_the_temp_dir_into_the_workspace_works() {
    let d = dirs();
    let Some(sb) = sandbox(SandboxMode::WorkspaceWrite, &d.ws, false) else {
        return;
    };
    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let from = tmp.path().join("made-in-tmp");
    let script = format!("echo hi > {0} && mv {0} moved", from.display());
    let out = run(&sb, &d.ws, &script);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(d.ws.join("moved")).unwrap(), "hi\n");
    assert!(!from.exists());
    // A bare rename(2) across two roots is EXDEV in the full tier (separate mounts).
    let rename = format!(
        "echo hi > {0} && python3 -c 'import os,sys; os.rename(sys.argv[1], \"renamed\")' {0}",
        from.display()
    );
    let out = run(&sb, &d.ws, &rename);
    if sb.tier == Tier::Full {
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Invalid cross-device link"),
            "{out:?}"
        );
    }
}
