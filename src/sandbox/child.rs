//! The part that runs in the child between `fork` and `exec`: only raw syscalls on memory the
//! parent prepared (C strings, the BPF program, the Landlock ruleset fd), no allocation, no
//! locks, so it is async-signal-safe and fit for `pre_exec` in a multi-threaded parent.
//!
//! Order matters: namespaces and mounts first (they need `CAP_SYS_ADMIN`, and Landlock forbids
//! mounting once applied), then the capabilities go, then `no_new_privs`, Landlock, seccomp.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use seccompiler::BpfProgram;

/// Most writable roots a mount plan may hold (their clones live in a fixed stack array).
pub const MAX_ROOTS: usize = 32;

/// Kernel UAPI constants the `libc` crate does not have for every target.
const OPEN_TREE_CLONE: libc::c_uint = 1;
const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const SYS_MOVE_MOUNT: libc::c_long = 429;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

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
    pub net_ns: bool,
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

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// `Err(step, errno)` when a syscall returned negative.
fn check(rc: libc::c_long, step: Step) -> Result<libc::c_long, StepError> {
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
    if plan.mount.is_some() || plan.net_ns || plan.user_ns.is_some() {
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
    let mut flags = 0;
    if plan.user_ns.is_some() {
        flags |= libc::CLONE_NEWUSER;
    }
    if plan.mount.is_some() {
        flags |= libc::CLONE_NEWNS;
    }
    if plan.net_ns {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: unshare with constant flags.
    check(unsafe { libc::unshare(flags) }.into(), Step::Unshare)?;
    if let Some(user) = &plan.user_ns {
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", user.uid_map.as_bytes())?;
        write_file(c"/proc/self/gid_map", user.gid_map.as_bytes())?;
    }
    if plan.net_ns {
        loopback_up()?;
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

fn write_file(path: &std::ffi::CStr, data: &[u8]) -> Result<(), StepError> {
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

/// `ip link set lo up` in the new network namespace, with one ioctl.
fn loopback_up() -> Result<(), StepError> {
    // SAFETY: a zeroed ifreq is valid; the socket is closed after the ioctl.
    unsafe {
        let fd = check(
            libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).into(),
            Step::Loopback,
        )? as libc::c_int;
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        let rc = libc::ioctl(fd, libc::SIOCSIFFLAGS, &req as *const libc::ifreq);
        let err = errno();
        libc::close(fd);
        if rc < 0 {
            return Err(StepError {
                step: Step::Loopback,
                errno: err,
            });
        }
    }
    Ok(())
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

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Empties every capability set: bounding (so an exec as root cannot regain them), ambient,
/// effective, permitted, inheritable; and locks root's special treatment off where allowed.
fn drop_capabilities(last_cap: libc::c_int) -> Result<(), StepError> {
    let c = Step::Capabilities;
    // SAFETY: prctl/capset with constant arguments and stack structs.
    unsafe {
        let bits = libc::SECBIT_NOROOT
            | libc::SECBIT_NOROOT_LOCKED
            | libc::SECBIT_NO_CAP_AMBIENT_RAISE
            | libc::SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        // Needs CAP_SETPCAP: a caller without it has no root privileges to lock away.
        if libc::prctl(libc::PR_SET_SECUREBITS, bits as libc::c_ulong, 0, 0, 0) < 0
            && errno() != libc::EPERM
        {
            return Err(StepError {
                step: c,
                errno: errno(),
            });
        }
        for cap in 0..=last_cap {
            // EPERM: no CAP_SETPCAP, so nothing to drop; EINVAL: the kernel knows fewer caps.
            if libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) < 0 {
                let e = errno();
                if e != libc::EPERM && e != libc::EINVAL {
                    return Err(StepError { step: c, errno: e });
                }
            }
        }
        // EINVAL on kernels before ambient capabilities (4.3): there are none to clear.
        if libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        ) < 0
            && errno() != libc::EINVAL
        {
            return Err(StepError {
                step: c,
                errno: errno(),
            });
        }
        let header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        check(
            libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()),
            c,
        )?;
    }
    Ok(())
}
