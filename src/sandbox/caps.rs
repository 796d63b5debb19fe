//! Dropping every capability in the child (async-signal-safe: prctl and capset only), so a
//! command run by root holds no privilege: Landlock already stops `CAP_DAC_OVERRIDE`, this
//! takes the rest (chown to others, mounts, modules, raw sockets, reboot).

use super::child::{Step, StepError, check, errno};

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

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
pub fn drop_capabilities(last_cap: libc::c_int) -> Result<(), StepError> {
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
