//! The part that runs in the child between `fork` and `exec`: only raw syscalls on memory the
//! parent prepared (C strings, the BPF program, the Landlock ruleset fd), no allocation, no
//! locks, so it is async-signal-safe and fit for `pre_exec` in a multi-threaded parent.
//!
//! Order matters: namespaces and mounts first (they need `CAP_SYS_ADMIN`, and Landlock forbids
//! mounting once applied), then the capabilities go, then `no_new_privs`, Landlock, seccomp.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use seccompiler::BpfProgram;

use super::caps::drop_capabilities;
use super::netns::SharedNetNs;

/// Most writable roots a mount plan may hold (their clones live in a fixed stack array).
pub const MAX_ROOTS: usize = 32;

/// Kernel UAPI constants the `libc` crate does not have for every target.
const OPEN_TREE_CLONE: libc::c_uint = 1;
const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const SYS_MOVE_MOUNT: libc::c_long = 429;

/// `struct mount_attr` for `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The private mount namespace: everything read-only but the writable roots (cloned with
/// their own flags before the rest turns read-only), and the daemon sockets covered.
#[derive(Debug)]
pub struct MountPlan {
    /// Canonical, existing, none inside another; at most [`MAX_ROOTS`].
    pub roots: Vec<CString>,
    /// Daemon sockets to cover with `/dev/null`.
    pub masks: Vec<CString>,
    pub null: CString,
}

/// A user namespace mapping the caller's ids to themselves (for a non-root caller).
#[derive(Debug)]
pub struct UserNsPlan {
    pub uid_map: CString,
    pub gid_map: CString,
}

/// Everything the child does, prepared by the parent.
#[derive(Debug)]
pub struct Plan {
    pub ruleset: OwnedFd,
    pub filter: BpfProgram,
    pub mount: Option<MountPlan>,
    pub user_ns: Option<UserNsPlan>,
    /// The session's network namespace to join (network off), if one could be made.
    pub net_ns: Option<SharedNetNs>,
    pub last_cap: libc::c_int,
}

/// Which step failed, and its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepError {
    pub step: Step,
    pub errno: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    Unshare = 1,
    UserMap,
    Loopback,
    Mounts,
    Capabilities,
    NoNewPrivs,
    Landlock,
    Seccomp,
}

impl Step {
    pub fn from_u8(n: u8) -> Option<Step> {
        [
            Step::Unshare,
            Step::UserMap,
            Step::Loopback,
            Step::Mounts,
            Step::Capabilities,
            Step::NoNewPrivs,
            Step::Landlock,
            Step::Seccomp,
        ]
        .into_iter()
        .find(|s| *s as u8 == n)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::Unshare => "creating namespaces (unshare)",
            Step::UserMap => "mapping ids in the user namespace",
            Step::Loopback => "bringing up loopback in the network namespace",
            Step::Mounts => "making the file system read-only outside the writable roots",
            Step::Capabilities => "dropping capabilities",
            Step::NoNewPrivs => "setting no_new_privs",
            Step::Landlock => "applying the Landlock ruleset",
            Step::Seccomp => "installing the seccomp filter",
        }
    }
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// `Err(step, errno)` when a syscall returned negative.
pub fn check(rc: libc::c_long, step: Step) -> Result<libc::c_long, StepError> {
    if rc < 0 {
        Err(StepError {
            step,
            errno: errno(),
        })
    } else {
        Ok(rc)
    }
}

/// Applies the plan to the calling process. Async-signal-safe.
pub fn apply(plan: &Plan) -> Result<(), StepError> {
    if plan.mount.is_some() || plan.net_ns.is_some() {
        enter_namespaces(plan)?;
    }
    drop_capabilities(plan.last_cap)?;
    // SAFETY: plain syscalls with constant or prepared arguments.
    unsafe {
        check(
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(),
            Step::NoNewPrivs,
        )?;
        check(
            libc::syscall(
                libc::SYS_landlock_restrict_self,
                plan.ruleset.as_raw_fd(),
                0u32,
            ),
            Step::Landlock,
        )?;
        let prog = libc::sock_fprog {
            len: plan.filter.len() as libc::c_ushort,
            filter: plan.filter.as_ptr() as *mut libc::sock_filter,
        };
        check(
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0u32,
                &prog as *const libc::sock_fprog,
            ),
            Step::Seccomp,
        )?;
    }
    Ok(())
}

fn enter_namespaces(plan: &Plan) -> Result<(), StepError> {
    // The working directory, to re-enter by path after the mounts change (std's `current_dir`
    // ran before this hook). A stack buffer: no allocation.
    let mut cwd = [0u8; 4096];
    // SAFETY: the buffer is valid for its length; the kernel NUL-terminates it.
    let have_cwd = unsafe { libc::syscall(libc::SYS_getcwd, cwd.as_mut_ptr(), cwd.len()) } > 0;
    // Join the session's network namespace (and, for a non-root caller, the user namespace
    // that owns it, which then also owns the mount namespace created below).
    let mut joined_user = false;
    if let Some(shared) = &plan.net_ns {
        if let Some(user) = &shared.user {
            // SAFETY: setns on an fd the parent opened.
            check(
                unsafe { libc::setns(user.as_raw_fd(), libc::CLONE_NEWUSER) }.into(),
                Step::Unshare,
            )?;
            joined_user = true;
        }
        // SAFETY: as above.
        check(
            unsafe { libc::setns(shared.net.as_raw_fd(), libc::CLONE_NEWNET) }.into(),
            Step::Unshare,
        )?;
    }
    let new_user = plan.mount.is_some() && plan.user_ns.is_some() && !joined_user;
    if plan.mount.is_some() {
        let flags = libc::CLONE_NEWNS | if new_user { libc::CLONE_NEWUSER } else { 0 };
        // SAFETY: unshare with constant flags.
        check(unsafe { libc::unshare(flags) }.into(), Step::Unshare)?;
    }
    if let (true, Some(user)) = (new_user, &plan.user_ns) {
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", user.uid_map.as_bytes())?;
        write_file(c"/proc/self/gid_map", user.gid_map.as_bytes())?;
    }
    if let Some(mounts) = &plan.mount {
        remount(mounts)?;
        if have_cwd {
            // SAFETY: `cwd` holds the NUL-terminated path getcwd wrote.
            check(
                unsafe { libc::chdir(cwd.as_ptr() as *const libc::c_char) }.into(),
                Step::Mounts,
            )?;
        }
    }
    Ok(())
}

pub fn write_file(path: &std::ffi::CStr, data: &[u8]) -> Result<(), StepError> {
    // SAFETY: a NUL-terminated path, a buffer valid for its length, the fd closed after.
    unsafe {
        let fd = check(
            libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC).into(),
            Step::UserMap,
        )? as libc::c_int;
        let written = libc::write(fd, data.as_ptr().cast(), data.len());
        let result = if written == data.len() as isize {
            Ok(())
        } else {
            Err(StepError {
                step: Step::UserMap,
                errno: errno(),
            })
        };
        libc::close(fd);
        result
    }
}

/// In the new mount namespace: stop propagation, clone the writable roots as they are, make
/// the whole tree read-only, put the clones back on top, cover the daemon sockets.
fn remount(plan: &MountPlan) -> Result<(), StepError> {
    let mut clones = [-1 as libc::c_int; MAX_ROOTS];
    let result = remount_into(plan, &mut clones);
    for fd in clones.iter().filter(|fd| **fd >= 0) {
        // SAFETY: fds this function opened.
        unsafe { libc::close(*fd) };
    }
    result
}

fn remount_into(plan: &MountPlan, clones: &mut [libc::c_int; MAX_ROOTS]) -> Result<(), StepError> {
    let m = Step::Mounts;
    // SAFETY: NUL-terminated paths prepared by the parent; attr lives on the stack.
    unsafe {
        check(
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
            .into(),
            m,
        )?;
        for (slot, root) in clones.iter_mut().zip(&plan.roots) {
            *slot = check(
                libc::syscall(
                    libc::SYS_open_tree,
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as libc::c_uint,
                ),
                m,
            )? as libc::c_int;
        }
        let attr = MountAttr {
            attr_set: MOUNT_ATTR_RDONLY,
            attr_clr: 0,
            propagation: 0,
            userns_fd: 0,
        };
        check(
            libc::syscall(
                libc::SYS_mount_setattr,
                libc::AT_FDCWD,
                c"/".as_ptr(),
                libc::AT_RECURSIVE as libc::c_uint,
                &attr as *const MountAttr,
                std::mem::size_of::<MountAttr>(),
            ),
            m,
        )?;
        for (fd, root) in clones.iter().zip(&plan.roots) {
            check(
                libc::syscall(
                    SYS_MOVE_MOUNT,
                    *fd,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    MOVE_MOUNT_F_EMPTY_PATH,
                ),
                m,
            )?;
        }
        for socket in &plan.masks {
            check(
                libc::mount(
                    plan.null.as_ptr(),
                    socket.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null(),
                )
                .into(),
                m,
            )?;
        }
    }
    Ok(())
}
