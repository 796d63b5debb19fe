//! The self-test: applies the prepared sandbox in a forked child, tries what it must stop (and
//! a little of what it must allow) and reports what actually happened, so the report never
//! claims more than this machine enforces. `corecoder sandbox-check` prints it.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::child;
use super::fork::{child_write, report_from_child};
use super::prepared::{Prepared, SocketGuard, Tier};

/// One thing tried inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub name: String,
    /// Whether this sandbox is meant to stop it.
    pub should_block: bool,
    pub blocked: bool,
    /// The error the attempt got, or "succeeded".
    pub detail: String,
}

impl Probe {
    pub fn as_expected(&self) -> bool {
        self.should_block == self.blocked
    }
}

/// What the self-test found.
#[derive(Debug, Clone)]
pub struct SelfTest {
    pub mode: String,
    pub abi: i32,
    pub tier: Tier,
    pub network: String,
    pub roots: Vec<PathBuf>,
    pub probes: Vec<Probe>,
    pub notes: Vec<String>,
}

impl SelfTest {
    /// Every probe came out as the sandbox promises.
    pub fn passed(&self) -> bool {
        self.probes.iter().all(Probe::as_expected)
    }
}

impl fmt::Display for SelfTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sandbox mode: {}", self.mode)?;
        if self.tier == Tier::Unsandboxed {
            return writeln!(
                f,
                "tier: unsandboxed (commands run with your full permissions)"
            );
        }
        writeln!(f, "Landlock ABI: {}", self.abi)?;
        writeln!(f, "tier: {}", self.tier)?;
        writeln!(f, "network: {}", self.network)?;
        writeln!(f, "writable roots:")?;
        if self.roots.is_empty() {
            writeln!(f, "  (none; device sinks only)")?;
        }
        for root in &self.roots {
            writeln!(f, "  {}", root.display())?;
        }
        writeln!(f, "probes:")?;
        for p in &self.probes {
            let verdict = match (p.should_block, p.blocked) {
                (true, true) => "blocked",
                (false, false) => "allowed",
                (true, false) => "NOT BLOCKED (expected blocked)",
                (false, true) => "BLOCKED (expected allowed)",
            };
            writeln!(f, "  {:<44} {verdict} ({})", p.name, p.detail)?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        let result = if self.passed() { "ok" } else { "FAILED" };
        writeln!(f, "self-test: {result}")
    }
}

/// Runs the self-test. `home` is a candidate place (besides `/var/tmp`) for the victim
/// directory, which must lie outside every writable root.
pub fn check(prepared: &Prepared, home: Option<&Path>) -> io::Result<SelfTest> {
    let mut notes = prepared.notes.clone();
    let network = match (prepared.network, prepared.net_ns) {
        (true, _) => "on".to_string(),
        (false, true) => {
            "off (the session's private network namespace: its own loopback only)".to_string()
        }
        (false, false) => "off (seccomp: only unix sockets)".to_string(),
    };
    let mut report = SelfTest {
        mode: prepared.mode.to_string(),
        abi: prepared.abi,
        tier: prepared.tier,
        network,
        roots: prepared.roots.clone(),
        probes: Vec::new(),
        notes: Vec::new(),
    };
    let Some(plan) = &prepared.plan else {
        report.notes = notes;
        return Ok(report);
    };
    let victim = victim_dir(&prepared.roots, home)?;
    let file = victim.path().join("victim");
    std::fs::write(&file, b"unchanged")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    // Prefer the temp directory, so the check leaves even the workspace's mtime alone.
    let scratch = prepared
        .roots
        .iter()
        .find(|r| r.as_path() == Path::new("/tmp"))
        .or(prepared.roots.first());
    let inside =
        scratch.map(|r| r.join(format!(".corecoder-sandbox-check-{}", std::process::id())));
    let socket = prepared.daemon_sockets.first();
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).unwrap_or_default();
    let (c_new, c_file) = (c(&victim.path().join("new")), c(&file));
    // SAFETY: getpid cannot fail.
    let parent = unsafe { libc::getpid() };
    let c_proc_root = c(Path::new(&format!("/proc/{parent}/root")));
    let c_inside = inside.as_deref().map(c);
    let c_socket = socket.map(|s| c(s));

    let bytes = report_from_child(&|fd| {
        if child::apply(plan).is_err() {
            return;
        }
        let record = |r: (bool, i32)| {
            let e = r.1.to_ne_bytes();
            child_write(fd, &[r.0 as u8, e[0], e[1], e[2], e[3]]);
        };
        record(attempt::create(&c_new));
        record(attempt::chmod(&c_file));
        record(attempt::tcp_connect(port));
        record(attempt::signal(parent));
        record(attempt::capabilities());
        record(attempt::open_dir(&c_proc_root));
        record(c_inside.as_deref().map_or((false, 0), attempt::create));
        record(if plan.net_ns.is_some() {
            attempt::own_loopback()
        } else {
            (false, 0)
        });
        record(
            c_socket
                .as_deref()
                .map_or((false, 0), attempt::unix_connect),
        );
    })?;
    drop(listener);
    let results: Vec<(bool, i32)> = bytes
        .chunks_exact(5)
        .map(|r| (r[0] != 0, i32::from_ne_bytes([r[1], r[2], r[3], r[4]])))
        .collect();
    if results.len() != 9 {
        notes.push("the sandboxed probe child did not report: the sandbox failed to apply".into());
    }
    let full = prepared.tier == Tier::Full;
    let mut expect: Vec<(String, bool)> = vec![
        ("create a file outside the writable roots".into(), true),
        ("chmod a file outside the writable roots".into(), full),
        (
            format!("TCP connect to the host's 127.0.0.1:{port}"),
            !prepared.network,
        ),
        (
            "signal a process outside the sandbox".into(),
            prepared.abi >= 6,
        ),
        ("hold capabilities".into(), true),
        ("enter /proc/<outside pid>/root".into(), true),
    ];
    let mut keep = vec![true; 6];
    expect.push(("create a file in a writable root".into(), false));
    keep.push(inside.is_some());
    expect.push(("its own loopback server".into(), false));
    keep.push(plan.net_ns.is_some());
    let socket_name = socket.map_or(String::new(), |s| format!("connect to {}", s.display()));
    expect.push((socket_name, prepared.socket_guard != SocketGuard::Exposed));
    keep.push(socket.is_some());
    for (((name, should_block), keep), got) in expect.into_iter().zip(keep).zip(
        results
            .iter()
            .copied()
            .chain(std::iter::repeat((false, libc::ECHILD))),
    ) {
        if keep {
            let detail = if name == "hold capabilities" {
                if got.0 { "none held" } else { "some held" }.into()
            } else if got.1 == 0 {
                "succeeded".into()
            } else {
                io::Error::from_raw_os_error(got.1).to_string()
            };
            report.probes.push(Probe {
                name,
                should_block,
                blocked: got.0,
                detail,
            });
        }
    }
    let after = std::fs::read(&file).unwrap_or_default();
    if after != b"unchanged" || victim.path().join("new").exists() {
        notes.push("the victim file outside the roots was changed".into());
    }
    report.notes = notes;
    Ok(report)
}

/// A fresh directory outside every writable root: under `/var/tmp` or `home`.
fn victim_dir(roots: &[PathBuf], home: Option<&Path>) -> io::Result<tempfile::TempDir> {
    let candidates = [Some(Path::new("/var/tmp")), home];
    for dir in candidates.into_iter().flatten() {
        let Ok(real) = dir.canonicalize() else {
            continue;
        };
        if roots.iter().any(|r| real.starts_with(r)) {
            continue;
        }
        if let Ok(tmp) = tempfile::Builder::new()
            .prefix(".corecoder-sandbox-check")
            .tempdir_in(&real)
        {
            return Ok(tmp);
        }
    }
    Err(io::Error::other(
        "no place outside the writable roots for the self-test's victim directory",
    ))
}

/// The attempts, each `(blocked, errno)`; async-signal-safe (they run in the forked child).
mod attempt {
    use std::ffi::CStr;

    fn errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    /// Blocked when the call failed with a permission-style error.
    fn verdict(rc: i64) -> (bool, i32) {
        if rc >= 0 {
            return (false, 0);
        }
        let e = errno();
        (
            matches!(
                e,
                libc::EPERM | libc::EACCES | libc::EROFS | libc::ECONNREFUSED | libc::ENETUNREACH
            ),
            e,
        )
    }

    pub fn create(path: &CStr) -> (bool, i32) {
        // SAFETY: a NUL-terminated path; the fd and the file are removed again.
        unsafe {
            let fd = libc::open(
                path.as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                0o600,
            );
            if fd >= 0 {
                libc::close(fd);
                libc::unlink(path.as_ptr());
            }
            verdict(fd.into())
        }
    }

    pub fn chmod(path: &CStr) -> (bool, i32) {
        // SAFETY: a NUL-terminated path.
        verdict(unsafe { libc::chmod(path.as_ptr(), 0o777) }.into())
    }

    pub fn open_dir(path: &CStr) -> (bool, i32) {
        // SAFETY: a NUL-terminated path; the fd is closed.
        unsafe {
            let fd = libc::open(
                path.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            );
            if fd >= 0 {
                libc::close(fd);
            }
            verdict(fd.into())
        }
    }

    pub fn signal(pid: libc::pid_t) -> (bool, i32) {
        // SAFETY: signal 0 only checks permission.
        verdict(unsafe { libc::kill(pid, 0) }.into())
    }

    pub fn capabilities() -> (bool, i32) {
        let mut header = [0x2008_0522u32, 0];
        let mut data = [0u32; 6];
        // SAFETY: capget with the v3 header and room for two data structs.
        let rc = unsafe { libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr()) };
        // SAFETY: reading the bounding set, one capability at a time.
        let bounding =
            (0..64).any(|cap| unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } == 1);
        (rc == 0 && data.iter().all(|w| *w == 0) && !bounding, 0)
    }

    fn connect_to(
        domain: libc::c_int,
        addr: *const libc::sockaddr,
        len: libc::socklen_t,
    ) -> (bool, i32) {
        // SAFETY: `addr` points at a sockaddr of `len` bytes; the socket is closed.
        unsafe {
            let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if fd < 0 {
                return verdict(-1);
            }
            let rc = libc::connect(fd, addr, len);
            let result = verdict(rc.into());
            libc::close(fd);
            result
        }
    }

    pub fn tcp_connect(port: u16) -> (bool, i32) {
        // SAFETY: a zeroed sockaddr_in is valid.
        let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = port.to_be();
        addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        connect_to(
            libc::AF_INET,
            (&addr as *const libc::sockaddr_in).cast(),
            len,
        )
    }

    pub fn unix_connect(path: &CStr) -> (bool, i32) {
        // SAFETY: a zeroed sockaddr_un is valid; the path is copied within bounds.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.to_bytes();
        if bytes.len() >= addr.sun_path.len() {
            return (false, libc::ENAMETOOLONG);
        }
        for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        connect_to(
            libc::AF_UNIX,
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    }

    /// A listener on the namespace's own 127.0.0.1 and a connection to it.
    pub fn own_loopback() -> (bool, i32) {
        // SAFETY: stack sockaddrs; every fd is closed.
        unsafe {
            let server = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if server < 0 {
                return verdict(-1);
            }
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let p = (&mut addr as *mut libc::sockaddr_in).cast::<libc::sockaddr>();
            if libc::bind(server, p, len) < 0
                || libc::listen(server, 1) < 0
                || libc::getsockname(server, p, &mut len) < 0
            {
                let result = verdict(-1);
                libc::close(server);
                return result;
            }
            let result = connect_to(libc::AF_INET, p, len);
            libc::close(server);
            result
        }
    }
}
