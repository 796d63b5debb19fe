//! Policy: what may run. Pure decisions over a described action; no prompting, no running.
//!
//! The dangerous-command gate ([`command_safety`]) and the shell parser it stands on
//! ([`shell_words`]) live here because the decision needs both: the gate blocks a command in
//! every mode, and the parser splits a script into the simple commands that rules are checked
//! against.

pub mod command_safety;
pub mod decide;
pub mod mode;
pub mod rules;
pub mod shell_words;
pub mod split;
pub mod workspace;

pub use decide::{Action, Decision, PolicyInput, decide};
pub use mode::Mode;
pub use rules::{Rule, RuleEntry, RuleKind, Rules, Source};
pub use workspace::Workspace;

#[cfg(test)]
mod tests;
