//! The sandbox prepared once per session: the Landlock ruleset fd, the compiled seccomp
//! program, the C strings of the mount plan, and which tier a probe showed to work here.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::child::{self, MAX_ROOTS, MountPlan, Plan, Step, StepError, UserNsPlan};
use super::fork::{child_write, report_from_child};
use super::netns::{self, SharedNetNs};
use super::policy::{SandboxMode, SandboxPolicy};
use super::{rules, seccomp};

/// How much of the sandbox is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// `danger-full-access`: nothing applied.
    Unsandboxed,
    /// Landlock and seccomp, capabilities dropped; chmod/chown/utimes/xattr outside the
    /// writable roots are NOT stopped.
    LandlockSeccomp,
    /// As above, plus a private mount namespace with the file system read-only outside the
    /// writable roots, which stops chmod/chown/utimes/xattr there too.
    Full,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Unsandboxed => "unsandboxed",
            Tier::LandlockSeccomp => {
                "landlock+seccomp (metadata changes outside the roots not blocked)"
            }
            Tier::Full => "full (landlock+seccomp+read-only mount namespace)",
        })
    }
}

/// Why no command may run: the sandbox cannot be applied on this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the sandbox cannot be applied: {0}; commands will not run (choose `--sandbox danger-full-access` to run them unsandboxed)"
)]
pub struct SandboxError(pub String);

/// What a prepared sandbox does with the privileged daemon sockets it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketGuard {
    /// None found.
    NoneFound,
    /// Covered by `/dev/null` in the command's mount namespace (connect is refused).
    Hidden,
    /// `connect` denied for every socket by seccomp (no mount namespace here).
    ConnectDenied,
    /// Reachable: neither mechanism is available with the network on.
    Exposed,
}

/// The sandbox, ready to apply in each command's child. Build once per session; share it
/// with `Arc` and install it with [`Prepared::install_std`] / [`Prepared::install_tokio`].
#[derive(Debug)]
pub struct Prepared {
    pub mode: SandboxMode,
    pub network: bool,
    /// The Landlock ABI (0 when unsandboxed).
    pub abi: i32,
    pub tier: Tier,
    /// Whether the command gets its own network namespace (its own loopback, nothing else).
    pub net_ns: bool,
    /// Canonical writable roots in force.
    pub roots: Vec<PathBuf>,
    /// Daemon sockets found, and what is done about them.
    pub daemon_sockets: Vec<PathBuf>,
    pub socket_guard: SocketGuard,
    /// Plain-language notes: skipped roots, tiers that failed, gaps.
    pub notes: Vec<String>,
    pub(super) plan: Option<Plan>,
}

impl Prepared {
    /// Builds the sandbox for `policy` and probes, in a forked child, the strongest tier that
    /// works. Fails when Landlock or seccomp cannot be applied at all.
    pub fn new(policy: &SandboxPolicy) -> Result<Prepared, SandboxError> {
        let mut notes = Vec::new();
        if policy.mode == SandboxMode::DangerFullAccess {
            return Ok(Prepared {
                mode: policy.mode,
                network: true,
                abi: 0,
                tier: Tier::Unsandboxed,
                net_ns: false,
                roots: Vec::new(),
                daemon_sockets: Vec::new(),
                socket_guard: SocketGuard::NoneFound,
                notes,
                plan: None,
            });
        }
        let abi = rules::abi_version().map_err(SandboxError)?;
        let roots = canonical_roots(&policy.writable_roots, &mut notes);
        let ruleset = rules::build(abi, &roots).map_err(SandboxError)?;
        let sockets = found_sockets(&policy.daemon_sockets);
        // SAFETY: geteuid cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let mut plan = Plan {
            ruleset,
            filter: Vec::new(),
            mount: policy
                .namespaces
                .then(|| mount_plan(&roots, &sockets, &mut notes))
                .flatten(),
            user_ns: (uid != 0).then(|| UserNsPlan {
                uid_map: id_map(uid),
                gid_map: id_map(gid),
            }),
            net_ns: None,
            last_cap: last_cap(),
        };
        let mut want_mount = plan.mount.is_some();
        let mut shared: Option<SharedNetNs> = None;
        if !policy.network && policy.namespaces {
            match netns::create(plan.user_ns.as_ref()) {
                Ok(ns) => shared = Some(ns),
                Err(e) => notes.push(format!(
                    "{} failed: {}",
                    e.step.describe(),
                    errno_text(e.errno)
                )),
            }
        }
        let mut want_net = shared.is_some();
        // Strongest first: mount + network namespaces, mount only, network only, neither.
        let tier = loop {
            if !want_mount {
                plan.mount = None;
            }
            if want_net && plan.net_ns.is_none() {
                plan.net_ns = shared.take();
            } else if !want_net && plan.net_ns.is_some() {
                shared = plan.net_ns.take();
            }
            let spec = seccomp::FilterSpec {
                deny_inet: !policy.network && plan.net_ns.is_none(),
                deny_connect: !sockets.is_empty() && plan.mount.is_none() && !policy.network,
            };
            plan.filter = seccomp::compile(spec).map_err(SandboxError)?;
            match probe(&plan) {
                Ok(()) => {
                    break if plan.mount.is_some() {
                        Tier::Full
                    } else {
                        Tier::LandlockSeccomp
                    };
                }
                Err(e) if want_mount || want_net => {
                    notes.push(format!(
                        "{} failed: {}",
                        e.step.describe(),
                        errno_text(e.errno)
                    ));
                    if want_mount && want_net {
                        want_net = false;
                    } else if want_mount {
                        want_mount = false;
                        want_net = shared.is_some() || plan.net_ns.is_some();
                    } else {
                        want_net = false;
                    }
                }
                Err(e) => {
                    return Err(SandboxError(format!(
                        "{} failed: {}",
                        e.step.describe(),
                        errno_text(e.errno)
                    )));
                }
            }
        };
        let socket_guard = match (sockets.is_empty(), tier, policy.network) {
            (true, _, _) => SocketGuard::NoneFound,
            (false, Tier::Full, _) => SocketGuard::Hidden,
            (false, _, false) => SocketGuard::ConnectDenied,
            (false, _, true) => SocketGuard::Exposed,
        };
        if tier != Tier::Full {
            notes.push(
                "chmod, chown, touch -d and xattr changes outside the writable roots are not blocked (no private mount namespace)".into(),
            );
        }
        if abi < 3 && tier != Tier::Full {
            notes.push(format!(
                "Landlock ABI {abi} cannot stop truncating files outside the roots"
            ));
        }
        if abi < 6 {
            notes.push(format!(
                "Landlock ABI {abi} has no scopes: signals to processes outside the sandbox are not blocked"
            ));
        }
        Ok(Prepared {
            mode: policy.mode,
            network: policy.network,
            abi,
            tier,
            net_ns: plan.net_ns.is_some(),
            roots,
            daemon_sockets: sockets,
            socket_guard,
            notes,
            plan: Some(plan),
        })
    }

    /// Applies the sandbox to the calling process. Meant for the child between fork and exec
    /// (async-signal-safe: syscalls only). A no-op when unsandboxed.
    pub fn apply_in_child(&self) -> io::Result<()> {
        match &self.plan {
            None => Ok(()),
            Some(plan) => child::apply(plan).map_err(|e| io::Error::from_raw_os_error(e.errno)),
        }
    }

    /// Makes `cmd`'s child apply the sandbox before it executes the program.
    pub fn install_std(self: &Arc<Self>, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        let sandbox = Arc::clone(self);
        // SAFETY: the hook only makes syscalls on memory prepared before the fork (see
        // `child::apply`); it neither allocates nor takes locks.
        unsafe {
            cmd.pre_exec(move || sandbox.apply_in_child());
        }
    }

    /// [`Prepared::install_std`] for tokio's `Command`.
    pub fn install_tokio(self: &Arc<Self>, cmd: &mut tokio::process::Command) {
        let sandbox = Arc::clone(self);
        // SAFETY: as in `install_std`.
        unsafe {
            cmd.pre_exec(move || sandbox.apply_in_child());
        }
    }
}

/// Applies `plan` in a forked child and reports the failed step, if any.
fn probe(plan: &Plan) -> Result<(), StepError> {
    let report = report_from_child(&|fd| {
        let bytes = match child::apply(plan) {
            Ok(()) => [0u8; 5],
            Err(e) => {
                let n = e.errno.to_ne_bytes();
                [e.step as u8, n[0], n[1], n[2], n[3]]
            }
        };
        child_write(fd, &bytes);
    })
    .map_err(|e| StepError {
        step: Step::Unshare,
        errno: e.raw_os_error().unwrap_or(libc::EINVAL),
    })?;
    match report.as_slice() {
        [0, ..] => Ok(()),
        [step, a, b, c, d] => Err(StepError {
            step: Step::from_u8(*step).unwrap_or(Step::Landlock),
            errno: i32::from_ne_bytes([*a, *b, *c, *d]),
        }),
        // The child died before reporting (killed by the filter?): the sandbox does not work.
        _ => Err(StepError {
            step: Step::Seccomp,
            errno: libc::ECHILD,
        }),
    }
}

fn errno_text(errno: i32) -> String {
    io::Error::from_raw_os_error(errno).to_string()
}

/// Canonical existing directories, deduplicated; the rest noted and skipped.
fn canonical_roots(roots: &[PathBuf], notes: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for root in roots {
        match root.canonicalize() {
            Ok(real) if real.is_dir() => {
                if !out.contains(&real) {
                    out.push(real);
                }
            }
            Ok(_) => notes.push(format!(
                "writable root {} is not a directory: skipped",
                root.display()
            )),
            Err(_) => notes.push(format!(
                "writable root {} does not exist: skipped",
                root.display()
            )),
        }
    }
    out
}

/// The daemon sockets that exist, canonical and deduplicated.
fn found_sockets(candidates: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for path in candidates {
        let Ok(real) = path.canonicalize() else {
            continue;
        };
        let is_socket = std::fs::metadata(&real).is_ok_and(|m| m.file_type().is_socket());
        if is_socket && !out.contains(&real) {
            out.push(real);
        }
    }
    out
}

/// The mount plan: the outermost roots only (a root inside another comes along with it).
fn mount_plan(
    roots: &[PathBuf],
    sockets: &[PathBuf],
    notes: &mut Vec<String>,
) -> Option<MountPlan> {
    let outermost: Vec<&PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .collect();
    if outermost.iter().any(|r| r.as_path() == Path::new("/")) {
        notes.push("`/` is a writable root: no read-only mount namespace".into());
        return None;
    }
    if outermost.len() > MAX_ROOTS {
        notes.push(format!(
            "more than {MAX_ROOTS} writable roots: no read-only mount namespace"
        ));
        return None;
    }
    let cstr = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
    Some(MountPlan {
        roots: outermost.iter().map(|p| cstr(p)).collect::<Option<_>>()?,
        masks: sockets.iter().map(|p| cstr(p)).collect::<Option<_>>()?,
        null: c"/dev/null".to_owned(),
    })
}

/// `<id> <id> 1`: the caller's id maps to itself in the user namespace.
fn id_map(id: u32) -> CString {
    CString::new(format!("{id} {id} 1")).unwrap_or_default()
}

/// The highest capability number the kernel knows (`/proc/sys/kernel/cap_last_cap`).
fn last_cap() -> libc::c_int {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

#[cfg(test)]
#[path = "prepared_tests.rs"]
mod tests;
