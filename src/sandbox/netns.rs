//! The session's private network namespace: created once, with its loopback up, by a short
//! holder child; the parent keeps an fd to it and every command's child joins it with
//! `setns`. Creating a network namespace per command cost ~0.45 ms (measured with
//! `sandboxbench`); joining one costs microseconds. Commands of one session share that
//! loopback (a server one command leaves running is reachable by the next), and nothing of
//! the host's network, its loopback included.
//!
//! For a non-root user the namespace belongs to a user namespace the holder also creates
//! (ids mapped to themselves); the command's child joins that user namespace first.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use super::child::{Step, StepError, UserNsPlan, check, errno, write_file};
use super::fork::child_write;

/// Fds of the shared namespaces, joined by each command's child.
#[derive(Debug)]
pub struct SharedNetNs {
    pub net: OwnedFd,
    /// The holder's user namespace (non-root callers only).
    pub user: Option<OwnedFd>,
}

/// Creates the namespace: the holder child unshares, brings up `lo`, reports, and waits
/// (blocked on a pipe) until the parent has opened its `/proc/<pid>/ns` files.
pub fn create(user: Option<&UserNsPlan>) -> Result<SharedNetNs, StepError> {
    let fail = |e: io::Error| StepError {
        step: Step::Unshare,
        errno: e.raw_os_error().unwrap_or(libc::EINVAL),
    };
    let mut report = [0 as libc::c_int; 2];
    let mut release = [0 as libc::c_int; 2];
    // SAFETY: room for two fds each; on failure the first pipe is closed again.
    unsafe {
        if libc::pipe2(report.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            return Err(fail(io::Error::last_os_error()));
        }
        if libc::pipe2(release.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            let err = io::Error::last_os_error();
            libc::close(report[0]);
            libc::close(report[1]);
            return Err(fail(err));
        }
    }
    let ([report_r, report_w], [release_r, release_w]) = (report, release);
    // SAFETY: the holder runs only syscalls on prepared memory, then `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the holder child.
        unsafe {
            libc::close(report_r);
            libc::close(release_w);
            let mut out = [0u8; 5];
            if let Err(e) = enter(user) {
                out[0] = e.step as u8;
                out[1..].copy_from_slice(&e.errno.to_ne_bytes());
            }
            child_write(report_w, &out);
            libc::close(report_w);
            // Blocks until the parent closes its release end (or dies).
            let mut b = 0u8;
            libc::read(release_r, (&mut b as *mut u8).cast(), 1);
            libc::_exit(0);
        }
    }
    // SAFETY: closing the ends the parent does not use.
    unsafe {
        libc::close(report_w);
        libc::close(release_r);
    }
    let result = if pid < 0 {
        Err(fail(io::Error::last_os_error()))
    } else {
        match read_report(report_r) {
            Some([0, ..]) => open_ns(pid, user.is_some()).map_err(fail),
            Some([step, a, b, c, d]) => Err(StepError {
                step: Step::from_u8(step).unwrap_or(Step::Unshare),
                errno: i32::from_ne_bytes([a, b, c, d]),
            }),
            None => Err(StepError {
                step: Step::Unshare,
                errno: libc::ECHILD,
            }),
        }
    };
    // SAFETY: closing our ends releases the holder; then it is reaped.
    unsafe {
        libc::close(report_r);
        libc::close(release_w);
        if pid > 0 {
            let mut status = 0;
            while libc::waitpid(pid, &mut status, 0) < 0 && errno() == libc::EINTR {}
        }
    }
    result
}

/// The holder's five-byte report, or None when it died first.
fn read_report(fd: libc::c_int) -> Option<[u8; 5]> {
    let mut out = [0u8; 5];
    let mut got = 0;
    while got < out.len() {
        // SAFETY: reading into the rest of a stack buffer.
        let n = unsafe { libc::read(fd, out[got..].as_mut_ptr().cast(), out.len() - got) };
        if n > 0 {
            got += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            return None;
        }
    }
    Some(out)
}

/// In the holder: the new namespaces, the id maps, loopback up.
fn enter(user: Option<&UserNsPlan>) -> Result<(), StepError> {
    let flags = libc::CLONE_NEWNET
        | if user.is_some() {
            libc::CLONE_NEWUSER
        } else {
            0
        };
    // SAFETY: unshare with constant flags.
    check(unsafe { libc::unshare(flags) }.into(), Step::Unshare)?;
    if let Some(user) = user {
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", user.uid_map.as_bytes())?;
        write_file(c"/proc/self/gid_map", user.gid_map.as_bytes())?;
    }
    loopback_up()
}

fn open_ns(pid: i32, user: bool) -> io::Result<SharedNetNs> {
    let net = File::open(format!("/proc/{pid}/ns/net"))?.into();
    let user = if user {
        Some(File::open(format!("/proc/{pid}/ns/user"))?.into())
    } else {
        None
    };
    Ok(SharedNetNs { net, user })
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
