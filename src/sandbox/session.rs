//! The session's sandbox as the dispatcher hands it to each shell command.
//!
//! The policies are computed when the session starts (pure and cheap); the sandbox itself is
//! prepared on the first shell command (a Landlock ruleset, a seccomp program, a probe child:
//! 1–12 ms), so starting corecoder stays fast. `plan` mode confines every command it allows
//! to `read-only`, prepared on its first use. When the sandbox cannot be applied, commands do
//! not run: the first refusal of the session explains why and how to turn the sandbox off,
//! later ones say it in a line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use super::{Prepared, SandboxMode, SandboxPolicy};

/// What one shell command runs under.
#[derive(Debug, Clone, Default)]
pub enum Confinement {
    /// No sandbox: `danger-full-access`, an approved escalation, or a tool run outside the
    /// dispatcher (tests).
    #[default]
    None,
    Sandboxed(Arc<Prepared>),
    /// The sandbox could not be applied: the command must not run; the text says why.
    Refused(String),
}

pub struct SessionSandbox {
    write: SandboxPolicy,
    read_only: SandboxPolicy,
    allow_escalation: bool,
    prepared: OnceLock<Result<Arc<Prepared>, String>>,
    prepared_read_only: OnceLock<Result<Arc<Prepared>, String>>,
    failure_told: AtomicBool,
}

impl SessionSandbox {
    /// The session's sandbox from its policy; `allow_escalation` is `[sandbox]
    /// allow_escalation` (whether the model may ask to run a command unsandboxed).
    pub fn new(policy: SandboxPolicy, allow_escalation: bool) -> SessionSandbox {
        let read_only = SandboxPolicy {
            mode: SandboxMode::ReadOnly,
            writable_roots: Vec::new(),
            ..policy.clone()
        };
        SessionSandbox {
            write: policy,
            read_only,
            allow_escalation,
            prepared: OnceLock::new(),
            prepared_read_only: OnceLock::new(),
            failure_told: AtomicBool::new(false),
        }
    }

    /// No sandbox (`danger-full-access`): for embedders and tests that run tools directly.
    pub fn off() -> SessionSandbox {
        let policy = SandboxPolicy {
            mode: SandboxMode::DangerFullAccess,
            writable_roots: Vec::new(),
            network: true,
            daemon_sockets: Vec::new(),
            namespaces: false,
        };
        SessionSandbox::new(policy, true)
    }

    pub fn mode(&self) -> SandboxMode {
        self.write.mode
    }

    pub fn policy(&self) -> &SandboxPolicy {
        &self.write
    }

    /// Whether the model may ask to run a command outside the sandbox (always asked).
    pub fn allows_escalation(&self) -> bool {
        self.allow_escalation && self.mode() != SandboxMode::DangerFullAccess
    }

    /// The sandbox for the next command: `read-only` in plan mode (unless the user chose no
    /// sandbox at all), the session's otherwise.
    pub fn for_command(&self, plan_mode: bool) -> Confinement {
        if self.mode() == SandboxMode::DangerFullAccess {
            return Confinement::None;
        }
        let (cell, policy) = if plan_mode {
            (&self.prepared_read_only, &self.read_only)
        } else {
            (&self.prepared, &self.write)
        };
        let prepared = cell.get_or_init(|| {
            Prepared::new(policy)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        match prepared {
            Ok(p) => Confinement::Sandboxed(Arc::clone(p)),
            Err(why) if !self.failure_told.swap(true, Ordering::SeqCst) => {
                Confinement::Refused(format!("[sandbox] {why}"))
            }
            Err(_) => Confinement::Refused(
                "[sandbox] not run: the sandbox cannot be applied on this machine (see the \
                 first refusal of this session)"
                    .to_string(),
            ),
        }
    }

    /// One line for the banner, `/status` and the system prompt.
    pub fn describe(&self) -> String {
        let p = &self.write;
        match p.mode {
            SandboxMode::DangerFullAccess => {
                "unsandboxed (danger-full-access): shell commands can change anything your user \
                 can"
                .to_string()
            }
            SandboxMode::ReadOnly => format!(
                "read-only: shell commands cannot write files; network {}",
                on_off(p.network)
            ),
            SandboxMode::WorkspaceWrite => {
                let roots: Vec<String> = p
                    .writable_roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect();
                format!(
                    "workspace-write: shell commands may write only in {}; network {}",
                    roots.join(", "),
                    on_off(p.network)
                )
            }
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn danger_full_access_confines_nothing_and_offers_no_escalation() {
        let off = SessionSandbox::off();
        assert!(matches!(off.for_command(false), Confinement::None));
        assert!(matches!(off.for_command(true), Confinement::None));
        assert!(!off.allows_escalation());
        assert!(off.describe().starts_with("unsandboxed"));
    }

    #[test]
    fn a_sandbox_that_cannot_be_applied_refuses_with_the_reason_once_then_briefly() {
        // A writable root list is irrelevant here: a policy whose preparation fails is
        // simulated by a cell that already holds the failure.
        let env = |_: &str| None;
        let policy = SandboxPolicy::new(
            SandboxMode::WorkspaceWrite,
            Path::new("/nonexistent-workspace"),
            None,
            &env,
            &[],
            &[],
        );
        let sandbox = SessionSandbox::new(policy, true);
        let _ = sandbox
            .prepared
            .set(Err("the sandbox cannot be applied: no Landlock".to_string()));
        let Confinement::Refused(first) = sandbox.for_command(false) else {
            panic!("not refused");
        };
        assert!(first.contains("no Landlock"), "{first}");
        let Confinement::Refused(second) = sandbox.for_command(false) else {
            panic!("not refused");
        };
        assert!(second.contains("see the first refusal"), "{second}");
        assert!(sandbox.describe().contains("network off"));
    }
}
