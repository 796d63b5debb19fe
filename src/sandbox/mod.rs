//! The kernel sandbox for shell commands (Linux): what a command may write, whether it may
//! use the network, and which processes it may touch are enforced by the kernel, not by
//! reading the command text.
//!
//! [`SandboxPolicy`] is the pure description (mode, writable roots, network, daemon sockets).
//! [`Prepared::new`] turns it, once per session, into a Landlock ruleset fd, a compiled
//! seccomp program and a mount plan, probes in a forked child which tier works on this
//! machine, and fails closed (a [`SandboxError`]) when Landlock or seccomp cannot be applied.
//! [`Prepared::install_std`] / [`Prepared::install_tokio`] make a command's child apply it
//! between fork and exec; children and grandchildren inherit all of it. [`check`] probes
//! what is actually enforced and prints as the `sandbox-check` report.
//!
//! # Enforced in every sandboxed tier (`read-only`, `workspace-write`)
//! - Files: read and execute everywhere; create, write, truncate (ABI ≥ 3), delete, rename,
//!   link, mkdir, mknod only under the writable roots (none in `read-only`) and on the device
//!   sinks (`/dev/null`, `/dev/zero`, `/dev/full`, `/dev/tty`, `/dev/ptmx`, `/dev/pts`,
//!   `/dev/random`, `/dev/urandom`). Root's `CAP_DAC_OVERRIDE` does not pass Landlock.
//! - Processes: no ptrace of processes outside the sandbox (Landlock, any ABI), no signals to
//!   them and no connecting to their abstract unix sockets (ABI ≥ 6 scopes). That includes
//!   `/proc/<pid>/root` of outside processes.
//! - Capabilities: bounding, ambient, effective, permitted and inheritable sets emptied, and
//!   `no_new_privs` set, so running as root grants nothing and setuid binaries gain nothing.
//! - Network off: the command joins the session's private network namespace (a loopback shared
//!   by the session's commands, nothing of the host's network) when one can be created;
//!   otherwise seccomp denies `socket` for every family but `AF_UNIX`.
//! - io_uring is denied (it would bypass the socket filter); x32 syscalls are denied.
//!
//! # Only in tier [`Tier::Full`] (root, or unprivileged user namespaces; Linux ≥ 5.12)
//! - A private mount namespace per command with every mount read-only (`mount_setattr`,
//!   recursive, so mounts made later on the host are covered too) outside the writable roots,
//!   which are re-attached as they were (`open_tree` clones). That also stops `chmod`, `chown`,
//!   `touch -d`/`utimes` and xattr changes outside the roots (Landlock alone does not), and a
//!   command's own user namespace cannot undo it (inherited mounts are locked, Landlock
//!   refuses mount calls). Reachable daemon sockets (docker, podman, containerd, CRI-O,
//!   `$DOCKER_HOST`) are covered with `/dev/null`, so `connect` to them is refused.
//! - Side effect: each writable root is its own mount, so `rename(2)` between two roots (say
//!   `/tmp` → the workspace) fails with `EXDEV`; `mv` copies instead, as it does across file
//!   systems. A non-root caller's command runs in a user namespace mapping only its own ids
//!   (files of other owners show as `nobody`).
//!
//! # Not enforced
//! - In [`Tier::LandlockSeccomp`]: metadata changes (chmod/chown/utimes/xattr) outside the roots;
//!   path-based unix sockets stay connectable (Landlock only governs them from ABI 9), so with
//!   a daemon socket present and the network off every `connect` is denied instead, and with
//!   the network on the socket stays reachable (reported in [`Prepared::socket_guard`]).
//! - Reading: secrets readable by the user (`~/.ssh`, env files) can be read; with the network
//!   on they could be sent out.
//! - Resource limits (CPU, memory, fork bombs) and other machines' services with network on.
//! - A process of another architecture (32-bit) is killed by the seccomp architecture check.

mod caps;
mod child;
mod fork;
mod netns;
mod policy;
mod prepared;
mod rules;
mod seccomp;
mod selftest;
mod session;

pub use policy::{DAEMON_SOCKETS, Preset, SandboxMode, SandboxPolicy};
pub use prepared::{Prepared, SandboxError, SocketGuard, Tier};
pub use rules::{SINKS, abi_version as landlock_abi};
pub use selftest::{Probe, SelfTest, check};
pub use session::{Confinement, SessionSandbox};
