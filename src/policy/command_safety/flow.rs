//! What flows through a pipe, a substitution, a variable or a file written earlier in the same
//! command, as far as the gate can tell; and one expanded word with what it carries.

use super::rules::{OBFUSCATED, RCE};

/// What a command's output (or a word) carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Flow {
    /// Came from the network (`curl`, `wget`, `nc`…).
    pub remote: bool,
    /// Passed through a decoder or scrambler (`base64 -d`, `xxd -r`, `rev`, `tr`…).
    pub obfuscated: bool,
    /// Holds credentials or the environment: never sent over the network.
    pub secret: bool,
    /// Is the output of an interactive shell (the far end of a reverse shell).
    pub shell: bool,
    /// A credential for one service, named like the variable that holds it (`GITHUB_TOKEN`,
    /// or `GH_TOKEN` for `$(gh auth token)`): it may go in a header to that service only.
    pub token: Option<String>,
    /// The output enumerates every one of something (`docker volume ls -q` → `docker
    /// volumes`, `pidof sshd` → `pids of sshd`), so acting on it acts on all of them.
    pub lists: Option<String>,
    /// The exact text, when it is known (from `echo`, `printf`, a heredoc…).
    pub text: Option<String>,
}

impl Flow {
    pub fn text(text: String) -> Flow {
        Flow {
            text: Some(text),
            ..Flow::default()
        }
    }

    pub fn shell() -> Flow {
        Flow {
            shell: true,
            ..Flow::default()
        }
    }

    /// The flags without the text.
    pub fn taint(&self) -> Flow {
        Flow {
            text: None,
            ..self.clone()
        }
    }

    pub fn merge(&mut self, other: &Flow) {
        self.remote |= other.remote;
        self.obfuscated |= other.obfuscated;
        self.secret |= other.secret;
        self.shell |= other.shell;
        if self.token.is_none() {
            self.token.clone_from(&other.token);
        }
        if self.lists.is_none() {
            self.lists.clone_from(&other.lists);
        }
    }

    /// Whether running this as code would run something nobody has read.
    pub fn hidden(&self) -> Option<&'static str> {
        if self.remote {
            Some(RCE)
        } else if self.obfuscated {
            Some(OBFUSCATED)
        } else {
            None
        }
    }
}

/// One expanded word.
#[derive(Debug, Clone, Default)]
pub(super) struct Arg {
    pub text: String,
    pub flow: Flow,
}

impl Arg {
    pub fn new(text: &str) -> Arg {
        Arg {
            text: text.to_string(),
            flow: Flow::default(),
        }
    }

    /// A word with the flags of `flow` (not its text).
    pub fn tainted(text: &str, flow: &Flow) -> Arg {
        Arg {
            text: text.to_string(),
            flow: flow.taint(),
        }
    }
}
