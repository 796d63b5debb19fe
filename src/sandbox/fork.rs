//! Running a few syscalls in a forked child and reading back what it reports: the probe that
//! decides which tier works here, and the self-test. No exec, so no helper binary is needed.

use std::io;

/// Forks; the child runs `body` with the write end of a pipe and exits 0; the parent returns
/// every byte the child wrote. `body` runs between fork and exit in a copy of a possibly
/// multi-threaded process, so it must be async-signal-safe (raw syscalls on prepared memory).
pub fn report_from_child(body: &dyn Fn(libc::c_int)) -> io::Result<Vec<u8>> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = fds;
    // SAFETY: the child only runs `body` (async-signal-safe by contract) and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let err = io::Error::last_os_error();
        // SAFETY: closing the pipe this function opened.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return Err(err);
    }
    if pid == 0 {
        // SAFETY: in the child: close the unused end, run the body, leave without unwinding or
        // running the parent's atexit handlers.
        unsafe {
            libc::close(read_end);
            body(write_end);
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end so EOF arrives when the child exits.
    unsafe { libc::close(write_end) };
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: reading into a stack buffer of its length.
        let n = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            out.extend_from_slice(&buf[..n as usize]);
        } else if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    let mut status = 0;
    // SAFETY: reaping the child this function forked; closing our read end.
    unsafe {
        libc::close(read_end);
        while libc::waitpid(pid, &mut status, 0) < 0
            && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
        {}
    }
    Ok(out)
}

/// Writes `bytes` to `fd` from the child (async-signal-safe; a short write is ignored, the
/// parent then sees fewer bytes and treats the report as missing).
pub fn child_write(fd: libc::c_int, bytes: &[u8]) {
    // SAFETY: a buffer valid for its length.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}
