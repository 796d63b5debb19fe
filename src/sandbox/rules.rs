//! The Landlock ruleset, built in the parent with the `landlock` crate (the Landlock
//! maintainers' crate), best effort up to the running ABI, and kept as a ruleset fd: the child
//! only calls `landlock_restrict_self` on it. The crate's own `restrict_self` consumes the
//! ruleset, so it cannot serve a hook that runs once per command.
//!
//! Rules: read and execute (and, from ABI 9, connecting to path unix sockets) everywhere; every right under the writable roots; write, truncate
//! and device ioctls on the sinks (`/dev/null`, terminals, random sources). Where the ABI has
//! scopes (6 and later), signals and abstract unix sockets cannot leave the sandbox.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope,
};

/// Device files any command may write (those that exist): output sinks, terminals, and the
/// random sources some programs write to seed.
pub const SINKS: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/random",
    "/dev/urandom",
];

/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI instead of creating a ruleset.
const CREATE_RULESET_VERSION: u32 = 1;

/// The running kernel's Landlock ABI, or why there is none.
pub fn abi_version() -> Result<i32, String> {
    // SAFETY: a null attribute with size 0 and the version flag only queries.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if rc >= 1 {
        return Ok(rc as i32);
    }
    let err = std::io::Error::last_os_error();
    Err(match err.raw_os_error() {
        Some(libc::ENOSYS) => {
            "the kernel has no Landlock (built without it or older than 5.13)".into()
        }
        Some(libc::EOPNOTSUPP) => {
            "Landlock is disabled on this kernel (add `landlock` to the `lsm=` boot parameter)"
                .into()
        }
        _ => format!("Landlock is unavailable: {err}"),
    })
}

/// The ruleset fd for these writable roots (canonical, existing directories).
pub fn build(abi: i32, roots: &[PathBuf]) -> Result<OwnedFd, String> {
    let abi = ABI::from(abi);
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let fail = |e: landlock::RulesetError| format!("Landlock ruleset: {e}");
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(fail)?;
    if abi >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(fail)?;
    }
    let mut created = ruleset.create().map_err(fail)?;
    // Connecting to path unix sockets (handled from ABI 9) stays allowed everywhere, as on
    // older kernels: the daemon sockets are dealt with by the mount plan or seccomp.
    created = created
        .add_rule(beneath(
            Path::new("/"),
            read | (all & AccessFs::ResolveUnix),
        )?)
        .map_err(fail)?;
    for root in roots {
        created = created.add_rule(beneath(root, all)?).map_err(fail)?;
    }
    let sink = read | AccessFs::WriteFile | (all & (AccessFs::Truncate | AccessFs::IoctlDev));
    for path in SINKS.iter().map(Path::new).filter(|p| p.exists()) {
        let access = if path.is_dir() {
            sink
        } else {
            sink & AccessFs::from_file(abi)
        };
        created = created.add_rule(beneath(path, access)?).map_err(fail)?;
    }
    let fd: Option<OwnedFd> = created.into();
    fd.ok_or_else(|| "Landlock did not create a ruleset (unsupported by the kernel)".to_string())
}

fn beneath(path: &Path, access: BitFlags<AccessFs>) -> Result<PathBeneath<PathFd>, String> {
    let fd =
        PathFd::new(path).map_err(|e| format!("Landlock: cannot open {}: {e}", path.display()))?;
    Ok(PathBeneath::new(fd, access))
}
