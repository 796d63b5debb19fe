//! Policy: what may run. Pure decisions over a described action; no prompting, no running.
//!
//! The dangerous-command gate ([`command_safety`]) and the shell parser it stands on
//! ([`shell_words`]) live here because the decision needs both: the gate blocks a command in
//! every mode, and the parser splits a script into the simple commands that rules are checked
//! against.

mod action;
pub mod command_safety;
pub mod shell_words;
pub use action::Action;
