//! The error that reaches the person, and the exit code it maps to.

use crate::config::ConfigError;
use crate::llm::LlmError;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const ROUND_LIMIT: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
    /// 128 + the signal's number, as a shell reports a process the signal ended.
    pub const HANGUP: u8 = 129;
    pub const TERMINATED: u8 = 143;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Llm(#[from] LlmError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Session(#[from] crate::session::SessionError),
    #[error("{0}")]
    Usage(String),
    #[error("stopped after {0} rounds without a final answer (raise the limit or split the task)")]
    RoundLimit(usize),
    #[error("interrupted")]
    Interrupted,
    #[error("a UserPromptSubmit hook blocked the prompt: {0}")]
    PromptBlocked(String),
    /// SIGTERM or SIGHUP (`kill`, a CI timeout, a closed terminal): the turn is stopped and
    /// the session saved, as for Ctrl-C.
    #[error("stopped by {0}")]
    Signal(&'static str),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::RoundLimit(_) => exit::ROUND_LIMIT,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Signal("SIGHUP") => exit::HANGUP,
            Error::Signal(_) => exit::TERMINATED,
            Error::Config(_)
            | Error::Llm(_)
            | Error::Io(_)
            | Error::Session(_)
            | Error::PromptBlocked(_) => exit::ERROR,
        }
    }
}
