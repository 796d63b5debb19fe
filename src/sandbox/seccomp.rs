//! The seccomp filter, compiled once in the parent with `seccompiler` (Firecracker's BPF
//! compiler: no C library needed). It denies, with `EPERM` rather than a kill so programs see
//! an ordinary error:
//! - `io_uring_setup`/`enter`/`register` always (io_uring performs socket and file operations
//!   without the syscalls this filter and Landlock see);
//! - `socket` for every family but `AF_UNIX` when the network is off and no private network
//!   namespace replaces the host's;
//! - `connect` altogether when asked (a reachable docker-style socket that cannot be hidden
//!   otherwise; seccomp cannot read the address a `connect` goes to);
//! - on x86-64, every x32-ABI syscall (numbers with bit 30 set), which would otherwise reach
//!   `socket` under a number the rules do not name.
//!
//! A process of another architecture (a 32-bit binary) is killed by the filter's architecture
//! check, which fails closed.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// What the filter denies beyond io_uring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSpec {
    /// Deny `socket` for families other than `AF_UNIX`.
    pub deny_inet: bool,
    /// Deny `connect` for every socket.
    pub deny_connect: bool,
}

/// Compiles the filter for the running architecture.
pub fn compile(spec: FilterSpec) -> Result<BpfProgram, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| format!("seccomp: unsupported architecture: {e}"))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in [
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
    ] {
        rules.insert(nr, Vec::new());
    }
    if spec.deny_inet {
        let not_unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(|e| format!("seccomp: {e}"))?;
        let rule = SeccompRule::new(vec![not_unix]).map_err(|e| format!("seccomp: {e}"))?;
        rules.insert(libc::SYS_socket, vec![rule]);
    }
    if spec.deny_connect {
        rules.insert(libc::SYS_connect, Vec::new());
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| format!("seccomp: {e}"))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp: {e}"))?;
    Ok(with_x32_guard(program))
}

/// `seccomp_data` offsets: the syscall number, then the audit architecture.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// `AUDIT_ARCH_X86_64` and the x32 syscall-number bit.
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// On x86-64, prepends "an x86-64 syscall with the x32 bit set fails with EPERM"; the rest of
/// the program (which starts with its own architecture check) is unchanged.
fn with_x32_guard(program: BpfProgram) -> BpfProgram {
    if std::env::consts::ARCH != "x86_64" {
        return program;
    }
    let stmt = |code: u32, k: u32| seccompiler::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| seccompiler::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let ld_abs = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let mut guarded = vec![
        stmt(ld_abs, OFFSET_ARCH),
        // Not x86-64: skip the guard; the program's own check decides.
        jump(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            AUDIT_ARCH_X86_64,
            0,
            3,
        ),
        stmt(ld_abs, OFFSET_NR),
        jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
    ];
    guarded.extend(program);
    guarded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_every_combination() {
        for deny_inet in [false, true] {
            for deny_connect in [false, true] {
                let program = compile(FilterSpec {
                    deny_inet,
                    deny_connect,
                })
                .unwrap();
                assert!(program.len() > 5);
            }
        }
    }

    /// Installs the filter in a forked child and reports the errno (0: allowed) of each call.
    fn errnos_under(spec: FilterSpec, calls: &[(libc::c_long, libc::c_long)]) -> Vec<i32> {
        let program = compile(spec).unwrap();
        let bytes = super::super::fork::report_from_child(&|fd| {
            let prog = libc::sock_fprog {
                len: program.len() as libc::c_ushort,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: syscalls with constant arguments; any fd a call returns is closed.
            unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 {
                    return;
                }
                for (nr, arg) in calls {
                    let rc = libc::syscall(*nr, *arg, libc::SOCK_STREAM, 0, 0);
                    let e = if rc < 0 { *libc::__errno_location() } else { 0 };
                    if rc >= 0 && *nr == libc::SYS_socket {
                        libc::close(rc as libc::c_int);
                    }
                    super::super::fork::child_write(fd, &e.to_ne_bytes());
                }
            }
        })
        .unwrap();
        bytes
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    #[test]
    fn the_filter_denies_inet_sockets_io_uring_and_x32_with_eperm() {
        let spec = FilterSpec {
            deny_inet: true,
            deny_connect: false,
        };
        let x32_socket = 0x4000_0000 | libc::SYS_socket;
        let inet = libc::AF_INET as libc::c_long;
        let calls = [
            (libc::SYS_socket, libc::AF_UNIX as libc::c_long),
            (libc::SYS_socket, inet),
            (libc::SYS_socket, libc::AF_INET6 as libc::c_long),
            (libc::SYS_socket, libc::AF_NETLINK as libc::c_long),
            (libc::SYS_io_uring_setup, 1),
            (x32_socket, inet),
        ];
        let got = errnos_under(spec, &calls);
        assert_eq!(got[0], 0, "unix sockets stay allowed");
        let eperm = libc::EPERM;
        let want_x32 = if cfg!(target_arch = "x86_64") {
            eperm
        } else {
            got[5]
        };
        assert_eq!(&got[1..], &[eperm, eperm, eperm, eperm, want_x32]);
        // Without the network rule, inet sockets work and io_uring is still denied.
        let open = FilterSpec {
            deny_inet: false,
            deny_connect: false,
        };
        let got = errnos_under(open, &calls[1..2]);
        assert_eq!(got, vec![0]);
        let got = errnos_under(open, &calls[4..5]);
        assert_eq!(got, vec![eperm]);
    }

    #[test]
    fn denying_more_makes_a_longer_program() {
        let open = compile(FilterSpec {
            deny_inet: false,
            deny_connect: false,
        })
        .unwrap();
        let closed = compile(FilterSpec {
            deny_inet: true,
            deny_connect: true,
        })
        .unwrap();
        assert!(closed.len() > open.len());
    }
}
