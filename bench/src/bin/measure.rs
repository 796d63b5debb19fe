//! `measure`: runs one command and writes its wall time, CPU time and peak RSS to a file.
//!
//! Why not time it from the Python driver directly: Linux reports a process's peak RSS as the
//! larger of its own and that of the address space it had before `exec`. Python's
//! `posix_spawn` (a vfork) and `fork` both hand the child the driver's 16 MiB address space, so
//! every figure would read at least 16 MiB. This launcher is a few hundred KiB, forks, execs
//! the command and reaps it with `wait4`, as GNU time does, but with microsecond resolution
//! for wall and CPU time, which a 5 ms goal needs.
//!
//! Usage: `measure RESULT_FILE COMMAND [ARGS...]`; standard streams pass through. The result
//! file gets one line: `wall_seconds cpu_seconds peak_rss_kib exit_code`.

use std::ffi::CString;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: measure RESULT_FILE COMMAND [ARGS...]");
        std::process::exit(2);
    }
    let argv: Vec<CString> = args[1..]
        .iter()
        .map(|a| CString::new(a.as_bytes()).expect("argument without NUL"))
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let start = Instant::now();
    // SAFETY: this process is single-threaded; the child only calls exec and _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            libc::execvp(ptrs[0], ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    if pid < 0 {
        eprintln!("measure: fork failed");
        std::process::exit(1);
    }
    let mut status = 0;
    // SAFETY: rusage is plain data, filled in by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    if reaped != pid {
        eprintln!("measure: wait4 failed");
        std::process::exit(1);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let line = format!("{wall:.6} {cpu:.6} {} {code}\n", usage.ru_maxrss);
    if std::fs::write(&args[0], line).is_err() {
        eprintln!("measure: cannot write {}", args[0]);
        std::process::exit(1);
    }
}
