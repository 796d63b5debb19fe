//! What a tool call would do, described for the policy (a stand-in replaced by decide.rs).

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Read { paths: Vec<PathBuf> },
    Edit { paths: Vec<PathBuf> },
    Exec { command: String, cwd: PathBuf },
    Call { server: String, tool: String },
    Internal,
}
