//! Asking a person: what an approval request shows, the answers a person can give, and the
//! [`Approver`] seam.
//!
//! The dispatcher builds an [`ApprovalRequest`] when the policy's decision is `Ask` and an
//! approver exists; a run without one (headless: `-p`, piped input, no terminal) never asks and
//! denies instead. The terminal prompt lives in `render::approval` (the only place that
//! prints); [`Scripted`] answers from a list, for tests. Approvals are serialised by the
//! dispatcher, so an approver is never asked two things at once.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::policy::{Mode, Rule};

/// What the person is asked about.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A tool call the policy wants approved.
    Tool {
        tool: String,
        /// For `bash` the command; for file tools the path; otherwise the arguments in brief.
        subject: String,
        /// The directory a command runs in.
        cwd: PathBuf,
        /// Why the policy asks, in words ("writes outside the workspace: /etc/hosts").
        reason: String,
        /// The change a file tool would make (a unified diff, or a new file's first lines).
        preview: Option<String>,
        /// The rules "always" would add, shown literally; empty when "always" is not offered.
        suggested: Vec<Rule>,
    },
    /// The model's plan, at the end of plan mode.
    Plan { plan: String },
    /// Whether to start an MCP server a project's file defines (`y` this time, `a` always for
    /// this definition in this project, `n` not now).
    McpServer {
        name: String,
        /// The command line or URL.
        target: String,
        /// The file that defines it.
        origin: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    pub request: Request,
    /// Asked on behalf of a sub-agent (the prompt says so).
    pub subagent: bool,
}

/// What the person said.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Yes, this once.
    Once,
    /// Yes, and do not ask again for what these rules name.
    Always(Vec<Rule>),
    /// No, with an optional sentence for the model.
    Deny(Option<String>),
    /// Stop the whole turn (Ctrl-C at the prompt).
    Stop,
    /// Leave plan mode for this mode and carry out the plan.
    SwitchMode(Mode),
}

#[async_trait]
pub trait Approver: Send + Sync {
    async fn ask(&self, request: &ApprovalRequest) -> Answer;
}

/// Answers from a list, in order, and remembers what it was asked (tests). When the list runs
/// out every further request is denied, so a test that forgets an answer cannot hang.
#[derive(Default)]
pub struct Scripted {
    answers: Mutex<VecDeque<Answer>>,
    asked: Mutex<Vec<ApprovalRequest>>,
}

impl Scripted {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Scripted {
            answers: Mutex::new(answers.into_iter().collect()),
            asked: Mutex::default(),
        }
    }

    pub fn asked(&self) -> Vec<ApprovalRequest> {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Approver for Scripted {
    async fn ask(&self, request: &ApprovalRequest) -> Answer {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        let next = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        next.unwrap_or(Answer::Deny(Some("no scripted answer left".into())))
    }
}
