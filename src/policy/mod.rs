//! Policy: what may run. Pure decisions over a described action; no prompting, no running.
//!
//! The dangerous-command gate ([`command_safety`]) and the shell parser it stands on
//! ([`shell_words`]) live here because the decision needs both: the gate blocks a command in
//! every mode, and the parser splits a script into the simple commands that rules are checked
//! against.
//!
//! [`decide()`] is the one entry point: (tool, [`Action`], [`Mode`], [`Rules`], [`Workspace`]) →
//! [`Decision`]. [`split`] turns a script into simple commands (seeing through wrappers),
//! [`rules`] parses and matches `bash(cargo test:*)` / `edit_file(src/**)` / `mcp__srv__*`,
//! [`workspace`] resolves paths (the only file-system access, read-only) and knows the
//! protected paths of the hard floor.

pub mod command_safety;
pub mod decide;
pub mod mode;
pub mod rules;
pub mod shell_words;
pub mod split;
pub mod workspace;
pub mod writes;

pub use decide::{Action, Decision, PolicyInput, decide};
pub use mode::Mode;
pub use rules::{Rule, RuleEntry, RuleKind, Rules, Source};
pub use workspace::Workspace;

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod heldout_tests;
#[cfg(test)]
mod tests;
